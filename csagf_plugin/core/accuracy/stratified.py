"""Stratified estimators: strata = map classes (Olofsson et al. 2014) or other strata (Stehman 2014).

* `olofsson_estimates`: stratified random sampling with the map classes as strata (Olofsson et al. 2014,
  "Good practices for estimating area and assessing accuracy of land change", eqs. 2-11), from a matrix of
  sample counts and the mapped area of each class.
* `stehman_estimates`: stratified random sampling when the strata differ from the map classes (Stehman 2014,
  "Estimating area and map accuracy for stratified random sampling when the strata are different from the map
  classes"), from per-point map class, reference class and stratum, and the size of each stratum. With the map
  classes as strata it gives the same numbers as `olofsson_estimates`.

`per_point_estimates` is Stehman's machinery with the factor 1/n_h of every variance term left to the caller, so
that the post-stratified estimator (`simple_random.post_stratified_estimates`) reuses it with Cochran's
unconditional factor E[1/n_h].
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from .confusion import confusion_matrix, nan_ratio
from .results import AccuracyAssessment, assemble, normal_quantile, per_class_pixels, stratum_warnings

OLOFSSON = "olofsson2014"  # stratified, strata are the map classes
STEHMAN = "stehman2014"  # stratified, strata differ from the map classes
STRATIFIED_VARIANCE = "stratified"  # V = sum_h N_h^2 (1 - f_h) s_h^2 / n_h with the n_h fixed by the design


def olofsson_estimates(counts: np.ndarray, mapped_pixels: Mapping[int, float] | Sequence[float],
                       classes: Sequence[int], pixel_area: float = 1.0, area_unit: str = "pixels",
                       confidence: float = 0.95) -> AccuracyAssessment:
    """Stratified estimators with the map classes as strata (Olofsson et al. 2014, eqs. 2-11).

    `counts` [K, K]: sample points, rows map class, columns reference class, in `classes` order.
    `mapped_pixels`: pixels of each map class (a mapping by class id, or a sequence in `classes` order).
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
    total_pixels = pixels.sum()
    w = pixels / total_pixels  # W_i: share of the map in map class i
    n_row = n.sum(axis=1)  # n_i.
    warnings = stratum_warnings(classes, pixels, n_row, "map class")

    share = nan_ratio(n, n_row[:, None])  # n_ij / n_i.
    share = np.where(n_row[:, None] > 0, share, 0.0)  # an unsampled stratum adds nothing (and is warned about)
    p = w[:, None] * share  # eq. 4: p_ij = W_i n_ij / n_i.
    # Per-stratum variance factor of a within-stratum proportion: share(1 - share) / (n_i. - 1); NaN for n_i. < 2.
    with np.errstate(divide="ignore", invalid="ignore"):
        inv_dof = np.where(n_row >= 2, 1.0 / (n_row - 1.0), np.nan)
    inv_dof = np.where((n_row == 0), 0.0, inv_dof)  # unsampled stratum: no term (its bias is warned about)
    cell_var = share * (1.0 - share) * inv_dof[:, None]  # [K, K]

    diag = np.diag(p)
    users = nan_ratio(np.diag(n), n_row)  # eq. 2 (U_i = p_ii / p_i. = n_ii / n_i.)
    p_ref = p.sum(axis=0)  # eq. 9: p_.k (true share of class k)
    producers = nan_ratio(diag, p_ref)  # eq. 3
    overall = float(diag.sum())  # eq. 1

    var_overall = float(np.sum(w ** 2 * np.diag(cell_var)))  # eq. 5
    var_users = np.diag(cell_var).copy()  # eq. 6: U_i (1 - U_i) / (n_i. - 1)
    var_users[n_row == 0] = np.nan
    # eq. 7: V(P_j) = [N_j.^2 (1-P_j)^2 U_j(1-U_j)/(n_j.-1) + P_j^2 sum_{i!=j} N_i.^2 n_ij/n_i. (1-n_ij/n_i.)/(n_i.-1)]
    #                 / N_.j^2, with N_.j = sum_i N_i. n_ij / n_i.; written with W instead of N (the factor cancels).
    var_producers = np.empty(k)
    for j in range(k):
        others = sum(w[i] ** 2 * cell_var[i, j] for i in range(k) if i != j)
        own = w[j] ** 2 * (1.0 - producers[j]) ** 2 * cell_var[j, j]
        var_producers[j] = (own + producers[j] ** 2 * others) / p_ref[j] ** 2 if p_ref[j] > 0 else np.nan
    var_props = np.sum(w[:, None] ** 2 * cell_var, axis=0)  # eq. 10: S(p_.k)^2

    return assemble(OLOFSSON, classes, n.astype(np.int64), p, overall, var_overall, users, var_users,
                     producers, var_producers, p_ref, var_props, pixels, pixel_area, area_unit, confidence, z,
                     strata={c: (float(pixels[i]), int(n_row[i])) for i, c in enumerate(classes)},
                     warnings=warnings, variance=STRATIFIED_VARIANCE)


