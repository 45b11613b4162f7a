"""Assess a map from labelled points with the estimator that matches the sampling design.

Estimators (each module names its sources and formulas):

* stratified random by map class: `stratified.olofsson_estimates` (Olofsson et al. 2014);
* stratified random by other strata: `stratified.stehman_estimates` (Stehman 2014);
* simple random and systematic: `simple_random.post_stratified_estimates` (post-stratified by map class, variance
  COCHRAN by default or CONDITIONAL) or `simple_random.simple_random_estimates` (the sample itself).

`choose_estimator` turns a `SamplingDesign` (recorded by csagf:random_points, or set by the user) and an optional
override into one of ESTIMATORS. `assess_points` is the entry point for a set of labelled points: it drops the
points that cannot be used (outside the map, class 0 or nodata under them, no reference label, two interpreters
who disagree), counts them, and runs the chosen estimator. `assess_map` also reads the map.

Conventions: rows are map classes, columns reference classes; areas are pixel counts times the pixel area.
Where a standard error cannot be estimated (a stratum with fewer than 2 points) it is NaN and the result
carries a warning saying so; nothing raises for it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..errors import InputError
from .confusion import confusion_matrix
from .design import MAP_CLASS_STRATA, OTHER_STRATA, STRATIFIED_RANDOM, SamplingDesign
from .interpreters import final_reference, interpreter_agreement
from .results import AccuracyAssessment, ClassAccuracy, Estimate, normal_quantile  # noqa: F401 (re-exported)
from .simple_random import (  # noqa: F401 (re-exported)
    COCHRAN,
    CONDITIONAL,
    DEFAULT_POST_STRATIFIED_VARIANCE,
    POST_STRATIFIED,
    POST_STRATIFIED_VARIANCES,
    SIMPLE_RANDOM_ESTIMATOR,
    post_stratified_estimates,
    simple_random_estimates,
)
from .stratified import OLOFSSON, STEHMAN, olofsson_estimates, stehman_estimates

ESTIMATORS = (OLOFSSON, STEHMAN, POST_STRATIFIED, SIMPLE_RANDOM_ESTIMATOR)
AUTO = "auto"  # the estimator of the design
STRATIFIED = "stratified"  # override: Olofsson, or Stehman when strata other than the map classes are given
ESTIMATOR_CHOICES = (AUTO, POST_STRATIFIED, SIMPLE_RANDOM_ESTIMATOR, STRATIFIED)
ESTIMATOR_TEXT = {
    OLOFSSON: "stratified estimator, strata = map classes (Olofsson et al. 2014, eqs. 1-11)",
    STEHMAN: "stratified estimator, strata differ from the map classes (Stehman 2014)",
    POST_STRATIFIED: "post-stratified by map class (Olofsson et al. 2014 point estimates)",
    SIMPLE_RANDOM_ESTIMATOR: "simple random estimator, every point weighs the same (Stehman and Czaplewski 1998)",
}
VARIANCE_TEXT = {
    "stratified": "stratified variance, points per stratum fixed by the design",
    "simple_random": "simple random variance p(1 - p)/(n - 1), ratio-estimator variance for user's and producer's",
    COCHRAN: "unconditional post-stratified variance (Cochran 1977, eq. 5A.40)",
    CONDITIONAL: "conditional on the points per map class (Olofsson et al. 2014 eqs. 5-10 as they stand)",
}

# Keys of AccuracyAssessment.excluded: why a point was left out.
OUTSIDE_MAP = "outside_map"  # the point lies outside the map raster
NO_MAP_CLASS = "no_map_class"  # class 0 or the map's nodata under the point
NO_REFERENCE = "no_reference"  # the point has no reference label (empty, 0 or negative)
NOT_IN_MAP = "map_class_not_in_map"  # the point's map class has no pixel in the map (the field disagrees with it)
NO_STRATUM = "no_stratum"  # the point's stratum label has no stratum size
INTERPRETERS_DISAGREE = "interpreters_disagree"  # two interpreters differ and no final label settles it


def choose_estimator(design: SamplingDesign | None, other_strata: bool, override: str = AUTO) -> tuple[str, str]:
    """(estimator, note) for a design; `other_strata` says per-point strata and their sizes are at hand.

    No design known: the points are taken as stratified by map class (what this tool did before designs were
    recorded; for a simple random sample these are the post-stratified numbers with the conditional variance).
    """
    if override not in ESTIMATOR_CHOICES:
        raise InputError(f"unknown estimator '{override}': use one of {list(ESTIMATOR_CHOICES)}.")
    stratified = (design is None or design.stratified) or other_strata
    by_other = other_strata or (design is not None and design.strata == OTHER_STRATA)
    if by_other and not other_strata:
        raise InputError("the sample was stratified by strata other than the map classes: give the strata (a "
                         "strata raster or a stratum field with the stratum sizes) for Stehman's estimator.")
    if override in (POST_STRATIFIED, SIMPLE_RANDOM_ESTIMATOR) and stratified and design is not None:
        raise InputError(f"the {override.replace('_', ' ')} estimator is for simple random and systematic samples; "
                         f"this one is {design.describe()}: use the stratified estimator.")
    if override in (POST_STRATIFIED, SIMPLE_RANDOM_ESTIMATOR):
        if other_strata:
            raise InputError(f"strata were given, so the sample is stratified: the {override.replace('_', ' ')} "
                             "estimator does not apply. Leave the strata empty or use the stratified estimator.")
        return override, "estimator set by the parameter"
    if override == STRATIFIED or stratified:
        note = ("no sampling design recorded with the points: assumed stratified random by map class"
                if design is None and not other_strata else "")
        return (STEHMAN if by_other else OLOFSSON), note
    return POST_STRATIFIED, ""


def _labels(values: Sequence[Any] | np.ndarray | None, n: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Integer labels and a mask of the usable ones; None, NaN, empty strings and values <= 0 are missing."""
    if values is None:
        return np.zeros(n, dtype=np.int64), np.zeros(n, dtype=bool)
    items = list(values) if not isinstance(values, np.ndarray) else values.tolist()
    if len(items) != n:
        raise InputError(f"{what} has {len(items)} values for {n} points: give one per point.")
    out = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    for i, v in enumerate(items):
        if v is None or (isinstance(v, str) and not v.strip()):
            continue
        try:
            f = float(v)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{what} of point {i} is {v!r}, not a class id: use integer class ids.") from exc
        if not math.isfinite(f):
            continue
        if f != int(f):
            raise InputError(f"{what} of point {i} is {v!r}, not an integer class id.")
        out[i] = int(f)
        ok[i] = out[i] > 0
    return out, ok


