"""Area-weighted estimators: Olofsson et al. (2014) worked example, Stehman (2014) numerical example, edge cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from csagf_plugin.core.accuracy.estimators import (
    NO_MAP_CLASS,
    NO_REFERENCE,
    NOT_IN_MAP,
    OLOFSSON,
    OUTSIDE_MAP,
    STEHMAN,
    assess_points,
    normal_quantile,
    olofsson_estimates,
    stehman_estimates,
)
from csagf_plugin.core.errors import InputError

# Olofsson et al. (2014), section 5: deforestation, forest gain, stable forest, stable non-forest.
CLASSES = [1, 2, 3, 4]
MAPPED_PIXELS = [200_000, 150_000, 3_200_000, 6_450_000]  # 30 m pixels
PIXEL_HA = 0.09
# The matrix as the task quoted it, "rows = map classes". Its row sums (69, 56, 175, 340) are not the paper's
# stratum sample sizes (75, 75, 165, 325: 75 points per change stratum), and with rows as map classes none of the
# published estimates follows (UA of deforestation would be 66/69 = 0.96, not 0.88). Its COLUMNS are the map
# classes: transposed, every published point estimate below is reproduced. We use the transpose.
QUOTED = np.array([[66, 0, 1, 2], [0, 55, 0, 1], [5, 8, 153, 9], [4, 12, 11, 313]])
COUNTS = QUOTED.T  # rows map classes: row sums 75, 75, 165, 325


def olofsson_example(confidence: float = 0.95):
    return olofsson_estimates(COUNTS, MAPPED_PIXELS, CLASSES, pixel_area=PIXEL_HA, area_unit="ha",
                              confidence=confidence)


def points_of(counts: np.ndarray, classes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-point map and reference classes of a count matrix (rows map)."""
    m, r = [], []
    for i, ci in enumerate(classes):
        for j, cj in enumerate(classes):
            m += [ci] * int(counts[i, j])
            r += [cj] * int(counts[i, j])
    return np.asarray(m), np.asarray(r)


def test_olofsson_area_estimates_match_the_paper() -> None:
    result = olofsson_example()
    assert result.estimator == OLOFSSON
    assert result.total_area == pytest.approx(900_000.0)  # 10 M pixels of 0.09 ha
    areas = [c.area.value for c in result.per_class]
    assert areas == pytest.approx([21_158, 11_686, 285_770, 581_386], abs=1.0)
    # Published 95 % half-widths that eq. 10 (S(p_.k)^2 = sum_i W_i^2 p_ik(1 - p_ik)/(n_i. - 1)) reproduces:
    assert result.class_result(2).area.half_width == pytest.approx(3_756, abs=1.0)
    assert result.class_result(3).area.half_width == pytest.approx(15_510, abs=1.0)


def test_olofsson_area_intervals_follow_equation_10_where_the_quoted_figures_differ() -> None:
    result = olofsson_example()
    z = 1.959963984540054
    # Deforestation: the task quotes ± 6,907 ha. Eq. 10 by hand, strata with n_i1 > 0 (rows 1, 3, 4):
    #   0.02^2 * (66/75)(9/75)/74 + 0.32^2 * (1/165)(164/165)/164 + 0.645^2 * (2/325)(323/325)/324
    var = (0.02 ** 2 * (66 / 75) * (9 / 75) / 74 + 0.32 ** 2 * (1 / 165) * (164 / 165) / 164
           + 0.645 ** 2 * (2 / 325) * (323 / 325) / 324)
    half = z * math.sqrt(var) * 900_000
    assert half == pytest.approx(6_158, abs=1.0)  # the equation gives 6,158 ha, not 6,907: we follow the equation
    assert result.class_result(1).area.half_width == pytest.approx(half, rel=1e-9)
    # Stable non-forest: the task quotes ± 16,393 ha; eq. 10 gives 16,282 ha.
    w = np.array([0.02, 0.015, 0.32, 0.645])
    n = COUNTS.sum(axis=1)
    share = COUNTS[:, 3] / n
    half_nf = z * math.sqrt(np.sum(w ** 2 * share * (1 - share) / (n - 1))) * 900_000
    assert half_nf == pytest.approx(16_282, abs=1.0)
    assert result.class_result(4).area.half_width == pytest.approx(half_nf, rel=1e-9)


