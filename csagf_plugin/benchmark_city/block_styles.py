"""How each style of city block is painted: slab housing, towers, low-rise, malls, sheds, parks, fields, bare land and
building sites, each with its buildings' heights (for the shadows).

Part of the daytime VHR rendering (daytime.py), on its canvas (canvas.py).
"""

from __future__ import annotations

import numpy as np

from . import layout as L
from .canvas import (
    ASPHALT,
    CARS,
    CONCRETE,
    CROPS,
    GRASS,
    GRAVEL,
    MARKING,
    PLAZA,
    ROOFS,
    SOIL,
    Canvas,
    block_hash,
    per_block,
    rgb,
)


def _grid_buildings(c: Canvas, idx: np.ndarray, setback: float, pitch_a: np.ndarray, pitch_b: np.ndarray,
                    fill_a: np.ndarray, fill_b: np.ndarray, salt: int) -> tuple[np.ndarray, ...]:
    """Place a regular grid of rectangular buildings in each block; returns (inside, slot draw, fa, fb, len_a, len_b)."""
    g = c.g
    a = g.a[idx] - setback
    b = g.b[idx] - setback
    room_a = g.size_a[idx] - 2 * setback
    room_b = g.size_b[idx] - 2 * setback
    len_a = pitch_a * fill_a
    len_b = pitch_b * fill_b
    n_a = np.floor((room_a - len_a) / pitch_a) + 1
    n_b = np.floor((room_b - len_b) / pitch_b) + 1
    a = a - (room_a - ((n_a - 1) * pitch_a + len_a)) / 2  # centre the arrangement in the block
    b = b - (room_b - ((n_b - 1) * pitch_b + len_b)) / 2
    ka = np.floor(a / pitch_a)
    kb = np.floor(b / pitch_b)
    fa = a - ka * pitch_a
    fb = b - kb * pitch_b
    draw = block_hash(g.block[idx], ka.astype(np.int64), kb.astype(np.int64), salt)
    inside = (ka >= 0) & (ka < n_a) & (kb >= 0) & (kb < n_b) & (fa < len_a) & (fb < len_b)
    return inside, draw, fa, fb, len_a, len_b


def _roof(c: Canvas, idx: np.ndarray, colour: np.ndarray, height: np.ndarray, fa: np.ndarray, fb: np.ndarray,
          len_a: np.ndarray, len_b: np.ndarray) -> None:
    """Paint roofs with a darker parapet rim and a slight per-pixel grain."""
    c.paint(idx, colour, grain=0.04, texture=0.03)
    rim = (fa < 0.8) | (fb < 0.8) | (fa > len_a - 0.8) | (fb > len_b - 0.8)
    c.rgb[idx[rim]] *= 0.82
    c.height[idx] = height


def _style_slabs(c: Canvas, idx: np.ndarray) -> None:
    """Residential-type compound: rows of mid-rise slabs between trees and paving (also used by some commerce)."""
    g = c.g
    blk = g.block[idx]
    r = per_block(blk, 11)
    pitch_b = 26.0 + 8.0 * r
    pitch_a = 42.0 + 22.0 * per_block(blk, 12)
    fill_b = 11.5 / pitch_b
    fill_a = 0.78 + 0.12 * per_block(blk, 13)
    ground = np.where((c.large[idx] > 0.62)[:, None], PLAZA, GRASS)
    c.paint(idx, ground, texture=0.15)
    c.trees(idx, cover=0.55)
    inside, draw, fa, fb, la, lb = _grid_buildings(c, idx, 5.0, pitch_a, pitch_b, fill_a, fill_b, 14)
    palette = ROOFS[L.SLABS]
    colour = palette[(per_block(blk, 15) * len(palette)).astype(int)] * (0.92 + 0.16 * draw)[:, None]
    b_idx = idx[inside]
    _roof(c, b_idx, colour[inside], 18.0 + 15.0 * draw[inside], fa[inside], fb[inside], la[inside], lb[inside])


def _style_towers(c: Canvas, idx: np.ndarray) -> None:
    """High-rise towers on plazas or lawns: long deep shadows (residential and commercial alike)."""
    blk = c.g.block[idx]
    pitch = 38.0 + 12.0 * per_block(blk, 21)
    fill = (18.0 + 7.0 * per_block(blk, 22)) / pitch
    paved = per_block(blk, 23) < 0.5
    c.paint(idx, np.where(paved[:, None], PLAZA, GRASS), texture=0.12)
    c.trees(idx[~paved], cover=0.4)
    c.trees(idx[paved], cover=0.12)
    inside, draw, fa, fb, la, lb = _grid_buildings(c, idx, 6.0, pitch, pitch, fill, fill, 24)
    palette = ROOFS[L.TOWERS]
    colour = palette[(per_block(blk, 25) * len(palette)).astype(int)] * (0.93 + 0.14 * draw)[:, None]
    b_idx = idx[inside]
    _roof(c, b_idx, colour[inside], 45.0 + 40.0 * draw[inside], fa[inside], fb[inside], la[inside], lb[inside])
    # A lift housing in the middle of each roof.
    core = inside & (np.abs(fa - la / 2) < 3.0) & (np.abs(fb - lb / 2) < 2.5)
    c.rgb[idx[core]] *= 1.12


