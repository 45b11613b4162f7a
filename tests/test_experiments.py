"""The experiment runner's own logic (benchmarks/experiments.py and its experiment_*.py parts): configuration
checks, scene assembly, comparisons, the report table and the time budget. Training itself is tested in tests/training."""

from __future__ import annotations

import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from csagf_plugin.core.errors import InputError
from csagf_plugin.training.tiles import TileStore

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def experiments():
    """benchmarks/experiments.py imported as a module (benchmarks/ is a folder of scripts, not a package)."""
    spec = importlib.util.spec_from_file_location("csagf_experiments", REPO / "benchmarks" / "experiments.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def parts(experiments):
    """The runner's parts, benchmarks/experiment_{scene,training,report}.py (experiments.py puts them on sys.path)."""
    import importlib

    return {name: importlib.import_module(f"experiment_{name}") for name in ("scene", "training", "report")}


def _store(origins: list[tuple[int, int]], tile: int = 4, scene: int = 0) -> TileStore:
    n = len(origins)
    labels = np.stack([np.full((tile, tile), k + 1, np.uint8) for k in range(n)])
    vhr = np.stack([np.full((3, tile, tile), 10 * (k + 1), np.uint8) for k in range(n)])
    ntl = np.stack([np.full((1, tile, tile), float(k), np.float32) for k in range(n)])
    return TileStore(vhr=vhr, ntl=ntl, labels=labels, scene=np.full(n, scene, np.int32),
                     origin=np.asarray(origins, np.int32), scenes=[f"city{scene}.tif"], description=f"city {scene}")


def test_config_refuses_a_test_city_that_was_trained_on(experiments) -> None:
    with pytest.raises(InputError, match="test city's seed 1"):
        experiments.ExperimentConfig(out="x", train_seeds=[1, 3], test_seed=1)


def test_config_refuses_unknown_models_and_too_small_cities(experiments) -> None:
    with pytest.raises(InputError, match="Unknown or no models"):
        experiments.ExperimentConfig(out="x", models=["full", "segformer"])
    with pytest.raises(InputError, match="too small"):
        experiments.ExperimentConfig(out="x", size=256)
    config = experiments.ExperimentConfig(out="x", size=1024)
    assert (config.effective_test_size, config.effective_stride, config.effective_block_size) == (1024, 128, 512)


def test_assemble_scene_pastes_tiles_at_their_origins(parts) -> None:
    scene = parts["scene"].assemble_scene(_store([(0, 0), (0, 4), (4, 0), (4, 4)]))
    assert scene.labels.shape == (8, 8) and scene.vhr.shape == (3, 8, 8)
    assert scene.labels[0, 0] == 1 and scene.labels[0, 7] == 2 and scene.labels[7, 0] == 3 and scene.labels[7, 7] == 4
    assert scene.vhr[0, 5, 5] == 40 and scene.ntl[5, 1] == 2.0


def test_merge_stores_renumbers_scenes(parts) -> None:
    merged = parts["training"].merge_stores([_store([(0, 0), (0, 4)]), _store([(0, 0)], scene=0)])
    assert merged.num_tiles == 3
    assert merged.scene.tolist() == [0, 0, 1]
    assert merged.scenes == ["city0.tif", "city0.tif"]


def test_comparison_and_gate_by_class_by_hand(parts) -> None:
    labels = np.array([[1, 1, 2], [2, 0, 6]], np.uint8)
    scene = parts["scene"].SceneMaps(np.zeros((3, 2, 3), np.uint8), np.zeros((2, 3), np.float32), labels)
    scene.predictions["full"] = np.array([[1, 2, 2], [1, 5, 6]], np.uint8)
    scene.predictions["vhr"] = np.array([[1, 1, 3], [1, 5, 5]], np.uint8)
    shares = parts["scene"].comparison(scene)
    # 5 labelled pixels: both right (0,0); only full (0,2), (1,2); only vhr (0,1); both wrong (1,0)
    assert shares == pytest.approx({"both_right": 0.2, "only_full_right": 0.4, "only_vhr_right": 0.2,
                                    "both_wrong": 0.2})
    scene.gate = np.array([[0.2, 0.4, 1.0], [0.0, 0.5, 0.7]], np.float32)
    weights = parts["scene"].gate_by_class(scene)
    assert weights == pytest.approx({"Residential": 0.7, "Commercial": 0.5, "Water": 0.3})


def test_markdown_table_puts_ours_beside_the_paper(parts) -> None:
    per_class = {n: {"iou": 0.5} for n in parts["report"].CLASS_NAMES}
    results = {"models": {"full": {"test": {"miou": 0.61234, "macro_f1": 0.7, "oa": 0.8, "per_class": per_class},
                                   "epochs_run": 4, "best_epoch": 3, "train_seconds": 120.0}}}
    table = parts["report"].markdown_tables(results)
    row = next(line for line in table.splitlines() if line.startswith("| CSAGFNet (full"))
    assert "| 0.612 | 0.700 | 0.800 | 0.853 | 0.894 | 0.934 | 4 (3) | 2.0 |" in row
    assert "| full | 0.500 |" in table


def test_budget_progress_cancels_after_its_deadline(parts) -> None:
    assert not parts["training"].BudgetProgress(None).is_canceled()
    progress = parts["training"].BudgetProgress(0.01)
    time.sleep(0.02)
    assert progress.is_canceled() and progress.canceled


def test_reuse_only_runs_made_with_the_same_settings(experiments, tmp_path: Path) -> None:
    import json
    from dataclasses import asdict

    config = experiments.ExperimentConfig(out=str(tmp_path), size=1024, width="small")
    path = tmp_path / "results.json"
    assert experiments.reusable_runs(path, config) == {}
    path.write_text(json.dumps({"config": asdict(config), "models": {"vhr": {"checkpoint": "vhr_best.pt"}}}))
    assert experiments.reusable_runs(path, config) == {"vhr": {"checkpoint": "vhr_best.pt"}}
    other = experiments.ExperimentConfig(out=str(tmp_path), size=1024, width=16)
    assert experiments.reusable_runs(path, other) == {}
