"""Estimators by sampling design: simple random, post-stratified (two variances), choice of estimator, intervals.

Every number below is worked by hand in the docstring of its test; the code must reproduce it.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from accuracy_rasters import NODATA, class_map  # noqa: F401 (fixture)

from csagf_plugin.core.accuracy import assess_map, sample_points
from csagf_plugin.core.accuracy.design import SamplingDesign
from csagf_plugin.core.accuracy.estimators import (
    INTERPRETERS_DISAGREE,
    OLOFSSON,
    POST_STRATIFIED,
    SIMPLE_RANDOM_ESTIMATOR,
    STEHMAN,
    assess_points,
    choose_estimator,
    describe_estimator,
    olofsson_estimates,
    stehman_estimates,
)
from csagf_plugin.core.accuracy.results import Estimate
from csagf_plugin.core.accuracy.simple_random import (
    COCHRAN,
    CONDITIONAL,
    cochran_inverse_n,
    post_stratified_estimates,
    simple_random_estimates,
)
from csagf_plugin.core.errors import InputError

TWO = np.array([[40, 10], [5, 45]])  # rows map, columns reference; n = 100
THREE = np.array([[8, 1, 1], [2, 6, 2], [0, 1, 9]])  # n = 30, 10 points per map class
THREE_PIXELS = {1: 500, 2: 300, 3: 200}  # W = 0.5, 0.3, 0.2


def points_of(counts: np.ndarray, classes: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Per-point map and reference classes of a count matrix (rows map)."""
    m, r = [], []
    for i, ci in enumerate(classes):
        for j, cj in enumerate(classes):
            m += [ci] * int(counts[i, j])
            r += [cj] * int(counts[i, j])
    return np.asarray(m), np.asarray(r)


def test_simple_random_2x2_by_hand() -> None:
    """n = 100, counts [[40, 10], [5, 45]]:

    OA = 85/100 = 0.85, V = 0.85 * 0.15 / 99 = 0.00128788, SE = 0.0358870.
    UA_1 = 40/50 = 0.8, V = n U(1-U) / ((n-1) n_1.) = 100 * 0.16 / (99 * 50) = 0.00323232, SE = 0.0568535.
    PA_1 = 40/45 = 0.888889, V = 100 * 0.888889 * 0.111111 / (99 * 45) = 0.00221695, SE = 0.0470846.
    p_.1 = 45/100 = 0.45, V = 0.45 * 0.55 / 99 = 0.0025, SE = 0.05; area = 0.45 * 1000 pixels * 2 m² = 900 m².
    """
    result = simple_random_estimates(TWO, {1: 300, 2: 700}, [1, 2], pixel_area=2.0, area_unit="m²")
    assert result.estimator == SIMPLE_RANDOM_ESTIMATOR and result.variance == "simple_random"
    assert (result.overall_accuracy.value, result.overall_accuracy.se) == pytest.approx((0.85, 0.0358870), abs=1e-7)
    one = result.class_result(1)
    assert (one.users_accuracy.value, one.users_accuracy.se) == pytest.approx((0.8, 0.0568535), abs=1e-7)
    assert (one.producers_accuracy.value, one.producers_accuracy.se) == pytest.approx((0.888889, 0.0470846), abs=1e-6)
    assert (one.area_proportion.value, one.area_proportion.se) == pytest.approx((0.45, 0.05))
    assert one.area.value == pytest.approx(900.0) and one.area.se == pytest.approx(0.05 * 2000.0)
    assert result.proportions == pytest.approx(np.array([[0.4, 0.1], [0.05, 0.45]]))  # n_ij / n, map not used


