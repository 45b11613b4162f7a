"""Evaluation against hand-computed numbers, the command line, and DDP training under torchrun (gloo, 2 CPUs)."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from csagf_plugin.training.__main__ import main
from csagf_plugin.training.evaluate import EvaluateConfig, evaluate

REPO = Path(__file__).resolve().parents[2]


def _write(path: Path, data: np.ndarray) -> str:
    with rasterio.open(path, "w", driver="GTiff", width=data.shape[1], height=data.shape[0], count=1, dtype="uint8",
                       crs="EPSG:32650", transform=from_origin(400000, 2500000, 1, 1)) as dst:
        dst.write(data.astype(np.uint8), 1)
    return str(path)


def test_evaluate_raster_against_raster_by_hand(tmp_path) -> None:
    reference = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [3, 3, 0, 0], [3, 3, 0, 0]])
    classified = np.array([[1, 2, 2, 2], [1, 1, 2, 2], [3, 1, 5, 0], [3, 3, 0, 0]])
    warnings: list[str] = []
    result = evaluate(EvaluateConfig(_write(tmp_path / "map.tif", classified), _write(tmp_path / "ref.tif", reference),
                                     str(tmp_path / "report")), warn=warnings.append)
    m = result.metrics
    # confusion: 1->1 x3, 1->2 x1, 2->2 x4, 3->3 x3, 3->1 x1 (the 5 lies on unlabelled reference)
    assert m.confusion[:3, :3].tolist() == [[3, 1, 0], [0, 4, 0], [1, 0, 3]] and m.confusion.sum() == 12
    np.testing.assert_allclose(m.iou[:3], [3 / 5, 4 / 5, 3 / 4])
    assert m.miou == pytest.approx((3 / 5 + 4 / 5 + 3 / 4) / 3)
    assert m.oa == pytest.approx(10 / 12)
    report = json.loads(Path(result.json).read_text())
    assert report["miou"] == pytest.approx(m.miou) and report["per_class"]["Residential"]["recall"] == 0.75
    with open(result.csv) as fh:
        rows = list(csv.DictReader(fh))
    assert float(rows[1]["precision"]) == pytest.approx(0.8) and float(rows[-1]["oa"]) == pytest.approx(10 / 12)
    assert Path(result.png).stat().st_size > 0 and Path(result.confusion_csv).exists()
    assert not warnings


def test_evaluate_against_polygons_with_a_mapping(synthetic, tmp_path) -> None:
    scene = synthetic.scenes[0]
    warnings: list[str] = []
    result = evaluate(EvaluateConfig(str(scene.labels), str(synthetic.polygons), str(tmp_path),
                                     class_field="landuse", mapping=str(synthetic.mapping_csv)), warn=warnings.append)
    assert result.metrics.oa > 0.97  # the same cells; only edges may shift in the round trip through EPSG:4326
    assert result.metrics.confusion[6].sum() == 0  # "mystery" polygons are unmapped, hence not reference
    assert any("landuse=mystery" in w for w in warnings)


def test_cli_prepare_train_evaluate(synthetic, tmp_path, capsys) -> None:
    scene = synthetic.scenes
    tiles = tmp_path / "tiles.npz"
    assert main(["prepare", "--vhr", str(scene[0].vhr), str(scene[1].vhr), "--labels", str(scene[0].labels),
                 str(scene[1].labels), "--ntl", str(synthetic.ntl), "--tile-size", "64", "--output", str(tiles)]) == 0
    assert "16 tiles" in capsys.readouterr().out
    out = tmp_path / "run"
    assert main(["train", "--tiles", str(tiles), "--output-dir", str(out), "--model", "cat", "--width", "8",
                 "--epochs", "1", "--batch-size", "4", "--block-size", "64", "--val-share", "0.2",
                 "--test-share", "0.2", "--no-export", "--device", "cpu"]) == 0
    assert (out / "csagfnet_best.pt").exists() and (out / "csagfnet_metrics.csv").exists()
    assert main(["evaluate", "--classified", str(scene[0].labels), "--reference", str(scene[0].labels),
                 "--output-dir", str(tmp_path / "eval")]) == 0
    assert json.loads((tmp_path / "eval" / "evaluation.json").read_text())["oa"] == 1.0
    assert main(["prepare", "--vhr", str(tmp_path / "missing.tif"), "--labels", str(scene[0].labels), "--ntl",
                 str(synthetic.ntl), "--output", str(tiles)]) == 2
    assert "missing.tif does not exist" in capsys.readouterr().err


@pytest.mark.slow
def test_ddp_two_cpu_processes_with_gloo(synthetic, tmp_path) -> None:
    pytest.importorskip("torch")
    scene = synthetic.scenes
    tiles = tmp_path / "tiles.npz"
    assert main(["prepare", "--vhr", str(scene[0].vhr), str(scene[1].vhr), "--labels", str(scene[0].labels),
                 str(scene[1].labels), "--ntl", str(synthetic.ntl), "--tile-size", "64", "--output", str(tiles)]) == 0
    out = tmp_path / "ddp"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.pathsep.join([str(REPO), *sys.path])}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", "-m",
               "csagf_plugin.training", "train", "--tiles", str(tiles), "--output-dir", str(out), "--width", "8",
               "--epochs", "1", "--batch-size", "2", "--block-size", "64", "--val-share", "0.2", "--test-share",
               "0.2", "--no-export", "--device", "cpu"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    import torch

    payload = torch.load(out / "csagfnet_best.pt", weights_only=True)
    assert payload["meta"]["world_size"] == 2 and payload["epoch"] == 1
    with open(out / "csagfnet_metrics.csv") as fh:
        assert len(list(csv.DictReader(fh))) == 1
