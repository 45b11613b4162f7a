"""DeepLabV3+ head: atrous spatial pyramid pooling on the fused features and a decoder using a low-level VHR feature."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .encoders import conv_bn_relu


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: 1x1, three dilated 3x3 and an image-pooling branch, projected to `channels`."""

    def __init__(self, in_channels: int, channels: int, rates: tuple[int, ...] = (6, 12, 18)) -> None:
        super().__init__()
        self.branches = nn.ModuleList(
            [conv_bn_relu(in_channels, channels, kernel_size=1)]
            + [conv_bn_relu(in_channels, channels, dilation=r) for r in rates])
        # No BatchNorm on the pooled 1x1 map: it would fail on a training batch of one tile.
        self.pooling = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, channels, 1), nn.ReLU(inplace=True))
        self.project = nn.Sequential(conv_bn_relu((len(rates) + 2) * channels, channels, kernel_size=1),
                                     nn.Dropout(0.1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return multi-scale context features [N, channels, h, w]."""
        pooled = self.pooling(x).expand(-1, -1, x.shape[2], x.shape[3])
        return self.project(torch.cat([b(x) for b in self.branches] + [pooled], dim=1))


class DeepLabV3PlusHead(nn.Module):
    """ASPP + decoder (upsample, concatenate the projected low-level feature, two 3x3 convs) + classifier."""

    def __init__(self, in_channels: int, low_channels: int, num_classes: int, channels: int) -> None:
        super().__init__()
        low_projected = max(3 * channels // 16, 4)  # 48 for 256 channels, as in DeepLabV3+
        self.aspp = ASPP(in_channels, channels)
        self.low = conv_bn_relu(low_channels, low_projected, kernel_size=1)
        self.decoder = nn.Sequential(conv_bn_relu(channels + low_projected, channels), conv_bn_relu(channels, channels))
        self.classifier = nn.Conv2d(channels, num_classes, 1)

    def forward(self, features: torch.Tensor, low_level: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
        """Return class scores [N, num_classes, *size] from fused features and the low-level VHR feature."""
        low = self.low(low_level)
        context = F.interpolate(self.aspp(features), size=low.shape[-2:], mode="bilinear", align_corners=False)
        logits = self.classifier(self.decoder(torch.cat([context, low], dim=1)))
        return F.interpolate(logits, size=size, mode="bilinear", align_corners=False)
