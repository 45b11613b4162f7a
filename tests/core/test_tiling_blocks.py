"""TileGrid.blocks and StreamingBlender over a block with its halo: every pixel owned once, bits as in one blend."""

from __future__ import annotations

import numpy as np
import pytest

from csagf_plugin.core.errors import InputError
from csagf_plugin.core.tiling import StreamingBlender, TileBlock, TileGrid


def blend(grid: TileGrid, tiles: dict[tuple[int, int], np.ndarray], block: TileBlock | None = None) -> np.ndarray:
    """Blend `tiles` (all of the grid, or a block with its halo) into a raster; pixels not emitted stay NaN."""
    out = np.full((1, grid.height, grid.width), np.nan, np.float32)
    blender = StreamingBlender(grid, 1, block.with_halo() if block else None)
    for key in (block.with_halo() if block else grid):
        for x, y, values in blender.add(*key, tiles[key]):
            out[:, y:y + values.shape[1], x:x + values.shape[2]] = values
    return out


@pytest.mark.parametrize("width, height, tile, overlap", [(200, 150, 64, 16), (300, 260, 64, 32), (130, 70, 64, 0),
                                                          (64, 64, 64, 16), (333, 401, 96, 24)])
@pytest.mark.parametrize("block_tiles", [1, 2, 3])
def test_blocks_with_halo_give_the_bits_of_one_blend(width: int, height: int, tile: int, overlap: int,
                                                     block_tiles: int) -> None:
    grid = TileGrid(width, height, tile, overlap)
    rng = np.random.default_rng(width + overlap)
    tiles = {key: rng.random((1, tile, tile), dtype=np.float32) for key in grid}
    whole = blend(grid, tiles)
    owned = np.zeros((height, width), np.int64)
    assembled = np.full_like(whole, np.nan)
    for block in grid.blocks(block_tiles):
        x, y, w, h = block.pixels(grid)
        owned[y:y + h, x:x + w] += 1
        assembled[:, y:y + h, x:x + w] = blend(grid, tiles, block)[:, y:y + h, x:x + w]
    assert (owned == 1).all(), "the blocks' pixels must partition the raster"
    np.testing.assert_array_equal(assembled.view(np.uint32), whole.view(np.uint32))  # bit for bit


def test_a_block_without_its_halo_differs_in_the_overlap() -> None:
    grid = TileGrid(200, 200, 64, 16)
    rng = np.random.default_rng(3)
    tiles = {key: rng.random((1, 64, 64), dtype=np.float32) for key in grid}
    block = grid.blocks(2)[3]  # rows 2.., columns 2..: a halo row above and a halo column to the left
    x, y, w, h = block.pixels(grid)
    blender = StreamingBlender(grid, 1, block)  # no halo
    alone = np.full((1, 200, 200), np.nan, np.float32)
    for key in block:
        for bx, by, values in blender.add(*key, tiles[key]):
            alone[:, by:by + values.shape[1], bx:bx + values.shape[2]] = values
    whole = blend(grid, tiles)
    differ = alone[0, y:y + h, x:x + w] != whole[0, y:y + h, x:x + w]
    assert differ[:16].any() and differ[:, :16].any() and not differ[16:, 16:].any()


def test_blocks_count_and_order() -> None:
    grid = TileGrid(500, 300, 64, 16)  # 11 columns x 6 rows of tiles
    assert (grid.columns, grid.rows) == (11, 6)
    blocks = grid.blocks(4)
    assert [(b.rows, b.columns) for b in blocks[:4]] == [(range(4), range(4)), (range(4), range(4, 8)),
                                                         (range(4), range(8, 11)), (range(4, 6), range(4))]
    assert sum(len(b) for b in blocks) == len(grid)
    assert blocks[4].with_halo() == TileBlock(range(3, 6), range(3, 8))
    with pytest.raises(InputError, match="Block size 0"):
        grid.blocks(0)
