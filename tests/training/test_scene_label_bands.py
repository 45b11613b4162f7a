"""A scene's labels made in bands of tile rows (bounded memory on huge scenes) give the same tiles as in one piece."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from csagf_plugin.training import scene_labels
from csagf_plugin.training.labels import LabelsOutside, labels_on_grid
from csagf_plugin.training.scene_labels import tile_row_bands
from csagf_plugin.training.tiles import LabelSource, PrepareConfig, SceneSource, prepare_tiles

TILE, STRIDE = 64, 32  # overlapping tiles: a band must reach below its last tile row


def _prepare(scene: SceneSource, synthetic, band_pixels: int, monkeypatch) -> tuple[object, list[str], list[int]]:
    """Tiles, warnings and the heights of the label grids asked for, with bands of at most band_pixels pixels."""
    heights: list[int] = []

    def spy(source, crs, transform, width, height, *args):
        heights.append(height)
        return labels_on_grid(source, crs, transform, width, height, *args)

    monkeypatch.setattr(scene_labels, "BAND_PIXELS", band_pixels)
    monkeypatch.setattr(scene_labels, "labels_on_grid", spy)
    warnings: list[str] = []
    store = prepare_tiles(PrepareConfig([scene], str(synthetic.ntl), mapping=str(synthetic.mapping_csv),
                                        tile_size=TILE, stride=STRIDE, min_labelled=0.0), warn=warnings.append)
    return store, warnings, heights


def _assert_same_tiles(a, b) -> None:
    np.testing.assert_array_equal(a.origin, b.origin)
    np.testing.assert_array_equal(a.labels, b.labels)
    np.testing.assert_array_equal(a.vhr, b.vhr)
    np.testing.assert_array_equal(np.nan_to_num(a.ntl), np.nan_to_num(b.ntl))


def test_tile_rows_are_grouped_into_bands_of_whole_tile_rows() -> None:
    rows = [0, 16, 32, 48, 64, 80, 96]
    assert tile_row_bands(rows, 32, 256, 10 ** 9) == [rows]  # the scene fits: one band, as before
    assert tile_row_bands(rows, 32, 256, 2 * 32 * 256) == [[0, 16], [32, 48], [64, 80], [96]]
    assert tile_row_bands(rows, 32, 256, 1) == [[r] for r in rows]  # at least one tile row per band


def test_raster_labels_in_bands_equal_one_piece(synthetic, monkeypatch) -> None:
    scene = SceneSource(str(synthetic.scenes[0].vhr), str(synthetic.scenes[0].labels))
    whole, whole_warnings, whole_heights = _prepare(scene, synthetic, 10 ** 9, monkeypatch)
    banded, banded_warnings, banded_heights = _prepare(scene, synthetic, TILE * 256, monkeypatch)
    assert whole_heights == [128]  # tile rows 0, 32, 64 of a 128 px scene
    assert banded_heights == [64, 64, 64]  # one tile row per band: never the whole scene
    _assert_same_tiles(whole, banded)
    assert whole.num_tiles == 3 * 7
    assert banded_warnings == whole_warnings


def test_polygons_and_a_further_source_in_bands_equal_one_piece(synthetic, tmp_path, monkeypatch) -> None:
    """Polygons first (one value unmapped), a raster of water filling their gaps: the same tiles in bands."""
    truth = synthetic.scenes[0]
    water = tmp_path / "water.tif"
    with rasterio.open(truth.labels) as src:
        profile = src.profile
    with rasterio.open(water, "w", **profile) as dst:
        dst.write(np.full(truth.label_map.shape, 6, np.uint8), 1)
    scene = SceneSource(str(truth.vhr), str(synthetic.polygons), class_field="landuse",
                        more_labels=[LabelSource(str(water))])
    whole, whole_warnings, _ = _prepare(scene, synthetic, 10 ** 9, monkeypatch)
    banded, banded_warnings, _ = _prepare(scene, synthetic, TILE * 256, monkeypatch)
    _assert_same_tiles(whole, banded)
    assert (whole.labels == 6).any()  # the further source did fill gaps
    # the unmapped value is named in both; in bands once per band that has it, with that band's count
    assert any("mystery" in w for w in whole_warnings) and any("mystery" in w for w in banded_warnings)


def test_labels_outside_the_scene_are_refused_in_bands_too(synthetic, tmp_path, monkeypatch) -> None:
    elsewhere = tmp_path / "elsewhere.tif"
    with rasterio.open(synthetic.scenes[0].labels) as src:
        profile, data = src.profile, src.read(1)
    profile["transform"] = rasterio.Affine.translation(50000.0, 0.0) * profile["transform"]
    with rasterio.open(elsewhere, "w", **profile) as dst:
        dst.write(data, 1)
    scene = SceneSource(str(synthetic.scenes[0].vhr), str(elsewhere))
    for band_pixels in (10 ** 9, TILE * 256):
        with pytest.raises(LabelsOutside, match="do not overlap the VHR raster"):
            _prepare(scene, synthetic, band_pixels, monkeypatch)