def _style_lowrise(c: Canvas, idx: np.ndarray) -> None:
    """Old dense low-rise housing: small houses of mixed roofs, narrow alleys."""
    blk = c.g.block[idx]
    c.paint(idx, SOIL * 0.95, texture=0.12)
    c.trees(idx, cover=0.15, tall=7.0)
    pitch_a = 12.0 + 3.0 * per_block(blk, 31)
    pitch_b = 11.0 + 3.0 * per_block(blk, 32)
    inside, draw, fa, fb, la, lb = _grid_buildings(c, idx, 2.5, pitch_a, pitch_b, np.float32(0.8), np.float32(0.78),
                                                   33)
    inside &= draw < 0.93
    palette = ROOFS[L.LOWRISE]
    # Roof colour from the high digits of the house's draw, brightness from its low ones: houses differ in both.
    colour = palette[(draw * 997 % 1 * len(palette)).astype(int)] * (0.9 + 0.2 * draw)[:, None]
    b_idx = idx[inside]
    _roof(c, b_idx, colour[inside], 6.0 + 6.0 * draw[inside], fa[inside], fb[inside], la[inside], lb[inside])


def paint_cars(c: Canvas, idx: np.ndarray, key: np.ndarray, along: np.ndarray, across: np.ndarray,
          density: float) -> None:
    """Cars in slots of 7 m x 3.5 m (along, across) of the road `key`, each present with probability `density`."""
    ka = np.floor(along / 7.0)
    kc = np.floor(across / 3.5)
    fa = along - ka * 7.0
    fc = across - kc * 3.5
    draw = block_hash(key, ka.astype(np.int64), kc.astype(np.int64), 70)
    car = (draw < density) & (fa > 1.2) & (fa < 5.7) & (fc > 0.85) & (fc < 2.65)
    colour = CARS[(draw / density * len(CARS)).astype(int) % len(CARS)]
    c.rgb[idx[car]] = colour[car] * (0.95 + 0.1 * c.fine[idx[car]])[:, None]
    c.height[idx[car]] = np.maximum(c.height[idx[car]], 1.5)


def _style_mall(c: Canvas, idx: np.ndarray) -> None:
    """A large commercial box with rooftop plant, in a car park."""
    g = c.g
    blk = g.block[idx]
    c.paint(idx, ASPHALT * 1.12, texture=0.05)
    inset = 12.0 + 8.0 * per_block(blk, 41)
    # Parking stall lines and parked cars in the car park.
    stall = (np.mod(g.a[idx], 2.6) < 0.35) & (np.mod(g.b[idx], 11.0) < 5.0)
    c.rgb[idx[stall]] = MARKING * 0.85
    slot_a = np.floor(g.a[idx] / 2.6)
    slot_b = np.floor(g.b[idx] / 11.0)
    fb = np.mod(g.b[idx], 11.0)
    fa = np.mod(g.a[idx], 2.6)
    parked = (block_hash(blk, slot_a.astype(np.int64), slot_b.astype(np.int64), 44) < 0.55) & (fa > 0.5) \
        & (fa < 2.2) & (fb > 0.4) & (fb < 4.7)
    colour = CARS[(block_hash(blk, slot_a.astype(np.int64), slot_b.astype(np.int64), 45) * len(CARS)).astype(int)]
    c.rgb[idx[parked]] = colour[parked]
    c.height[idx[parked]] = 1.5
    inside = (g.a[idx] > inset) & (g.a[idx] < g.size_a[idx] - inset) & (g.b[idx] > inset) \
        & (g.b[idx] < g.size_b[idx] - inset)
    palette = ROOFS[L.MALL]
    colour = palette[(per_block(blk, 46) * len(palette)).astype(int)]
    fa_r = g.a[idx] - inset
    fb_r = g.b[idx] - inset
    la = g.size_a[idx] - 2 * inset
    lb = g.size_b[idx] - 2 * inset
    b_idx = idx[inside]
    _roof(c, b_idx, colour[inside], 22.0 + 8.0 * per_block(blk[inside], 47), fa_r[inside], fb_r[inside],
          la[inside], lb[inside])
    plant = inside & (np.mod(fa_r, 16.0) < 4.0) & (np.mod(fb_r, 13.0) < 3.0) & (fa_r > 6) & (fb_r > 6) \
        & (fa_r < la - 6) & (fb_r < lb - 6)
    c.rgb[idx[plant]] = rgb(0.52, 0.53, 0.54)
    c.height[idx[plant]] += 2.0


