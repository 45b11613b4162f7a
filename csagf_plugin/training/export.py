"""ONNX export: the model's graph (native DeformConv kept) with its model card in the ONNX metadata.

The ONNX file is the contract between training and inference: inference reads input names, bands, normalisation
and classes from the card written here and never guesses.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING

from ..core.errors import ModelCardError
from ..core.model_card import METADATA_KEY, ModelCard
from .atomic_file import atomic_file

if TYPE_CHECKING:
    import torch
    from torch import nn

# DeformConv entered the ONNX standard at opset 19.
MIN_DEFORM_OPSET = 19
# Example tile used to trace a graph with dynamic height and width (not square, so no axis is confused).
_TRACE_BATCH, _TRACE_HEIGHT, _TRACE_WIDTH = 2, 128, 160


def _io_names(model: "nn.Module") -> tuple[list[str], list[str]]:
    """ONNX input and output names of a model built by create_model."""
    inputs = ["vhr", "ntl"] if model.uses_ntl else ["vhr"]
    outputs = ["logits", "gate"] if model.has_gate else ["logits"]
    return inputs, outputs


def _check_card(model: "nn.Module", card: ModelCard) -> None:
    """Raise ModelCardError when the card's classes or bands do not fit the model."""
    if card.num_classes != model.num_classes:
        raise ModelCardError(f"The model card lists {card.num_classes} classes but the model outputs "
                             f"{model.num_classes}: give the card one class per output channel.")
    fields = [("vhr", model.vhr_bands, card.vhr_bands, card.vhr_mean, card.vhr_std)]
    if model.uses_ntl:
        fields.append(("ntl", model.ntl_bands, card.ntl_bands, card.ntl_mean, card.ntl_std))
    for prefix, bands, names, mean, std in fields:
        if len(names) != bands:
            raise ModelCardError(f"card.{prefix}_bands names {len(names)} bands ({names}) but the model takes "
                                 f"{bands} {prefix.upper()} bands: name each band in input order.")
        for label, values in (("mean", mean), ("std", std)):
            if len(values) not in (1, bands):
                raise ModelCardError(f"card.{prefix}_{label} has {len(values)} values; give 1 or {bands} "
                                     f"(one per {prefix.upper()} band).")


def _graph_module(model: "nn.Module") -> "nn.Module":
    """Wrap `model` so that forward takes exactly the ONNX inputs and returns exactly the ONNX outputs."""
    from torch import nn

    class VhrOnly(nn.Module):
        """vhr -> logits (the model takes no NTL)."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, vhr: "torch.Tensor") -> "torch.Tensor":
            return self.model(vhr, None)

    class WithNtl(nn.Module):
        """(vhr, ntl) -> logits, or (logits, gate) for a model with gated fusion."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, vhr: "torch.Tensor", ntl: "torch.Tensor") -> "torch.Tensor | tuple[torch.Tensor, ...]":
            if self.model.has_gate:
                return self.model.forward_with_gate(vhr, ntl)
            return self.model(vhr, ntl)

    return (WithNtl() if model.uses_ntl else VhrOnly()).eval()


def export_onnx(model: "nn.Module", path: str | os.PathLike, card: ModelCard, opset: int = 19, *,
                dynamic: bool = True) -> None:
    """Export `model` (from create_model) to ONNX at `path` with dynamic batch/height/width and `card` in its metadata.

    The card is updated in place (variant, input_names, output_names) so that it describes the exported file.
    With dynamic=False, or for a model whose `dynamic_size` is False (PSPNet: its adaptive pooling bins are traced
    at one size), height and width are fixed at card.tile_size; the batch stays dynamic.  A dynamic export takes
    two to three times longer to trace.
    """
    import onnx
    import torch

    aligns = bool(getattr(model, "aligns", False))
    if aligns and opset < MIN_DEFORM_OPSET:
        raise ValueError(f"Variant '{model.variant}' needs ONNX opset >= {MIN_DEFORM_OPSET} for its native "
                         f"DeformConv node; got opset {opset}.")
    _check_card(model, card)
    input_names, output_names = _io_names(model)

    min_size = int(getattr(model, "min_size", 64))
    axes: dict[int, object] = {0: torch.export.Dim("batch")}
    if dynamic and getattr(model, "dynamic_size", True):
        height, width = max(_TRACE_HEIGHT, min_size), max(_TRACE_WIDTH, min_size)
        axes[2] = torch.export.Dim("height", min=min_size)
        axes[3] = torch.export.Dim("width", min=min_size)
    else:
        height = width = int(card.tile_size)
        if height % 32 or height < min_size:
            raise ModelCardError(f"card.tile_size {height} must be a multiple of 32 and >= {min_size} to export "
                                 f"'{model.variant}' at a fixed tile size.")
    device = next(model.parameters()).device
    bands = {"vhr": model.vhr_bands, "ntl": model.ntl_bands}
    example = tuple(torch.zeros(_TRACE_BATCH, bands[n], height, width, device=device) for n in input_names)
    was_training = model.training
    model.eval()
    try:
        with warnings.catch_warnings():
            # vhr and ntl share the batch/height/width axes on purpose; the exporter warns that the names repeat.
            warnings.filterwarnings("ignore", message=r".*shares the same shape constraints.*")
            program = torch.onnx.export(
                _graph_module(model), example, dynamo=True, opset_version=opset, external_data=False,
                input_names=input_names, output_names=output_names,
                dynamic_shapes={n: axes for n in input_names}, verbose=False)
    finally:
        model.train(was_training)
    proto = program.model_proto
    if aligns and not any(node.op_type == "DeformConv" for node in proto.graph.node):
        raise RuntimeError("The exported graph lost its DeformConv node; inference would not align NTL. "
                           "Check the torch/onnxscript versions against requirements.txt.")
    card.variant = model.variant
    card.input_names = input_names
    card.output_names = output_names
    onnx.helper.set_model_props(proto, {METADATA_KEY: card.to_json()})

    with atomic_file(path) as tmp:
        onnx.save_model(proto, tmp)
