"""Tiny ONNX models with a model card, and small seeded rasters, for the inference engine's tests (helpers).

The models are built with onnx.helper so that their outputs are known functions of their inputs:
logits = a k x k convolution over concat(vhr, ntl); gate = sigmoid(ntl).  A 1 x 1 kernel makes every pixel's
class computable with numpy; the gate lets a test read back exactly which night light reached each pixel.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS

from csagf_plugin.core.model_card import METADATA_KEY, ModelCard

UTM51 = CRS.from_epsg(32651)  # Shanghai's UTM zone
WGS84 = CRS.from_epsg(4326)
VHR_ORIGIN = (350_000.0, 3_445_000.0)  # UTM 51N, about 121.43 E 31.13 N
NTL_CENTRE = (121.4285, 31.1277)  # lon, lat near the VHR scene
NTL_PIXEL_DEG = 0.0005  # about 50 m

# Weights of the 1 x 1 model over (red, green, blue, ntl) after normalisation: each class favours one mix.
POINTWISE_WEIGHTS = np.array([
    [2.0, 0.0, 0.0, 0.0],
    [0.0, 2.0, 0.0, 0.0],
    [0.0, 0.0, 2.0, 0.0],
    [1.0, 1.0, -1.0, 0.0],
    [-1.0, 1.0, 1.0, 0.0],
    [0.0, 0.0, 0.0, 1.5],
    [-1.0, -1.0, -1.0, 0.0],
], dtype=np.float32)


def tiny_card(**changes: object) -> ModelCard:
    """A model card for tests: tile 64, overlap 16, 1 m pixels (the scene fixture's), default classes and
    normalisation."""
    card = ModelCard(name="tiny_test", variant="full", tile_size=64, overlap=16, vhr_pixel_size_m=1.0,
                     output_names=["logits", "gate"])
    return replace(card, **changes)


def build_onnx(path: Path, card: ModelCard | None, weights: np.ndarray | None = None, kernel: int = 1,
               bias: np.ndarray | None = None, static_shape: tuple[int, int] | None = None) -> Path:
    """Write a tiny ONNX model: logits = conv(kernel) over concat(vhr[, ntl]); gate = sigmoid(ntl band 1).

    `card` None writes a model without a model card; `static_shape` (batch, tile) fixes the input shape.
    """
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    card_for_shape = card or tiny_card()
    bv, bn = len(card_for_shape.vhr_bands), len(card_for_shape.ntl_bands)
    uses_ntl = card_for_shape.uses_ntl
    channels_in = bv + (bn if uses_ntl else 0)
    classes = card_for_shape.num_classes
    if weights is None:
        weights = POINTWISE_WEIGHTS[:classes, :channels_in, None, None]
    weights = np.asarray(weights, dtype=np.float32).reshape(classes, channels_in, kernel, kernel)
    bias = np.zeros(classes, np.float32) if bias is None else np.asarray(bias, np.float32)
    n, hw = (static_shape[0], static_shape[1]) if static_shape else ("N", None)
    h, w = (hw, hw) if hw else ("H", "W")
    inputs = [helper.make_tensor_value_info("vhr", TensorProto.FLOAT, [n, bv, h, w])]
    nodes = []
    conv_input = "vhr"
    if uses_ntl:
        inputs.append(helper.make_tensor_value_info("ntl", TensorProto.FLOAT, [n, bn, h, w]))
        nodes.append(helper.make_node("Concat", ["vhr", "ntl"], ["both"], axis=1))
        conv_input = "both"
    pad = kernel // 2
    nodes.append(helper.make_node("Conv", [conv_input, "weight", "bias"], ["logits"],
                                  kernel_shape=[kernel, kernel], pads=[pad, pad, pad, pad]))
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [n, classes, h, w])]
    initializers = [numpy_helper.from_array(weights, "weight"), numpy_helper.from_array(bias, "bias")]
    if card_for_shape.has_gate:
        if bn > 1:
            initializers.append(numpy_helper.from_array(np.array([0, 1], np.int64), "slice_se"))
            initializers.append(numpy_helper.from_array(np.array([1], np.int64), "axis1"))
            nodes.append(helper.make_node("Slice", ["ntl", "slice_se", "axis1"], ["ntl1"]))
        nodes.append(helper.make_node("Sigmoid", ["ntl1" if bn > 1 else "ntl"], ["gate"]))
        outputs.append(helper.make_tensor_value_info("gate", TensorProto.FLOAT, [n, 1, h, w]))
    graph = helper.make_graph(nodes, "tiny_csagf", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    if card is not None:
        helper.set_model_props(model, {METADATA_KEY: card.to_json()})
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return path


def write_raster(path: Path, data: np.ndarray, crs: CRS | None, transform: rasterio.Affine,
                 nodata: float | None = None, alpha_last: bool = False, **options: object) -> Path:
    """Write [B, H, W] to a GeoTIFF (alpha on the last band when alpha_last; options go to the GTiff driver)."""
    profile = {"driver": "GTiff", "width": data.shape[2], "height": data.shape[1], "count": data.shape[0],
               "dtype": str(data.dtype), "transform": transform, "nodata": nodata, **options}
    if crs is not None:
        profile["crs"] = crs
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if alpha_last:
            from rasterio.enums import ColorInterp
            dst.colorinterp = [ColorInterp.red, ColorInterp.green, ColorInterp.blue, ColorInterp.alpha]
    return path


def smooth_texture(height: int, width: int, bands: int, seed: int) -> np.ndarray:
    """Seeded uint8 texture [B, H, W] with blobs a few pixels wide, so classes form patches."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(0, 255, size=(bands, height // 8 + 2, width // 8 + 2))
    ys = np.linspace(0, coarse.shape[1] - 1.001, height)
    xs = np.linspace(0, coarse.shape[2] - 1.001, width)
    y0, x0 = ys.astype(int), xs.astype(int)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    c = coarse
    out = (c[:, y0][:, :, x0] * (1 - fy) * (1 - fx) + c[:, y0 + 1][:, :, x0] * fy * (1 - fx)
           + c[:, y0][:, :, x0 + 1] * (1 - fy) * fx + c[:, y0 + 1][:, :, x0 + 1] * fy * fx)
    out += rng.normal(0, 6, size=out.shape)
    return np.clip(out, 0, 255).astype(np.uint8)


def ntl_linear(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Radiance of the test NTL raster: a plane in lon/lat, so bilinear warping reproduces it exactly."""
    return 50.0 + 3000.0 * (lon - NTL_CENTRE[0]) + 2000.0 * (lat - NTL_CENTRE[1])
