"""classify_scene on small seeded scenes: georeferencing, NTL sampling, no data, dtypes, seams, cancel."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin, xy
from rasterio.warp import transform as warp_points

from csagf_plugin.core.classify import ClassifyConfig, ClassifyResult, classify_scene
from csagf_plugin.core.errors import Canceled
from csagf_plugin.core.model_card import ModelCard, normalise_ntl, normalise_vhr
from csagf_plugin.core.style import classes_of_map, colormap

from tiny_models import POINTWISE_WEIGHTS, UTM51, VHR_ORIGIN, WGS84, ntl_linear, smooth_texture, tiny_card, \
    write_raster

VHR_ONLY_WEIGHTS = POINTWISE_WEIGHTS.copy()
VHR_ONLY_WEIGHTS[:, 3] = 0.0  # logits ignore NTL: the class of each pixel is computable from the VHR alone


def classify(scene: dict[str, Path], model: Path, **changes: object) -> ClassifyResult:
    """Classify the scene fixture into its folder; keyword arguments change the config."""
    folder = scene["folder"]
    config = ClassifyConfig(vhr_path=str(scene["vhr"]), ntl_path=str(scene["ntl"]), model_path=str(model),
                            output_path=str(folder / "zones.tif"), threads=1)
    for key, value in changes.items():
        setattr(config, key, value)
    return classify_scene(config, warn=None)


def pointwise_classes(vhr: np.ndarray, card: ModelCard, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """Class ids the 1 x 1 VHR-only model must give, and a mask of pixels whose top two logits nearly tie."""
    x = normalise_vhr(vhr, dtype, card)
    logits = np.einsum("cb,bhw->chw", VHR_ONLY_WEIGHTS[:, :3], x)
    top2 = np.sort(logits, axis=0)[-2:]
    return card.class_ids()[logits.argmax(axis=0)], (top2[1] - top2[0]) < 1e-4


def read(path: str | Path) -> np.ndarray:
    """Band 1 of a raster."""
    with rasterio.open(path) as src:
        return src.read(1)


@pytest.fixture(scope="module")
def vhr_only_weights_model(model_factory: Callable[..., Path]) -> Path:
    """1 x 1 model whose logits depend on the VHR only, with a gate = sigmoid(ntl)."""
    return model_factory(tiny_card(), weights=VHR_ONLY_WEIGHTS[:, :, None, None])


def test_map_is_on_the_vhr_grid_with_the_models_classes(scene: dict[str, Path], vhr_only_weights_model: Path) -> None:
    folder = scene["folder"]
    result = classify(scene, vhr_only_weights_model, confidence_path=str(folder / "conf.tif"),
                      gate_path=str(folder / "gate.tif"))
    card = tiny_card()
    with rasterio.open(scene["vhr"]) as vhr, rasterio.open(result.output_path) as out:
        assert (out.crs, out.transform, out.shape) == (vhr.crs, vhr.transform, vhr.shape)
        assert out.dtypes[0] == "uint8" and out.nodata == 0
        assert out.profile["tiled"] and out.profile["compress"] == "deflate"
        table = out.colormap(1)
        for cid, rgba in colormap(card.classes).items():
            assert table[cid] == rgba
        zones = out.read(1)
        expected, tie = pointwise_classes(vhr.read(), card, "uint8")
    np.testing.assert_array_equal(zones[~tie], expected[~tie])
    assert len(np.unique(zones)) >= 4  # the texture gives several classes, so the check above means something
    assert result.class_pixels == {int(c): int(n) for c, n in zip(*np.unique(zones, return_counts=True))}
    assert result.class_areas[int(zones[0, 0])] == pytest.approx(result.class_pixels[int(zones[0, 0])] * 1.0)
    assert classes_of_map(result.output_path) == card.classes
    confidence, gate = read(folder / "conf.tif"), read(folder / "gate.tif")
    assert np.all((confidence > 1 / 7) & (confidence <= 1.0)) and np.all((gate > 0) & (gate < 1))
    assert result.providers == ["CPUExecutionProvider"] and result.device == "cpu"
    assert not list(folder.glob(".*partial*")), "temporary files were left behind"


def test_category_names_are_written(scene: dict[str, Path], tiny_model: Path) -> None:
    gdal = pytest.importorskip("osgeo.gdal")
    result = classify(scene, tiny_model)
    info = gdal.Info(result.output_path, format="json")  # what gdalinfo and QGIS's layer properties show
    band = info["bands"][0]
    assert band["categories"][0] == "No data"
    assert band["categories"][1:8] == [c.name for c in tiny_card().classes]
    assert band["colorInterpretation"] == "Palette" and band["description"] == "functional_zone"


def gate_to_radiance(gate: np.ndarray, card: ModelCard) -> np.ndarray:
    """Invert gate = sigmoid(normalised NTL) back to radiance (log1p transform of the card)."""
    z = np.log(gate / (1 - gate)).astype(np.float64)
    return np.expm1(z * card.ntl_std[0] + card.ntl_mean[0])


def test_ntl_in_another_crs_is_sampled_at_the_right_place(scene: dict[str, Path], tiny_model: Path) -> None:
    gate_path = scene["folder"] / "gate.tif"
    classify(scene, tiny_model, gate_path=str(gate_path))
    radiance = gate_to_radiance(read(gate_path), tiny_card())
    with rasterio.open(scene["vhr"]) as vhr:
        rows, cols = np.mgrid[0:vhr.height:7, 0:vhr.width:7]
        xs, ys = xy(vhr.transform, rows.ravel(), cols.ravel())
        lons, lats = warp_points(vhr.crs, WGS84, xs, ys)
    expected = ntl_linear(np.asarray(lons), np.asarray(lats))
    got = radiance[rows.ravel(), cols.ravel()]
    assert np.ptp(expected) > 5  # the NTL varies enough over the scene for a misplacement to show
    np.testing.assert_allclose(got, expected, atol=0.2)


def test_ntl_nodata_is_filled_as_the_card_says(scene: dict[str, Path], tiny_model: Path) -> None:
    with rasterio.open(scene["ntl"]) as src:
        profile, shape = src.profile, src.shape
    empty = scene["folder"] / "ntl_empty.tif"
    write_raster(empty, np.full((1,) + shape, -999.0, np.float32), WGS84, profile["transform"], nodata=-999.0)
    gate_path = scene["folder"] / "gate.tif"
    messages: list[str] = []
    classify_scene(ClassifyConfig(str(scene["vhr"]), str(empty), str(tiny_model),
                                  str(scene["folder"] / "zones.tif"), gate_path=str(gate_path)), warn=messages.append)
    card = tiny_card()
    fill = 1 / (1 + np.exp(-normalise_ntl(np.full((1, 1, 1), np.nan, np.float32), card)[0, 0, 0]))
    np.testing.assert_allclose(read(gate_path), fill, atol=1e-5)  # blending carries 16-bit fixed point
    assert any("no data under" in m for m in messages)


def test_alpha_zero_and_all_nodata_tiles_give_class_zero(scene: dict[str, Path], tiny_model: Path) -> None:
    folder = scene["folder"]
    rgb = smooth_texture(150, 200, 3, seed=1)
    alpha = np.full((1, 150, 200), 255, np.uint8)
    alpha[0, :, :100] = 0  # the left half: the first tile column lies wholly inside it
    alpha[0, 120:, 150:] = 0
    rgba = write_raster(folder / "rgba.tif", np.concatenate([rgb, alpha]), UTM51,
                        from_origin(*VHR_ORIGIN, 1.0, 1.0), alpha_last=True)
    result = classify({**scene, "vhr": rgba}, tiny_model, confidence_path=str(folder / "conf.tif"))
    zones = read(result.output_path)
    np.testing.assert_array_equal(zones == 0, alpha[0] == 0)
    assert np.isnan(read(folder / "conf.tif")[alpha[0] == 0]).all()
    assert result.tiles_skipped >= 3  # whole tiles under alpha 0 were not run through the model
    assert result.class_pixels[0] == int((alpha == 0).sum())


def test_vhr_nodata_value_gives_class_zero(scene: dict[str, Path], tiny_model: Path) -> None:
    rgb = smooth_texture(150, 200, 3, seed=2)
    rgb = np.maximum(rgb, 1)
    rgb[:, 10:30, 40:90] = 0
    path = write_raster(scene["folder"] / "nodata.tif", rgb, UTM51, from_origin(*VHR_ORIGIN, 1.0, 1.0), nodata=0)
    zones = read(classify({**scene, "vhr": path}, tiny_model).output_path)
    np.testing.assert_array_equal(zones == 0, np.all(rgb == 0, axis=0))


def test_uint16_is_scaled_per_card_not_refused(scene: dict[str, Path], vhr_only_weights_model: Path) -> None:
    rgb8 = smooth_texture(150, 200, 3, seed=1)
    path16 = write_raster(scene["folder"] / "vhr16.tif", rgb8.astype(np.uint16) * 257, UTM51,
                          from_origin(*VHR_ORIGIN, 1.0, 1.0))
    zones8 = read(classify(scene, vhr_only_weights_model).output_path)
    zones16 = read(classify({**scene, "vhr": path16}, vhr_only_weights_model).output_path)
    _, tie = pointwise_classes(rgb8, tiny_card(), "uint8")
    np.testing.assert_array_equal(zones16[~tie], zones8[~tie])


def test_raster_smaller_than_a_tile_is_padded_and_cropped_back(scene: dict[str, Path],
                                                               vhr_only_weights_model: Path) -> None:
    rgb = smooth_texture(40, 50, 3, seed=4)
    path = write_raster(scene["folder"] / "small.tif", rgb, UTM51, from_origin(*VHR_ORIGIN, 1.0, 1.0))
    result = classify({**scene, "vhr": path}, vhr_only_weights_model)
    zones = read(result.output_path)
    assert zones.shape == (40, 50) and result.tiles == 1
    expected, tie = pointwise_classes(rgb, tiny_card(), "uint8")
    np.testing.assert_array_equal(zones[~tie], expected[~tie])


def test_no_seams_where_tiles_overlap(scene: dict[str, Path], model_factory: Callable[..., Path]) -> None:
    """A 9 x 9 convolution sees zero padding at tile edges: blended tiles must agree with one whole-scene tile."""
    rng = np.random.default_rng(5)
    model = model_factory(tiny_card(), kernel=9, weights=rng.normal(0, 0.05, (7, 4, 9, 9)))
    folder = scene["folder"]
    confidence = {}
    for name, tile, overlap in (("whole", 256, 0), ("blended", 64, 32), ("butted", 64, 0)):
        path = folder / f"conf_{name}.tif"
        classify(scene, model, tile_size=tile, overlap=overlap, confidence_path=str(path),
                 output_path=str(folder / f"zones_{name}.tif"))
        confidence[name] = read(path).astype(np.float64)
    # Seams of the 64 px tiles: the blended grid steps by 32 px, the butted one by 64 px.
    seam_rows = [r for r in range(32, 150, 32)]
    seam_cols = [c for c in range(32, 200, 32)]
    blended_error = max(np.abs(confidence["blended"] - confidence["whole"])[seam_rows].max(),
                        np.abs(confidence["blended"] - confidence["whole"])[:, seam_cols].max())
    butted_error = max(np.abs(confidence["butted"] - confidence["whole"])[[64, 128]].max(),
                       np.abs(confidence["butted"] - confidence["whole"])[:, [64, 128]].max())
    assert butted_error > 0.02  # the test can see a seam: tiles that do not overlap show one
    assert blended_error < butted_error / 10
    # And the blended map has no jump across seam rows larger than between ordinary neighbouring rows.
    steps = np.abs(np.diff(confidence["blended"], axis=0)).max(axis=1)
    assert steps[[r - 1 for r in seam_rows]].max() <= np.quantile(steps, 0.99) + 1e-6


class CancelAfter:
    """A Progress that asks to stop after `batches` batches."""

    def __init__(self, batches: int) -> None:
        self.asked = 0
        self.batches = batches
        self.percents: list[float] = []

    def set_progress(self, percent: float) -> None:
        self.percents.append(percent)

    def is_canceled(self) -> bool:
        self.asked += 1
        return self.asked > self.batches


def test_cancel_removes_the_partial_output_and_keeps_an_old_one(scene: dict[str, Path], tiny_model: Path) -> None:
    folder = scene["folder"]
    old = folder / "zones.tif"
    old.write_bytes(b"an earlier map")
    before = sorted(p.name for p in folder.iterdir())
    progress = CancelAfter(batches=2)
    config = ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(tiny_model), str(old),
                            confidence_path=str(folder / "conf.tif"), batch_size=2)
    with pytest.raises(Canceled):
        classify_scene(config, progress=progress, warn=None)
    assert sorted(p.name for p in folder.iterdir()) == before
    assert old.read_bytes() == b"an earlier map"
    assert 0 < progress.percents[-1] < 100


def test_progress_rises_to_100(scene: dict[str, Path], tiny_model: Path) -> None:
    progress = CancelAfter(batches=10_000)
    classify_scene(ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(tiny_model),
                                  str(scene["folder"] / "zones.tif"), batch_size=3), progress=progress, warn=None)
    assert progress.percents == sorted(progress.percents) and progress.percents[-1] == 100.0
    assert progress.asked == 4  # 12 tiles in batches of 3: cancel is asked once per batch


def test_vhr_only_model_runs_without_ntl(scene: dict[str, Path], model_factory: Callable[..., Path]) -> None:
    card = tiny_card(input_names=["vhr"], output_names=["logits"], variant="vhr")
    model = model_factory(card)
    messages: list[str] = []
    config = ClassifyConfig(str(scene["vhr"]), None, str(model), str(scene["folder"] / "zones.tif"),
                            gate_path=str(scene["folder"] / "gate.tif"))
    result = classify_scene(config, warn=messages.append)
    assert result.gate_path is None and not (scene["folder"] / "gate.tif").exists()
    assert any("no gate output" in m for m in messages)
    assert read(result.output_path).min() >= 1


def test_tall_scene_is_written_in_whole_block_rows(scene: dict[str, Path], vhr_only_weights_model: Path) -> None:
    """Rows go out in 256-row GeoTIFF block rows while tile rows step by 48: every row must land once, in place."""
    rgb = smooth_texture(700, 40, 3, seed=6)
    path = write_raster(scene["folder"] / "tall.tif", rgb, UTM51, from_origin(*VHR_ORIGIN, 1.0, 1.0))
    result = classify({**scene, "vhr": path}, vhr_only_weights_model)
    zones = read(result.output_path)
    expected, tie = pointwise_classes(rgb, tiny_card(), "uint8")
    np.testing.assert_array_equal(zones[~tie], expected[~tie])
    assert sum(result.class_pixels.values()) == 700 * 40


def test_fourth_band_not_marked_alpha_is_read_as_alpha_with_a_warning(scene: dict[str, Path],
                                                                       tiny_model: Path) -> None:
    rgbn = np.concatenate([smooth_texture(150, 200, 3, seed=1), np.full((1, 150, 200), 200, np.uint8)])
    rgbn[3, :20, :30] = 0
    path = write_raster(scene["folder"] / "rgbn.tif", rgbn, UTM51, from_origin(*VHR_ORIGIN, 1.0, 1.0),
                        photometric="MINISBLACK")  # GDAL would otherwise mark a 4th uint8 band as alpha
    messages: list[str] = []
    result = classify_scene(ClassifyConfig(str(path), str(scene["ntl"]), str(tiny_model),
                                           str(scene["folder"] / "zones.tif")), warn=messages.append)
    np.testing.assert_array_equal(read(result.output_path) == 0, rgbn[3] == 0)
    assert len(messages) == 1 and "band 4" in messages[0] and "read as alpha" in messages[0]
