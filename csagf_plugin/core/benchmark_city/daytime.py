"""Daytime VHR rendering of one window of the city: materials, buildings with heights, cast shadows, sensor noise.

Every pixel depends only on the plan and on its global position, so windows rendered separately join without
seams: a window is rendered with a halo (for shadows cast from outside it and for the optics blur) and cropped.
"""

from __future__ import annotations

import numpy as np

from . import layout as L
from .noise import fbm_grid, hash_u32, unit_hash

SUN_ELEVATION_DEG = 58.0  # sun height above the horizon
SHADOW_DIRECTION = (-0.83, -0.56)  # unit (row, col) step from a caster to its shadow: to the north, a little west
MAX_HEIGHT_M = 90.0  # tallest building; sets the halo
SHADOW_FACTOR = np.array([0.26, 0.28, 0.33], dtype=np.float32)  # shadowed ground keeps this much light (bluish)


def shadow_halo_px(pixel_m: float) -> int:
    """Pixels on the sun side of a window that can cast a shadow into it."""
    return int(np.ceil(MAX_HEIGHT_M / np.tan(np.deg2rad(SUN_ELEVATION_DEG)) / pixel_m)) + 2


def _rgb(*values: float) -> np.ndarray:
    """An RGB colour (0..1) as float32."""
    return np.asarray(values, dtype=np.float32)


ASPHALT = _rgb(0.30, 0.31, 0.32)
SIDEWALK = _rgb(0.60, 0.58, 0.55)
MARKING = _rgb(0.86, 0.86, 0.82)
YELLOW = _rgb(0.82, 0.72, 0.32)
GRASS = _rgb(0.34, 0.43, 0.22)
TREE = _rgb(0.13, 0.22, 0.11)
WATER_RGB = _rgb(0.13, 0.17, 0.17)
SOIL = _rgb(0.52, 0.45, 0.35)
GRAVEL = _rgb(0.62, 0.58, 0.51)
PLAZA = _rgb(0.68, 0.66, 0.62)
CONCRETE = _rgb(0.58, 0.57, 0.54)
BRIDGE_DECK = _rgb(0.50, 0.50, 0.49)
CROPS = np.asarray([(0.30, 0.45, 0.20), (0.42, 0.50, 0.25), (0.60, 0.58, 0.36), (0.46, 0.38, 0.28),
                    (0.36, 0.40, 0.22)], dtype=np.float32)
CARS = np.asarray([(0.90, 0.90, 0.88), (0.12, 0.12, 0.13), (0.55, 0.56, 0.58), (0.72, 0.72, 0.74),
                   (0.65, 0.15, 0.13), (0.20, 0.30, 0.55)], dtype=np.float32)
ROOFS = {
    L.SLABS: np.asarray([(0.74, 0.72, 0.67), (0.62, 0.60, 0.58), (0.70, 0.47, 0.38), (0.55, 0.58, 0.62),
                         (0.80, 0.78, 0.72)], dtype=np.float32),
    L.TOWERS: np.asarray([(0.56, 0.59, 0.63), (0.70, 0.70, 0.68), (0.45, 0.49, 0.53), (0.77, 0.75, 0.70)],
                         dtype=np.float32),
    L.LOWRISE: np.asarray([(0.60, 0.33, 0.26), (0.55, 0.50, 0.46), (0.68, 0.40, 0.31), (0.46, 0.45, 0.44),
                           (0.40, 0.42, 0.48)], dtype=np.float32),
    L.MALL: np.asarray([(0.80, 0.80, 0.78), (0.64, 0.66, 0.68), (0.72, 0.70, 0.64)], dtype=np.float32),
    L.SHEDS: np.asarray([(0.30, 0.47, 0.68), (0.82, 0.82, 0.80), (0.62, 0.64, 0.66), (0.56, 0.36, 0.29),
                         (0.36, 0.56, 0.70)], dtype=np.float32),
}


