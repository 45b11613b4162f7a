"""core/value_checks.py: the VHR divisor follows what the model saw in training, read from a sample of the raster."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from csagf_plugin.core.errors import InputError
from csagf_plugin.core.model_card import ModelCard
from csagf_plugin.core.value_checks import check_class_map, sample_windows, vhr_scale


def raster(path, data: np.ndarray, nodata=None) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[2], height=data.shape[1], count=data.shape[0],
                       dtype=str(data.dtype), crs="EPSG:32651", transform=from_origin(350000, 3460000, 1, 1),
                       nodata=nodata) as dst:
        dst.write(data)
    return str(path)


def scale_of(path: str, card: ModelCard, mode="auto") -> tuple[float, list[str]]:
    notes: list[str] = []
    with rasterio.open(path) as src:
        return vhr_scale(src, [1, 2, 3], card, mode, notes.append), notes


def reflectance(tmp_path) -> str:
    """uint16 surface reflectance x 10000: mean about 3000, bright roofs up to 8000."""
    rng = np.random.default_rng(0)
    return raster(tmp_path / "reflectance.tif", rng.gamma(4.0, 750.0, (3, 300, 300)).clip(0, 9000).astype(np.uint16))


def test_a_model_trained_on_reflectance_keeps_its_card_divisor(tmp_path):
    card = ModelCard("reflectance_model", "full", vhr_mean=[0.046] * 3)  # trained on reflectance / 65535
    assert scale_of(reflectance(tmp_path), card) == (65535.0, [])


def test_a_model_trained_on_8_bit_images_gets_reflectance_divided_by_10000(tmp_path):
    card = ModelCard("rgb_model", "full", vhr_mean=[0.32, 0.35, 0.29])
    scale, notes = scale_of(reflectance(tmp_path), card)
    assert scale == 10000.0 and len(notes) == 1 and "divided by 10000 (VHR scale auto)" in notes[0]
    scale, notes = scale_of(reflectance(tmp_path), card, "card")
    assert scale == 65535.0 and "may be nearly one class" in notes[0]
    assert scale_of(reflectance(tmp_path), card, 12345.0)[0] == 12345.0
    with pytest.raises(InputError, match="must be above 0"):
        scale_of(reflectance(tmp_path), card, 0.0)


def test_nodata_is_left_out_of_the_sample_and_an_empty_raster_refused(tmp_path):
    card = ModelCard("rgb_model", "full")
    data = np.zeros((3, 300, 300), np.uint16)
    with pytest.raises(InputError, match="has no valid pixel"):
        scale_of(raster(tmp_path / "empty.tif", data, nodata=0), card)


def test_sample_windows_cover_the_raster_without_reading_it_whole():
    windows = sample_windows(10000, 8000)
    assert len(windows) == 16 and all(w.width == w.height == 256 for w in windows)
    assert min(w.col_off for w in windows) == 0 and max(w.col_off + w.width for w in windows) == 10000
    assert sample_windows(100, 100)[0].width == 100


def test_class_maps_pass_and_images_do_not(tmp_path):
    classes = np.random.default_rng(1).integers(0, 8, (1, 64, 64)).astype(np.uint8)
    check_class_map(raster(tmp_path / "map.tif", classes))
    grey = np.random.default_rng(1).integers(0, 256, (1, 64, 64)).astype(np.uint8)
    with pytest.raises(InputError, match="different values in a sample"):
        check_class_map(raster(tmp_path / "grey.tif", grey))
