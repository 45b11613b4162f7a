"""Cross-modal spatial offset modelling (CSOM): spatial attention per modality, then a base offset field.

Our reading of PAPER.md: it works on the invariant features of both modalities (their shared subspace).
"""

from __future__ import annotations

import torch
from torch import nn

from .encoders import conv_bn_relu


class SpatialAttention(nn.Module):
    """Channel max- and mean-pooling, concatenated, 7x7 conv, sigmoid; the map multiplies the features."""

    def __init__(self, kernel_size: int = 7) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Return x weighted by its spatial attention map (same shape as x)."""
        pooled = torch.cat([torch.amax(x, dim=1, keepdim=True), torch.mean(x, dim=1, keepdim=True)], dim=1)
        return x * torch.sigmoid(self.conv(pooled))


class CrossModalOffset(nn.Module):
    """Predict the base offset field [N, 2*k*k, h, w] of a k x k deformable conv from both modalities' features."""

    def __init__(self, vhr_channels: int, ntl_channels: int, hidden: int, kernel_size: int = 3) -> None:
        super().__init__()
        self.vhr_attention = SpatialAttention()
        self.ntl_attention = SpatialAttention()
        self.fuse = conv_bn_relu(vhr_channels + ntl_channels, hidden)
        # The "base offset conv": its output is (dy, dx) per kernel tap, torchvision/ONNX DeformConv order.
        self.offset = nn.Conv2d(hidden, 2 * kernel_size * kernel_size, 3, padding=1)

    def forward(self, vhr_invariant: torch.Tensor, ntl_invariant: torch.Tensor) -> torch.Tensor:
        """Return the base offset field in feature-map pixels."""
        both = torch.cat([self.vhr_attention(vhr_invariant), self.ntl_attention(ntl_invariant)], dim=1)
        return self.offset(self.fuse(both))