class _Canvas:
    """Flat per-pixel arrays of one padded window: the plan's answers, noise fields, and the colour being painted."""

    def __init__(self, city: L.CityLayout, rows: np.ndarray, cols: np.ndarray, pixel_m: float, seed: int) -> None:
        self.shape = (len(rows), len(cols))
        xs = (cols + 0.5) * pixel_m
        ys = (rows + 0.5) * pixel_m
        X, Y = np.meshgrid(xs, ys)
        self.g = city.sample(X, Y)
        self.pixel_m = pixel_m
        s = seed * 1000
        self.fine = unit_hash(cols[None, :], rows[:, None], s + 1).ravel()  # per-pixel grain
        self.fine2 = unit_hash(cols[None, :], rows[:, None], s + 2).ravel()
        self.small = fbm_grid(xs, ys, 4.0, s + 3, octaves=2).ravel()  # canopy-sized texture
        self.medium = fbm_grid(xs, ys, 14.0, s + 4, octaves=3).ravel()  # clumps of trees, stains
        self.large = fbm_grid(xs, ys, 90.0, s + 5, octaves=3).ravel()  # paths, patches
        self.haze = fbm_grid(xs, ys, 700.0, s + 6, octaves=2).ravel()  # slow brightness drift
        n = X.size
        self.rgb = np.zeros((n, 3), dtype=np.float32)
        self.height = np.zeros(n, dtype=np.float32)
        self.seed = seed

    def paint(self, idx: np.ndarray, colour: np.ndarray, grain: float = 0.06, texture: float = 0.0) -> None:
        """Paint pixels `idx` with a colour (3,) or colours (n, 3), with per-pixel grain and medium texture."""
        shade = 1.0 + grain * (self.fine[idx] - 0.5) * 2 + texture * (self.medium[idx] - 0.5) * 2
        self.rgb[idx] = np.asarray(colour, dtype=np.float32) * shade[:, None]

    def trees(self, idx: np.ndarray, cover: float, tall: float = 9.0) -> None:
        """Cover a share of pixels `idx` with tree crowns (clumpy), giving them a height that casts shadows."""
        if idx.size == 0:
            return
        density = 0.65 * self.medium[idx] + 0.35 * self.small[idx]
        crown = density > (1.0 - cover) * 0.75 + 0.2
        t = idx[crown]
        lift = 0.55 + 0.9 * self.small[t] + 0.25 * (self.fine[t] - 0.5)
        self.rgb[t] = TREE * lift[:, None]
        self.height[t] = tall * (0.7 + 0.6 * self.small[t])


def _block_hash(block: np.ndarray, ka: np.ndarray, kb: np.ndarray, salt: int) -> np.ndarray:
    """A [0, 1) draw per building slot (block id, slot indices)."""
    return (hash_u32(hash_u32(block, ka, salt), kb, salt + 1) >> np.uint32(8)).astype(np.float32) / (1 << 24)


def _per_block(block: np.ndarray, salt: int) -> np.ndarray:
    """A [0, 1) draw per block."""
    return unit_hash(block, block >> 13, salt)


