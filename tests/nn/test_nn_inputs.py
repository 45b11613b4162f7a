"""Bad inputs and bad names fail early with a ValueError that says what is expected."""

from __future__ import annotations

import re

import pytest

torch = pytest.importorskip("torch")

from csagf_plugin.core.errors import InputError  # noqa: E402
from csagf_plugin.nn import MODEL_NAMES, NetworkInputError, create_model  # noqa: E402


@pytest.fixture(scope="module")
def full():
    return create_model("full", width=8).eval()


def _expect(message: str):
    return pytest.raises(ValueError, match=re.escape(message))


def test_wrong_vhr_band_count(full, make_inputs) -> None:
    vhr, ntl = make_inputs(1, 64, 64, vhr_bands=4)
    with _expect("vhr must be [N, 3, H, W] with H, W multiples of 32 and >= 64; got [1, 4, 64, 64]"):
        full(vhr, ntl)


def test_wrong_ntl_band_count(full, make_inputs) -> None:
    vhr, ntl = make_inputs(1, 64, 64, ntl_bands=2)
    with _expect("ntl must be [N, 1, H, W] with H, W multiples of 32 and >= 64; got [1, 2, 64, 64]"):
        full(vhr, ntl)


@pytest.mark.parametrize("height,width", [(80, 64), (64, 100), (32, 64), (64, 32)])
def test_size_not_multiple_of_32_or_too_small(full, height: int, width: int, make_inputs) -> None:
    vhr, ntl = make_inputs(1, height, width)
    with _expect(f"vhr must be [N, 3, H, W] with H, W multiples of 32 and >= 64; got [1, 3, {height}, {width}]"):
        full(vhr, ntl)


def test_three_dimensional_tensor(full, make_inputs) -> None:
    vhr, ntl = make_inputs(1, 64, 64)
    with _expect("got [3, 64, 64]"):
        full(vhr[0], ntl)


@pytest.mark.parametrize("which", ["vhr", "ntl"])
@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_nan_or_inf(full, which: str, bad: float, make_inputs) -> None:
    vhr, ntl = make_inputs(1, 64, 64)
    (vhr if which == "vhr" else ntl)[0, 0, 10, 10] = bad
    with _expect(f"{which} contains NaN or infinite values"):
        full(vhr, ntl)


def test_missing_ntl(full, make_inputs) -> None:
    vhr, _ = make_inputs(1, 64, 64)
    with _expect("this model uses night-time light: pass ntl as [N, 1, H, W]"):
        full(vhr, None)


def test_ntl_on_another_grid(full, make_inputs) -> None:
    vhr, _ = make_inputs(2, 64, 64)
    _, ntl = make_inputs(2, 96, 64)
    with _expect("ntl must be [N, 1, H, W] with the same N, H, W as vhr [2, 3, 64, 64]; got [2, 1, 96, 64]"):
        full(vhr, ntl)


def test_integer_tensor(full, make_inputs) -> None:
    vhr, ntl = make_inputs(1, 64, 64)
    with _expect("vhr must be a float tensor"):
        full(vhr.to(torch.uint8), ntl)


def test_errors_are_plugin_input_errors(full, make_inputs) -> None:
    vhr, ntl = make_inputs(1, 64, 64, vhr_bands=4)
    with pytest.raises(InputError):
        full(vhr, ntl)
    assert issubclass(NetworkInputError, ValueError)


def test_gate_only_on_full(make_inputs) -> None:
    model = create_model("oafa", width=8)
    vhr, ntl = make_inputs(1, 64, 64)
    with _expect("variant 'oafa' has no gated fusion"):
        model.forward_with_gate(vhr, ntl)


def test_unknown_model_name_lists_valid_names() -> None:
    with pytest.raises(ValueError, match="Unknown model name 'segformer'") as info:
        create_model("segformer")
    for name in MODEL_NAMES:
        assert f"'{name}'" in str(info.value)


@pytest.mark.parametrize("width", ["huge", 6, 10, 8.0, True])
def test_bad_width(width) -> None:
    with pytest.raises(ValueError, match="width"):
        create_model("full", width=width)


def test_pan_needs_128_pixel_tiles(make_inputs) -> None:
    model = create_model("pan", width=8)
    vhr, _ = make_inputs(1, 96, 128)
    with _expect("vhr must be [N, 3, H, W] with H, W multiples of 32 and >= 128; got [1, 3, 96, 128]"):
        model(vhr)
