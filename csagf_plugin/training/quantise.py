"""INT8 static quantisation of a CSAGF ONNX model with onnxruntime.quantization (QDQ, per-channel weights).

Convolutions and the ops between them (concatenations, resizes, sigmoids) run in INT8, so tensors stay INT8 from
one convolution to the next (VNNI on CPUs that have it; quantising only the convolutions was slower than float:
each one then converts back and forth).  DeformConv, the convolution that predicts its offsets (CSOM's sampling
positions, where a rounding error moves the sampled pixel) and the output head stay in float.
Calibration tiles come from the user's own scene(s) or from a tile store of prepare, normalised as classify
normalises them.  The quantised model keeps the float model's card (so classify treats it alike) and adds the
settings under the metadata key `csagf_quantisation`.

`to_fp16` writes a float16 copy for the CUDA provider (inputs and outputs stay float32, DeformConv stays float32
behind casts); it needs no calibration.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ..core.errors import InputError
from ..core.model_card import ModelCard, normalise_ntl, normalise_vhr

QUANTISATION_KEY = "csagf_quantisation"  # ONNX metadata key of the settings (JSON)
METHODS = ("minmax", "percentile", "entropy")


@dataclass
class QuantiseConfig:
    """What to quantise, from which calibration tiles, and how."""

    model_path: str  # float ONNX model with a CSAGF model card
    output_path: str  # the INT8 ONNX model to write
    vhr_paths: list[str] = field(default_factory=list)  # scenes to draw calibration tiles from
    ntl_path: str | None = None  # night light of those scenes (models that use it)
    tile_store: str | None = None  # or a tile store (.npz) from prepare
    tiles: int = 32  # calibration tiles (spread evenly over the scenes)
    method: str = "percentile"  # calibration: minmax, percentile (99.999) or entropy
    keep_float: list[str] = field(default_factory=list)  # more node names to keep in float
    per_channel: bool = True  # one weight scale per output channel


@dataclass
class QuantiseResult:
    """What was written."""

    output_path: str  # the INT8 model
    quantised_nodes: int  # Conv nodes in INT8 (other ops are quantised too where onnxruntime can)
    float_nodes: list[str]  # Conv / DeformConv nodes kept in float
    calibration_tiles: int  # tiles the ranges were calibrated on
    settings: dict  # what was stored under QUANTISATION_KEY


def quantise_model(config: QuantiseConfig) -> QuantiseResult:
    """Write an INT8 (QDQ) copy of the model calibrated on the config's tiles; the model card is kept."""
    import onnx
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    if config.method not in METHODS:
        raise InputError(f"Calibration method '{config.method}' is unknown: pick one of {', '.join(METHODS)}.")
    if not os.path.isfile(config.model_path):
        raise InputError(f"Model file {config.model_path} does not exist: pick a CSAGF .onnx model.")
    model = onnx.load(config.model_path)
    metadata = {p.key: p.value for p in model.metadata_props}
    card = ModelCard.from_metadata(metadata, source=f"Model file {config.model_path}")
    if QUANTISATION_KEY in metadata:
        raise InputError(f"Model {config.model_path} is already quantised: quantise the float model.")
    batches = list(calibration_batches(config, card))
    keep = sorted(set(float_nodes(model)) | set(config.keep_float))
    convs = [n.name for n in model.graph.node if n.op_type == "Conv"]
    with tempfile.TemporaryDirectory(prefix="csagf_quantise_") as tmp:
        prepared = os.path.join(tmp, "prepared.onnx")
        quant_pre_process(config.model_path, prepared, skip_symbolic_shape=True)
        method = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
                  "entropy": CalibrationMethod.Entropy}[config.method]
        quantize_static(prepared, config.output_path, _Reader(batches, card), quant_format=QuantFormat.QDQ,
                        op_types_to_quantize=None, per_channel=config.per_channel,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        nodes_to_exclude=keep, calibrate_method=method,
                        extra_options={"CalibMovingAverage": False, "CalibPercentile": 99.999})
    out = onnx.load(config.output_path)
    settings = {"format": "QDQ", "ops": "every op onnxruntime quantises", "activations": "uint8", "weights": "int8 per channel" if config.per_channel
                else "int8 per tensor", "calibration": config.method, "calibration_tiles": len(batches),
                "calibration_source": config.tile_store or config.vhr_paths, "float_nodes": keep,
                "float_model": os.path.basename(config.model_path)}
    del out.metadata_props[:]
    for key, value in {**metadata, QUANTISATION_KEY: json.dumps(settings, sort_keys=True)}.items():
        entry = out.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(out, config.output_path)
    return QuantiseResult(config.output_path, len([c for c in convs if c not in keep]), keep, len(batches), settings)


def float_nodes(model) -> list[str]:
    """Nodes that stay in float: every DeformConv, the Conv feeding its offsets, and the Conv(s) making logits."""
    producers = {out: node for node in model.graph.node for out in node.output}
    keep = []
    for node in model.graph.node:
        if node.op_type == "DeformConv":
            keep.append(node.name)
            for name in node.input[2:3]:  # the offsets
                keep.extend(_convs_above(producers, name, depth=3))
    for output in model.graph.output:
        if output.name == "logits":
            keep.extend(_convs_above(producers, output.name, depth=3))
    return sorted(set(keep))


def _convs_above(producers: dict, tensor: str, depth: int) -> list[str]:
    """The Conv nodes that produce `tensor` through at most `depth` non-Conv nodes (Add, Resize, Relu ...)."""
    node = producers.get(tensor)
    if node is None or depth < 0:
        return []
    if node.op_type == "Conv":
        return [node.name]
    found = []
    for name in node.input:
        found.extend(_convs_above(producers, name, depth - 1))
    return found