def test_olofsson_accuracies() -> None:
    result = olofsson_example()
    # OA = sum_j p_jj = 0.0176 + 0.011 + 0.29673 + 0.62119 (published 0.947).
    assert result.overall_accuracy.value == pytest.approx(0.9465, abs=5e-5)
    # The task quotes ± 0.026; eq. 5, V(O) = sum_i W_i^2 U_i(1 - U_i)/(n_i. - 1), gives ± 0.018: we follow eq. 5.
    w = np.array([0.02, 0.015, 0.32, 0.645])
    n = COUNTS.sum(axis=1)
    u = np.diag(COUNTS) / n
    assert result.overall_accuracy.se == pytest.approx(math.sqrt(np.sum(w ** 2 * u * (1 - u) / (n - 1))))
    assert result.overall_accuracy.half_width == pytest.approx(0.0185, abs=5e-4)
    deforestation = result.class_result(1)
    assert deforestation.users_accuracy.value == pytest.approx(0.88)  # 66 / 75
    assert deforestation.users_accuracy.half_width == pytest.approx(0.07, abs=0.005)  # published ± 0.07
    assert deforestation.producers_accuracy.value == pytest.approx(0.75, abs=0.005)  # published 0.75
    assert deforestation.producers_accuracy.half_width == pytest.approx(0.21, abs=0.005)  # published ± 0.21
    # p_ij = W_i n_ij / n_i.: the proportions matrix sums to 1 and its rows to the mapped shares W_i.
    assert result.proportions.sum() == pytest.approx(1.0)
    assert result.proportions.sum(axis=1) == pytest.approx(w)
    assert result.proportions[0, 0] == pytest.approx(0.02 * 66 / 75)


def test_confidence_level_scales_the_intervals() -> None:
    se = olofsson_example().class_result(1).area.se
    narrow = olofsson_example(confidence=0.90).class_result(1).area
    assert normal_quantile(0.90) == pytest.approx(1.6448536, abs=1e-6)
    assert narrow.se == pytest.approx(se)
    assert narrow.half_width == pytest.approx(1.6448536 * se, rel=1e-6)
    with pytest.raises(InputError, match="between 0 and 1"):
        olofsson_example(confidence=95)


def test_stehman_with_map_class_strata_equals_olofsson() -> None:
    """Two independent implementations (closed form on counts; per-point ratio estimators) agree."""
    m, r = points_of(COUNTS, CLASSES)
    stehman = stehman_estimates(m, r, m, dict(zip(CLASSES, MAPPED_PIXELS)), CLASSES, pixel_area=PIXEL_HA)
    olofsson = olofsson_example()
    assert stehman.estimator == STEHMAN
    assert stehman.counts.tolist() == COUNTS.tolist()
    assert stehman.proportions == pytest.approx(olofsson.proportions)
    assert stehman.overall_accuracy.se == pytest.approx(olofsson.overall_accuracy.se)
    for a, b in zip(stehman.per_class, olofsson.per_class):
        for name in ("users_accuracy", "producers_accuracy", "area_proportion", "area"):
            ea, eb = getattr(a, name), getattr(b, name)
            assert (ea.value, ea.se) == pytest.approx((eb.value, eb.se), rel=1e-9), (a.class_id, name)


# Stehman (2014), numerical example: 4 strata of 40,000 / 30,000 / 20,000 / 10,000 pixels, 10 points each.
A, B, C, D = 1, 2, 3, 4
S_STRATUM = [A] * 10 + [B] * 10 + [C] * 10 + [D] * 10
S_MAP = [A] * 7 + [B] * 3 + [A] + [B] * 11 + [C] * 6 + [B, B] + [D] * 10
S_REF = [A] * 5 + [C, B, A, B, C, A] + [B] * 5 + [A, A, B, B] + [C] * 5 + [D, D, B, B, A] + [D] * 7 + [C, C, B]
S_SIZES = {A: 40_000, B: 30_000, C: 20_000, D: 10_000}


def test_stehman_numerical_example() -> None:
    result = stehman_estimates(S_MAP, S_REF, S_STRATUM, S_SIZES)
    assert result.class_result(A).area_proportion.value == pytest.approx(0.35)
    assert result.class_result(C).area_proportion.value == pytest.approx(0.20)
    assert result.overall_accuracy.value == pytest.approx(0.63)
    assert result.class_result(B).users_accuracy.value == pytest.approx(0.574, abs=5e-4)
    assert result.class_result(B).producers_accuracy.value == pytest.approx(0.794, abs=5e-4)
    assert result.proportions[1, 2] == pytest.approx(0.08)  # map B, reference C
    assert result.class_result(A).area_proportion.se == pytest.approx(0.082, abs=5e-4)
    assert result.class_result(C).area_proportion.se == pytest.approx(0.064, abs=5e-4)
    assert result.overall_accuracy.se == pytest.approx(0.085, abs=5e-4)
    assert result.class_result(B).users_accuracy.se == pytest.approx(0.125, abs=5e-4)
    assert result.warnings == []


