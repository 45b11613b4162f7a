"""Estimators for simple random and systematic samples: from the sample itself, or post-stratified by map class.

A systematic sample is estimated as a simple random one, as the literature does (Stehman and Czaplewski 1998;
Olofsson et al. 2014, section 4): there is no unbiased variance estimator for a single systematic sample, and the
simple-random formula is the usual, mostly conservative, stand-in.

* `simple_random_estimates`: every point weighs the same (Stehman and Czaplewski 1998; Olofsson et al. 2014 eqs.
  with one stratum). OA and area shares are sample proportions, V = p (1 - p) / (n - 1); user's and producer's
  accuracies are ratio estimators, V = n R (1 - R) / ((n - 1) n_x) with n_x the points in the ratio's denominator.
  The map's pixel counts are not used, except as the total area.
* `post_stratified_estimates`: the same sample with the map classes as post-strata, weighted by their mapped area
  (Olofsson et al. 2014: eqs. 2-11 "may be applied to simple random and systematic samples"). The point estimates
  are Olofsson's; the variance formula is named:

  - CONDITIONAL: conditional on the points that fell in each map class, 1 / n_h as if they had been fixed by a
    stratified design (Olofsson et al. 2014 eqs. 5-10 used as they stand; this tool's only formula before);
  - COCHRAN: Cochran (1977) eq. 5A.40, the variance over repeated simple random samples, where n_h is random:
    1 / n_h is replaced by E[1 / n_h] ~ 1 / (n W_h) + (1 - W_h) / (n W_h)^2, which for the overall accuracy is
    V = sum_h W_h s_h^2 / n + sum_h (1 - W_h) s_h^2 / n^2 (no finite population correction: the population of
    pixels is large).

  The default is COCHRAN: it is the design-based variance of the design that was actually used (the counts per map
  class were not fixed in advance), it does not depend on the luck of how many points fell in a rare class, and
  it is the formula of the standard sampling textbook. CONDITIONAL stays selectable to reproduce earlier reports
  and software that uses Olofsson's equations unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..errors import InputError
from .confusion import nan_ratio
from .results import AccuracyAssessment, assemble, normal_quantile, per_class_pixels, stratum_warnings
from .stratified import per_point_estimates, point_arrays

SIMPLE_RANDOM_ESTIMATOR = "simple_random"  # the sample itself, every point weighs the same
POST_STRATIFIED = "post_stratified"  # map classes as post-strata
SIMPLE_RANDOM_VARIANCE = "simple_random"  # p (1 - p) / (n - 1) and the ratio-estimator variance
CONDITIONAL = "conditional"  # post-stratified, conditional on the points per map class
COCHRAN = "cochran1977_5a40"  # post-stratified, unconditional (Cochran 1977, 5A.40)
POST_STRATIFIED_VARIANCES = (COCHRAN, CONDITIONAL)
DEFAULT_POST_STRATIFIED_VARIANCE = COCHRAN  # see the module docstring for why


def simple_random_estimates(counts: np.ndarray, mapped_pixels: Mapping[int, float] | Sequence[float],
                            classes: Sequence[int], pixel_area: float = 1.0, area_unit: str = "pixels",
                            confidence: float = 0.95) -> AccuracyAssessment:
    """Estimates of a simple random (or systematic) sample from the sample alone, with their variances.

    `counts` [K, K]: points, rows map class, columns reference class; `mapped_pixels` only gives the total area
    (and the mapped areas reported). Every point weighs the same; see the module docstring for the formulas.
    """
    classes = [int(c) for c in classes]
    n = np.asarray(counts, dtype=np.float64)
    k = len(classes)
    if n.shape != (k, k):
        raise InputError(f"counts must be a {k} x {k} matrix (one row and column per class), got {n.shape}.")
    if (n < 0).any():
        raise InputError("counts must be >= 0.")
    z = normal_quantile(confidence)
    pixels = per_class_pixels(mapped_pixels, classes)
    total = n.sum()
    warnings = []
    if total < 2:
        warnings.append(f"only {int(total)} sample point(s): standard errors need at least 2 (NaN).")
    dof = total - 1.0 if total >= 2 else np.nan
    p = nan_ratio(n, total)
    n_map, n_ref = n.sum(axis=1), n.sum(axis=0)
    overall = float(nan_ratio(np.trace(n), total))
    users = nan_ratio(np.diag(n), n_map)
    producers = nan_ratio(np.diag(n), n_ref)
    share = nan_ratio(n_ref, total)
    with np.errstate(invalid="ignore"):
        var_overall = overall * (1.0 - overall) / dof
        var_users = total * users * (1.0 - users) / (dof * n_map)
        var_producers = total * producers * (1.0 - producers) / (dof * n_ref)
        var_share = share * (1.0 - share) / dof
    var_users = np.where(n_map > 0, var_users, np.nan)
    var_producers = np.where(n_ref > 0, var_producers, np.nan)
    return assemble(SIMPLE_RANDOM_ESTIMATOR, classes, n.astype(np.int64), p, overall, var_overall, users, var_users,
                    producers, var_producers, share, var_share, pixels, pixel_area, area_unit, confidence, z,
                    strata={-1: (float(pixels.sum()), int(total))}, warnings=warnings,
                    variance=SIMPLE_RANDOM_VARIANCE)


def cochran_inverse_n(n_total: float, weights: np.ndarray) -> np.ndarray:
    """E[1 / n_h] of a post-stratum of area share W_h in a simple random sample of n: 1/(n W) + (1 - W)/(n W)^2.

    Cochran (1977) 5A.40: summed with W_h^2 S_h^2 it gives sum W_h S_h^2 / n + sum (1 - W_h) S_h^2 / n^2.
    """
    nw = n_total * np.asarray(weights, dtype=np.float64)
    return nan_ratio(1.0, nw) + nan_ratio(1.0 - np.asarray(weights, dtype=np.float64), nw ** 2)


def post_stratified_estimates(map_class: Sequence[int] | np.ndarray, ref_class: Sequence[int] | np.ndarray,
                              mapped_pixels: Mapping[int, float], classes: Sequence[int] | None = None,
                              pixel_area: float = 1.0, area_unit: str = "pixels", confidence: float = 0.95,
                              variance: str = DEFAULT_POST_STRATIFIED_VARIANCE) -> AccuracyAssessment:
    """A simple random or systematic sample post-stratified by map class, with the named variance formula.

    One value per point in `map_class` and `ref_class`; `mapped_pixels` gives the size of each map class. With
    `variance=CONDITIONAL` the numbers equal `olofsson_estimates` on the same counts.
    """
    if variance not in POST_STRATIFIED_VARIANCES:
        raise InputError(f"unknown post-stratified variance '{variance}': use one of "
                         f"{list(POST_STRATIFIED_VARIANCES)}.")
    m, r, _ = point_arrays(map_class, ref_class, map_class)
    mapped = {int(c): float(v) for c, v in mapped_pixels.items() if float(v) > 0}
    if classes is None:
        classes = sorted(set(mapped) | set(m.tolist()) | set(r.tolist()))
    classes = [int(c) for c in classes]
    unknown = sorted(set(m.tolist()) - set(mapped))
    if unknown:
        raise InputError(f"points are mapped as classes {unknown} that have no pixel in the map: a post-stratum "
                         "needs its mapped area.")
    z = normal_quantile(confidence)
    labels = sorted(mapped)
    sizes = np.asarray([mapped[h] for h in labels], dtype=np.float64)
    n_h = np.asarray([(m == h).sum() for h in labels], dtype=np.float64)
    if variance == COCHRAN:
        inverse_n = cochran_inverse_n(float(m.size), sizes / sizes.sum())
    else:
        inverse_n = nan_ratio(1.0, n_h)
    e = per_point_estimates(m, r, m, labels, sizes, classes, inverse_n)
    pixels = np.asarray([mapped.get(c, 0.0) for c in classes])
    return assemble(POST_STRATIFIED, classes, e.counts, e.proportions, e.overall, e.var_overall, e.users, e.var_users,
                    e.producers, e.var_producers, e.reference_share, e.var_reference_share, pixels, pixel_area,
                    area_unit, confidence, z, strata={h: (float(sizes[i]), int(n_h[i])) for i, h in enumerate(labels)},
                    warnings=stratum_warnings(labels, sizes, n_h, "map class"), variance=variance)
