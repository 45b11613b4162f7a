"""INT8 quantisation: DeformConv and its offsets stay float, the card is kept, classify runs the INT8 model alike."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from tiny_models import (
    NTL_CENTRE,
    NTL_PIXEL_DEG,
    UTM51,
    VHR_ORIGIN,
    WGS84,
    ntl_linear,
    smooth_texture,
    tiny_card,
    write_raster,
)

from csagf_plugin.core.classify import ClassifyConfig, classify_scene
from csagf_plugin.core.errors import InputError
from csagf_plugin.core.model import load_model
from csagf_plugin.core.model_card import METADATA_KEY
from csagf_plugin.training.quantise import QuantiseConfig, quantisation_of, quantise_model


def deformable_model(path: Path) -> Path:
    """vhr, ntl -> conv (16) -> relu -> offsets conv -> DeformConv -> relu -> head conv = logits; gate = sigmoid(ntl)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    arrays = {"w_in": rng.normal(0, 0.4, (16, 4, 3, 3)), "b_in": np.zeros(16),
              "w_off": rng.normal(0, 0.05, (18, 16, 3, 3)), "b_off": np.zeros(18),
              "w_def": rng.normal(0, 0.2, (16, 16, 3, 3)), "b_def": np.zeros(16),
              "w_mid": rng.normal(0, 0.2, (16, 16, 3, 3)), "b_mid": np.zeros(16),
              "w_head": rng.normal(0, 0.4, (7, 16, 1, 1)), "b_head": np.zeros(7)}
    conv = {"kernel_shape": [3, 3], "pads": [1, 1, 1, 1]}
    nodes = [helper.make_node("Concat", ["vhr", "ntl"], ["x"], axis=1, name="concat"),
             helper.make_node("Conv", ["x", "w_in", "b_in"], ["h0"], name="conv_in", **conv),
             helper.make_node("Relu", ["h0"], ["h1"], name="relu_in"),
             helper.make_node("Conv", ["h1", "w_mid", "b_mid"], ["h2"], name="conv_mid", **conv),
             helper.make_node("Relu", ["h2"], ["h3"], name="relu_mid"),
             helper.make_node("Conv", ["h3", "w_off", "b_off"], ["offsets"], name="conv_offsets", **conv),
             helper.make_node("DeformConv", ["h3", "w_def", "offsets", "b_def"], ["d"], name="deform", **conv),
             helper.make_node("Relu", ["d"], ["d1"], name="relu_def"),
             helper.make_node("Conv", ["d1", "w_head", "b_head"], ["logits"], name="conv_head", kernel_shape=[1, 1]),
             helper.make_node("Sigmoid", ["ntl"], ["gate"], name="gate")]
    inputs = [helper.make_tensor_value_info("vhr", TensorProto.FLOAT, ["N", 3, "H", "W"]),
              helper.make_tensor_value_info("ntl", TensorProto.FLOAT, ["N", 1, "H", "W"])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 7, "H", "W"]),
               helper.make_tensor_value_info("gate", TensorProto.FLOAT, ["N", 1, "H", "W"])]
    inits = [numpy_helper.from_array(v.astype(np.float32), k) for k, v in arrays.items()]
    model = helper.make_model(helper.make_graph(nodes, "deformable", inputs, outputs, inits),
                              opset_imports=[helper.make_opsetid("", 19)])
    model.ir_version = 9
    helper.set_model_props(model, {METADATA_KEY: tiny_card().to_json()})
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("quantise")
    vhr = write_raster(folder / "vhr.tif", smooth_texture(150, 200, 3, seed=1), UTM51,
                       from_origin(*VHR_ORIGIN, 1.0, 1.0))
    half = 16
    lons = NTL_CENTRE[0] + (np.arange(-half, half) + 0.5) * NTL_PIXEL_DEG
    lats = NTL_CENTRE[1] - (np.arange(-half, half) + 0.5) * NTL_PIXEL_DEG
    ntl = write_raster(folder / "ntl.tif", ntl_linear(lons[None, :], lats[:, None]).astype(np.float32)[None],
                       WGS84, from_origin(NTL_CENTRE[0] - half * NTL_PIXEL_DEG, NTL_CENTRE[1] + half * NTL_PIXEL_DEG,
                                          NTL_PIXEL_DEG, NTL_PIXEL_DEG))
    return {"vhr": vhr, "ntl": ntl, "model": deformable_model(folder / "float.onnx"), "folder": folder}


