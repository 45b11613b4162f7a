"""Training end to end on tiny tiles: outputs, ONNX with a complete card, resume, cancel, bad input."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from csagf_plugin.core.errors import Canceled, InputError  # noqa: E402
from csagf_plugin.core.model_card import ModelCard  # noqa: E402
from csagf_plugin.core.safe_output import TEMP_MARK  # noqa: E402
from csagf_plugin.training.checkpoint import load_checkpoint, model_from_checkpoint  # noqa: E402
from csagf_plugin.training.fit import TrainConfig, TrainResult, train  # noqa: E402
from csagf_plugin.training.tiles import PrepareConfig, SceneSource, prepare_tiles  # noqa: E402

TINY = {"width": 8, "batch_size": 4, "block_size": 64, "val_share": 0.2, "test_share": 0.2}


class CancelAfter:
    """A Progress that asks to stop after a number of is_canceled() calls (one per batch)."""

    def __init__(self, calls: int) -> None:
        self.calls, self.percent = calls, []

    def set_progress(self, percent: float) -> None:
        self.percent.append(percent)

    def is_canceled(self) -> bool:
        self.calls -= 1
        return self.calls < 0


@pytest.fixture(scope="module")
def tiles(synthetic, tmp_path_factory) -> str:
    """16 tiles of 64 px from the two synthetic scenes, as an npz store."""
    path = tmp_path_factory.mktemp("tiles") / "tiles.npz"
    scenes = [SceneSource(str(s.vhr), str(s.labels)) for s in synthetic.scenes]
    prepare_tiles(PrepareConfig(scenes, str(synthetic.ntl), tile_size=64, output=str(path)))
    return str(path)


@pytest.fixture(scope="module")
def trained(tiles, tmp_path_factory) -> tuple[TrainResult, list[str], list[float]]:
    """Two epochs of the full model, exported to ONNX."""
    warnings: list[str] = []
    progress = CancelAfter(10**6)
    out = tmp_path_factory.mktemp("run")
    result = train(TrainConfig(str(out), tiles=tiles, epochs=2, **TINY), progress, warnings.append)
    return result, warnings, progress.percent


def test_training_writes_every_output(trained) -> None:
    result, _, percent = trained
    for path in (result.best_checkpoint, result.last_checkpoint, result.onnx, result.metrics_csv, result.curve_png,
                 result.confusion_png):
        assert path and Path(path).stat().st_size > 0, path
    with open(result.metrics_csv) as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == [1, 2]
    assert all(0 <= float(r["val_miou"]) <= 1 and float(r["train_loss"]) > 0 for r in rows)
    assert float(rows[0]["lr"]) == pytest.approx(1e-3) and float(rows[1]["lr"]) < 1e-3  # cosine annealing
    assert result.epochs_run == 2 and 1 <= result.best_epoch <= 2
    assert set(result.test_metrics) >= {"miou", "macro_f1", "oa", "per_class", "confusion"}
    assert percent == sorted(percent) and percent[-1] == 100.0


def test_onnx_card_is_complete_and_runs_like_pytorch(trained, synthetic) -> None:
    import onnxruntime as ort

    result, _, _ = trained
    session = ort.InferenceSession(result.onnx, providers=["CPUExecutionProvider"])
    card = ModelCard.from_metadata(session.get_modelmeta().custom_metadata_map, result.onnx)
    assert card.trained and card.variant == "full" and card.tile_size == 64
    assert card.vhr_bands == ["red", "green", "blue"] and card.input_names == ["vhr", "ntl"]
    assert card.vhr_pixel_size_m == pytest.approx(1.0, abs=0.01) and 80 < card.ntl_pixel_size_m < 120
    assert {"val_miou", "val_macro_f1", "val_oa", "test_miou", "test_oa"} <= set(card.metrics)
    assert card.ntl_mean != [2.0] and card.vhr_mean != [0.485, 0.456, 0.406]  # fitted on the training tiles
    assert "16 tiles" in card.training_data
    model, meta = model_from_checkpoint(result.best_checkpoint)
    rng = np.random.default_rng(0)
    vhr = rng.normal(size=(1, 3, 64, 64)).astype(np.float32)
    ntl = rng.normal(size=(1, 1, 64, 64)).astype(np.float32)
    logits = session.run(["logits"], {"vhr": vhr, "ntl": ntl})[0]
    with torch.no_grad():
        expected = model(torch.from_numpy(vhr), torch.from_numpy(ntl)).numpy()
    np.testing.assert_allclose(logits, expected, atol=1e-3)
    assert ModelCard.from_json(meta["card"]).ntl_mean == card.ntl_mean  # the checkpoint carries the same card


def test_resume_continues_from_the_last_epoch(trained, tiles, tmp_path) -> None:
    result, _, _ = trained
    run = tmp_path / "resumed"
    shutil.copytree(Path(result.last_checkpoint).parent, run)
    resumed = train(TrainConfig(str(run), tiles=tiles, epochs=3, export=False,
                                resume=str(run / Path(result.last_checkpoint).name), **TINY))
    assert [row["epoch"] for row in resumed.history] == [1, 2, 3]
    assert resumed.history[:2] == result.history
    assert load_checkpoint(resumed.last_checkpoint)["epoch"] == 3


def test_cancel_mid_epoch_keeps_a_valid_best_checkpoint(tiles, tmp_path) -> None:
    # 8 training tiles at batch 4 -> 2 batches an epoch; the 4th is_canceled() call, before the second batch of
    # the second epoch, asks to stop
    result = train(TrainConfig(str(tmp_path), tiles=tiles, epochs=5, export=False, **TINY), CancelAfter(3))
    assert result.canceled and result.epochs_run == 1 and result.best_epoch == 1
    payload = load_checkpoint(result.best_checkpoint)
    assert payload["epoch"] == 1 and payload["meta"]["val_metrics"]["val_miou"] == result.val_metrics["val_miou"]
    assert not [p for p in tmp_path.rglob("*") if TEMP_MARK in p.name]  # no temporary file left


def test_cancel_before_the_first_epoch_ends_says_nothing_was_saved(tiles, tmp_path) -> None:
    with pytest.raises(Canceled, match="before the first epoch"):
        train(TrainConfig(str(tmp_path), tiles=tiles, epochs=2, export=False, **TINY), CancelAfter(1))
    assert not list(tmp_path.glob("*.pt"))


def test_out_of_memory_suggests_a_smaller_batch(tiles, tmp_path, monkeypatch) -> None:
    import csagf_plugin.nn as nn_package

    real = nn_package.create_model

    def exploding(*args, **kwargs):
        model = real(*args, **kwargs)

        def forward(vhr, ntl=None):
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 12.00 GiB")

        model.forward = forward
        return model

    monkeypatch.setattr(nn_package, "create_model", exploding)
    with pytest.raises(InputError, match="Batch size 4 does not fit.*e.g. 2"):
        train(TrainConfig(str(tmp_path), tiles=tiles, epochs=1, export=False, **TINY))
    assert not list(tmp_path.glob("*.pt"))


def test_too_few_blocks_for_a_split_is_a_clear_error(tiles, tmp_path) -> None:
    with pytest.raises(InputError, match="Too few spatial blocks"):
        train(TrainConfig(str(tmp_path), tiles=tiles, epochs=1, export=False,
                          **{**TINY, "block_size": 1024}))


def test_vhr_only_variant_trains_from_rasters_directly(synthetic, tmp_path) -> None:
    scenes = [SceneSource(str(s.vhr), str(s.labels)) for s in synthetic.scenes]
    data = PrepareConfig(scenes, str(synthetic.ntl), tile_size=64)
    result = train(TrainConfig(str(tmp_path), data=data, model="vhr", epochs=1, export=False, oversample=False,
                               **TINY))
    assert load_checkpoint(result.best_checkpoint)["meta"]["model_args"]["name"] == "vhr"
