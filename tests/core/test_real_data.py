"""The engine on real Shanghai Pudong tiles (EPSG:3857 RGBA) with VIIRS night light (EPSG:4326, 460 m).

Skipped when ../shared/data is absent.  The tiny 1 x 1 model's gate is sigmoid(normalised NTL), so the gate map
tells exactly which radiance reached each VHR pixel; it is compared with a bilinear read of the VIIRS raster at
the same coordinates, done here independently of rasterio's warper.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import xy
from rasterio.warp import transform as warp_points

from csagf_plugin.core.classify import ClassifyConfig, classify_scene

from tiny_models import tiny_card

pytestmark = pytest.mark.real_data
TILES = ("google_3_5", "google_6_0")


def bilinear_at(src: rasterio.DatasetReader, lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of band 1 between pixel centres at geographic points."""
    band = src.read(1).astype(np.float64)
    cols, rows = ~src.transform * (lons, lats)
    cols, rows = np.asarray(cols) - 0.5, np.asarray(rows) - 0.5
    c0, r0 = np.floor(cols).astype(int), np.floor(rows).astype(int)
    fc, fr = cols - c0, rows - r0
    return (band[r0, c0] * (1 - fr) * (1 - fc) + band[r0, c0 + 1] * (1 - fr) * fc
            + band[r0 + 1, c0] * fr * (1 - fc) + band[r0 + 1, c0 + 1] * fr * fc)


@pytest.mark.parametrize("tile", TILES)
def test_shanghai_tile_on_its_grid_with_alpha_and_ntl_at_the_right_place(shared_data: Path, tmp_path: Path,
                                                                          tiny_model: Path, tile: str) -> None:
    source = shared_data / "shanghai_pudong" / "vhr" / f"{tile}.tif"
    ntl_path = shared_data / "shanghai_pudong" / "ntl" / "viirs_dnb_2025.tif"
    # A copy (in the test's temp folder) whose alpha hides a corner, to check that alpha 0 becomes class 0.
    with rasterio.open(source) as src:
        profile, data = src.profile, src.read()
        colorinterp = src.colorinterp
    data[3, :100, :150] = 0
    vhr_path = tmp_path / f"{tile}_masked.tif"
    with rasterio.open(vhr_path, "w", **profile) as dst:
        dst.write(data)
        dst.colorinterp = colorinterp
    gate_path = tmp_path / "gate.tif"
    result = classify_scene(ClassifyConfig(str(vhr_path), str(ntl_path), str(tiny_model),
                                           str(tmp_path / "zones.tif"), gate_path=str(gate_path), threads=1,
                                           vhr_pixel_size_m=0),  # on the tile's own grid, not resampled
                            warn=None)
    with rasterio.open(vhr_path) as vhr, rasterio.open(result.output_path) as out, rasterio.open(gate_path) as g:
        assert out.crs == vhr.crs and out.transform == vhr.transform and out.shape == vhr.shape
        zones, gate = out.read(1), g.read(1)
        np.testing.assert_array_equal(zones == 0, data[3] == 0)
        assert np.isnan(gate[data[3] == 0]).all()
        rows, cols = np.meshgrid(np.arange(150, 512, 90), np.arange(5, 512, 90), indexing="ij")
        xs, ys = xy(vhr.transform, rows.ravel(), cols.ravel())
        lons, lats = warp_points(vhr.crs, "EPSG:4326", xs, ys)
    card = tiny_card()
    z = np.log(gate[rows.ravel(), cols.ravel()] / (1 - gate[rows.ravel(), cols.ravel()])).astype(np.float64)
    radiance = np.expm1(z * card.ntl_std[0] + card.ntl_mean[0])
    with rasterio.open(ntl_path) as ntl:
        expected = bilinear_at(ntl, np.asarray(lons), np.asarray(lats))
    assert expected.min() > 1.0  # Pudong is lit: a misplaced read would not hide behind zeros
    np.testing.assert_allclose(radiance, expected, rtol=0.01)


PUDONG = Path(__file__).resolve().parents[2] / "models" / "csagfnet_pudong.onnx"


@pytest.mark.skipif(not PUDONG.exists(), reason="the real-data default model is not bundled")
def test_real_data_default_model_maps_a_held_out_tile_as_its_card_says(shared_data: Path, tmp_path: Path) -> None:
    """The bundled Pudong model on held-out tile google_5_0 (copied first): its overall accuracy against the visual
    labels is the one its card reports for the two held-out tiles, give or take the other tile's share."""
    import shutil

    from csagf_plugin.core.model import load_model
    from csagf_plugin.training.metrics import confusion_matrix, metrics_from_confusion

    data = shared_data / "shanghai_pudong"
    vhr = shutil.copy(data / "vhr" / "google_5_0.tif", tmp_path / "google_5_0.tif")
    ntl = shutil.copy(data / "ntl" / "viirs_dnb_2025.tif", tmp_path / "viirs.tif")
    card = load_model(PUDONG, device="cpu", threads=1).card
    result = classify_scene(ClassifyConfig(str(vhr), str(ntl), str(PUDONG), str(tmp_path / "zones.tif"), threads=2),
                            warn=None)
    with rasterio.open(result.output_path) as out, rasterio.open(data / "labels_visual" / "google_5_0_labels.tif") as ref:
        cm = confusion_matrix(ref.read(1), out.read(1), 7)
    oa = metrics_from_confusion(cm).oa
    assert oa > 0.5 * card.metrics["val_oa"], (oa, card.metrics)
    assert len(result.class_pixels) >= 3  # not one class everywhere