def test_simple_random_3x3_by_hand_and_as_one_stratum() -> None:
    """n = 30, counts [[8, 1, 1], [2, 6, 2], [0, 1, 9]]:

    OA = 23/30 = 0.766667, V = (23/30)(7/30)/29 = 0.00616858, SE = 0.0785403.
    UA_1 = 8/10, V = 30 * 0.16 / (29 * 10) = 0.0165517, SE = 0.128653; PA_1 = 8/10 (column sum 10), same SE.
    p_.3 = 12/30 = 0.4, V = 0.4 * 0.6 / 29 = 0.00827586, SE = 0.0909718.
    Stehman's estimator with a single stratum is the same simple random estimator: it must agree everywhere.
    """
    result = simple_random_estimates(THREE, THREE_PIXELS, [1, 2, 3])
    assert (result.overall_accuracy.value, result.overall_accuracy.se) == pytest.approx((23 / 30, 0.0785403),
                                                                                        abs=1e-7)
    assert result.class_result(1).users_accuracy.se == pytest.approx(0.128653, abs=1e-6)
    assert result.class_result(1).producers_accuracy.se == pytest.approx(0.128653, abs=1e-6)
    assert result.class_result(3).area_proportion.se == pytest.approx(0.0909718, abs=1e-7)
    m, r = points_of(THREE, [1, 2, 3])
    one_stratum = stehman_estimates(m, r, np.zeros_like(m) + 9, {9: 1000}, [1, 2, 3])
    for a, b in zip(result.per_class, one_stratum.per_class):
        for name in ("users_accuracy", "producers_accuracy", "area_proportion"):
            assert (getattr(a, name).value, getattr(a, name).se) == pytest.approx(
                (getattr(b, name).value, getattr(b, name).se), rel=1e-12)
    assert result.overall_accuracy.se == pytest.approx(one_stratum.overall_accuracy.se, rel=1e-12)


def test_post_stratified_2x2_conditional_and_cochran_by_hand() -> None:
    """The 2 x 2 sample post-stratified with W = (0.3, 0.7); 50 points fell in each map class:

    OA = 0.3 * 0.8 + 0.7 * 0.9 = 0.87.
    Conditional: V = sum W² U(1-U)/(n_h - 1) = (0.09 * 0.16 + 0.49 * 0.09) / 49 = 0.00119388, SE = 0.0345525.
    Cochran 5A.40: s_h² = n_h U(1-U)/(n_h - 1) = 0.163265, 0.0918367;
      V = sum W s²/n + sum (1 - W) s²/n² = 0.113265/100 + 0.141837/10000 = 0.00114684, SE = 0.0338650.
    """
    m, r = points_of(TWO, [1, 2])
    conditional = post_stratified_estimates(m, r, {1: 300, 2: 700}, variance=CONDITIONAL)
    cochran = post_stratified_estimates(m, r, {1: 300, 2: 700}, variance=COCHRAN)
    assert conditional.estimator == cochran.estimator == POST_STRATIFIED
    assert (conditional.variance, cochran.variance) == (CONDITIONAL, COCHRAN)
    assert conditional.overall_accuracy.value == cochran.overall_accuracy.value == pytest.approx(0.87)
    assert conditional.overall_accuracy.se == pytest.approx(0.0345525, abs=1e-7)
    assert cochran.overall_accuracy.se == pytest.approx(0.0338650, abs=1e-7)


