"""Tiles with overlap over a raster, smooth blending weights, and a streaming blender that keeps memory bounded.

Tiles lie on a regular grid of step `tile_size - overlap` starting at the raster's top-left corner; tiles that
reach past the right or bottom edge are padded by the reader and cropped back by the blender.  Each tile's
weights ramp smoothly (squared sine) across the overlap on the sides that have a neighbour and stay at 1 on the
sides that touch the raster's edge; the ramps of two neighbours add up to exactly 1, so the weights form a
partition of unity and blended values need no division.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

import numpy as np

from .errors import InputError


@dataclass(frozen=True)
class TileGrid:
    """The regular grid of overlapping tiles that covers a raster of `width` x `height` pixels."""

    width: int  # raster width in pixels
    height: int  # raster height in pixels
    tile_size: int  # tile edge in pixels
    overlap: int  # pixels shared by two neighbouring tiles

    def __post_init__(self) -> None:
        check_tiling(self.tile_size, self.overlap)
        if self.width < 1 or self.height < 1:
            raise InputError(f"Cannot tile an empty raster ({self.width} x {self.height} pixels).")

    @property
    def step(self) -> int:
        """Distance between the origins of two neighbouring tiles."""
        return self.tile_size - self.overlap

    @property
    def columns(self) -> int:
        """Number of tile columns."""
        return tile_count(self.width, self.tile_size, self.overlap)

    @property
    def rows(self) -> int:
        """Number of tile rows."""
        return tile_count(self.height, self.tile_size, self.overlap)

    @property
    def padded_width(self) -> int:
        """Width covered by the tiles (at least the raster width)."""
        return (self.columns - 1) * self.step + self.tile_size

    @property
    def padded_height(self) -> int:
        """Height covered by the tiles (at least the raster height)."""
        return (self.rows - 1) * self.step + self.tile_size

    def __len__(self) -> int:
        return self.rows * self.columns

    def origin(self, row: int, column: int) -> tuple[int, int]:
        """(x, y) pixel offset of a tile's top-left corner in the raster."""
        return column * self.step, row * self.step

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """(row, column) of every tile in raster order: left to right, top to bottom."""
        for row in range(self.rows):
            for column in range(self.columns):
                yield row, column

    def blocks(self, tiles: int) -> list[TileBlock]:
        """The grid cut into blocks of at most `tiles` x `tiles` tiles, in raster order."""
        if tiles < 1:
            raise InputError(f"Block size {tiles} is not usable: pick 1 tile or more.")
        return [TileBlock(range(r, min(r + tiles, self.rows)), range(c, min(c + tiles, self.columns)))
                for r in range(0, self.rows, tiles) for c in range(0, self.columns, tiles)]

    def weights(self, row: int, column: int) -> np.ndarray:
        """Blending weights [tile, tile] float32 of one tile (1 on sides without a neighbour); read-only."""
        return _tile_weights(self.tile_size, self.overlap, row > 0, row < self.rows - 1, column > 0,
                             column < self.columns - 1)


@dataclass(frozen=True)
class TileBlock:
    """A rectangle of a TileGrid's tiles: `rows` x `columns` of tile indices (ranges of step 1).

    The pixels a block owns are those its tiles finish in a streaming blend over the whole grid; the blocks of
    a grid own every pixel exactly once.  Finishing them needs the tile row above and the tile column to the
    left as a halo (their `overlap` pixels blend into the block), never the tiles below or to the right.
    """

    rows: range  # tile rows of the block
    columns: range  # tile columns of the block

    def __len__(self) -> int:
        return len(self.rows) * len(self.columns)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """(row, column) of the block's tiles in raster order."""
        for row in self.rows:
            for column in self.columns:
                yield row, column

    def with_halo(self) -> TileBlock:
        """The block plus the tile row above and the tile column to its left (where the grid has them)."""
        return TileBlock(range(max(self.rows.start - 1, 0), self.rows.stop),
                         range(max(self.columns.start - 1, 0), self.columns.stop))

    def pixels(self, grid: TileGrid) -> tuple[int, int, int, int]:
        """(x, y, width, height) of the pixels the block owns in the raster."""
        x0, y0 = grid.origin(self.rows.start, self.columns.start)
        x1 = grid.width if self.columns.stop >= grid.columns else min(grid.width, self.columns.stop * grid.step)
        y1 = grid.height if self.rows.stop >= grid.rows else min(grid.height, self.rows.stop * grid.step)
        return x0, y0, max(0, x1 - x0), max(0, y1 - y0)


def check_tiling(tile_size: int, overlap: int) -> None:
    """Raise InputError unless tile_size is a multiple of 32 (>= 64) and 0 <= overlap <= tile_size / 2."""
    if tile_size < 64 or tile_size % 32:
        raise InputError(f"Tile size {tile_size} is not usable: pick a multiple of 32 of at least 64 (e.g. 256).")
    if overlap < 0 or 2 * overlap > tile_size:
        raise InputError(f"Tile overlap {overlap} is not usable with tile size {tile_size}: pick an overlap "
                         f"between 0 and {tile_size // 2} (half the tile).")


def tile_count(length: int, tile_size: int, overlap: int) -> int:
    """Number of tiles of step tile_size - overlap needed to cover `length` pixels."""
    if length <= tile_size:
        return 1
    return math.ceil((length - tile_size) / (tile_size - overlap)) + 1