def _grid_buildings(c: _Canvas, idx: np.ndarray, setback: float, pitch_a: np.ndarray, pitch_b: np.ndarray,
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
    draw = _block_hash(g.block[idx], ka.astype(np.int64), kb.astype(np.int64), salt)
    inside = (ka >= 0) & (ka < n_a) & (kb >= 0) & (kb < n_b) & (fa < len_a) & (fb < len_b)
    return inside, draw, fa, fb, len_a, len_b


def _roof(c: _Canvas, idx: np.ndarray, colour: np.ndarray, height: np.ndarray, fa: np.ndarray, fb: np.ndarray,
          len_a: np.ndarray, len_b: np.ndarray) -> None:
    """Paint roofs with a darker parapet rim and a slight per-pixel grain."""
    c.paint(idx, colour, grain=0.04, texture=0.03)
    rim = (fa < 0.8) | (fb < 0.8) | (fa > len_a - 0.8) | (fb > len_b - 0.8)
    c.rgb[idx[rim]] *= 0.82
    c.height[idx] = height


def _style_slabs(c: _Canvas, idx: np.ndarray) -> None:
    """Residential-type compound: rows of mid-rise slabs between trees and paving (also used by some commerce)."""
    g = c.g
    blk = g.block[idx]
    r = _per_block(blk, 11)
    pitch_b = 26.0 + 8.0 * r
    pitch_a = 42.0 + 22.0 * _per_block(blk, 12)
    fill_b = 11.5 / pitch_b
    fill_a = 0.78 + 0.12 * _per_block(blk, 13)
    ground = np.where((c.large[idx] > 0.62)[:, None], PLAZA, GRASS)
    c.paint(idx, ground, texture=0.15)
    c.trees(idx, cover=0.55)
    inside, draw, fa, fb, la, lb = _grid_buildings(c, idx, 5.0, pitch_a, pitch_b, fill_a, fill_b, 14)
    palette = ROOFS[L.SLABS]
    colour = palette[(_per_block(blk, 15) * len(palette)).astype(int)] * (0.92 + 0.16 * draw)[:, None]
    b_idx = idx[inside]
    _roof(c, b_idx, colour[inside], 18.0 + 15.0 * draw[inside], fa[inside], fb[inside], la[inside], lb[inside])


def _style_towers(c: _Canvas, idx: np.ndarray) -> None:
    """High-rise towers on plazas or lawns: long deep shadows (residential and commercial alike)."""
    blk = c.g.block[idx]
    pitch = 38.0 + 12.0 * _per_block(blk, 21)
    fill = (18.0 + 7.0 * _per_block(blk, 22)) / pitch
    paved = _per_block(blk, 23) < 0.5
    c.paint(idx, np.where(paved[:, None], PLAZA, GRASS), texture=0.12)
    c.trees(idx[~paved], cover=0.4)
    c.trees(idx[paved], cover=0.12)
    inside, draw, fa, fb, la, lb = _grid_buildings(c, idx, 6.0, pitch, pitch, fill, fill, 24)
    palette = ROOFS[L.TOWERS]
    colour = palette[(_per_block(blk, 25) * len(palette)).astype(int)] * (0.93 + 0.14 * draw)[:, None]
    b_idx = idx[inside]
    _roof(c, b_idx, colour[inside], 45.0 + 40.0 * draw[inside], fa[inside], fb[inside], la[inside], lb[inside])
    # A lift housing in the middle of each roof.
    core = inside & (np.abs(fa - la / 2) < 3.0) & (np.abs(fb - lb / 2) < 2.5)
    c.rgb[idx[core]] *= 1.12


def _style_lowrise(c: _Canvas, idx: np.ndarray) -> None:
    """Old dense low-rise housing: small houses of mixed roofs, narrow alleys."""
    blk = c.g.block[idx]
    c.paint(idx, SOIL * 0.95, texture=0.12)
    c.trees(idx, cover=0.15, tall=7.0)
    pitch_a = 12.0 + 3.0 * _per_block(blk, 31)
    pitch_b = 11.0 + 3.0 * _per_block(blk, 32)
    inside, draw, fa, fb, la, lb = _grid_buildings(c, idx, 2.5, pitch_a, pitch_b, np.float32(0.8), np.float32(0.78),
                                                   33)
    inside &= draw < 0.93
    palette = ROOFS[L.LOWRISE]
    # Roof colour from the high digits of the house's draw, brightness from its low ones: houses differ in both.
    colour = palette[(draw * 997 % 1 * len(palette)).astype(int)] * (0.9 + 0.2 * draw)[:, None]
    b_idx = idx[inside]
    _roof(c, b_idx, colour[inside], 6.0 + 6.0 * draw[inside], fa[inside], fb[inside], la[inside], lb[inside])


def _cars(c: _Canvas, idx: np.ndarray, key: np.ndarray, along: np.ndarray, across: np.ndarray,
          density: float) -> None:
    """Cars in slots of 7 m x 3.5 m (along, across) of the road `key`, each present with probability `density`."""
    ka = np.floor(along / 7.0)
    kc = np.floor(across / 3.5)
    fa = along - ka * 7.0
    fc = across - kc * 3.5
    draw = _block_hash(key, ka.astype(np.int64), kc.astype(np.int64), 70)
    car = (draw < density) & (fa > 1.2) & (fa < 5.7) & (fc > 0.85) & (fc < 2.65)
    colour = CARS[(draw / density * len(CARS)).astype(int) % len(CARS)]
    c.rgb[idx[car]] = colour[car] * (0.95 + 0.1 * c.fine[idx[car]])[:, None]
    c.height[idx[car]] = np.maximum(c.height[idx[car]], 1.5)


def _style_mall(c: _Canvas, idx: np.ndarray) -> None:
    """A large commercial box with rooftop plant, in a car park."""
    g = c.g
    blk = g.block[idx]
    c.paint(idx, ASPHALT * 1.12, texture=0.05)
    inset = 12.0 + 8.0 * _per_block(blk, 41)
    # Parking stall lines and parked cars in the car park.
    stall = (np.mod(g.a[idx], 2.6) < 0.35) & (np.mod(g.b[idx], 11.0) < 5.0)
    c.rgb[idx[stall]] = MARKING * 0.85
    slot_a = np.floor(g.a[idx] / 2.6)
    slot_b = np.floor(g.b[idx] / 11.0)
    fb = np.mod(g.b[idx], 11.0)
    fa = np.mod(g.a[idx], 2.6)
    parked = (_block_hash(blk, slot_a.astype(np.int64), slot_b.astype(np.int64), 44) < 0.55) & (fa > 0.5) \
        & (fa < 2.2) & (fb > 0.4) & (fb < 4.7)
    colour = CARS[(_block_hash(blk, slot_a.astype(np.int64), slot_b.astype(np.int64), 45) * len(CARS)).astype(int)]
    c.rgb[idx[parked]] = colour[parked]
    c.height[idx[parked]] = 1.5
    inside = (g.a[idx] > inset) & (g.a[idx] < g.size_a[idx] - inset) & (g.b[idx] > inset) \
        & (g.b[idx] < g.size_b[idx] - inset)
    palette = ROOFS[L.MALL]
    colour = palette[(_per_block(blk, 46) * len(palette)).astype(int)]
    fa_r = g.a[idx] - inset
    fb_r = g.b[idx] - inset
    la = g.size_a[idx] - 2 * inset
    lb = g.size_b[idx] - 2 * inset
    b_idx = idx[inside]
    _roof(c, b_idx, colour[inside], 22.0 + 8.0 * _per_block(blk[inside], 47), fa_r[inside], fb_r[inside],
          la[inside], lb[inside])
    plant = inside & (np.mod(fa_r, 16.0) < 4.0) & (np.mod(fb_r, 13.0) < 3.0) & (fa_r > 6) & (fb_r > 6) \
        & (fa_r < la - 6) & (fb_r < lb - 6)
    c.rgb[idx[plant]] = _rgb(0.52, 0.53, 0.54)
    c.height[idx[plant]] += 2.0


def _style_sheds(c: _Canvas, idx: np.ndarray) -> None:
    """Industrial: large regular gable roofs (steel blue, white, rust) in concrete yards with trucks."""
    g = c.g
    blk = g.block[idx]
    c.paint(idx, CONCRETE, texture=0.14)
    stain = c.large[idx] > 0.6
    c.rgb[idx[stain]] *= 0.85
    pitch_a = 48.0 + 30.0 * _per_block(blk, 51)
    pitch_b = 34.0 + 14.0 * _per_block(blk, 52)
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
    truck = yard & (fs < 2.6) & (_block_hash(blk, slot.astype(np.int64), np.int64(7), 54) < 0.35) \
        & (fb - lb > 0.5) & (fb - lb < 3.5)
    c.rgb[idx[truck]] = np.where((_block_hash(blk, slot.astype(np.int64), np.int64(9), 55)[truck] < 0.5)[:, None],
                                 _rgb(0.85, 0.85, 0.83), _rgb(0.70, 0.25, 0.18))
    c.height[idx[truck]] = 3.5


def _style_park(c: _Canvas, idx: np.ndarray) -> None:
    """Park: lawns, dense tree clumps, winding paths."""
    c.paint(idx, GRASS * 1.05, texture=0.18)
    c.trees(idx, cover=0.55, tall=12.0)
    path = np.abs(c.large[idx] - 0.5) < 0.012
    c.rgb[idx[path]] = PLAZA * (0.95 + 0.1 * c.fine[idx[path]])[:, None]
    c.height[idx[path]] = 0.0


def _style_fields(c: _Canvas, idx: np.ndarray) -> None:
    """Farmland: strips of crops and ploughed soil with row texture and earth banks."""
    g = c.g
    blk = g.block[idx]
    along_u = _per_block(blk, 61) < 0.5
    coord = np.where(along_u, g.a[idx], g.b[idx])
    other = np.where(along_u, g.b[idx], g.a[idx])
    width = 18.0 + 20.0 * _per_block(blk, 62)
    k = np.floor(coord / width)
    f = coord - k * width
    draw = _block_hash(blk, k.astype(np.int64), np.int64(0), 63)
    colour = CROPS[(draw * len(CROPS)).astype(int)]
    rows = 1.0 + 0.06 * np.sin(2 * np.pi * other / 1.6)
    c.paint(idx, colour * rows[:, None], grain=0.05, texture=0.1)
    bank = f < 1.0
    c.rgb[idx[bank]] = SOIL * 0.9


def _style_bare(c: _Canvas, idx: np.ndarray) -> None:
    """Bare land and gravel with tyre tracks and sparse weeds."""
    c.paint(idx, GRAVEL, grain=0.1, texture=0.2)
    weeds = c.medium[idx] > 0.68
    c.rgb[idx[weeds]] = GRASS * (0.9 + 0.2 * c.fine[idx[weeds]])[:, None]
    track = np.abs(c.large[idx] - 0.45) < 0.01
    c.rgb[idx[track]] *= 0.8


def _style_construction(c: _Canvas, idx: np.ndarray) -> None:
    """A construction site: dug soil, foundation pits, site huts with blue roofs."""
    g = c.g
    c.paint(idx, SOIL, grain=0.1, texture=0.25)
    pit = (g.a[idx] > 15) & (g.a[idx] < g.size_a[idx] * 0.6) & (g.b[idx] > 15) & (g.b[idx] < g.size_b[idx] * 0.7)
    c.rgb[idx[pit]] *= 0.62
    hut = (g.a[idx] > g.size_a[idx] * 0.7) & (g.a[idx] < g.size_a[idx] * 0.7 + 24) & (np.mod(g.b[idx], 9.0) < 5.0) \
        & (g.b[idx] < 40)
    c.rgb[idx[hut]] = ROOFS[L.SHEDS][0]
    c.height[idx[hut]] = 3.0


_STYLES = {L.SLABS: _style_slabs, L.TOWERS: _style_towers, L.LOWRISE: _style_lowrise, L.MALL: _style_mall,
           L.SHEDS: _style_sheds, L.PARK: _style_park, L.FIELDS: _style_fields, L.BARE: _style_bare,
           L.CONSTRUCTION: _style_construction}


def _roads(c: _Canvas, idx: np.ndarray, deck: bool = False) -> None:
    """Asphalt (or a bridge deck) with sidewalks, lane markings, medians, street trees and traffic."""
    g = c.g
    across = g.road_across[idx]
    along = g.road_along[idx]
    hw = g.road_half_width[idx]
    tier = g.road_tier[idx]
    crossing = g.crossing[idx]
    c.paint(idx, BRIDGE_DECK if deck else ASPHALT, grain=0.05, texture=0.08)
    if deck:
        c.height[idx] = 8.0
    edge = np.abs(across)
    walk = (~crossing) & (edge > hw - 3.0) & (tier >= L.ROAD_LOCAL)
    c.paint(idx[walk], SIDEWALK, grain=0.06, texture=0.05)
    arterial = (tier == L.ROAD_ARTERIAL) & ~crossing
    median = arterial & (edge < 1.2)
    c.paint(idx[median], GRASS * 0.9, texture=0.2)
    lanes = arterial & ~median & (edge < hw - 3.0)
    lane_line = lanes & (np.abs(np.mod(edge - 1.2, 3.6) - 0.0) < 0.25) & (np.mod(along, 9.0) < 4.0) & (edge > 2.0)
    c.rgb[idx[lane_line]] = MARKING * 0.9
    centre = (tier == L.ROAD_LOCAL) & ~crossing & (edge < 0.2)
    c.rgb[idx[centre]] = YELLOW
    # Traffic: in arterial lanes and on local streets.
    drive = (arterial & ~median & (edge > 1.2) & (edge < hw - 3.0)) | ((tier == L.ROAD_LOCAL) & ~walk & ~crossing)
    d_idx = idx[drive]
    # The road's centre-line position identifies it (u + v - along - across is that position on every road).
    key = np.round(g.u[d_idx] + g.v[d_idx] - along[drive] - across[drive]).astype(np.int64) * 2 + (across[drive] > 0)
    _cars(c, d_idx, key, along[drive], np.abs(across[drive]) - 1.2 * arterial[drive], 0.12)
    # Street trees on sidewalks: a crown every 8 m, on both sides.
    if not deck:
        tree_slot = np.floor(along / 8.0)
        centre_along = tree_slot * 8.0 + 4.0
        d2 = (along - centre_along) ** 2 + (edge - (hw - 1.6)) ** 2
        radius = 2.2 + 1.2 * _block_hash(np.zeros(idx.size, np.int64), tree_slot.astype(np.int64),
                                         np.sign(across).astype(np.int64), 71)
        crown = (tier >= L.ROAD_LOCAL) & ~crossing & (d2 < radius ** 2)
        t = idx[crown]
        c.rgb[t] = TREE * (0.6 + 0.8 * c.small[t])[:, None]
        c.height[t] = 8.0


def _water(c: _Canvas, idx: np.ndarray) -> None:
    """River and canal water: dark, slightly green, nearly flat, lighter close to the banks."""
    g = c.g
    c.paint(idx, WATER_RGB, grain=0.05, texture=0.12)
    near = -g.water_edge[idx] < 1.5
    c.rgb[idx[near]] *= 1.35


def _banks(c: _Canvas, idx: np.ndarray) -> None:
    """Riverside greenway: a concrete embankment edge, a path and trees."""
    g = c.g
    c.paint(idx, GRASS, texture=0.18)
    c.trees(idx, cover=0.5, tall=10.0)
    edge = g.water_edge[idx] < 2.0
    c.paint(idx[edge], CONCRETE, grain=0.05)
    c.height[idx[edge]] = 0.0
    path = (g.water_edge[idx] > 6.0) & (g.water_edge[idx] < 8.5)
    c.paint(idx[path], PLAZA, grain=0.05)
    c.height[idx[path]] = 0.0


def _cast_shadows(height: np.ndarray, pixel_m: float, rows_out: slice, cols_out: slice) -> np.ndarray:
    """Boolean shadow mask of the output part of a padded height map; casters lie toward the sun (bottom right)."""
    tan_e = np.tan(np.deg2rad(SUN_ELEVATION_DEG))
    h_out = height[rows_out, cols_out]
    shadow = np.zeros(h_out.shape, dtype=bool)
    steps = int(np.ceil(MAX_HEIGHT_M / tan_e / pixel_m))
    dr, dc = -SHADOW_DIRECTION[0], -SHADOW_DIRECTION[1]  # from a pixel toward its casters
    seen = set()
    for t in range(1, steps + 1):
        oy, ox = int(round(t * dr)), int(round(t * dc))
        if (oy, ox) in seen:
            continue
        seen.add((oy, ox))
        dist = np.hypot(oy, ox) * pixel_m
        caster = height[rows_out.start + oy:rows_out.stop + oy, cols_out.start + ox:cols_out.stop + ox]
        shadow |= caster - h_out > dist * tan_e
    return shadow


def render_window(city: L.CityLayout, row0: int, col0: int, height: int, width: int, pixel_m: float,
                  seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Render labels [H, W] uint8 and VHR RGB [3, H, W] uint8 of the window at (row0, col0) of the scene grid."""
    halo = shadow_halo_px(pixel_m)
    lead = 2  # blur halo on the shadow-free sides
    rows = np.arange(row0 - lead, row0 + height + halo, dtype=np.int64)
    cols = np.arange(col0 - lead, col0 + width + halo, dtype=np.int64)
    c = _Canvas(city, rows, cols, pixel_m, seed)
    g = c.g
    block = g.surface == L.SURF_BLOCK
    for style, paint in _STYLES.items():
        idx = np.flatnonzero(block & (g.style == style))
        if idx.size:
            paint(c, idx)
    # Concrete or earth rims along canals and rivers where blocks reach the water.
    rim = np.flatnonzero(block & (g.water_edge >= 0) & (g.water_edge < 1.5))
    c.paint(rim, CONCRETE * 0.9, grain=0.05)
    c.height[rim] = 0.0
    _banks(c, np.flatnonzero(g.surface == L.SURF_BANK))
    _water(c, np.flatnonzero(g.surface == L.SURF_WATER))
    _roads(c, np.flatnonzero(g.surface == L.SURF_ROAD))
    _roads(c, np.flatnonzero(g.surface == L.SURF_BRIDGE), deck=True)

    shape = c.shape
    rgb = c.rgb.reshape(shape + (3,))
    hmap = c.height.reshape(shape)
    out_r = slice(lead - 1, lead + height + 1)  # one extra pixel each side for the blur
    out_c = slice(lead - 1, lead + width + 1)
    shadow = _cast_shadows(hmap, pixel_m, out_r, out_c)
    img = rgb[out_r, out_c]
    img = np.where(shadow[..., None], img * SHADOW_FACTOR, img)
    haze = c.haze.reshape(shape)[out_r, out_c]
    img = img * (0.94 + 0.12 * haze)[..., None] + 0.02
    # Optics: a light 3x3 blur, then sensor noise per band.
    img = (img[:-2] + 2 * img[1:-1] + img[2:]) / 4
    img = (img[:, :-2] + 2 * img[:, 1:-1] + img[:, 2:]) / 4
    r_in = rows[lead:lead + height]
    c_in = cols[lead:lead + width]
    for band in range(3):
        img[..., band] += (unit_hash(c_in[None, :], r_in[:, None], seed * 1000 + 90 + band) - 0.5) * 0.025
    vhr = np.clip(img * 255.0 + 0.5, 0, 255).astype(np.uint8).transpose(2, 0, 1)
    labels = g.label.reshape(shape)[lead:lead + height, lead:lead + width].copy()
    return labels, np.ascontiguousarray(vhr)
