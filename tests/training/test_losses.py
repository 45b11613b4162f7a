"""The combined loss: label 0 ignored, class weights as in cross-entropy, Dice and focal parts."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from csagf_plugin.core.errors import InputError  # noqa: E402
from csagf_plugin.training.losses import class_weights_from_counts, combined_loss, make_loss  # noqa: E402


def _batch(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(2, 7, 8, 8, generator=g)
    labels = torch.randint(0, 8, (2, 8, 8), generator=g)
    return logits, labels


def test_cross_entropy_part_matches_torch_with_weights_and_ignore() -> None:
    logits, labels = _batch()
    weight = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.2])
    ours = combined_loss(logits, labels, weight, w_ce=1.0, w_dice=0.0, w_focal=0.0)
    reference = F.cross_entropy(logits, labels - 1, weight=weight, ignore_index=-1)
    assert float(ours) == pytest.approx(float(reference), rel=1e-5)


def test_focal_with_gamma_zero_is_alpha_weighted_nll_mean() -> None:
    logits, labels = _batch(1)
    weight = torch.tensor([1.0, 2.0, 0.5, 1.0, 3.0, 1.0, 0.2])
    ours = combined_loss(logits, labels, weight, w_ce=0.0, w_dice=0.0, w_focal=1.0, gamma=0.0)
    valid = labels > 0
    nll = F.cross_entropy(logits, (labels - 1).clamp(min=0), reduction="none")
    expected = (weight[(labels - 1).clamp(min=0)] * nll)[valid].mean()
    assert float(ours) == pytest.approx(float(expected), rel=1e-5)


def test_ignored_pixels_do_not_change_the_loss() -> None:
    logits, labels = _batch(2)
    loss = make_loss(np.ones(7, dtype=np.float32))
    changed = logits.clone()
    changed[labels.unsqueeze(1).expand_as(logits) == 0] = 100.0  # wild logits where there is no label
    assert float(loss(logits, labels)) == pytest.approx(float(loss(changed, labels)), rel=1e-6)


def test_no_labelled_pixel_gives_zero_loss_with_gradient() -> None:
    logits = torch.randn(1, 7, 4, 4, requires_grad=True)
    loss = make_loss()(logits, torch.zeros(1, 4, 4, dtype=torch.long))
    loss.backward()
    assert float(loss.detach()) == 0.0 and logits.grad is not None


def test_perfect_prediction_has_near_zero_loss() -> None:
    labels = torch.randint(1, 8, (1, 8, 8))
    logits = F.one_hot(labels - 1, 7).permute(0, 3, 1, 2).float() * 50
    assert float(make_loss()(logits, labels)) < 1e-3


def test_class_weights_inverse_frequency_by_hand() -> None:
    w = class_weights_from_counts(np.array([100, 300, 0, 0, 0, 0, 0]))
    # frequencies 1/4 and 3/4 -> inverse 4 and 4/3 -> mean 8/3 -> 1.5 and 0.5; absent classes weigh 0
    np.testing.assert_allclose(w, [1.5, 0.5, 0, 0, 0, 0, 0], rtol=1e-6)
    # square root: 2 and 2/sqrt(3) -> normalised to mean 1
    root = class_weights_from_counts(np.array([100, 300, 0, 0, 0, 0, 0]), power=0.5)
    np.testing.assert_allclose(root[:2], np.array([2, 2 / 3 ** 0.5]) / ((2 + 2 / 3 ** 0.5) / 2), rtol=1e-6)
    np.testing.assert_allclose(class_weights_from_counts(np.array([5, 1, 9, 0, 0, 0, 0]), power=0)[:3], 1.0)
    with pytest.raises(InputError):
        class_weights_from_counts(np.zeros(7))


def test_negative_loss_weight_is_refused() -> None:
    with pytest.raises(InputError, match="Loss weights"):
        make_loss(w_ce=-1.0)