def test_post_stratified_3x3_by_hand_and_conditional_equals_olofsson() -> None:
    """The 3 x 3 sample with W = (0.5, 0.3, 0.2), 10 points in each map class, UA = 0.8, 0.6, 0.9:

    OA = 0.4 + 0.18 + 0.18 = 0.76.
    Conditional: V = (0.25 * 0.16 + 0.09 * 0.24 + 0.04 * 0.09) / 9 = 0.0652 / 9 = 0.00724444, SE = 0.0851143.
    Cochran: s_h² = (10/9)(0.16, 0.24, 0.09) = 0.177778, 0.266667, 0.1;
      V = (0.5 * 0.177778 + 0.3 * 0.266667 + 0.2 * 0.1) / 30 + (0.5 * 0.177778 + 0.7 * 0.266667 + 0.8 * 0.1) / 900
        = 0.00629630 + 0.000395062 = 0.00669136, SE = 0.0818008.
    UA_2 (Cochran): s² (1/(n W) + (1 - W)/(n W)²) = 0.266667 * (1/9 + 0.7/81) = 0.0319342, SE = 0.178701.
    p_.1 = 0.5 * 0.8 + 0.3 * 0.2 = 0.46; conditional V = (0.25 * 0.16 + 0.09 * 0.16) / 9 = 0.00604444.
    """
    m, r = points_of(THREE, [1, 2, 3])
    conditional = post_stratified_estimates(m, r, THREE_PIXELS, variance=CONDITIONAL)
    cochran = post_stratified_estimates(m, r, THREE_PIXELS, variance=COCHRAN)
    assert conditional.overall_accuracy.value == pytest.approx(0.76)
    assert conditional.overall_accuracy.se == pytest.approx(0.0851143, abs=1e-7)
    assert cochran.overall_accuracy.se == pytest.approx(0.0818008, abs=1e-7)
    assert cochran.class_result(2).users_accuracy.se == pytest.approx(0.178701, abs=1e-6)
    assert conditional.class_result(1).area_proportion.value == pytest.approx(0.46)
    assert conditional.class_result(1).area_proportion.se ** 2 == pytest.approx(0.00604444, abs=1e-8)
    olofsson = olofsson_estimates(THREE, THREE_PIXELS, [1, 2, 3])
    assert conditional.proportions == pytest.approx(olofsson.proportions)
    for a, b in zip(conditional.per_class, olofsson.per_class):
        for name in ("users_accuracy", "producers_accuracy", "area_proportion"):
            assert (getattr(a, name).value, getattr(a, name).se) == pytest.approx(
                (getattr(b, name).value, getattr(b, name).se), rel=1e-9)
    assert cochran_inverse_n(30, np.array([0.3])) == pytest.approx([1 / 9 + 0.7 / 81])


def test_olofsson_and_stehman_3x3_by_hand() -> None:
    """Stratified by map class with the same 3 x 3 counts: Olofsson's OA and SE are the conditional numbers above
    (the n_h are now fixed by the design): 0.76 ± 1.96 * 0.0851143. Stehman with strata = map classes agrees.
    """
    olofsson = olofsson_estimates(THREE, THREE_PIXELS, [1, 2, 3])
    m, r = points_of(THREE, [1, 2, 3])
    stehman = stehman_estimates(m, r, m, THREE_PIXELS, [1, 2, 3])
    assert olofsson.estimator == OLOFSSON and stehman.estimator == STEHMAN
    assert olofsson.overall_accuracy.se == pytest.approx(0.0851143, abs=1e-7)
    assert stehman.overall_accuracy.se == pytest.approx(0.0851143, abs=1e-7)
    assert olofsson.variance == stehman.variance == "stratified"


def test_choose_estimator_by_design() -> None:
    srs = SamplingDesign("simple_random")
    grid = SamplingDesign("systematic", systematic="unaligned")
    by_class = SamplingDesign("stratified_random")
    by_other = SamplingDesign("stratified_random", strata="other")
    assert choose_estimator(srs, False)[0] == POST_STRATIFIED
    assert choose_estimator(grid, False)[0] == POST_STRATIFIED
    assert choose_estimator(srs, False, SIMPLE_RANDOM_ESTIMATOR)[0] == SIMPLE_RANDOM_ESTIMATOR
    assert choose_estimator(by_class, False)[0] == OLOFSSON
    assert choose_estimator(by_other, True)[0] == STEHMAN
    estimator, note = choose_estimator(None, False)
    assert estimator == OLOFSSON and "assumed" in note
    with pytest.raises(InputError, match="use the stratified estimator"):
        choose_estimator(by_class, False, SIMPLE_RANDOM_ESTIMATOR)
    with pytest.raises(InputError, match="give the strata"):
        choose_estimator(by_other, False)


