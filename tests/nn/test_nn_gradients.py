"""Training signal reaches every part of the alignment and the gate: none of them is dead code."""

from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from csagf_plugin.nn import create_model  # noqa: E402
from csagf_plugin.nn.gfm import GatedFusion  # noqa: E402


def _backward(make_inputs, name: str):
    torch.manual_seed(0)
    model = create_model(name, width=8).train()
    vhr, ntl = make_inputs(2, 64, 64)
    target = torch.randint(0, 7, (2, 64, 64), generator=torch.Generator().manual_seed(1))
    torch.nn.functional.cross_entropy(model(vhr, ntl), target).backward()
    return model


def _grad_norm(parameter: "torch.nn.Parameter") -> float:
    assert parameter.grad is not None
    return float(parameter.grad.abs().sum())


@pytest.mark.parametrize("name", ["full", "oafa"])
def test_gradient_reaches_the_offset_predictors(name: str, make_inputs) -> None:
    model = _backward(make_inputs, name)
    assert _grad_norm(model.csom.offset.weight) > 0  # base offset conv: dead if DeformConv ignored its offsets
    assert _grad_norm(model.csom.vhr_attention.conv.weight) > 0
    assert _grad_norm(model.csom.ntl_attention.conv.weight) > 0
    assert _grad_norm(model.vhr_invariant.layers[0][0][0].weight) > 0
    assert _grad_norm(model.ntl_invariant.layers[0][0].weight) > 0
    assert _grad_norm(model.odaf.correction[-1].weight) > 0  # zero-initialised, but it learns
    assert _grad_norm(model.odaf.deform.weight) > 0


def test_gradient_reaches_the_gate(make_inputs) -> None:
    model = _backward(make_inputs, "full")
    assert _grad_norm(model.fusion.gate.weight) > 0
    assert _grad_norm(model.ntl_specific.layers[0][0].weight) > 0


def test_correction_starts_at_zero_so_alignment_starts_from_the_base_offset() -> None:
    model = create_model("full", width=8)
    features = torch.randn(1, 8 + 8 + 18, 16, 16)
    assert torch.count_nonzero(model.odaf.correction(features)) == 0


def test_base_offset_changes_the_prediction(make_inputs) -> None:
    torch.manual_seed(0)
    model = create_model("oafa", width=8).eval()
    vhr, ntl = make_inputs(1, 64, 64)
    with torch.no_grad():
        before = model(vhr, ntl)
        model.csom.offset.bias += 0.7  # shift every sampling point by 0.7 feature pixels
        after = model(vhr, ntl)
    assert float((before - after).abs().max()) > 1e-6  # float32 noise is ~1e-8 on logits of ~0.2


@pytest.mark.parametrize("name,uses_ntl", [("full", True), ("oafa", True), ("cat", True), ("vhr", False)])
def test_ntl_changes_the_prediction_only_when_used(name: str, uses_ntl: bool, make_inputs) -> None:
    torch.manual_seed(0)
    model = create_model(name, width=8).eval()
    vhr, ntl = make_inputs(1, 64, 64)
    with torch.no_grad():
        changed = float((model(vhr, ntl) - model(vhr, ntl + 1.0)).abs().max())
    assert (changed > 1e-6) == uses_ntl  # exactly 0 when NTL is unused


@pytest.mark.parametrize("bias,expected", [(30.0, "vhr"), (-30.0, "ntl")])
def test_gated_fusion_follows_its_gate(bias: float, expected: str) -> None:
    fusion = GatedFusion(4)
    torch.nn.init.zeros_(fusion.gate.weight)
    torch.nn.init.constant_(fusion.gate.bias, bias)  # G = sigmoid(+-30): all VHR or all NTL
    vhr, ntl = torch.randn(2, 4, 8, 8), torch.randn(2, 4, 8, 8)
    fused, gate = fusion(vhr, ntl)
    torch.testing.assert_close(fused, vhr if expected == "vhr" else ntl)
    assert gate.shape == vhr.shape


def test_gated_fusion_mixes_by_half_at_zero_gate() -> None:
    fusion = GatedFusion(2)
    torch.nn.init.zeros_(fusion.gate.weight)
    torch.nn.init.zeros_(fusion.gate.bias)
    vhr, ntl = torch.full((1, 2, 4, 4), 2.0), torch.full((1, 2, 4, 4), 6.0)
    fused, _ = fusion(vhr, ntl)
    torch.testing.assert_close(fused, torch.full((1, 2, 4, 4), 4.0))


def test_single_tile_batch_trains(make_inputs) -> None:
    model = create_model("full", width=8).train()
    vhr, ntl = make_inputs(1, 64, 64)
    model(vhr, ntl).sum().backward()  # the ASPP image-pooling branch has no BatchNorm, so batch 1 works
    assert _grad_norm(model.head.aspp.pooling[1].weight) > 0