def calibration_batches(config: QuantiseConfig, card: ModelCard) -> Iterator[dict[str, np.ndarray]]:
    """Normalised calibration inputs, one tile per batch: {"vhr": [1, B, t, t], "ntl": [1, B, t, t]}."""
    if config.tiles < 1:
        raise InputError(f"Calibration tiles {config.tiles} is not usable: pick 1 or more (32 is typical).")
    if config.tile_store:
        yield from _store_batches(config, card)
    elif config.vhr_paths:
        yield from _scene_batches(config, card)
    else:
        raise InputError("Give calibration data: VHR scene(s) (with their NTL) or a tile store from prepare.")


def _store_batches(config: QuantiseConfig, card: ModelCard) -> Iterator[dict[str, np.ndarray]]:
    """Tiles of a prepare tile store, spread evenly over it."""
    from .tile_store import TileStore

    if not os.path.isfile(config.tile_store):
        raise InputError(f"Tile store {config.tile_store} does not exist: write one with prepare.")
    store = TileStore.load(config.tile_store)
    picks = np.linspace(0, store.num_tiles - 1, min(config.tiles, store.num_tiles)).round().astype(int)
    for i in picks:
        feeds = {"vhr": normalise_vhr(store.vhr[i], store.vhr_dtype, card)[None]}
        if card.uses_ntl:
            feeds["ntl"] = normalise_ntl(store.ntl[i].astype(np.float32), card)[None]
        yield feeds


def _scene_batches(config: QuantiseConfig, card: ModelCard) -> Iterator[dict[str, np.ndarray]]:
    """Tiles on an even grid over each scene, with the NTL warped onto them as classify does."""
    import rasterio
    from rasterio.windows import Window

    from ..core.raster import ntl_on_grid, open_raster

    if card.uses_ntl and not config.ntl_path:
        raise InputError(f"Model {card.name} uses night light: give the NTL raster of the calibration scene(s).")
    t = card.tile_size
    per_scene = max(1, config.tiles // len(config.vhr_paths))
    for path in config.vhr_paths:
        with open_raster(path, "VHR") as vhr:
            if vhr.width < t or vhr.height < t:
                raise InputError(f"Calibration scene {path} is smaller than one tile ({t} px).")
            side = int(np.ceil(np.sqrt(per_scene)))
            xs = np.linspace(0, vhr.width - t, side).astype(int)
            ys = np.linspace(0, vhr.height - t, side).astype(int)
            bands = list(range(1, len(card.vhr_bands) + 1))
            ntl = rasterio.open(config.ntl_path) if card.uses_ntl else None
            try:
                for y in ys:
                    for x in xs:
                        window = Window(int(x), int(y), t, t)
                        feeds = {"vhr": normalise_vhr(vhr.read(bands, window=window), vhr.dtypes[0], card)[None]}
                        if ntl is not None:
                            radiance = ntl_on_grid(ntl, vhr.crs, vhr.window_transform(window), t, t,
                                                   list(range(1, len(card.ntl_bands) + 1)))
                            feeds["ntl"] = normalise_ntl(radiance, card)[None]
                        yield feeds
            finally:
                if ntl is not None:
                    ntl.close()


class _Reader:
    """onnxruntime's CalibrationDataReader over prepared batches."""

    def __init__(self, batches: list[dict[str, np.ndarray]], card: ModelCard) -> None:
        self.batches = [{k: np.ascontiguousarray(v, np.float32) for k, v in b.items() if k in card.input_names}
                        for b in batches]
        self.index = 0

    def get_next(self) -> dict[str, np.ndarray] | None:
        if self.index >= len(self.batches):
            return None
        self.index += 1
        return self.batches[self.index - 1]

    def rewind(self) -> None:
        self.index = 0


def quantisation_of(model_path: str) -> dict | None:
    """The quantisation settings stored in a model (None for a float model)."""
    import onnxruntime as ort

    session = ort.InferenceSession(model_path, providers=["CPUExecutionProvider"])
    text = session.get_modelmeta().custom_metadata_map.get(QUANTISATION_KEY)
    return json.loads(text) if text else None


def to_fp16(model_path: str, output_path: str, keep_float: list[str] | None = None) -> dict:
    """Write a float16 copy of the model (for onnxruntime's CUDA provider) with the same card; returns the settings.

    Inputs and outputs stay float32, so classify feeds it as it feeds the float model; DeformConv and the ops in
    `keep_float` (op types) stay float32, with casts around them.
    """
    import onnx
    from onnxruntime.transformers.float16 import convert_float_to_float16

    if not os.path.isfile(model_path):
        raise InputError(f"Model file {model_path} does not exist: pick a CSAGF .onnx model.")
    model = onnx.load(model_path)
    metadata = {p.key: p.value for p in model.metadata_props}
    ModelCard.from_metadata(metadata, source=f"Model file {model_path}")
    if QUANTISATION_KEY in metadata:
        raise InputError(f"Model {model_path} is already converted or quantised: start from the float model.")
    blocked = sorted({"DeformConv", *(keep_float or [])})
    half = convert_float_to_float16(model, keep_io_types=True, op_block_list=blocked)
    settings = {"format": "fp16", "float_ops": blocked, "io": "float32", "float_model": os.path.basename(model_path)}
    del half.metadata_props[:]
    for key, value in {**metadata, QUANTISATION_KEY: json.dumps(settings, sort_keys=True)}.items():
        entry = half.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(half, output_path)
    return settings