def assess_points(map_class: Sequence[int] | np.ndarray, ref_class: Sequence[Any] | np.ndarray,
                  mapped_pixels: Mapping[int, float], pixel_area: float = 1.0, area_unit: str = "pixels",
                  stratum: Sequence[Any] | np.ndarray | None = None,
                  stratum_pixels: Mapping[int, float] | None = None, confidence: float = 0.95,
                  map_nodata: float | None = None, finite_population_correction: bool = False,
                  design: SamplingDesign | None = None, estimator: str = AUTO,
                  variance: str = DEFAULT_POST_STRATIFIED_VARIANCE,
                  second_reference: Sequence[Any] | np.ndarray | None = None,
                  final_ref: Sequence[Any] | np.ndarray | None = None,
                  point_ids: Sequence[int] | None = None) -> AccuracyAssessment:
    """Assess a map from labelled points: exclude unusable points (counted), then estimate by design.

    `map_class`: the map's class under each point (-1 outside the map; 0 or `map_nodata`: no class).
    `ref_class`: the reference label of each point (None, NaN, 0 or negative: not labelled).
    `mapped_pixels`: pixels of each map class (e.g. `class_pixel_counts(map_path)`), the strata weights.
    `stratum` with `stratum_pixels`: per-point stratum label and stratum sizes in pixels when the sample was
    stratified by something other than the map classes (Stehman 2014).
    `design`: how the points were drawn (None: unknown, taken as stratified by map class); `estimator` overrides
    the estimator of the design (ESTIMATOR_CHOICES); `variance` is the post-stratified variance formula.
    `second_reference` (a second interpreter's labels) and `final_ref` (settled disagreements): the reference used
    is `interpreters.final_reference`, and their agreement is reported.
    """
    n_points = len(map_class)
    agreement = None
    if second_reference is not None:
        first = [c if ok else None for c, ok in zip(*_labels(ref_class, n_points, "reference class"))]
        second = [c if ok else None for c, ok in zip(*_labels(second_reference, n_points, "second reference class"))]
        final = (None if final_ref is None else
                 [c if ok else None for c, ok in zip(*_labels(final_ref, n_points, "final reference class"))])
        agreement = interpreter_agreement(first, second, point_ids, final)
        ref_class = final_reference(first, second, final)
        disagree = np.zeros(n_points, dtype=bool)
        for i, (a, b, f) in enumerate(zip(first, second, final or [None] * n_points)):
            disagree[i] = a is not None and b is not None and a != b and f is None
    m, m_ok = _labels(map_class, n_points, "map class")
    r, r_ok = _labels(ref_class, n_points, "reference class")
    excluded: dict[str, int] = {}
    keep = np.ones(n_points, dtype=bool)

    def drop(mask: np.ndarray, reason: str) -> None:
        """Exclude the kept points under `mask`, counting them under `reason`."""
        nonlocal keep
        hit = keep & mask
        if hit.any():
            excluded[reason] = int(hit.sum())
        keep &= ~mask

    drop(m < 0, OUTSIDE_MAP)
    no_class = ~m_ok
    if map_nodata is not None and np.isfinite(map_nodata):
        no_class |= m == map_nodata
    drop(no_class, NO_MAP_CLASS)
    mapped = {int(c): float(v) for c, v in mapped_pixels.items() if float(v) > 0
              and int(c) != 0 and (map_nodata is None or int(c) != map_nodata)}
    drop(~np.isin(m, list(mapped)), NOT_IN_MAP)
    if agreement is not None:
        drop(disagree, INTERPRETERS_DISAGREE)
    drop(~r_ok, NO_REFERENCE)
    warnings: list[str] = []
    if excluded.get(NOT_IN_MAP):
        warnings.append(f"{excluded[NOT_IN_MAP]} points carry a map class that has no pixel in the map: they were "
                        "left out. Check that the map-class field was sampled from this map.")
    if excluded.get(INTERPRETERS_DISAGREE):
        warnings.append(f"{excluded[INTERPRETERS_DISAGREE]} points where the two interpreters disagree have no final "
                        "label: they were left out. Settle them (the dock steps through them) before reporting.")

    strata_given = stratum is not None or stratum_pixels is not None
    if strata_given:
        if stratum is None or stratum_pixels is None:
            raise InputError("give both the per-point stratum and the stratum sizes, or neither (then the map "
                             "classes are the strata).")
        s, s_ok = _labels(stratum, n_points, "stratum")
        s_ok &= np.isin(s, [int(h) for h in stratum_pixels])
        drop(~s_ok, NO_STRATUM)
        if excluded.get(NO_STRATUM):
            warnings.append(f"{excluded[NO_STRATUM]} points have no stratum or a stratum without a size: left out.")

    if excluded:
        warnings.append("points left out: " + ", ".join(f"{v} ({k.replace('_', ' ')})" for k, v in excluded.items()))
    if not keep.any():
        raise InputError(f"none of the {n_points} points can be used ({excluded or 'no points given'}): "
                         "label some points that lie on classified pixels of the map.")

    ref_only = sorted(set(r[keep].tolist()) - set(mapped))
    if ref_only:
        warnings.append(f"reference classes {ref_only} are not classes of the map's legend.")
    classes = sorted(set(mapped) | set(r[keep].tolist()))
    chosen, note = choose_estimator(design, strata_given, estimator)
    if note:
        warnings.append(note + "; set the sampling design if the points were drawn otherwise.")
    if chosen == STEHMAN:
        result = stehman_estimates(m[keep], r[keep], s[keep], stratum_pixels, classes, mapped, pixel_area,
                                   area_unit, confidence, finite_population_correction)
    elif chosen == POST_STRATIFIED:
        result = post_stratified_estimates(m[keep], r[keep], mapped, classes, pixel_area, area_unit, confidence,
                                           variance)
    else:
        counts = confusion_matrix(m[keep], r[keep], classes)
        estimate = simple_random_estimates if chosen == SIMPLE_RANDOM_ESTIMATOR else olofsson_estimates
        result = estimate(counts, mapped, classes, pixel_area, area_unit, confidence)
    result.n_points = n_points
    result.excluded = excluded
    result.warnings = warnings + result.warnings
    if design is None:
        design = SamplingDesign(STRATIFIED_RANDOM, strata=OTHER_STRATA if strata_given else MAP_CLASS_STRATA,
                                source="assumed")
    result.design = design.to_dict()
    result.design["description"] = design.describe()
    if agreement is not None:
        result.interpreters = agreement.to_dict()
    return result