def _style_sheds(c: Canvas, idx: np.ndarray) -> None:
    """Industrial: large regular gable roofs (steel blue, white, rust) in concrete yards with trucks."""
    g = c.g
    blk = g.block[idx]
    c.paint(idx, CONCRETE, texture=0.14)
    stain = c.large[idx] > 0.6
    c.rgb[idx[stain]] *= 0.85
    pitch_a = 48.0 + 30.0 * per_block(blk, 51)
    pitch_b = 34.0 + 14.0 * per_block(blk, 52)
    inside, draw, fa, fb, la, lb = _grid_buildings(c, idx, 5.0, pitch_a, pitch_b, np.float32(0.8), np.float32(0.7),
                                                   53)
    palette = ROOFS[L.SHEDS]
    colour = palette[(draw * len(palette)).astype(int) % len(palette)]
    b_idx = idx[inside]
    _roof(c, b_idx, colour[inside], 10.0 + 5.0 * draw[inside], fa[inside], fb[inside], la[inside], lb[inside])
    # Gable: the two roof halves catch the sun differently; ribs every 1.5 m across.
    far_half = inside & (fb > lb / 2)
    c.rgb[idx[far_half]] *= 0.86
    ribs = inside & (np.mod(fa, 1.5) < 0.5)
    c.rgb[idx[ribs]] *= 0.94
    # Trucks parked in the yard in front of each shed.
    yard = ~inside & (fb > lb) & (fb < lb + 4.0) & (fa > 3.0) & (fa < la - 3.0)
    slot = np.floor(fa / 4.0)
    fs = fa - slot * 4.0
    truck = yard & (fs < 2.6) & (block_hash(blk, slot.astype(np.int64), np.int64(7), 54) < 0.35) \
        & (fb - lb > 0.5) & (fb - lb < 3.5)
    c.rgb[idx[truck]] = np.where((block_hash(blk, slot.astype(np.int64), np.int64(9), 55)[truck] < 0.5)[:, None],
                                 rgb(0.85, 0.85, 0.83), rgb(0.70, 0.25, 0.18))
    c.height[idx[truck]] = 3.5


def _style_park(c: Canvas, idx: np.ndarray) -> None:
    """Park: lawns, dense tree clumps, winding paths."""
    c.paint(idx, GRASS * 1.05, texture=0.18)
    c.trees(idx, cover=0.55, tall=12.0)
    path = np.abs(c.large[idx] - 0.5) < 0.012
    c.rgb[idx[path]] = PLAZA * (0.95 + 0.1 * c.fine[idx[path]])[:, None]
    c.height[idx[path]] = 0.0


def _style_fields(c: Canvas, idx: np.ndarray) -> None:
    """Farmland: strips of crops and ploughed soil with row texture and earth banks."""
    g = c.g
    blk = g.block[idx]
    along_u = per_block(blk, 61) < 0.5
    coord = np.where(along_u, g.a[idx], g.b[idx])
    other = np.where(along_u, g.b[idx], g.a[idx])
    width = 18.0 + 20.0 * per_block(blk, 62)
    k = np.floor(coord / width)
    f = coord - k * width
    draw = block_hash(blk, k.astype(np.int64), np.int64(0), 63)
    colour = CROPS[(draw * len(CROPS)).astype(int)]
    rows = 1.0 + 0.06 * np.sin(2 * np.pi * other / 1.6)
    c.paint(idx, colour * rows[:, None], grain=0.05, texture=0.1)
    bank = f < 1.0
    c.rgb[idx[bank]] = SOIL * 0.9


def _style_bare(c: Canvas, idx: np.ndarray) -> None:
    """Bare land and gravel with tyre tracks and sparse weeds."""
    c.paint(idx, GRAVEL, grain=0.1, texture=0.2)
    weeds = c.medium[idx] > 0.68
    c.rgb[idx[weeds]] = GRASS * (0.9 + 0.2 * c.fine[idx[weeds]])[:, None]
    track = np.abs(c.large[idx] - 0.45) < 0.01
    c.rgb[idx[track]] *= 0.8


def _style_construction(c: Canvas, idx: np.ndarray) -> None:
    """A construction site: dug soil, foundation pits, site huts with blue roofs."""
    g = c.g
    c.paint(idx, SOIL, grain=0.1, texture=0.25)
    pit = (g.a[idx] > 15) & (g.a[idx] < g.size_a[idx] * 0.6) & (g.b[idx] > 15) & (g.b[idx] < g.size_b[idx] * 0.7)
    c.rgb[idx[pit]] *= 0.62
    hut = (g.a[idx] > g.size_a[idx] * 0.7) & (g.a[idx] < g.size_a[idx] * 0.7 + 24) & (np.mod(g.b[idx], 9.0) < 5.0) \
        & (g.b[idx] < 40)
    c.rgb[idx[hut]] = ROOFS[L.SHEDS][0]
    c.height[idx[hut]] = 3.0


STYLES = {L.SLABS: _style_slabs, L.TOWERS: _style_towers, L.LOWRISE: _style_lowrise, L.MALL: _style_mall,
           L.SHEDS: _style_sheds, L.PARK: _style_park, L.FIELDS: _style_fields, L.BARE: _style_bare,
           L.CONSTRUCTION: _style_construction}
