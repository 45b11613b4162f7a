"""The bundled models in models/: cards complete, small enough, loadable by onnxruntime, and able to classify."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from csagf_plugin.core.classify import ClassifyConfig, classify_scene
from csagf_plugin.core.model import load_model
from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES

MODELS = Path(__file__).resolve().parents[1] / "models"
BUNDLED = ["csagfnet_pudong.onnx", "csagfnet_sample.onnx", "csagfnet_shanghai.onnx"]
MAX_BYTES = 50 * 1024 * 1024


@pytest.fixture(scope="module")
def small_city(tmp_path_factory: pytest.TempPathFactory):
    """A 256 x 256 px benchmark city (seed 0, the sample scene's seed) to classify."""
    from csagf_plugin.benchmark_city import generate_city

    return generate_city(tmp_path_factory.mktemp("city"), size_px=256, seed=0)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_model_is_present_small_and_listed(name: str) -> None:
    path = MODELS / name
    assert path.is_file(), f"{path} is missing: models/README.md says how to make it"
    assert path.stat().st_size < MAX_BYTES
    readme = (MODELS / "README.md").read_text()
    assert name in readme, f"models/README.md has no card for {name}"


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_model_card_is_complete(name: str) -> None:
    card = load_model(MODELS / name, device="cpu", threads=1).card
    assert card.name == name.removesuffix(".onnx")
    assert card.variant == "full"
    assert card.trained is True
    assert [c.id for c in card.classes] == [c.id for c in FUNCTIONAL_CLASSES]
    assert card.input_names == ["vhr", "ntl"] and card.output_names == ["logits", "gate"]
    assert len(card.vhr_bands) == 3 and len(card.vhr_mean) == 3 and len(card.vhr_std) == 3
    assert all(s > 0 for s in card.vhr_std + card.ntl_std)
    assert card.tile_size == 256 and 0 <= card.overlap < card.tile_size
    assert card.vhr_pixel_size_m > 0 and card.ntl_pixel_size_m > card.vhr_pixel_size_m
    assert len(card.training_data) > 80 and card.training_data != "untrained"
    for key in ("val_miou", "val_macro_f1", "val_oa"):
        assert 0.0 <= card.metrics[key] <= 1.0, f"{name}: metric {key} missing or out of range"


def test_sample_card_says_synthetic_and_holds_test_city_metrics() -> None:
    card = load_model(MODELS / "csagfnet_sample.onnx", device="cpu", threads=1).card
    assert "SYNTHETIC" in card.training_data
    assert "seed 0" not in card.training_data.split("Not trained on")[0]
    for key in ("test_city_miou", "test_city_macro_f1", "test_city_oa"):
        assert 0.0 <= card.metrics[key] <= 1.0


def test_shanghai_card_holds_validation_metrics_of_held_out_tiles() -> None:
    card = load_model(MODELS / "csagfnet_shanghai.onnx", device="cpu", threads=1).card
    assert "Shanghai" in card.training_data and "Held-out validation tiles" in card.training_data
    assert "VIIRS" in card.training_data
    per_class = [k for k in card.metrics if k.startswith("val_iou_")]
    assert per_class, "the Shanghai card must hold per-class validation IoU"
    assert all(0.0 <= card.metrics[k] <= 1.0 for k in per_class)


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_model_classifies_a_generated_scene(name: str, small_city, tmp_path: Path) -> None:
    out, gate = tmp_path / "zones.tif", tmp_path / "gate.tif"
    result = classify_scene(ClassifyConfig(str(small_city.vhr), str(small_city.ntl), str(MODELS / name), str(out),
                                           gate_path=str(gate), device="cpu", threads=1, batch_size=1), warn=None)
    with rasterio.open(out) as src, rasterio.open(small_city.vhr) as vhr:
        zones = src.read(1)
        assert (src.width, src.height, src.crs) == (vhr.width, vhr.height, vhr.crs)
    assert zones.dtype == np.uint8
    assert set(np.unique(zones)) <= {c.id for c in FUNCTIONAL_CLASSES}
    assert sum(result.class_pixels.get(c.id, 0) for c in FUNCTIONAL_CLASSES) == 256 * 256
    with rasterio.open(gate) as src:
        g = src.read(1)
    assert np.all((g >= 0) & (g <= 1))


def test_default_model_is_the_real_data_model_with_the_pretrained_encoder() -> None:
    """classify's default is trained on real imagery, says where and at which pixel size it works, and holds its
    held-out validation figures and per-class precision (csagf:sample_size reads them)."""
    from csagf_plugin.core.model import DEFAULT_MODEL

    assert Path(DEFAULT_MODEL).name == "csagfnet_pudong.onnx"
    card = load_model(DEFAULT_MODEL, device="cpu", threads=1).card
    assert card.vhr_encoder == "efficientnet_lite0" and card.vhr_mean == [0.5, 0.5, 0.5]
    assert "ImageNet" in card.fine_tuning
    assert "Shanghai Pudong" in card.training_data and "google_6_4" in card.training_data  # kept out, and says so
    assert 0.7 < card.vhr_pixel_size_m < 1.0 and card.ntl_pixel_size_m > 300
    assert card.metrics["val_oa"] > 0.5 and "val_precision_residential" in card.metrics