def describe_estimator(result: AccuracyAssessment) -> str:
    """'post-stratified by map class (...); unconditional post-stratified variance (Cochran 1977, eq. 5A.40)'."""
    estimator = ESTIMATOR_TEXT.get(result.estimator, result.estimator)
    return f"{estimator}; {VARIANCE_TEXT.get(result.variance, result.variance)}"


def assess_map(map_path: str | os.PathLike, x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray,
               ref_class: Sequence[Any] | np.ndarray, points_crs_wkt: str | None = None,
               stratum: Sequence[Any] | np.ndarray | None = None,
               stratum_pixels: Mapping[int, float] | None = None, confidence: float = 0.95,
               finite_population_correction: bool = False, design: SamplingDesign | None = None,
               estimator: str = AUTO, variance: str = DEFAULT_POST_STRATIFIED_VARIANCE) -> AccuracyAssessment:
    """Assess a classified map raster from labelled points at (x, y): reads the class under each point and the
    mapped area of each class, then calls `assess_points`. Points in another CRS (`points_crs_wkt`) are reprojected.
    """
    from .map_summary import classes_at_points, summarise_map

    summary = summarise_map(map_path)
    map_class = classes_at_points(map_path, x, y, points_crs_wkt)
    result = assess_points(map_class, ref_class, summary.class_pixels, summary.pixel_area, summary.area_unit,
                           stratum, stratum_pixels, confidence, None, finite_population_correction, design,
                           estimator, variance)
    result.warnings = summary.warnings + result.warnings
    return result
