"""The four feature extractors of CSAGFNet: VHR-specific, VHR-invariant, NTL-specific and NTL-invariant.

All four bring a tile of H x W pixels to H/4 x W/4 (64 x 64 for a 256 tile) and never further, so the coarse
night light keeps every cell it has.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_bn_relu(in_channels: int, out_channels: int, stride: int = 1, kernel_size: int = 3,
                 dilation: int = 1, groups: int = 1) -> nn.Sequential:
    """Convolution (no bias) + BatchNorm + ReLU, padded to keep the size at stride 1."""
    padding = dilation * (kernel_size // 2)
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
    )


def depthwise_separable(in_channels: int, out_channels: int, stride: int = 1) -> nn.Sequential:
    """Depthwise 3x3 convolution then pointwise 1x1 convolution, each with BatchNorm + ReLU."""
    return nn.Sequential(
        conv_bn_relu(in_channels, in_channels, stride, groups=in_channels),
        conv_bn_relu(in_channels, out_channels, kernel_size=1),
    )


class VhrSpecificEncoder(nn.Module):
    """Five conv + BN + ReLU layers to H/4 with `width` channels; also returns the H/2 low-level feature."""

    def __init__(self, bands: int, width: int) -> None:
        super().__init__()
        self.low_channels = width // 4
        self.low = nn.Sequential(conv_bn_relu(bands, width // 4, stride=2), conv_bn_relu(width // 4, width // 4))
        self.high = nn.Sequential(
            conv_bn_relu(width // 4, width // 2, stride=2),
            conv_bn_relu(width // 2, width // 2),
            conv_bn_relu(width // 2, width),
        )

    def forward(self, vhr: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (features [N, width, H/4, W/4], low-level features [N, width/4, H/2, W/2])."""
        low = self.low(vhr)
        return self.high(low), low


class VhrInvariantEncoder(nn.Module):
    """A shallow stack of three depthwise-separable convolutions to H/4 with `out_channels` channels."""

    def __init__(self, bands: int, width: int, out_channels: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            depthwise_separable(bands, width // 4, stride=2),
            depthwise_separable(width // 4, out_channels, stride=2),
            depthwise_separable(out_channels, out_channels),
        )

    def forward(self, vhr: torch.Tensor) -> torch.Tensor:
        """Return invariant VHR features [N, out_channels, H/4, W/4]."""
        return self.layers(vhr)


class NtlSpecificEncoder(nn.Module):
    """Three conv + BN + ReLU layers to H/4 with `width` channels."""

    def __init__(self, bands: int, width: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            conv_bn_relu(bands, width // 4, stride=2),
            conv_bn_relu(width // 4, width // 2, stride=2),
            conv_bn_relu(width // 2, width),
        )

    def forward(self, ntl: torch.Tensor) -> torch.Tensor:
        """Return specific NTL features [N, width, H/4, W/4]."""
        return self.layers(ntl)


class NtlInvariantEncoder(nn.Module):
    """Two conv + BN + ReLU layers to H/4 with `out_channels` channels."""

    def __init__(self, bands: int, width: int, out_channels: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            conv_bn_relu(bands, width // 4, stride=2),
            conv_bn_relu(width // 4, out_channels, stride=2),
        )

    def forward(self, ntl: torch.Tensor) -> torch.Tensor:
        """Return invariant NTL features [N, out_channels, H/4, W/4]."""
        return self.layers(ntl)
