"""Daytime VHR rendering of one window of the city: materials, buildings with heights, cast shadows, sensor noise.

Every pixel depends only on the plan and on its global position, so windows rendered separately join without
seams: a window is rendered with a halo (for shadows cast from outside it and for the optics blur) and cropped.
"""

from __future__ import annotations

import numpy as np

from . import layout as L
from .block_styles import STYLES, paint_cars
from .canvas import (
    ASPHALT,
    BRIDGE_DECK,
    CONCRETE,
    GRASS,
    MARKING,
    PLAZA,
    SIDEWALK,
    TREE,
    WATER_RGB,
    YELLOW,
    Canvas,
    block_hash,
)
from .noise import unit_hash

SUN_ELEVATION_DEG = 58.0  # sun height above the horizon
SHADOW_DIRECTION = (-0.83, -0.56)  # unit (row, col) step from a caster to its shadow: to the north, a little west
MAX_HEIGHT_M = 90.0  # tallest building; sets the halo
SHADOW_FACTOR = np.array([0.26, 0.28, 0.33], dtype=np.float32)  # shadowed ground keeps this much light (bluish)


def shadow_halo_px(pixel_m: float) -> int:
    """Pixels on the sun side of a window that can cast a shadow into it."""
    return int(np.ceil(MAX_HEIGHT_M / np.tan(np.deg2rad(SUN_ELEVATION_DEG)) / pixel_m)) + 2


def _roads(c: Canvas, idx: np.ndarray, deck: bool = False) -> None:
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
    paint_cars(c, d_idx, key, along[drive], np.abs(across[drive]) - 1.2 * arterial[drive], 0.12)
    # Street trees on sidewalks: a crown every 8 m, on both sides.
    if not deck:
        tree_slot = np.floor(along / 8.0)
        centre_along = tree_slot * 8.0 + 4.0
        d2 = (along - centre_along) ** 2 + (edge - (hw - 1.6)) ** 2
        radius = 2.2 + 1.2 * block_hash(np.zeros(idx.size, np.int64), tree_slot.astype(np.int64),
                                         np.sign(across).astype(np.int64), 71)
        crown = (tier >= L.ROAD_LOCAL) & ~crossing & (d2 < radius ** 2)
        t = idx[crown]
        c.rgb[t] = TREE * (0.6 + 0.8 * c.small[t])[:, None]
        c.height[t] = 8.0


def _water(c: Canvas, idx: np.ndarray) -> None:
    """River and canal water: dark, slightly green, nearly flat, lighter close to the banks."""
    g = c.g
    c.paint(idx, WATER_RGB, grain=0.05, texture=0.12)
    near = -g.water_edge[idx] < 1.5
    c.rgb[idx[near]] *= 1.35


def _banks(c: Canvas, idx: np.ndarray) -> None:
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
    c = Canvas(city, rows, cols, pixel_m, seed)
    g = c.g
    block = g.surface == L.SURF_BLOCK
    for style, paint in STYLES.items():
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
