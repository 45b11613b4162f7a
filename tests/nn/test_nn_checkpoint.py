"""Checkpoints hold only tensors and plain values, rebuild the same model, and are never left half-written."""

from __future__ import annotations

from pathlib import Path

import pytest

torch = pytest.importorskip("torch")

from csagf_plugin.core.errors import InputError  # noqa: E402
from csagf_plugin.core.model_card import ModelCard  # noqa: E402
from csagf_plugin.nn import create_model  # noqa: E402
from csagf_plugin.training.checkpoint import load_checkpoint, model_from_checkpoint, save_checkpoint  # noqa: E402


def _trained_step(make_inputs, name: str = "full"):
    torch.manual_seed(0)
    model = create_model(name, vhr_bands=4, ntl_bands=2, width=8)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    vhr, ntl = make_inputs(2, 64, 64, 4, 2)
    model(vhr, ntl).square().mean().backward()
    optimizer.step()
    return model, optimizer


def test_round_trip_with_weights_only_load(tmp_path: Path, make_inputs) -> None:
    model, optimizer = _trained_step(make_inputs)
    card = ModelCard(name="test", variant="full")
    path = tmp_path / "best.pt"
    save_checkpoint(path, model, {"card": card.to_json(), "metrics": {"miou": 0.5}}, optimizer, epoch=3)

    raw = torch.load(path, weights_only=True)
    assert raw["epoch"] == 3
    assert raw["meta"]["model_args"] == {"name": "full", "num_classes": 7, "vhr_bands": 4, "ntl_bands": 2,
                                         "width": 8}
    assert raw["optimizer_state"]["state"]  # AdamW moments are saved
    assert ModelCard.from_json(raw["meta"]["card"]) == card

    rebuilt, meta = model_from_checkpoint(path)
    assert meta["metrics"] == {"miou": 0.5}
    assert not rebuilt.training
    vhr, ntl = make_inputs(1, 64, 64, 4, 2, seed=5)
    with torch.no_grad():
        torch.testing.assert_close(rebuilt(vhr, ntl), model.eval()(vhr, ntl), rtol=0, atol=0)

    restored = torch.optim.AdamW(rebuilt.parameters(), lr=1e-3)
    restored.load_state_dict(load_checkpoint(path)["optimizer_state"])
    assert restored.state_dict()["param_groups"][0]["lr"] == pytest.approx(1e-3)


def test_meta_must_be_plain(tmp_path: Path) -> None:
    model = create_model("vhr", width=8)
    with pytest.raises(ValueError, match="card.to_json"):
        save_checkpoint(tmp_path / "x.pt", model, {"card": ModelCard(name="x", variant="vhr")})
    assert not list(tmp_path.iterdir())


def test_failed_save_keeps_the_previous_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = create_model("vhr", width=8)
    path = tmp_path / "last.pt"
    save_checkpoint(path, model, {"note": "first"}, epoch=1)

    def crash(obj, f, *args, **kwargs):
        f.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, model, {"note": "second"}, epoch=2)
    monkeypatch.undo()
    assert load_checkpoint(path)["meta"]["note"] == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_missing_or_corrupt_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        load_checkpoint(tmp_path / "nothing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(InputError, match="cannot be read as a CSAGF checkpoint"):
        load_checkpoint(bad)
