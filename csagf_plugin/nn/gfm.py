"""Fusion of VHR and NTL feature maps: the gated fusion module (GFM) and the plain concatenation of the ablations."""

from __future__ import annotations

import torch
from torch import nn

from .encoders import conv_bn_relu


class GatedFusion(nn.Module):
    """Concatenate, 1x1 conv, sigmoid -> gate G; fused = G * F_vhr + (1 - G) * F_ntl."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gate = nn.Conv2d(2 * channels, channels, 1)

    def forward(self, vhr: torch.Tensor, ntl: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (fused features, gate G in [0, 1] with the same shape as the features)."""
        g = torch.sigmoid(self.gate(torch.cat([vhr, ntl], dim=1)))
        return g * vhr + (1.0 - g) * ntl, g


class ConcatFusion(nn.Module):
    """Concatenate and reduce back to `channels` with a 1x1 conv + BN + ReLU (the Cat and OAFA ablations)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.reduce = conv_bn_relu(2 * channels, channels, kernel_size=1)

    def forward(self, vhr: torch.Tensor, ntl: torch.Tensor) -> tuple[torch.Tensor, None]:
        """Return (fused features, None): there is no gate."""
        return self.reduce(torch.cat([vhr, ntl], dim=1)), None