def test_assess_points_names_design_estimator_and_variance() -> None:
    m, r = points_of(THREE, [1, 2, 3])
    srs = SamplingDesign("simple_random", seed=4, population={-1: 1000})
    default = assess_points(m, r, THREE_PIXELS, design=srs)
    assert default.estimator == POST_STRATIFIED and default.variance == COCHRAN  # the documented default
    assert default.design["design"] == "simple_random" and default.design["seed"] == 4
    assert "Cochran 1977" in describe_estimator(default)
    plain = assess_points(m, r, THREE_PIXELS, design=srs, estimator=SIMPLE_RANDOM_ESTIMATOR)
    assert plain.overall_accuracy.value == pytest.approx(23 / 30)
    data = plain.to_dict()
    assert data["estimator"] == "simple_random" and data["variance"] == "simple_random"
    assert "cut to [0, 1]" in data["interval_rule"]
    unknown = assess_points(m, r, THREE_PIXELS)
    assert unknown.design["source"] == "assumed" and any("assumed" in w for w in unknown.warnings)


def test_intervals_are_clipped_for_the_report_and_kept_whole_in_json() -> None:
    """A user's accuracy of 9 of 10 points has SE = sqrt(0.9 * 0.1 / 9) = 0.1, so 0.9 + 1.96 * 0.1 = 1.096 > 1:
    the report shows [0.704, 1], the JSON keeps 1.096.
    """
    e = Estimate.from_se(0.9, 0.1, 1.959963984540054)
    assert e.ci_high == pytest.approx(1.0959964)  # kept whole
    assert e.clipped() == (pytest.approx(0.7040036), 1.0)
    assert Estimate.from_se(0.05, 0.05, 1.96).clipped()[0] == 0.0
    nan = Estimate.from_se(1.0, float("nan"), 1.96)
    assert all(math.isnan(v) for v in nan.clipped())


def test_two_interpreters_in_the_assessment() -> None:
    """Interpreter 2 differs on two points; one is settled (final label), the other is left out and counted."""
    m = [1, 1, 1, 2, 2, 2]
    first = [1, 1, 2, 2, 2, 1]
    second = [1, 1, 1, 2, 2, 2]
    final = [None, None, 1, None, None, None]
    result = assess_points(m, first, {1: 50, 2: 50}, second_reference=second, final_ref=final,
                           point_ids=[11, 12, 13, 14, 15, 16])
    assert result.excluded == {INTERPRETERS_DISAGREE: 1}
    assert result.n_used == 5
    assert result.counts.tolist() == [[3, 0], [0, 2]]
    agreement = result.interpreters
    assert agreement["n_both"] == 6 and agreement["agreement"] == pytest.approx(4 / 6)
    assert [d["point_id"] for d in agreement["disagreements"]] == [13, 16]
    assert agreement["unsettled"] == 1
    # Kappa by hand: matrix (rows interpreter 1) [[2, 1], [1, 2]]; p_o = 4/6, p_e = (3*3 + 3*3)/36 = 0.5,
    # kappa = (2/3 - 1/2) / (1/2) = 1/3.
    assert agreement["matrix"] == [[2, 1], [1, 2]]
    assert agreement["kappa"] == pytest.approx(1 / 3)


def test_design_round_trips_through_json_and_fields() -> None:
    from csagf_plugin.core.accuracy.design import field_value, from_fields

    design = SamplingDesign("stratified_random", allocation="neyman", seed=7, population={1: 10.0, 2: 30.0},
                            requested={1: 3, 2: 5}, source="csagf:random_points")
    assert SamplingDesign.from_json(design.to_json()) == design
    assert field_value(design) == "stratified_random:map_classes"
    recorded = from_fields(["stratified_random:map_classes"] * 3, [1, 2, 2], [10.0, 30.0, 30.0])
    assert (recorded.design, recorded.strata, recorded.population) == ("stratified_random", "map_classes",
                                                                       {1: 10.0, 2: 30.0})
    grid = from_fields(["systematic:unaligned", None], [-1, -1], [500.0, 500.0])
    assert grid.systematic == "unaligned" and grid.population == {-1: 500.0}
    assert from_fields([None, ""]) is None
    with pytest.raises(InputError, match="several sampling designs"):
        from_fields(["simple_random", "systematic"])
    with pytest.raises(InputError, match="no strata"):
        SamplingDesign("simple_random", strata="other")


