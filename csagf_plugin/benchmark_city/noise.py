"""Seeded noise that depends only on global coordinates, so any window of the city renders the same pixels.

Every random draw below is a hash of integer coordinates and a salt: no state, no order dependence.
"""

from __future__ import annotations

import numpy as np

_MASK = 0xFFFFFFFF


def _u32(values: np.ndarray | int) -> np.ndarray:
    """Wrap integers (possibly negative) to uint32."""
    return (np.asarray(values, dtype=np.int64) & _MASK).astype(np.uint32)


def hash_u32(ix: np.ndarray | int, iy: np.ndarray | int, salt: int) -> np.ndarray:
    """A well-mixed uint32 hash of two integer coordinates and a salt (broadcasting)."""
    with np.errstate(over="ignore"):  # uint32 wrap-around is the point
        h = (_u32(ix) * np.uint32(0x8DA6B343)) ^ (_u32(iy) * np.uint32(0xD8163841))
        h = h ^ np.uint32(((salt & _MASK) * 0xCB1AB31F) & _MASK)
        h = h ^ (h >> np.uint32(16))
        h = h * np.uint32(0x7FEB352D)
        h = h ^ (h >> np.uint32(15))
        h = h * np.uint32(0x846CA68B)
        h = h ^ (h >> np.uint32(16))
    return h


def unit_hash(ix: np.ndarray | int, iy: np.ndarray | int, salt: int) -> np.ndarray:
    """A hash of integer coordinates mapped to float32 in [0, 1)."""
    return (hash_u32(ix, iy, salt) >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / (1 << 24))


def _lattice_cells(x: np.ndarray, y: np.ndarray, scale: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Lattice cell (ix, iy) of each coordinate (metres) and its smoothstep weights (sx, sy) inside the cell."""
    gx = np.asarray(x, dtype=np.float64) / scale
    gy = np.asarray(y, dtype=np.float64) / scale
    ix = np.floor(gx).astype(np.int64)
    iy = np.floor(gy).astype(np.int64)
    fx = (gx - ix).astype(np.float32)
    fy = (gy - iy).astype(np.float32)
    return ix, iy, fx * fx * (3.0 - 2.0 * fx), fy * fy * (3.0 - 2.0 * fy)


def value_noise_grid(xs: np.ndarray, ys: np.ndarray, scale: float, salt: int) -> np.ndarray:
    """Smooth value noise in [0, 1] on the grid of column centres `xs` and row centres `ys` (metres), [len(ys), len(xs)]."""
    ix, iy, sx, sy = _lattice_cells(xs, ys, scale)
    x0, y0 = int(ix.min()), int(iy.min())
    lattice = unit_hash(np.arange(x0, int(ix.max()) + 2)[None, :], np.arange(y0, int(iy.max()) + 2)[:, None], salt)
    cx, cy = ix - x0, iy - y0
    # Interpolate along x on the few lattice rows first, then along y: the same sums as a 4-corner bilinear blend.
    left = lattice[:, cx]
    along_x = left + (lattice[:, cx + 1] - left) * sx[None, :]
    top = along_x[cy]
    return top + (along_x[cy + 1] - top) * sy[:, None]


def fbm_grid(xs: np.ndarray, ys: np.ndarray, scale: float, salt: int, octaves: int = 3) -> np.ndarray:
    """Fractal (multi-octave) value noise in [0, 1] on a grid; the largest features are about `scale` metres."""
    total = np.zeros((len(ys), len(xs)), dtype=np.float32)
    weight_sum = 0.0
    for octave in range(octaves):
        weight = 0.5 ** octave
        total += np.float32(weight) * value_noise_grid(xs, ys, scale / 2 ** octave, salt + 7919 * octave)
        weight_sum += weight
    return total / np.float32(weight_sum)


def value_noise_points(x: np.ndarray, y: np.ndarray, scale: float, salt: int) -> np.ndarray:
    """Smooth value noise in [0, 1] at arbitrary points (metres), same shape as x."""
    ix, iy, sx, sy = _lattice_cells(x, y, scale)
    v00 = unit_hash(ix, iy, salt)
    v01 = unit_hash(ix + 1, iy, salt)
    v10 = unit_hash(ix, iy + 1, salt)
    v11 = unit_hash(ix + 1, iy + 1, salt)
    top = v00 + (v01 - v00) * sx
    bottom = v10 + (v11 - v10) * sx
    return top + (bottom - top) * sy