def ramp_weights(tile_size: int, overlap: int, ramp_start: bool, ramp_end: bool) -> np.ndarray:
    """1-D weights [tile_size] float32: a squared-sine ramp over `overlap` pixels at each end that has a neighbour.

    The rising ramp of one tile and the falling ramp of its neighbour sum to 1 at every shared pixel.
    """
    w = np.ones(tile_size, dtype=np.float64)
    if overlap > 0:
        rise = np.sin(0.5 * np.pi * (np.arange(overlap) + 0.5) / overlap) ** 2
        if ramp_start:
            w[:overlap] = rise
        if ramp_end:
            w[tile_size - overlap:] = rise[::-1]
    return w.astype(np.float32)


@lru_cache(maxsize=32)
def _tile_weights(tile_size: int, overlap: int, top: bool, bottom: bool, left: bool, right: bool) -> np.ndarray:
    """Outer product of the row and column ramps; at most nine kinds of tile per grid, so they are cached."""
    weights = np.outer(ramp_weights(tile_size, overlap, top, bottom), ramp_weights(tile_size, overlap, left, right))
    weights.flags.writeable = False
    return weights


FIXED_ONE = 65535  # 1.0 in the carry strip's 16-bit fixed point


class StreamingBlender:
    """Blends weighted tile outputs in raster order and hands back finished blocks, holding only `overlap` rows.

    Feed every tile of a TileGrid in raster order (`add`); each call returns the blocks of pixels that no later
    tile touches, as (x, y, values[K, h, w]) in raster pixel coordinates, cropped to the raster.  Memory is one
    carry strip of K x overlap x padded width plus one tile, whatever the raster's height.  Given a `block`, only
    its tiles are fed (raster order within it) with the weights they have in the whole grid; fed a block with its
    halo, the pixels the block owns come out bit for bit as in a blend of the whole grid.

    Values must lie in [0, 1] (class probabilities, the gate).  Weighted sums then stay in [0, 1] too, so the
    carry strip holds them as 16-bit fixed point: half the memory of float32 on a wide scene, with an error below
    8e-6 (float16 would err by up to 5e-4).
    """

    def __init__(self, grid: TileGrid, channels: int, block: TileBlock | None = None) -> None:
        self.grid = grid
        self.channels = channels
        self.block = block or TileBlock(range(grid.rows), range(grid.columns))  # the tiles fed, in raster order
        overlap = grid.overlap
        self._x0 = grid.origin(0, self.block.columns.start)[0]  # raster column of the carry strip's first pixel
        width = (len(self.block.columns) - 1) * grid.step + grid.tile_size
        self._carry = np.zeros((channels, overlap, width), dtype=np.uint16)  # from the row above
        self._left = np.zeros((channels, grid.tile_size, overlap), dtype=np.float32)  # from the tile on the left
        self._next = (self.block.rows.start, self.block.columns.start)

    def add(self, row: int, column: int, values: np.ndarray | None) -> list[tuple[int, int, np.ndarray]]:
        """Add one tile's unweighted values [K, tile, tile] (None: a tile to skip, e.g. all no data)."""
        if (row, column) != self._next:
            raise ValueError(f"tiles must come in raster order: expected {self._next}, got {(row, column)}")
        g = self.grid
        t, o, s = g.tile_size, g.overlap, g.step
        columns = self.block.columns
        self._next = (row, column + 1) if column + 1 < columns.stop else (row + 1, columns.start)
        if values is None:
            block = np.zeros((self.channels, t, t), dtype=np.float32)
        else:
            if values.shape != (self.channels, t, t):
                raise ValueError(f"tile values must have shape {(self.channels, t, t)}, got {values.shape}")
            block = values.astype(np.float32, copy=True)
            if block.min() < 0.0 or block.max() > 1.0:
                raise ValueError("tile values must lie in [0, 1] (probabilities): blend after the softmax")
            block *= g.weights(row, column)
        x0, y0 = g.origin(row, column)
        xc = x0 - self._x0  # the tile's first column in the carry strip
        if o:
            if row > self.block.rows.start:  # rows shared with the tile row above; the left tile already added
                first = o if column > columns.start else 0  # its shared columns
                block[:, :o, first:] += self._carry[:, :, xc + first:xc + t] * np.float32(1.0 / FIXED_ONE)
            if column > columns.start:
                block[:, :, :o] += self._left
        last_row, last_column = row == g.rows - 1, column == g.columns - 1
        done_h = t if last_row else s  # rows that no later tile touches
        done_w = t if last_column else s
        if o:
            if not last_row:
                pending = block[:, s:, :done_w]  # rows the next tile row adds to; not emitted now
                np.rint(pending * np.float32(FIXED_ONE), out=pending)
                np.minimum(pending, FIXED_ONE, out=pending)  # weights sum to 1 + rounding at most
                self._carry[:, :, xc:xc + done_w] = pending
            if not last_column:
                self._left[...] = block[:, :, s:]
        out_h = min(done_h, g.height - y0)
        out_w = min(done_w, g.width - x0)
        if out_h <= 0 or out_w <= 0:
            return []
        return [(x0, y0, block[:, :out_h, :out_w])]
