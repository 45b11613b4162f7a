"""The training loss: weighted cross-entropy + Dice + focal, each with its own weight; label 0 is ignored.

Labels hold class ids 0..C (0 = unlabelled) while logits have C channels (channel k = class k + 1).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError

if TYPE_CHECKING:
    import torch


def class_weights_from_counts(counts: np.ndarray, max_weight: float = 10.0, power: float = 1.0) -> np.ndarray:
    """Weights proportional to (1 / class pixel frequency) ** power, mean 1 over present classes, capped.

    power 1 is the paper's inverse frequency, 0.5 its gentler square root, 0 no weighting. Classes with no training
    pixel get weight 0 (they never appear as a target anyway).
    """
    counts = np.asarray(counts, dtype=np.float64)
    present = counts > 0
    weights = np.zeros_like(counts)
    if not present.any():
        raise InputError("No labelled pixel in the training tiles: nothing to learn from.")
    freq = counts[present] / counts[present].sum()
    w = (1.0 / freq) ** power
    w = w / w.mean()
    w = np.minimum(w, max_weight)
    weights[present] = w / w.mean()
    return weights.astype(np.float32)


def make_loss(class_weights: "torch.Tensor | np.ndarray | None" = None, w_ce: float = 0.4, w_dice: float = 0.3,
              w_focal: float = 0.3, gamma: float = 2.0) -> "torch.nn.Module":
    """The combined loss module (see CombinedLoss)."""
    import torch

    class CombinedLoss(torch.nn.Module):
        """w_ce * weighted CE + w_dice * soft Dice + w_focal * focal (alpha = class weights, gamma)."""

        def __init__(self) -> None:
            super().__init__()
            if min(w_ce, w_dice, w_focal) < 0 or w_ce + w_dice + w_focal <= 0:
                raise InputError(f"Loss weights must be >= 0 and not all 0 (got CE {w_ce}, Dice {w_dice}, "
                                 f"focal {w_focal}).")
            self.w_ce, self.w_dice, self.w_focal, self.gamma = w_ce, w_dice, w_focal, gamma
            weight = None if class_weights is None else torch.as_tensor(np.asarray(class_weights), dtype=torch.float32)
            self.register_buffer("weight", weight)

        def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
            """Loss of logits [N, C, H, W] against labels [N, H, W] (class ids, 0 ignored)."""
            return combined_loss(logits, labels, self.weight, self.w_ce, self.w_dice, self.w_focal, self.gamma)

    return CombinedLoss()


def combined_loss(logits: "torch.Tensor", labels: "torch.Tensor", weight: "torch.Tensor | None" = None,
                  w_ce: float = 0.4, w_dice: float = 0.3, w_focal: float = 0.3, gamma: float = 2.0) -> "torch.Tensor":
    """w_ce * CE + w_dice * Dice + w_focal * focal over labelled pixels; 0 (with a gradient) when none is labelled."""
    import torch
    import torch.nn.functional as F

    num_classes = logits.shape[1]
    target = labels.long() - 1  # class id k -> channel k - 1; unlabelled 0 -> -1
    valid = target >= 0
    if not bool(valid.any()):
        return logits.sum() * 0.0
    total = logits.new_zeros(())
    logp = F.log_softmax(logits.float(), dim=1)
    safe_target = target.clamp(min=0)
    logp_t = logp.gather(1, safe_target.unsqueeze(1)).squeeze(1)[valid]
    alpha_t = weight[safe_target][valid] if weight is not None else torch.ones_like(logp_t)
    if w_ce:
        total = total + w_ce * (-(alpha_t * logp_t).sum() / alpha_t.sum().clamp(min=1e-12))
    if w_focal:
        p_t = logp_t.exp()
        total = total + w_focal * (-(alpha_t * (1 - p_t) ** gamma * logp_t)).mean()
    if w_dice:
        prob = logp.exp().permute(0, 2, 3, 1)[valid]  # [P, C]
        onehot = F.one_hot(target[valid], num_classes).to(prob.dtype)
        inter = (prob * onehot).sum(0)
        denom = prob.sum(0) + onehot.sum(0)
        present = onehot.sum(0) > 0
        dice = (2 * inter + 1.0) / (denom + 1.0)
        total = total + w_dice * (1 - dice[present]).mean()
    return total