def test_int8_model_keeps_deformconv_float_and_the_card(scene: dict[str, Path]) -> None:
    import onnx

    out = scene["folder"] / "int8.onnx"
    result = quantise_model(QuantiseConfig(str(scene["model"]), str(out), [str(scene["vhr"])], str(scene["ntl"]),
                                           tiles=4))
    assert result.float_nodes == ["conv_head", "conv_offsets", "deform"] and result.quantised_nodes == 2
    graph = onnx.load(str(out)).graph
    ops = {n.name: n.op_type for n in graph.node}
    assert ops["deform"] == "DeformConv" and ops["conv_offsets"] == "Conv"
    float_weights = {i.name for i in graph.initializer if i.data_type == onnx.TensorProto.FLOAT}
    assert {"w_off", "w_def", "w_head"} <= float_weights  # the float nodes read float weights
    assert "w_in" not in float_weights and "w_mid" not in float_weights  # ... the others INT8 ones
    assert any(n.op_type == "QuantizeLinear" for n in graph.node)
    assert load_model(out, "cpu", 1).card == load_model(scene["model"], "cpu", 1).card
    settings = quantisation_of(str(out))
    assert settings["calibration_tiles"] == 4 and settings["float_nodes"] == result.float_nodes
    assert quantisation_of(str(scene["model"])) is None
    with pytest.raises(InputError, match="already quantised"):
        quantise_model(QuantiseConfig(str(out), str(scene["folder"] / "again.onnx"), [str(scene["vhr"])],
                                      str(scene["ntl"])))


def test_classify_with_the_int8_model_agrees_with_float(scene: dict[str, Path]) -> None:
    out = scene["folder"] / "int8_b.onnx"
    quantise_model(QuantiseConfig(str(scene["model"]), str(out), [str(scene["vhr"])], str(scene["ntl"]), tiles=4,
                                  method="minmax"))
    maps = []
    for name, model in (("float", scene["model"]), ("int8", out)):
        path = scene["folder"] / f"zones_{name}.tif"
        classify_scene(ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(model), str(path), threads=1),
                       warn=None)
        with rasterio.open(path) as src:
            maps.append(src.read(1))
    assert len(np.unique(maps[0])) >= 3
    assert (maps[0] == maps[1]).mean() > 0.9  # INT8 rounding changes the class of a few boundary pixels only


def test_calibration_needs_data_and_a_known_method(scene: dict[str, Path]) -> None:
    with pytest.raises(InputError, match="Give calibration data"):
        quantise_model(QuantiseConfig(str(scene["model"]), str(scene["folder"] / "x.onnx")))
    with pytest.raises(InputError, match="unknown"):
        quantise_model(QuantiseConfig(str(scene["model"]), str(scene["folder"] / "x.onnx"), [str(scene["vhr"])],
                                      str(scene["ntl"]), method="fast"))


def test_fp16_copy_matches_float_and_keeps_deformconv_float(scene: dict[str, Path]) -> None:
    import onnx
    import onnxruntime as ort

    from csagf_plugin.training.quantise import to_fp16

    out = scene["folder"] / "fp16.onnx"
    settings = to_fp16(str(scene["model"]), str(out))
    assert settings["format"] == "fp16" and quantisation_of(str(out)) == settings
    graph = onnx.load(str(out)).graph
    halves = {i.name for i in graph.initializer if i.data_type == onnx.TensorProto.FLOAT16}
    assert {"w_in", "w_mid", "w_off", "w_head"} <= halves and "w_def" not in halves  # DeformConv's stay float32
    assert load_model(out, "cpu", 1).card == load_model(scene["model"], "cpu", 1).card
    rng = np.random.default_rng(0)
    feeds = {"vhr": rng.normal(size=(2, 3, 64, 64)).astype(np.float32),
             "ntl": rng.normal(size=(2, 1, 64, 64)).astype(np.float32)}
    half = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(["logits"], feeds)[0]
    full = ort.InferenceSession(str(scene["model"]), providers=["CPUExecutionProvider"]).run(["logits"], feeds)[0]
    assert half.dtype == np.float32  # float32 in and out: classify feeds it unchanged
    np.testing.assert_allclose(half, full, atol=0.02 * np.abs(full).max())
    assert (half.argmax(1) == full.argmax(1)).mean() > 0.99


def test_calibration_from_a_tile_store(scene: dict[str, Path]) -> None:
    from csagf_plugin.training.tile_store import TileStore

    rng = np.random.default_rng(3)
    n = 5
    store = TileStore(vhr=rng.integers(0, 255, (n, 3, 64, 64), dtype=np.uint8),
                      ntl=rng.gamma(2, 5, (n, 1, 64, 64)).astype(np.float32),
                      labels=rng.integers(1, 8, (n, 64, 64), dtype=np.uint8), scene=np.zeros(n, np.int32),
                      origin=np.zeros((n, 2), np.int64), scenes=[str(scene["vhr"])])
    path = store.save(scene["folder"] / "tiles.npz")
    out = scene["folder"] / "int8_store.onnx"
    result = quantise_model(QuantiseConfig(str(scene["model"]), str(out), tile_store=path, tiles=3))
    assert result.calibration_tiles == 3 and quantisation_of(str(out))["calibration_source"] == path
