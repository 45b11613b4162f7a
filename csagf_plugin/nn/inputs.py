"""The input contract every network checks in forward: band counts, tile size and finite values."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.errors import InputError

if TYPE_CHECKING:
    import torch

# H and W must be multiples of this (ResNet34 baselines downsample by 32) and at least MIN_SIZE.
SIZE_MULTIPLE = 32
MIN_SIZE = 64


class NetworkInputError(InputError, ValueError):
    """A tensor or argument given to a network does not fit it (a ValueError, and an InputError for the QGIS layer)."""


def _tracing() -> bool:
    """True while torch.export / torch.onnx.export traces the model: data-dependent checks must not run then."""
    import torch

    return bool(torch.compiler.is_compiling() or torch.onnx.is_in_onnx_export() or torch.jit.is_tracing())


def _expected(name: str, bands: int, min_size: int) -> str:
    return (f"{name} must be [N, {bands}, H, W] with H, W multiples of {SIZE_MULTIPLE} and >= {min_size}; "
            "got ")


def check_tensor(x: "torch.Tensor", name: str, bands: int, min_size: int = MIN_SIZE) -> None:
    """Raise NetworkInputError unless `x` is a finite float tensor [N, bands, H, W] of a valid tile size."""
    import torch

    if not isinstance(x, torch.Tensor):
        raise NetworkInputError(_expected(name, bands, min_size) + f"a {type(x).__name__}.")
    if _tracing():
        return
    shape = list(x.shape)
    if (x.dim() != 4 or shape[1] != bands or shape[2] % SIZE_MULTIPLE or shape[3] % SIZE_MULTIPLE
            or shape[2] < min_size or shape[3] < min_size):
        raise NetworkInputError(_expected(name, bands, min_size) + f"{shape}.")
    if not x.is_floating_point():
        raise NetworkInputError(f"{name} must be a float tensor (normalised with the model card); got {x.dtype}.")
    if not bool(torch.isfinite(x).all()):
        raise NetworkInputError(f"{name} contains NaN or infinite values: fill no-data pixels (see the model card's "
                                "normalisation) before calling the model.")


def check_inputs(vhr: "torch.Tensor", ntl: "torch.Tensor | None", vhr_bands: int, ntl_bands: int,
                 uses_ntl: bool, min_size: int = MIN_SIZE) -> None:
    """Check a (vhr, ntl) pair; ntl may be None for models that do not use it and must match vhr's N, H, W otherwise."""
    check_tensor(vhr, "vhr", vhr_bands, min_size)
    if not uses_ntl:
        return
    if ntl is None:
        raise NetworkInputError(f"this model uses night-time light: pass ntl as [N, {ntl_bands}, H, W] on the VHR "
                                "grid (same N, H, W as vhr).")
    check_tensor(ntl, "ntl", ntl_bands, min_size)
    if not _tracing() and (ntl.shape[0] != vhr.shape[0] or ntl.shape[2:] != vhr.shape[2:]):
        raise NetworkInputError(f"ntl must be [N, {ntl_bands}, H, W] with the same N, H, W as vhr "
                                f"{list(vhr.shape)}; got {list(ntl.shape)}. Resample NTL onto the VHR grid first.")
