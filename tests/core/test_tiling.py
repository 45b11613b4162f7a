"""Tile grid, blending weights and the streaming blender against a naive whole-scene blend."""

from __future__ import annotations

import numpy as np
import pytest

from csagf_plugin.core.errors import InputError
from csagf_plugin.core.tiling import StreamingBlender, TileGrid, ramp_weights, tile_count


def naive_blend(grid: TileGrid, tiles: dict[tuple[int, int], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Weighted sum and weight sum of every tile over the whole padded scene held in memory."""
    channels = next(iter(tiles.values())).shape[0]
    acc = np.zeros((channels, grid.padded_height, grid.padded_width), np.float64)
    wsum = np.zeros((grid.padded_height, grid.padded_width), np.float64)
    t = grid.tile_size
    for (row, column), values in tiles.items():
        x0, y0 = grid.origin(row, column)
        w = grid.weights(row, column)
        acc[:, y0:y0 + t, x0:x0 + t] += values * w
        wsum[y0:y0 + t, x0:x0 + t] += w
    return acc[:, :grid.height, :grid.width], wsum[:grid.height, :grid.width]


@pytest.mark.parametrize("length, tile, overlap, expected", [
    (10, 64, 16, 1), (64, 64, 16, 1), (65, 64, 16, 2), (112, 64, 16, 2), (113, 64, 16, 3), (200, 64, 0, 4),
])
def test_tile_count_covers_the_length(length: int, tile: int, overlap: int, expected: int) -> None:
    n = tile_count(length, tile, overlap)
    assert n == expected
    assert (n - 1) * (tile - overlap) + tile >= length  # covered
    assert n == 1 or (n - 2) * (tile - overlap) + tile < length  # and no tile more than needed


def test_ramps_of_neighbours_sum_to_one() -> None:
    rise = ramp_weights(64, 16, True, False)[:16]
    fall = ramp_weights(64, 16, False, True)[-16:]
    np.testing.assert_allclose(rise + fall, 1.0, atol=1e-6)
    assert np.all(np.diff(rise) > 0) and rise[0] > 0
    np.testing.assert_array_equal(ramp_weights(64, 16, False, False), 1.0)


@pytest.mark.parametrize("width, height, tile, overlap", [
    (200, 150, 64, 16), (64, 64, 64, 32), (40, 50, 64, 16), (300, 70, 64, 0), (129, 257, 96, 48),
])
def test_weights_form_a_partition_of_unity(width: int, height: int, tile: int, overlap: int) -> None:
    grid = TileGrid(width, height, tile, overlap)
    _, wsum = naive_blend(grid, {rc: np.zeros((1, tile, tile), np.float32) for rc in grid})
    np.testing.assert_allclose(wsum, 1.0, atol=1e-5)


@pytest.mark.parametrize("width, height, tile, overlap", [
    (200, 150, 64, 16), (40, 50, 64, 16), (300, 70, 64, 0), (129, 257, 96, 48), (64, 200, 64, 8),
])
def test_streaming_blender_equals_whole_scene_blend(width: int, height: int, tile: int, overlap: int) -> None:
    grid = TileGrid(width, height, tile, overlap)
    rng = np.random.default_rng(3)
    tiles = {rc: rng.random((3, tile, tile)).astype(np.float32) for rc in grid}
    expected, _ = naive_blend(grid, tiles)
    blender = StreamingBlender(grid, channels=3)
    got = np.full((3, height, width), np.nan, np.float32)
    for rc in grid:
        for x0, y0, block in blender.add(*rc, tiles[rc]):
            h, w = block.shape[1:]
            assert np.isnan(got[:, y0:y0 + h, x0:x0 + w]).all(), "a pixel was emitted twice"
            got[:, y0:y0 + h, x0:x0 + w] = block
    assert not np.isnan(got).any(), "a pixel was never emitted"
    np.testing.assert_allclose(got, expected, atol=1e-5)
    assert blender._carry.shape == (3, overlap, grid.padded_width)  # memory: overlap rows, not the scene


def test_skipped_tile_contributes_nothing() -> None:
    grid = TileGrid(112, 64, 64, 16)
    blender = StreamingBlender(grid, channels=1)
    ones = np.ones((1, 64, 64), np.float32)
    blocks = blender.add(0, 0, ones) + blender.add(0, 1, None)
    right = blocks[-1]
    assert right[0] == 48 and right[2].shape == (1, 64, 64)
    np.testing.assert_allclose(right[2][0, :, 16:], 0.0)  # only the skipped tile covers these pixels


def test_blender_refuses_tiles_out_of_order() -> None:
    blender = StreamingBlender(TileGrid(200, 200, 64, 16), channels=1)
    with pytest.raises(ValueError, match="raster order"):
        blender.add(0, 1, np.zeros((1, 64, 64), np.float32))


@pytest.mark.parametrize("tile, overlap, message", [(50, 0, "multiple of 32"), (32, 0, "at least 64"),
                                                    (64, 40, "between 0 and 32"), (64, -1, "between 0 and 32")])
def test_bad_tiling_is_refused_with_advice(tile: int, overlap: int, message: str) -> None:
    with pytest.raises(InputError, match=message):
        TileGrid(100, 100, tile, overlap)


def test_blender_refuses_values_outside_zero_one() -> None:
    blender = StreamingBlender(TileGrid(200, 200, 64, 16), channels=1)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        blender.add(0, 0, np.full((1, 64, 64), 3.5, np.float32))


def test_carry_holds_sums_of_one_without_overflow() -> None:
    grid = TileGrid(112, 112, 64, 16)
    blender = StreamingBlender(grid, channels=1)
    got = np.zeros((112, 112), np.float32)
    for rc in grid:
        for x0, y0, block in blender.add(*rc, np.ones((1, 64, 64), np.float32)):
            got[y0:y0 + block.shape[1], x0:x0 + block.shape[2]] = block[0]
    np.testing.assert_allclose(got, 1.0, atol=1e-5)  # 1.0 is exactly representable in the fixed point
