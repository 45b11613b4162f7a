"""csagf:prepare_training_data, csagf:train and csagf:evaluate through the real QGIS Processing framework."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import rasterio


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A small synthetic city: VHR, NTL (another CRS and grid) and labels."""
    from csagf_plugin.benchmark_city import generate_city

    return generate_city(tmp_path_factory.mktemp("city"), size_px=512, seed=5)


def test_prepare_then_train_then_evaluate(csagf_provider, city, tmp_path):
    import processing

    tiles = tmp_path / "tiles.npz"
    prepared = processing.run("csagf:prepare_training_data", {
        "VHR": [str(city.vhr)], "LABELS": str(city.labels), "NTL": str(city.ntl),
        "TILE_SIZE": 128, "STRIDE": 128, "OUTPUT": str(tiles)})
    assert prepared["NUM_TILES"] == 16
    with np.load(tiles) as store:
        assert store["vhr"].shape[1:] == (3, 128, 128)

    out = tmp_path / "run"
    trained = processing.run("csagf:train", {
        "TILES": str(tiles), "MODEL_TYPE": 0, "EPOCHS": 1, "BATCH_SIZE": 4, "VAL_SHARE": 0.25, "TEST_SHARE": 0.25,
        "BLOCK_SIZE": 128, "VHR_ENCODER": 1, "FREEZE_EPOCHS": 0, "DEVICE": 1, "NAME": "tiny",
        "OUTPUT_FOLDER": str(out)})
    for key in ("ONNX", "METRICS_CSV", "CURVE_PNG", "CONFUSION_PNG"):
        assert Path(trained[key]).is_file(), key
    assert 0.0 <= trained["BEST_MIOU"] <= 1.0

    from csagf_plugin.core.model import load_model

    card = load_model(trained["ONNX"], device="cpu").card
    assert card.trained and card.variant == "full" and card.tile_size == 128
    assert card.vhr_encoder == "efficientnet_lite0" and card.vhr_mean == [0.5, 0.5, 0.5]  # ImageNet-Lite inputs

    evaluated = processing.run("csagf:evaluate", {
        "CLASSIFIED": str(city.labels), "REFERENCE": str(city.labels), "OUTPUT_FOLDER": str(tmp_path / "eval")})
    assert evaluated["OA"] == pytest.approx(1.0) and evaluated["MIOU"] == pytest.approx(1.0)
    report = json.loads(Path(evaluated["JSON"]).read_text())
    assert report  # the JSON parses and holds the numbers the outputs were taken from
    assert Path(evaluated["PNG"]).stat().st_size > 1000


def test_evaluate_disagreeing_map_through_qgis_process(city, tmp_path, qgis_process):
    """A map with one class changed everywhere scores below 1, through qgis_process (the headless route)."""
    shifted = tmp_path / "shifted.tif"
    with rasterio.open(city.labels) as src:
        profile, reference = src.profile, src.read(1)
    labels = np.where(reference == 1, 2, reference).astype(np.uint8)  # residential mapped as commercial
    with rasterio.open(shifted, "w", **profile) as dst:
        dst.write(labels, 1)
    result = qgis_process("--json", "run", "csagf:evaluate", "--", f"CLASSIFIED={shifted}",
                          f"REFERENCE={city.labels}", f"OUTPUT_FOLDER={tmp_path / 'eval'}")
    assert result.returncode == 0, result.stderr[-2000:]
    outputs = json.loads(result.stdout[result.stdout.index("{"):])["results"]
    residential_share = float(np.mean(reference[reference > 0] == 1))
    assert residential_share > 0.05
    assert outputs["OA"] == pytest.approx(1.0 - residential_share, abs=1e-6)
    assert outputs["MIOU"] < 1.0


def test_train_without_data_says_what_to_give(csagf_provider, tmp_path):
    import processing
    from qgis.core import QgsProcessingException

    with pytest.raises(QgsProcessingException, match="tile store"):
        processing.run("csagf:train", {"EPOCHS": 1, "OUTPUT_FOLDER": str(tmp_path / "x")})
