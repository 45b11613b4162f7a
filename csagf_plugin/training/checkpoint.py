"""Checkpoints: model weights, optimizer state and plain metadata, written atomically and loadable with weights_only.

A checkpoint holds only tensors and plain Python values (dict, list, tuple, str, int, float, bool, None), so
`torch.load(path, weights_only=True)` reads it without running any pickled code.  Its metadata carries the
create_model arguments under "model_args", so the model can be rebuilt from the file alone.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from ..core.errors import InputError
from .atomic_file import atomic_file

if TYPE_CHECKING:
    import torch
    from torch import nn

CHECKPOINT_FORMAT = 1
_PLAIN = (str, int, float, bool, type(None))


def _check_plain(value: Any, where: str) -> None:
    """Raise ValueError unless `value` is built from plain Python values only."""
    if isinstance(value, _PLAIN):
        return
    if isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            _check_plain(item, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(f"checkpoint metadata {where} has a non-string key {key!r}: use string keys.")
            _check_plain(item, f"{where}[{key!r}]")
        return
    raise ValueError(f"checkpoint metadata {where} is a {type(value).__name__}; store only str, int, float, bool, "
                     "None, lists and dicts (e.g. card.to_json() instead of a ModelCard).")


def save_checkpoint(path: str | os.PathLike, model: "nn.Module", meta: dict[str, Any],
                    optimizer: "torch.optim.Optimizer | None" = None, epoch: int = 0) -> None:
    """Write model weights, `meta` (+ the model's create_model arguments) and optionally the optimizer, atomically."""
    import torch

    model_args = getattr(model, "model_args", None)
    if model_args is None:
        raise ValueError("save_checkpoint needs a model built by csagf_plugin.nn.create_model (it has no model_args).")
    _check_plain(meta, "meta")
    if "model_args" in meta and dict(meta["model_args"]) != model_args:
        raise ValueError(f"meta['model_args'] {meta['model_args']} disagrees with the model's {model_args}; "
                         "leave it out, save_checkpoint fills it in.")
    payload = {
        "format": CHECKPOINT_FORMAT,
        "epoch": int(epoch),
        "meta": {**meta, "model_args": dict(model_args)},
        "model_state": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "optimizer_state": optimizer.state_dict() if optimizer is not None else None,
    }
    with atomic_file(path) as tmp, open(tmp, "wb") as f:
        torch.save(payload, f)
        f.flush()
        os.fsync(f.fileno())


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint (on the CPU, weights_only) as a dict: format, epoch, meta, model_state, optimizer_state."""
    import pickle

    import torch

    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"Checkpoint {path} does not exist: check the path.")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, EOFError, OSError, KeyError, ValueError) as exc:
        # torch says "invalid load key" as a KeyError for a text file, and several lines for other files
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise InputError(f"{path} cannot be read as a CSAGF checkpoint ({detail}). Pick a checkpoint written by "
                         "training (<name>_best.pt or <name>_last.pt).") from exc
    if not isinstance(payload, dict) or "model_state" not in payload or "meta" not in payload:
        raise InputError(f"{path} is not a CSAGF checkpoint (no model_state/meta). Pick a file written by "
                         "save_checkpoint.")
    if payload.get("format", 0) > CHECKPOINT_FORMAT:
        raise InputError(f"Checkpoint {path} has format {payload['format']}, newer than this plugin understands "
                         f"({CHECKPOINT_FORMAT}); update the plugin.")
    return payload


def model_from_checkpoint(path: str | os.PathLike) -> tuple["nn.Module", dict[str, Any]]:
    """Rebuild the model saved in a checkpoint, load its weights and return (model in eval mode, meta)."""
    from ..nn import create_model

    payload = load_checkpoint(path)
    meta = payload["meta"]
    if "model_args" not in meta:
        raise InputError(f"Checkpoint {os.fspath(path)} has no model_args in its metadata, so the model cannot be "
                         "rebuilt; save it with save_checkpoint.")
    model = create_model(**meta["model_args"])
    model.load_state_dict(payload["model_state"])
    return model.eval(), meta
