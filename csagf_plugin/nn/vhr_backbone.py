"""The pretrained VHR-specific extractor: EfficientNet-Lite0 (ImageNet) in place of the paper's five convolutions.

It keeps the paper extractor's contract, so CSOM, ODAF, GFM and the DeepLabV3+ head are unchanged: features at H/4
with `width` channels and a low-level feature at H/2.  The H/4 features merge the backbone's strides 4, 8, 16 and
32 (upsampled, concatenated, 1x1 convolution), so the head's context sees deep ImageNet features while the night
light is still aligned at H/4, never coarser (PAPER.md).  The stride-2 feature feeds the head's low-level path.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .encoders import conv_bn_relu

VHR_ENCODERS: tuple[str, ...] = ("paper", "efficientnet_lite0")


class EfficientNetVhrEncoder(nn.Module):
    """EfficientNet-Lite0 features (strides 2-32) -> (features [N, width, H/4, W/4], low-level [N, 16, H/2, W/2])."""

    def __init__(self, bands: int, width: int, pretrained: bool = False) -> None:
        super().__init__()
        import timm

        self.backbone = timm.create_model("efficientnet_lite0", pretrained=False, features_only=True,
                                          out_indices=(0, 1, 2, 3, 4), in_chans=bands)
        channels = self.backbone.feature_info.channels()  # [16, 24, 40, 112, 320]
        self.low_channels = channels[0]
        self.merge = conv_bn_relu(sum(channels[1:]), width, kernel_size=1)
        if pretrained:
            from .pretrained import load_imagenet_weights

            reference = list(timm.create_model("efficientnet_lite0", pretrained=False).state_dict())
            load_imagenet_weights(self.backbone, reference)

    def forward(self, vhr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (features [N, width, H/4, W/4], low-level features [N, 16, H/2, W/2])."""
        low, s4, *deeper = self.backbone(vhr)
        size = s4.shape[-2:]
        merged = [s4] + [F.interpolate(f, size=size, mode="bilinear", align_corners=False) for f in deeper]
        return self.merge(torch.cat(merged, dim=1)), low
