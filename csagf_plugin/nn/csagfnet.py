"""CSAGFNet: four extractors, CSOM offset, ODAF alignment, GFM gated fusion and a DeepLabV3+ head, assembled here.

One constructor argument selects the paper's ablations:
  "vhr"  VHR-specific stream only;
  "cat"  VHR- and NTL-specific streams concatenated, no alignment (at the same place as "oafa", so the pair
         differs by the alignment alone);
  "oafa" NTL aligned to VHR (CSOM + ODAF), then concatenated;
  "full" NTL aligned to VHR, then gated fusion (GFM), whose gate map can be returned.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from .csom import CrossModalOffset
from .deeplab_head import DeepLabV3PlusHead
from .encoders import NtlInvariantEncoder, NtlSpecificEncoder, VhrInvariantEncoder, VhrSpecificEncoder
from .gfm import ConcatFusion, GatedFusion
from .inputs import MIN_SIZE, NetworkInputError, check_inputs
from .odaf import OffsetGuidedAlignment
from .vhr_backbone import VHR_ENCODERS, EfficientNetVhrEncoder

VARIANTS: tuple[str, ...] = ("full", "oafa", "cat", "vhr")


class CSAGFNet(nn.Module):
    """Cross-modal spatial alignment gated fusion network; `variant` picks the ablation, `width` the feature channels."""

    def __init__(self, variant: str = "full", num_classes: int = 7, vhr_bands: int = 3, ntl_bands: int = 1,
                 width: int = 256, vhr_encoder: str = "paper", pretrained: bool = False) -> None:
        """`vhr_encoder`: "paper" (five convolutions, random weights) or "efficientnet_lite0"; `pretrained` loads
        its ImageNet weights from the installed weights package (training only: checkpoints hold all weights)."""
        super().__init__()
        if variant not in VARIANTS:
            raise NetworkInputError(f"Unknown CSAGFNet variant '{variant}'; valid variants: {list(VARIANTS)}.")
        if vhr_encoder not in VHR_ENCODERS:
            raise NetworkInputError(f"Unknown VHR encoder '{vhr_encoder}'; valid encoders: {list(VHR_ENCODERS)}.")
        if pretrained and vhr_encoder == "paper":
            raise NetworkInputError("The paper's VHR encoder has no pretrained weights: use vhr_encoder "
                                    "'efficientnet_lite0' or pretrained=False.")
        if isinstance(width, bool) or not isinstance(width, int) or width < 8 or width % 4:
            raise NetworkInputError(f"CSAGFNet width must be an int >= 8 and a multiple of 4; got {width!r}.")
        for name, value, low in (("num_classes", num_classes, 1), ("vhr_bands", vhr_bands, 1),
                                 ("ntl_bands", ntl_bands, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise NetworkInputError(f"{name} must be an int >= {low}; got {value!r}.")
        self.variant = variant
        self.num_classes = num_classes
        self.vhr_bands = vhr_bands
        self.ntl_bands = ntl_bands
        self.width = width
        self.uses_ntl = variant != "vhr"
        self.aligns = variant in ("oafa", "full")
        self.has_gate = variant == "full"
        self.min_size = MIN_SIZE  # smallest tile edge this network accepts
        self.dynamic_size = True  # the exported graph accepts any valid height and width
        self.model_args: dict[str, Any] = {"name": variant, "num_classes": num_classes, "vhr_bands": vhr_bands,
                                           "ntl_bands": ntl_bands, "width": width}
        if vhr_encoder != "paper":  # kept out for the paper encoder, so older checkpoints still match
            self.model_args["vhr_encoder"] = vhr_encoder
        self.vhr_encoder = vhr_encoder

        invariant = width // 2
        self.vhr_specific: nn.Module = (VhrSpecificEncoder(vhr_bands, width) if vhr_encoder == "paper" else
                                        EfficientNetVhrEncoder(vhr_bands, width, pretrained))
        if self.uses_ntl:
            self.ntl_specific = NtlSpecificEncoder(ntl_bands, width)
        if self.aligns:
            self.vhr_invariant = VhrInvariantEncoder(vhr_bands, width, invariant)
            self.ntl_invariant = NtlInvariantEncoder(ntl_bands, width, invariant)
            self.csom = CrossModalOffset(invariant, invariant, hidden=width // 2)
            self.odaf = OffsetGuidedAlignment(width, width, hidden=width // 4)
        if self.uses_ntl:
            self.fusion = GatedFusion(width) if self.has_gate else ConcatFusion(width)
        self.head = DeepLabV3PlusHead(width, self.vhr_specific.low_channels, num_classes, channels=width)

    def pretrained_encoder(self) -> nn.Module | None:
        """The part that starts from ImageNet weights (the EfficientNet backbone); None for the paper encoder."""
        return getattr(self.vhr_specific, "backbone", None)

    def pretrained_parameters(self) -> list[nn.Parameter]:
        """Parameters that start from ImageNet weights (fine-tuned at a lower learning rate); empty for "paper"."""
        encoder = self.pretrained_encoder()
        return [] if encoder is None else list(encoder.parameters())

    def _run(self, vhr: torch.Tensor, ntl: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Logits at input resolution and the gate map G at feature resolution (None without GFM)."""
        check_inputs(vhr, ntl, self.vhr_bands, self.ntl_bands, self.uses_ntl)
        f_vhr, low = self.vhr_specific(vhr)
        gate = None
        if not self.uses_ntl:
            fused = f_vhr
        else:
            f_ntl = self.ntl_specific(ntl)
            if self.aligns:
                base_offset = self.csom(self.vhr_invariant(vhr), self.ntl_invariant(ntl))
                f_ntl = self.odaf(f_ntl, f_vhr, base_offset)
            fused, gate = self.fusion(f_vhr, f_ntl)
        return self.head(fused, low, (vhr.shape[2], vhr.shape[3])), gate

    def forward(self, vhr: torch.Tensor, ntl: torch.Tensor | None = None) -> torch.Tensor:
        """Return class scores [N, num_classes, H, W]; ntl may be None only for the "vhr" variant."""
        return self._run(vhr, ntl)[0]

    def forward_with_gate(self, vhr: torch.Tensor, ntl: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Return (logits, gate [N, 1, H, W] in [0, 1]): G averaged over channels, upsampled to the input size.

        The gate is the weight of the VHR features: near 1 VHR drove the fused features there, near 0 night light.
        """
        if not self.has_gate:
            raise NetworkInputError(f"variant '{self.variant}' has no gated fusion; only 'full' returns a gate map.")
        logits, gate = self._run(vhr, ntl)
        gate = F.interpolate(gate.mean(dim=1, keepdim=True), size=logits.shape[-2:], mode="bilinear",
                             align_corners=False)
        return logits, gate
