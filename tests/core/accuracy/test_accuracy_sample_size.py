"""Sample-size planning: Olofsson et al. (2014) eq. 13, Cochran's simple random n, the four allocations."""

from __future__ import annotations

import math

import numpy as np
import pytest

from csagf_plugin.core.accuracy.sample_size import (
    EQUAL,
    MINIMUM,
    NEYMAN,
    PROPORTIONAL,
    allocate,
    allocation_counts,
    cochran_sample_size,
    plan_sample_size,
    sample_size_for_oa,
    users_accuracy_from_confusion,
)
from csagf_plugin.core.errors import InputError

# Olofsson et al. (2014) section 5.1: deforestation, forest gain, stable forest, stable non-forest.
U = {1: 0.7, 2: 0.6, 3: 0.9, 4: 0.95}
W = {1: 0.02, 2: 0.015, 3: 0.32, 4: 0.645}


def test_olofsson_eq13_worked_example() -> None:
    """Olofsson et al. (2014) 5.1: S_i = sqrt(U(1-U)) = 0.458, 0.490, 0.3, 0.218; sum W S = 0.2532;
    n = (0.2532 / 0.01)^2 = 641.
    """
    assert sample_size_for_oa(U, W, 0.01) == 641
    assert sample_size_for_oa(list(U.values()), list(W.values()), 0.01) == 641


def test_cochran_textbook_example() -> None:
    """Cochran (1977) 4.2: P = 0.5, half-width d = 0.05 at 95 % (SE = d / 1.96): n0 = 1.96² * 0.25 / 0.05² = 384.16,
    so 385 points; from a population of N = 1000, n = n0 / (1 + (n0 - 1)/N) = 277.7, so 278.
    """
    assert cochran_sample_size(0.5, 0.05 / 1.96) == 385
    assert cochran_sample_size(0.5, 0.05 / 1.96, population=1000) == 278


def test_allocations_by_hand() -> None:
    """n = 100 over W = (0.02, 0.015, 0.32, 0.645):
    proportional 2, 1.5, 32, 64.5 -> 2, 2, 32, 64 (largest remainders, ties to the first); equal 25 each;
    minimum 10: classes 1 and 2 raised to 10, the other 80 shared 0.32 : 0.645 -> 26.5, 53.5 -> 27, 53;
    Neyman: W S = 0.009165, 0.007348, 0.096, 0.140576 (sum 0.253089) -> 3.62, 2.90, 37.93, 55.54 -> 4, 3, 38, 55.
    """
    w = list(W.values())
    s = np.sqrt(np.array(list(U.values())) * (1 - np.array(list(U.values()))))
    assert allocation_counts(w, 100, PROPORTIONAL).tolist() == [2, 2, 32, 64]
    assert allocation_counts(w, 100, EQUAL).tolist() == [25, 25, 25, 25]
    assert allocation_counts(w, 100, MINIMUM, minimum=10).tolist() == [10, 10, 27, 53]
    assert allocation_counts(w, 100, NEYMAN, deviations=s).tolist() == [4, 3, 38, 55]
    with pytest.raises(InputError, match="needs 40 points"):
        allocation_counts(w, 30, MINIMUM, minimum=10)
    pixels = {1: 200, 2: 150, 3: 3200, 4: 6450}
    assert allocate(pixels, 100, NEYMAN, user_accuracies=U) == {1: 4, 2: 3, 3: 38, 4: 55}


def test_plan_for_overall_accuracy() -> None:
    """Neyman allocation reaches eq. 13's target with eq. 13's n; proportional needs sum W S² / SE²
    = (0.02*0.21 + 0.015*0.24 + 0.32*0.09 + 0.645*0.0475) / 1e-4 = 672.4 points (the rounding of the allocation
    moves the exact n by a point or two)."""
    neyman = plan_sample_size(U, W, 0.01, allocation=NEYMAN)
    assert neyman.n <= 642 and neyman.n_olofsson_eq13 == 641
    assert neyman.expected_se_overall <= 0.01
    proportional = plan_sample_size(U, W, 0.01, allocation=PROPORTIONAL)
    assert proportional.n == pytest.approx(672.4, abs=2)
    assert proportional.expected_se_overall <= 0.01
    assert any("eq. 13" in note for note in proportional.notes)
    assert sum(proportional.per_class.values()) == proportional.n
    assert proportional.per_class_text().startswith("1:")


def test_plan_for_one_class_and_simple_random() -> None:
    """UA of class 1 (U = 0.7) with SE 0.05 needs n_1 = 0.21 / 0.0025 = 84 points. Equal allocation: 333 points
    (84, 83, 83, 83: the largest-remainder rounding gives the extra point to class 1 first).
    Simple random: P = sum W U = 0.014 + 0.009 + 0.288 + 0.61275 = 0.92375, n = P(1-P)/SE²; for class 1
    n W_1 >= 84, so n >= 4200.
    """
    equal = plan_sample_size(U, W, 0.05, allocation=EQUAL, target_class=1)
    assert equal.per_class[1] == 84 and equal.n == 333
    srs = plan_sample_size(U, W, 0.01, design="simple_random")
    p = 0.014 + 0.009 + 0.288 + 0.61275
    assert srs.n == math.ceil(p * (1 - p) / 1e-4 - 1e-9)
    rare = plan_sample_size(U, W, 0.05, design="simple_random", target_class=1)
    assert rare.n == pytest.approx(4200, abs=1)


def test_users_accuracy_from_a_validation_matrix() -> None:
    """csagf:evaluate's matrix has rows reference, columns prediction: UA_j = m_jj / column sum."""
    matrix = [[90, 10], [30, 70]]
    assert users_accuracy_from_confusion(matrix, [1, 2]) == {1: 0.75, 2: 70 / 80}
    assert users_accuracy_from_confusion(matrix, [1, 2], rows="map") == {1: 0.9, 2: 0.7}


def test_users_accuracy_from_a_model_card() -> None:
    """Per-class precision when the card has it; else its validation OA for every class, said in the note."""
    from csagf_plugin.core.accuracy.sample_size import users_accuracy_from_card

    names = {1: "residential", 6: "green space"}
    found, note = users_accuracy_from_card({"val_precision_residential": 0.7, "val_precision_green_space": 0.9,
                                            "val_oa": 0.8}, names)
    assert found == {1: 0.7, 6: 0.9} and "per-class precision" in note
    fallback, note = users_accuracy_from_card({"val_iou_residential": 0.5, "val_oa": 0.8096}, names)
    assert fallback == {1: 0.8096, 6: 0.8096} and "val_oa" in note
    with pytest.raises(InputError, match="no validation precision"):
        users_accuracy_from_card({"miou": 0.4}, names)