@dataclass
class PerPointEstimates:
    """Point estimates and variances of `per_point_estimates`, in `classes` order (shares of the total area)."""

    counts: np.ndarray  # int64 [K, K] sample points, rows map, columns reference
    proportions: np.ndarray  # [K, K] estimated area share of each (map, reference) cell
    overall: float  # overall accuracy
    var_overall: float
    users: np.ndarray  # [K] user's accuracies
    var_users: np.ndarray
    producers: np.ndarray  # [K] producer's accuracies
    var_producers: np.ndarray
    reference_share: np.ndarray  # [K] true area share of each class
    var_reference_share: np.ndarray
    n_h: np.ndarray  # points per stratum, in `labels` order


def per_point_estimates(m: np.ndarray, r: np.ndarray, s: np.ndarray, labels: Sequence[int], sizes: np.ndarray,
                        classes: Sequence[int], inverse_n: np.ndarray | None = None) -> PerPointEstimates:
    """Stratified means of per-point indicators (Stehman 2014 eqs. 3, 12-27) with their variances (eqs. 25, 28).

    The variance of a stratified total is sum_h N_h^2 s_h^2 * inverse_n[h]; `inverse_n` defaults to 1 / n_h
    (the stratified design, n_h fixed). A stratum with fewer than 2 points makes the variances NaN.
    """
    n_h = np.asarray([(s == h).sum() for h in labels], dtype=np.float64)
    if inverse_n is None:
        inverse_n = nan_ratio(1.0, n_h)
    total_pixels = sizes.sum()

    def total_and_variance(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stratified total sum_h N_h ybar_h of each column of y [n, V] and its variance."""
        tot = np.zeros(y.shape[1])
        var = np.zeros(y.shape[1])
        for h, size in enumerate(sizes):
            in_h = y[s == labels[h]]
            if in_h.shape[0] == 0:
                continue  # unsampled stratum: warned about by the caller
            tot += size * in_h.mean(axis=0)
            if in_h.shape[0] < 2:
                var += np.nan
            else:
                var += size ** 2 * in_h.var(axis=0, ddof=1) * inverse_n[h]
        return tot, var

    ids = np.asarray(classes)
    is_map = (m[:, None] == ids[None, :]).astype(np.float64)  # [n, K]
    is_ref = (r[:, None] == ids[None, :]).astype(np.float64)
    correct = (m == r).astype(np.float64)
    both = is_map * is_ref  # correct and of class k
    cells = (is_map[:, :, None] * is_ref[:, None, :]).reshape(m.size, -1)

    cell_tot, _ = total_and_variance(cells)
    ref_tot, ref_var = total_and_variance(is_ref)  # eq. 14: area of each reference class
    oa_tot, oa_var = total_and_variance(correct[:, None])  # eq. 12
    both_tot, _ = total_and_variance(both)
    map_tot, _ = total_and_variance(is_map)
    users = nan_ratio(both_tot, map_tot)  # eq. 16
    producers = nan_ratio(both_tot, ref_tot)  # eq. 20
    # Ratio variance (eq. 28): V(R) = V(total of y - R x) / X^2, y - R x taken per point.
    _, users_num_var = total_and_variance(both - np.nan_to_num(users)[None, :] * is_map)
    _, prod_num_var = total_and_variance(both - np.nan_to_num(producers)[None, :] * is_ref)
    return PerPointEstimates(
        counts=confusion_matrix(m, r, classes), proportions=cell_tot.reshape(len(classes), len(classes)) / total_pixels,
        overall=float(oa_tot[0] / total_pixels), var_overall=float(oa_var[0] / total_pixels ** 2),
        users=users, var_users=nan_ratio(users_num_var, map_tot ** 2),
        producers=producers, var_producers=nan_ratio(prod_num_var, ref_tot ** 2),
        reference_share=ref_tot / total_pixels, var_reference_share=ref_var / total_pixels ** 2, n_h=n_h)


def point_arrays(map_class: Sequence[int] | np.ndarray, ref_class: Sequence[int] | np.ndarray,
                 stratum: Sequence[int] | np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """int64 arrays of map class, reference class and stratum, one value per point."""
    m = np.asarray(map_class, dtype=np.int64).ravel()
    r = np.asarray(ref_class, dtype=np.int64).ravel()
    s = np.asarray(stratum, dtype=np.int64).ravel()
    if not (m.size == r.size == s.size):
        raise InputError(f"map_class ({m.size}), ref_class ({r.size}) and stratum ({s.size}) must have one value "
                         "per point.")
    return m, r, s


def stratum_sizes(stratum_pixels: Mapping[int, float], s: np.ndarray) -> tuple[list[int], np.ndarray]:
    """Sorted stratum labels and their sizes; InputError for negative sizes or points in unknown strata."""
    labels = sorted(int(h) for h in stratum_pixels)
    sizes = np.asarray([float(stratum_pixels[h]) for h in labels], dtype=np.float64)
    if (sizes < 0).any() or sizes.sum() <= 0:
        raise InputError(f"stratum sizes must be >= 0 with a positive total, got {dict(stratum_pixels)}.")
    unknown = sorted(set(s.tolist()) - set(labels))
    if unknown:
        raise InputError(f"points lie in strata {unknown} that have no size in stratum_pixels "
                         f"(known strata: {labels}): give the size of every stratum.")
    return labels, sizes


def stehman_estimates(map_class: Sequence[int] | np.ndarray, ref_class: Sequence[int] | np.ndarray,
                      stratum: Sequence[int] | np.ndarray, stratum_pixels: Mapping[int, float],
                      classes: Sequence[int] | None = None, mapped_pixels: Mapping[int, float] | None = None,
                      pixel_area: float = 1.0, area_unit: str = "pixels", confidence: float = 0.95,
                      finite_population_correction: bool = False) -> AccuracyAssessment:
    """Stratified estimators when the strata differ from the map classes (Stehman 2014, eqs. 2-27).

    One value per point in `map_class`, `ref_class` and `stratum`; `stratum_pixels` gives the size N_h of every
    stratum in pixels. `mapped_pixels` (pixels per map class) is only reported, the estimates do not need it.
    Every estimate is a stratified mean of a per-point indicator (eq. 3) or a ratio of two (eq. 27);
    variances follow eqs. 25 and 28, with the finite population correction 1 - n_h/N_h when asked.
    """
    m, r, s = point_arrays(map_class, ref_class, stratum)
    if classes is None:
        classes = sorted(set(m.tolist()) | set(r.tolist()) | {int(c) for c, v in (mapped_pixels or {}).items()
                                                                  if v > 0})
    classes = [int(c) for c in classes]
    z = normal_quantile(confidence)
    labels, sizes = stratum_sizes(stratum_pixels, s)
    n_h = np.asarray([(s == h).sum() for h in labels], dtype=np.float64)
    inverse_n = nan_ratio(1.0, n_h)
    if finite_population_correction:
        inverse_n = inverse_n * (1.0 - nan_ratio(n_h, sizes))
    e = per_point_estimates(m, r, s, labels, sizes, classes, inverse_n)
    mapped = np.full(len(classes), np.nan)
    if mapped_pixels is not None:
        mapped = np.asarray([float(mapped_pixels.get(c, 0.0)) for c in classes])
    return assemble(STEHMAN, classes, e.counts, e.proportions, e.overall, e.var_overall, e.users, e.var_users,
                    e.producers, e.var_producers, e.reference_share, e.var_reference_share, mapped, pixel_area,
                    area_unit, confidence, z, strata={h: (float(sizes[i]), int(n_h[i])) for i, h in enumerate(labels)},
                    warnings=stratum_warnings(labels, sizes, n_h, "stratum"), variance=STRATIFIED_VARIANCE)
