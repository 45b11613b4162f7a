"""create_model: one entry point for the CSAGFNet variants and the baselines, by name."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .inputs import NetworkInputError

if TYPE_CHECKING:
    from torch import nn

CSAGF_VARIANTS: tuple[str, ...] = ("full", "oafa", "cat", "vhr")
BASELINE_NAMES: tuple[str, ...] = ("unet", "deeplabv3plus", "fpn", "pspnet", "pan")
MODEL_NAMES: tuple[str, ...] = CSAGF_VARIANTS + BASELINE_NAMES

# Named feature widths of CSAGFNet: "paper" is the paper's 256 channels, "small" trains on a 2-core CPU.
WIDTH_PRESETS: dict[str, int] = {"paper": 256, "small": 32}


def resolve_width(width: str | int) -> int:
    """Turn a width preset name or an explicit int into CSAGFNet's base channel count."""
    if isinstance(width, str):
        if width not in WIDTH_PRESETS:
            raise NetworkInputError(f"Unknown width '{width}'; use one of {list(WIDTH_PRESETS)} or an int "
                                    "(>= 8, multiple of 4).")
        return WIDTH_PRESETS[width]
    if isinstance(width, bool) or not isinstance(width, int) or width < 8 or width % 4:
        raise NetworkInputError(f"width must be one of {list(WIDTH_PRESETS)} or an int >= 8 and a multiple of 4; "
                                f"got {width!r}.")
    return width


def create_model(name: str, num_classes: int = 7, vhr_bands: int = 3, ntl_bands: int = 1,
                 width: str | int = "small", vhr_encoder: str = "paper", pretrained: bool = False) -> "nn.Module":
    """Build a model by name; every model has forward(vhr, ntl) -> logits [N, num_classes, H, W].

    `vhr_encoder` "paper" is the paper's extractor (ResNet34 for the baselines), "efficientnet_lite0" the ImageNet
    encoder for all of them; `pretrained` loads its weights from the installed weights package.
    """
    if name in CSAGF_VARIANTS:
        from .csagfnet import CSAGFNet

        return CSAGFNet(name, num_classes, vhr_bands, ntl_bands, resolve_width(width), vhr_encoder, pretrained)
    if name in BASELINE_NAMES:
        from .baselines import SmpBaseline

        resolve_width(width)  # baselines ignore the width, but a wrong one is still a mistake worth reporting
        return SmpBaseline(name, num_classes, vhr_bands, ntl_bands, width, vhr_encoder, pretrained)
    raise NetworkInputError(f"Unknown model name '{name}'; valid names: {list(MODEL_NAMES)}.")
