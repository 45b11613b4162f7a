"""Offset-guided deformable alignment (ODAF): re-sample NTL features onto the VHR geometry.

The deformable convolution's offsets are the CSOM base offset plus a learned correction whose last conv starts at
zero, so training starts from the base offset.  Exported, it becomes the native ONNX DeformConv node.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import DeformConv2d

from .encoders import conv_bn_relu


class OffsetGuidedAlignment(nn.Module):
    """Deformable 3x3 conv on NTL-specific features with offsets = base offset + correction."""

    def __init__(self, channels: int, vhr_channels: int, hidden: int, kernel_size: int = 3) -> None:
        super().__init__()
        offset_channels = 2 * kernel_size * kernel_size
        self.correction = nn.Sequential(
            conv_bn_relu(channels + vhr_channels + offset_channels, hidden),
            nn.Conv2d(hidden, offset_channels, 3, padding=1),
        )
        last = self.correction[-1]
        nn.init.zeros_(last.weight)
        nn.init.zeros_(last.bias)
        self.deform = DeformConv2d(channels, channels, kernel_size, padding=kernel_size // 2, bias=False)
        self.norm = nn.BatchNorm2d(channels)
        self.act = nn.ReLU(inplace=True)

    def forward(self, ntl_specific: torch.Tensor, vhr_specific: torch.Tensor,
                base_offset: torch.Tensor) -> torch.Tensor:
        """Return NTL features aligned to the VHR features (same shape as ntl_specific)."""
        offset = base_offset + self.correction(torch.cat([ntl_specific, vhr_specific, base_offset], dim=1))
        return self.act(self.norm(self.deform(ntl_specific, offset)))
