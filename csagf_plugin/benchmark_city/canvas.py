"""The painter's canvas of the daytime rendering: the materials' colours and the per-pixel arrays of one window.

Part of the daytime VHR rendering (daytime.py); the block styles (block_styles.py) paint on it.
"""

from __future__ import annotations

import numpy as np

from . import layout as L
from .noise import fbm_grid, hash_u32, unit_hash


def rgb(*values: float) -> np.ndarray:
    """An RGB colour (0..1) as float32."""
    return np.asarray(values, dtype=np.float32)


ASPHALT = rgb(0.30, 0.31, 0.32)
SIDEWALK = rgb(0.60, 0.58, 0.55)
MARKING = rgb(0.86, 0.86, 0.82)
YELLOW = rgb(0.82, 0.72, 0.32)
GRASS = rgb(0.34, 0.43, 0.22)
TREE = rgb(0.13, 0.22, 0.11)
WATER_RGB = rgb(0.13, 0.17, 0.17)
SOIL = rgb(0.52, 0.45, 0.35)
GRAVEL = rgb(0.62, 0.58, 0.51)
PLAZA = rgb(0.68, 0.66, 0.62)
CONCRETE = rgb(0.58, 0.57, 0.54)
BRIDGE_DECK = rgb(0.50, 0.50, 0.49)
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


class Canvas:
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


def block_hash(block: np.ndarray, ka: np.ndarray, kb: np.ndarray, salt: int) -> np.ndarray:
    """A [0, 1) draw per building slot (block id, slot indices)."""
    return (hash_u32(hash_u32(block, ka, salt), kb, salt + 1) >> np.uint32(8)).astype(np.float32) / (1 << 24)


def per_block(block: np.ndarray, salt: int) -> np.ndarray:
    """A [0, 1) draw per block."""
    return unit_hash(block, block >> 13, salt)
