"""Single-modal baselines of the paper's comparison, built with segmentation-models-pytorch.

Encoder: ResNet34 at random (the paper's comparison) or EfficientNet-Lite0 with the same ImageNet weights as
CSAGFNet's pretrained VHR encoder (timm universal encoder `tu-efficientnet_lite0`), so comparisons stay fair.

They take VHR only; `ntl` is accepted and ignored so every model shares the forward(vhr, ntl) call.
The decoders keep segmentation-models-pytorch's defaults whatever the width (the ResNet34 encoder dominates the cost).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from .inputs import MIN_SIZE, NetworkInputError, check_inputs

# PAN's feature pyramid attention halves its 1/16 feature three more times: tiles must be at least 128 pixels.
MIN_SIZES: dict[str, int] = {"pan": 128}

# PSPNet's adaptive pooling bins are computed at trace time: its ONNX graph only works at the traced tile size.
STATIC_SIZE: frozenset[str] = frozenset({"pspnet"})

# Our model names -> segmentation-models-pytorch architecture class names.
BASELINES: dict[str, str] = {"unet": "Unet", "deeplabv3plus": "DeepLabV3Plus", "fpn": "FPN", "pspnet": "PSPNet",
                             "pan": "PAN"}


class SmpBaseline(nn.Module):
    """A segmentation-models-pytorch network with a ResNet34 encoder initialised at random, behind forward(vhr, ntl)."""

    has_gate = False
    uses_ntl = False

    def __init__(self, name: str, num_classes: int = 7, vhr_bands: int = 3, ntl_bands: int = 1,
                 width: str | int = "paper", vhr_encoder: str = "paper", pretrained: bool = False) -> None:
        super().__init__()
        import segmentation_models_pytorch as smp

        if name not in BASELINES:
            raise NetworkInputError(f"Unknown baseline '{name}'; valid baselines: {list(BASELINES)}.")
        self.variant = name
        self.min_size = MIN_SIZES.get(name, MIN_SIZE)  # smallest tile edge this network accepts
        self.dynamic_size = name not in STATIC_SIZE  # False: export fixes height and width at the tile size
        self.num_classes = num_classes
        self.vhr_bands = vhr_bands
        self.ntl_bands = ntl_bands
        self.model_args: dict[str, Any] = {"name": name, "num_classes": num_classes, "vhr_bands": vhr_bands,
                                           "ntl_bands": ntl_bands, "width": width}
        if vhr_encoder not in ("paper", "efficientnet_lite0"):
            raise NetworkInputError(f"Unknown VHR encoder '{vhr_encoder}'; valid encoders: "
                                    "['paper', 'efficientnet_lite0'].")
        if pretrained and vhr_encoder == "paper":
            raise NetworkInputError("The ResNet34 baselines have no bundled weights: use vhr_encoder "
                                    "'efficientnet_lite0' or pretrained=False.")
        if vhr_encoder != "paper":
            self.model_args["vhr_encoder"] = vhr_encoder
        self.vhr_encoder = vhr_encoder
        encoder_name = "resnet34" if vhr_encoder == "paper" else "tu-efficientnet_lite0"
        architecture = getattr(smp, BASELINES[name])
        self.network = architecture(encoder_name=encoder_name, encoder_weights=None, in_channels=vhr_bands,
                                    classes=num_classes)
        if pretrained:
            import timm

            from .pretrained import load_imagenet_weights

            reference = list(timm.create_model("efficientnet_lite0", pretrained=False).state_dict())
            load_imagenet_weights(self.network.encoder.model, reference)

    def pretrained_encoder(self) -> nn.Module | None:
        """The ImageNet-initialised encoder, None for the random ResNet34."""
        return self.network.encoder if self.vhr_encoder != "paper" else None

    def pretrained_parameters(self) -> list[nn.Parameter]:
        """Parameters that start from ImageNet weights (empty for the random ResNet34)."""
        encoder = self.pretrained_encoder()
        return [] if encoder is None else list(encoder.parameters())

    def forward(self, vhr: torch.Tensor, ntl: torch.Tensor | None = None) -> torch.Tensor:
        """Return class scores [N, num_classes, H, W]; ntl is ignored."""
        check_inputs(vhr, ntl, self.vhr_bands, self.ntl_bands, uses_ntl=False, min_size=self.min_size)
        return self.network(vhr)
