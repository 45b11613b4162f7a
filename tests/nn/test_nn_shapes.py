"""Every model built by create_model maps (vhr, ntl) tiles to logits at input resolution, across sizes and bands."""

from __future__ import annotations

import functools
import itertools

import pytest

torch = pytest.importorskip("torch")

from csagf_plugin.nn import MODEL_NAMES, create_model  # noqa: E402

VARIANTS = ("full", "oafa", "cat", "vhr")
# Each tile size once with batch 1 and with batch 3 would double the cost for no new code path: pair them instead.
SIZE_BATCHES = (((64, 64), 3), ((96, 96), 1), ((256, 256), 1), ((96, 256), 3), ((64, 64), 1))


@functools.lru_cache(maxsize=None)
def _model(name: str, vhr_bands: int, ntl_bands: int, num_classes: int = 7):
    torch.manual_seed(0)
    return create_model(name, num_classes=num_classes, vhr_bands=vhr_bands, ntl_bands=ntl_bands, width=8).eval()


def test_model_names_are_the_variants_then_the_baselines() -> None:
    assert MODEL_NAMES == ("full", "oafa", "cat", "vhr", "unet", "deeplabv3plus", "fpn", "pspnet", "pan")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("size,batch", SIZE_BATCHES)
@pytest.mark.parametrize("vhr_bands,ntl_bands", list(itertools.product((3, 4), (1, 2))))
def test_variant_logits_at_input_resolution(variant: str, size: tuple[int, int], batch: int, vhr_bands: int,
                                            ntl_bands: int, make_inputs) -> None:
    model = _model(variant, vhr_bands, ntl_bands)
    vhr, ntl = make_inputs(batch, *size, vhr_bands, ntl_bands)
    with torch.no_grad():
        logits = model(vhr, ntl)
    assert logits.shape == (batch, 7, *size)
    assert logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize("size,batch", [((64, 64), 1), ((96, 256), 3), ((256, 256), 1)])
def test_full_gate_is_one_channel_in_unit_range_at_input_resolution(size: tuple[int, int], batch: int,
                                                                   make_inputs) -> None:
    model = _model("full", 4, 2)
    vhr, ntl = make_inputs(batch, *size, 4, 2)
    with torch.no_grad():
        logits, gate = model.forward_with_gate(vhr, ntl)
        plain = model(vhr, ntl)
    assert logits.shape == (batch, 7, *size)
    assert gate.shape == (batch, 1, *size)
    assert gate.dtype == torch.float32
    assert float(gate.min()) >= 0.0 and float(gate.max()) <= 1.0
    torch.testing.assert_close(logits, plain)


def test_vhr_variant_needs_no_ntl_and_ignores_it(make_inputs) -> None:
    model = _model("vhr", 3, 1)
    vhr, ntl = make_inputs(1, 64, 64)
    with torch.no_grad():
        torch.testing.assert_close(model(vhr, None), model(vhr, ntl))


def test_num_classes_sets_output_channels(make_inputs) -> None:
    model = _model("full", 3, 1, num_classes=4)
    vhr, ntl = make_inputs(1, 64, 64)
    with torch.no_grad():
        assert model(vhr, ntl).shape == (1, 4, 64, 64)


def test_width_presets() -> None:
    assert create_model("vhr", width="small").width == 32
    assert create_model("vhr", width="paper").width == 256
    assert create_model("vhr", width=12).width == 12


# ResNet34 is heavy on two shared cores: one case per baseline, spreading bands, sizes and batches between them.
BASELINE_CASES = [
    ("unet", 4, (96, 256), 3),
    ("deeplabv3plus", 3, (256, 256), 1),
    ("fpn", 4, (64, 64), 3),
    ("pspnet", 3, (96, 96), 1),
    ("pan", 4, (128, 256), 1),
]


@pytest.mark.parametrize("name,vhr_bands,size,batch", BASELINE_CASES)
def test_baseline_logits_at_input_resolution(name: str, vhr_bands: int, size: tuple[int, int], batch: int,
                                             make_inputs) -> None:
    model = _model(name, vhr_bands, 1)
    vhr, ntl = make_inputs(batch, *size, vhr_bands, 1)
    with torch.no_grad():
        logits = model(vhr, ntl)
        without_ntl = model(vhr)
    assert logits.shape == (batch, 7, *size)
    assert torch.isfinite(logits).all()
    torch.testing.assert_close(logits, without_ntl)


# Models already built for the shape tests are reused: the band count each baseline was built with.
BASELINE_BANDS = {name: bands for name, bands, _, _ in BASELINE_CASES}


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_model_attributes(name: str) -> None:
    model = _model(name, BASELINE_BANDS.get(name, 3), 1)
    assert model.variant == name
    assert model.has_gate == (name == "full")
    assert model.uses_ntl == (name in ("full", "oafa", "cat"))
    assert model.model_args["name"] == name
