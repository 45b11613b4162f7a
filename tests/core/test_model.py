"""load_model: the card from the ONNX metadata, providers, devices, fixed-shape graphs and bad model files."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest

from csagf_plugin.core.errors import InputError, ModelCardError
from csagf_plugin.core.model import load_model

from tiny_models import POINTWISE_WEIGHTS, tiny_card


def test_card_and_providers_come_from_the_session(tiny_model: Path) -> None:
    model = load_model(tiny_model, device="cpu", threads=1)
    assert model.card == tiny_card()
    assert model.providers == list(model.session.get_providers()) == ["CPUExecutionProvider"]
    assert model.device == "cpu" and model.fixed_batch is None and model.fixed_tile_size is None


def test_run_returns_logits_and_gate_of_the_graph(tiny_model: Path) -> None:
    model = load_model(tiny_model, device="cpu", threads=1)
    rng = np.random.default_rng(0)
    vhr = rng.normal(size=(2, 3, 64, 96)).astype(np.float32)
    ntl = rng.normal(size=(2, 1, 64, 96)).astype(np.float32)
    logits, gate = model.run(vhr, ntl)
    expected = np.einsum("cb,nbhw->nchw", POINTWISE_WEIGHTS, np.concatenate([vhr, ntl], axis=1))
    np.testing.assert_allclose(logits, expected, atol=1e-5)
    np.testing.assert_allclose(gate, 1 / (1 + np.exp(-ntl)), atol=1e-6)


def test_fixed_batch_graph_runs_any_number_of_tiles(model_factory: Callable[..., Path]) -> None:
    model = load_model(model_factory(tiny_card(), static_shape=(2, 64)), device="cpu", threads=1)
    assert model.fixed_batch == 2 and model.fixed_tile_size == 64
    vhr = np.ones((3, 3, 64, 64), np.float32)
    logits, gate = model.run(vhr, np.zeros((3, 1, 64, 64), np.float32))
    assert logits.shape == (3, 7, 64, 64) and gate.shape == (3, 1, 64, 64)


def test_auto_uses_cuda_only_when_it_really_loads(tiny_model: Path) -> None:
    messages: list[str] = []
    model = load_model(tiny_model, device="auto", threads=1, warn=messages.append)
    assert model.providers == list(model.session.get_providers())
    assert model.device == ("cuda" if model.providers[0] == "CUDAExecutionProvider" else "cpu")
    assert messages == []  # auto falls back to the CPU quietly


def test_cuda_that_does_not_load_warns_and_runs_on_cpu(tiny_model: Path) -> None:
    messages: list[str] = []
    model = load_model(tiny_model, device="cuda", threads=1, warn=messages.append)
    if model.device == "cuda":
        assert messages == []
    else:
        assert model.providers == ["CPUExecutionProvider"]
        assert len(messages) == 1 and "running on the CPU" in messages[0]
        assert model.warnings == messages


def test_model_without_card_is_refused(model_factory: Callable[..., Path]) -> None:
    path = model_factory(None)
    with pytest.raises(ModelCardError, match=f"{path}.*has no CSAGF model card"):
        load_model(path, device="cpu")


def test_card_that_does_not_match_the_graph_is_refused(model_factory: Callable[..., Path]) -> None:
    graph_without_gate = tiny_card(output_names=["logits"])
    path = model_factory(graph_without_gate)
    # Rewrite the card to promise a gate the graph does not have.
    import onnx
    from onnx import helper

    from csagf_plugin.core.model_card import METADATA_KEY

    model = onnx.load(str(path))
    del model.metadata_props[:]
    helper.set_model_props(model, {METADATA_KEY: tiny_card().to_json()})
    onnx.save(model, str(path))
    with pytest.raises(ModelCardError, match="does not match the graph"):
        load_model(path, device="cpu")


def test_file_that_is_not_onnx_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.onnx"
    path.write_text("not a model")
    with pytest.raises(InputError, match=f"{path} cannot be loaded as an ONNX model"):
        load_model(path, device="cpu")


@pytest.mark.parametrize("device, message", [("gpu", "Device 'gpu' is unknown"), ("cpu", "does not exist")])
def test_bad_device_or_missing_file_is_refused(tmp_path: Path, device: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        load_model(tmp_path / "missing.onnx", device=device)