def test_final_reference_rule() -> None:
    """Settled label first; else the common label, or the only one given; a disagreement without one: None."""
    from csagf_plugin.core.accuracy.interpreters import final_reference

    assert final_reference([1, 2, 3, None, 4], [1, 3, 1, 2, None], [None, None, 2, None, None]) == [
        1, None, 2, 2, 4]


@pytest.mark.parametrize("design, kwargs, estimator", [
    ("simple_random", {"n": 40}, POST_STRATIFIED),
    ("stratified_random", {"n": 40, "allocation": "equal"}, OLOFSSON),
    ("systematic", {"n": 40, "layout": "unaligned"}, POST_STRATIFIED),
])
def test_sample_then_assess_with_the_sample_design(class_map, design: str, kwargs: dict, estimator: str) -> None:
    """Points labelled with the map's own class: every point is correct, so OA is the area share of the map classes
    that got points (1 unless a rare class got none: its area is missing, and a warning says so); the estimator is
    the design's."""
    path, classes = class_map
    points = sample_points(path, design, seed=2, **kwargs)
    reference = classes[points.row, points.col]
    assert ((reference != 0) & (reference != NODATA)).all()
    result = assess_map(path, points.x, points.y, reference, points.crs_wkt, design=points.sampling_design)
    assert result.estimator == estimator
    pixels = {c: int(((classes == c)).sum()) for c in (1, 2, 3, 4, 5)}
    sampled = set(points.map_class.tolist())
    assert result.overall_accuracy.value == pytest.approx(sum(pixels[c] for c in sampled) / sum(pixels.values()))
    assert (sampled == set(pixels)) or any("no sample point" in w for w in result.warnings)
    assert result.design["design"] == design and result.design["seed"] == 2


def test_stehman_2x2_with_other_strata_by_hand() -> None:
    """Strata A (600 pixels) and B (400), 4 points each, (map, reference):
    A: (1,1) (1,1) (2,1) (2,2); B: (1,1) (2,2) (2,2) (2,1).

    OA: correct 1,1,0,1 in A and 1,1,1,0 in B: (600 * 0.75 + 400 * 0.75) / 1000 = 0.75;
      s² = 0.25 in both, V = (600² * 0.25/4 + 400² * 0.25/4) / 1000² = 0.0325, SE = 0.180278.
    Area share of reference class 1: 1,1,1,0 in A (0.75, s² 0.25), 1,0,0,1 in B (0.5, s² 1/3):
      (450 + 200) / 1000 = 0.65, V = (22,500 + 13,333.3) / 10^6 = 0.0358333, SE = 0.189297.
    UA_1 = (300 + 100) / (300 + 100) = 1; PA_1 = 400 / 650 = 8/13.
    """
    m = [1, 1, 2, 2, 1, 2, 2, 2]
    r = [1, 1, 1, 2, 1, 2, 2, 1]
    s = [1, 1, 1, 1, 2, 2, 2, 2]
    result = stehman_estimates(m, r, s, {1: 600, 2: 400})
    assert (result.overall_accuracy.value, result.overall_accuracy.se) == pytest.approx((0.75, 0.180278), abs=1e-6)
    one = result.class_result(1)
    assert (one.area_proportion.value, one.area_proportion.se) == pytest.approx((0.65, 0.189297), abs=1e-6)
    assert one.users_accuracy.value == pytest.approx(1.0) and one.producers_accuracy.value == pytest.approx(8 / 13)
