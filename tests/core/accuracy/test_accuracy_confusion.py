"""Sample-count confusion matrix, OA, UA, PA, F1 and kappa on hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from csagf_plugin.core.accuracy.confusion import (
    cohen_kappa,
    confusion_matrix,
    f1_scores,
    overall_accuracy,
    producers_accuracy,
    sample_accuracy,
    users_accuracy,
)
from csagf_plugin.core.errors import InputError

# Rows map, columns reference; row sums 7, 4, 5; column sums 6, 6, 4; 16 points, 12 correct.
HAND = np.array([[5, 2, 0], [1, 3, 0], [0, 1, 4]])


def points_of(matrix: np.ndarray, classes: list[int]) -> tuple[list[int], list[int]]:
    """One (map, reference) pair per count of the matrix, shuffled."""
    pairs = [(classes[i], classes[j]) for i in range(len(classes)) for j in range(len(classes))
             for _ in range(matrix[i, j])]
    order = np.random.default_rng(3).permutation(len(pairs))
    return [pairs[k][0] for k in order], [pairs[k][1] for k in order]


def test_confusion_matrix_counts_rows_map_columns_reference() -> None:
    m, r = points_of(HAND, [2, 5, 7])
    assert confusion_matrix(m, r, [2, 5, 7]).tolist() == HAND.tolist()
    # the class order given is the order of rows and columns
    assert confusion_matrix(m, r, [7, 2, 5]).tolist() == [[4, 0, 1], [0, 5, 2], [0, 1, 3]]
    # default classes: sorted union of what is seen
    assert confusion_matrix(m, r).tolist() == HAND.tolist()


def test_hand_computed_measures() -> None:
    assert overall_accuracy(HAND) == pytest.approx(12 / 16)
    assert users_accuracy(HAND) == pytest.approx([5 / 7, 3 / 4, 4 / 5])
    assert producers_accuracy(HAND) == pytest.approx([5 / 6, 3 / 6, 4 / 4])
    assert f1_scores(HAND) == pytest.approx([10 / 13, 6 / 10, 8 / 9])
    # p_o = 0.75, p_e = (7*6 + 4*6 + 5*4) / 16^2 = 86/256, kappa = (192 - 86) / (256 - 86) = 106/170
    assert cohen_kappa(HAND) == pytest.approx(106 / 170)


def test_kappa_perfect_and_chance() -> None:
    assert cohen_kappa(np.diag([3, 4, 5])) == pytest.approx(1.0)
    # map independent of reference: p_o = p_e, kappa 0
    assert cohen_kappa(np.array([[2, 2], [2, 2]])) == pytest.approx(0.0)
    assert math.isnan(cohen_kappa(np.zeros((2, 2))))


def test_undefined_measures_are_nan() -> None:
    counts = np.array([[3, 1, 0], [0, 0, 0], [1, 0, 0]])  # class 2 never mapped, class 3 never in reference
    ua, pa, f1 = users_accuracy(counts), producers_accuracy(counts), f1_scores(counts)
    assert math.isnan(ua[1]) and math.isnan(pa[2])
    assert f1[2] == 0.0 and f1[1] == 0.0  # one of the two margins is non-zero: F1 = 0, not undefined
    result = sample_accuracy(counts, [1, 2, 3])
    assert result.n_points == 5 and result.overall_accuracy == pytest.approx(3 / 5)
    assert result.mean_f1 == pytest.approx((2 * 3 / (4 + 4)) / 3)


def test_unknown_class_and_length_mismatch_raise() -> None:
    with pytest.raises(InputError, match=r"reference classes \[9\]"):
        confusion_matrix([1, 2], [1, 9], [1, 2])
    with pytest.raises(InputError, match="one of each per point"):
        confusion_matrix([1, 2], [1], [1, 2])
