"""ONNX export: onnxruntime (CPU) agrees with PyTorch, DeformConv stays native, and the model card travels inside."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

from csagf_plugin.core.errors import ModelCardError  # noqa: E402
from csagf_plugin.core.model_card import METADATA_KEY, ModelCard  # noqa: E402
from csagf_plugin.nn import create_model  # noqa: E402
from csagf_plugin.training.export import export_onnx  # noqa: E402

# Every CSAGFNet variant and one baseline.  A dynamic-size export traces two to three times slower on two cores, so
# only "full" (whose modules include those of every other variant) is exported with dynamic height and width; the
# others at a fixed 128-pixel tile (the batch stays dynamic).  PSPNet is the baseline: the lightest ResNet34 network
# to trace, and always exported at a fixed tile size, so this is its production path.
EXPORTED = ("full", "oafa", "cat", "vhr", "pspnet")
DYNAMIC = ("full",)
TILE = 128


class Exported:
    """A model exported once per test module, with its card and an onnxruntime CPU session."""

    def __init__(self, name: str, folder: Path) -> None:
        torch.manual_seed(0)
        self.model = create_model(name, vhr_bands=4, ntl_bands=2, width=8)
        self.model.train()  # export must switch to eval itself and give the mode back
        self.card = ModelCard(name=f"test_{name}", variant="to be set", vhr_bands=["red", "green", "blue", "nir"],
                              vhr_mean=[0.4, 0.4, 0.4, 0.3], vhr_std=[0.2, 0.2, 0.2, 0.2],
                              ntl_bands=["viirs_2025", "viirs_2022"], ntl_mean=[2.0], ntl_std=[1.5],
                              metrics={"miou": 0.25}, tile_size=TILE)
        self.path = folder / f"{name}.onnx"
        # PSPNet is asked for dynamic sizes like a user would; export_onnx fixes its tile size by itself.
        export_onnx(self.model, self.path, self.card, dynamic=name in DYNAMIC or name == "pspnet")
        self.was_training = self.model.training
        self.model.eval()
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])

    def run(self, vhr: "torch.Tensor", ntl: "torch.Tensor") -> tuple[list[np.ndarray], list[np.ndarray]]:
        """(onnxruntime outputs, PyTorch outputs) on the same input, in output-name order."""
        feeds = {"vhr": vhr.numpy(), "ntl": ntl.numpy()}
        got = self.session.run(None, {name: feeds[name] for name in self.card.input_names})
        with torch.no_grad():
            want = self.model.forward_with_gate(vhr, ntl) if self.model.has_gate else (self.model(vhr, ntl),)
        return got, [t.numpy() for t in want]


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory, _one_thread) -> dict[str, Exported]:
    folder = tmp_path_factory.mktemp("onnx")
    return {name: Exported(name, folder) for name in EXPORTED}


PARITY_CASES = (
    [(name, 2, 96, 128) for name in DYNAMIC] + [(name, 1, 256, 64) for name in DYNAMIC]
    + [(name, batch, TILE, TILE) for name in ("oafa", "cat", "vhr") for batch in (1, 3)]
    + [("pspnet", 2, TILE, TILE)])


@pytest.mark.parametrize("name,batch,height,width", PARITY_CASES)
def test_onnxruntime_matches_pytorch(exported, make_inputs, name: str, batch: int, height: int, width: int) -> None:
    model = exported[name]
    vhr, ntl = make_inputs(batch, height, width, 4, 2, seed=3)
    got, want = model.run(vhr, ntl)
    assert len(got) == len(model.card.output_names)
    logits, want_logits = got[0], want[0]
    assert logits.shape == (batch, 7, height, width)
    assert float(np.abs(logits - want_logits).max()) <= 1e-3
    assert float(np.mean(logits.argmax(1) == want_logits.argmax(1))) >= 0.999
    if model.model.has_gate:
        assert got[1].shape == (batch, 1, height, width)
        assert float(np.abs(got[1] - want[1]).max()) <= 1e-3


@pytest.mark.parametrize("name,deform", [("full", True), ("oafa", True), ("cat", False), ("vhr", False)])
def test_native_deformconv_node_for_aligned_variants(exported, name: str, deform: bool) -> None:
    proto = onnx.load(str(exported[name].path))
    ops = {(node.domain, node.op_type) for node in proto.graph.node}
    assert (("", "DeformConv") in ops) == deform
    assert {o.domain: o.version for o in proto.opset_import}[""] == 19


@pytest.mark.parametrize("name,inputs,outputs", [
    ("full", ["vhr", "ntl"], ["logits", "gate"]), ("oafa", ["vhr", "ntl"], ["logits"]),
    ("cat", ["vhr", "ntl"], ["logits"]), ("vhr", ["vhr"], ["logits"]), ("pspnet", ["vhr"], ["logits"])])
def test_card_round_trip_and_graph_names(exported, name: str, inputs: list[str], outputs: list[str]) -> None:
    model = exported[name]
    meta = model.session.get_modelmeta().custom_metadata_map
    card = ModelCard.from_metadata(meta, str(model.path))
    assert card == model.card
    assert (card.variant, card.input_names, card.output_names) == (name, inputs, outputs)
    assert card.has_gate == (name == "full") and card.uses_ntl == (len(inputs) == 2)
    assert [i.name for i in model.session.get_inputs()] == inputs
    assert [o.name for o in model.session.get_outputs()] == outputs
    assert ModelCard.from_json(meta[METADATA_KEY]).metrics == {"miou": 0.25}


@pytest.mark.parametrize("name", ["full", "vhr", "pspnet"])
def test_batch_is_dynamic_and_height_width_as_asked(exported, name: str) -> None:
    for node in exported[name].session.get_inputs():
        assert isinstance(node.shape[0], str) and node.shape[1] in (4, 2)
        if name in DYNAMIC:
            assert isinstance(node.shape[2], str) and isinstance(node.shape[3], str)
        else:
            assert node.shape[2:] == [TILE, TILE]


def test_export_gives_the_training_mode_back(exported) -> None:
    assert exported["full"].was_training


def test_card_with_wrong_band_count_is_refused(tmp_path: Path) -> None:
    model = create_model("cat", vhr_bands=4, width=8)
    with pytest.raises(ModelCardError, match="card.vhr_bands names 3 bands"):
        export_onnx(model, tmp_path / "x.onnx", ModelCard(name="x", variant="cat"))
    card = ModelCard(name="x", variant="cat", vhr_bands=["r", "g", "b", "nir"], vhr_mean=[0.0], vhr_std=[1.0, 1.0])
    with pytest.raises(ModelCardError, match="card.vhr_std has 2 values; give 1 or 4"):
        export_onnx(model, tmp_path / "x.onnx", card)
    with pytest.raises(ModelCardError, match="lists 7 classes but the model outputs 5"):
        export_onnx(create_model("vhr", num_classes=5, width=8), tmp_path / "x.onnx", ModelCard(name="x", variant="v"))
    assert not (tmp_path / "x.onnx").exists()


def test_deformconv_needs_opset_19(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="opset >= 19"):
        export_onnx(create_model("full", width=8), tmp_path / "x.onnx", ModelCard(name="x", variant="full"), opset=18)