def test_finite_population_correction() -> None:
    # One stratum of N = 10 pixels, n = 5 points, 3 correct: V = (1 - 5/10) s^2 / n with s^2 = 0.3.
    m = [1, 1, 1, 1, 1]
    r = [1, 1, 1, 2, 2]
    without = stehman_estimates(m, r, [7] * 5, {7: 10})
    with_fpc = stehman_estimates(m, r, [7] * 5, {7: 10}, finite_population_correction=True)
    assert without.overall_accuracy.value == pytest.approx(0.6)
    assert without.overall_accuracy.se == pytest.approx(math.sqrt(0.3 / 5))
    assert with_fpc.overall_accuracy.se == pytest.approx(math.sqrt(0.5 * 0.3 / 5))


def test_stratum_with_one_point_gives_nan_and_a_warning() -> None:
    counts = np.array([[8, 2, 0], [1, 9, 0], [0, 0, 1]])  # class 3: a single point
    result = olofsson_estimates(counts, {1: 500, 2: 400, 3: 100}, [1, 2, 3])
    rare = result.class_result(3)
    assert rare.users_accuracy.value == pytest.approx(1.0)
    assert math.isnan(rare.users_accuracy.se) and math.isnan(rare.users_accuracy.ci_low)
    assert math.isnan(result.overall_accuracy.se)
    assert result.overall_accuracy.value == pytest.approx(0.5 * 0.8 + 0.4 * 0.9 + 0.1)
    assert any("map class 3 has only 1 sample point" in w for w in result.warnings)
    d = result.to_dict()
    assert d["overall_accuracy"]["se"] is None  # NaN becomes null in JSON


def test_unsampled_stratum_is_warned_about() -> None:
    counts = np.array([[5, 1], [0, 0]])
    result = olofsson_estimates(counts, {1: 900, 2: 100}, [1, 2])
    assert any("map class 2" in w and "no sample point" in w for w in result.warnings)
    assert result.proportions.sum() == pytest.approx(0.9)  # its 10 % of the map is missing


def test_assess_points_excludes_and_counts_unusable_points() -> None:
    m, r = points_of(COUNTS, CLASSES)
    m = np.concatenate([m, [-1, 0, 255, 9, 2, 3]]).tolist()
    r = list(r) + [1, 1, 1, 1, None, float("nan")]
    mapped = dict(zip(CLASSES, MAPPED_PIXELS)) | {0: 123, 255: 7}
    result = assess_points(m, r, mapped, PIXEL_HA, "ha", map_nodata=255)
    assert result.n_points == COUNTS.sum() + 6
    assert result.n_used == COUNTS.sum()
    assert result.excluded == {OUTSIDE_MAP: 1, NO_MAP_CLASS: 2, NOT_IN_MAP: 1, NO_REFERENCE: 2}
    assert result.classes == CLASSES  # class 0 and nodata never become classes
    assert result.class_result(1).area.value == pytest.approx(olofsson_example().class_result(1).area.value)
    assert any("left out" in w for w in result.warnings)


def test_reference_class_not_in_the_map() -> None:
    result = assess_points([1, 1, 1, 2, 2, 2], [1, 1, 7, 2, 2, 1], {1: 60, 2: 40})
    assert result.classes == [1, 2, 7]
    seven = result.class_result(7)
    assert seven.mapped_area == 0 and math.isnan(seven.users_accuracy.value)
    assert seven.producers_accuracy.value == 0.0
    assert seven.area_proportion.value == pytest.approx(0.6 / 3)
    assert any("[7] are not classes of the map" in w for w in result.warnings)


def test_assess_points_with_strata_uses_stehman() -> None:
    result = assess_points(S_MAP, S_REF, {A: 35_000, B: 40_000, C: 15_000, D: 10_000}, stratum=S_STRATUM,
                           stratum_pixels=S_SIZES)
    assert result.estimator == STEHMAN
    assert result.overall_accuracy.value == pytest.approx(0.63)
    assert result.class_result(B).mapped_pixels == 40_000
    with pytest.raises(InputError, match="both"):
        assess_points(S_MAP, S_REF, S_SIZES, stratum=S_STRATUM)


def test_no_usable_point_raises_a_clear_error() -> None:
    with pytest.raises(InputError, match="none of the 2 points"):
        assess_points([0, -1], [1, 1], {1: 10})
    with pytest.raises(InputError, match="none of the 0 points"):
        assess_points([], [], {1: 10})
