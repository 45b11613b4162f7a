"""Area-weighted accuracy and area estimators with standard errors and confidence intervals.

Two estimators, both "by the book":

* `olofsson_estimates`: stratified random sampling with the map classes as strata (Olofsson et al. 2014,
  "Good practices for estimating area and assessing accuracy of land change", eqs. 2-11), from a matrix of
  sample counts and the mapped area of each class.
* `stehman_estimates`: stratified random sampling when the strata differ from the map classes (Stehman 2014,
  "Estimating area and map accuracy for stratified random sampling when the strata are different from the map
  classes"), from per-point map class, reference class and stratum, and the size of each stratum. With the map
  classes as strata it gives the same numbers as `olofsson_estimates`.

`assess_points` is the entry point for a set of labelled points: it drops the points that cannot be used (outside
the map, class 0 or nodata under them, no reference label), counts them, and picks the estimator.
`assess_map` also reads the map: the class under each point and the mapped area of each class.

Conventions: rows are map classes, columns reference classes; areas are pixel counts times the pixel area.
Where a standard error cannot be estimated (a stratum with fewer than 2 points) it is NaN and the result
carries a warning saying so; nothing raises for it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from ..errors import InputError
from .confusion import SampleAccuracy, confusion_matrix, nan_ratio, sample_accuracy

OLOFSSON = "olofsson2014"  # strata are the map classes
STEHMAN = "stehman2014"  # strata differ from the map classes

# Keys of AccuracyAssessment.excluded: why a point was left out.
OUTSIDE_MAP = "outside_map"  # the point lies outside the map raster
NO_MAP_CLASS = "no_map_class"  # class 0 or the map's nodata under the point
NO_REFERENCE = "no_reference"  # the point has no reference label (empty, 0 or negative)
NOT_IN_MAP = "map_class_not_in_map"  # the point's map class has no pixel in the map (the field disagrees with it)
NO_STRATUM = "no_stratum"  # the point's stratum label has no stratum size


@dataclass(frozen=True)
class Estimate:
    """An estimated quantity with its standard error and confidence interval (NaN where undefined)."""

    value: float  # the estimate
    se: float  # standard error; NaN when it cannot be estimated
    ci_low: float  # lower confidence limit, value - z * se
    ci_high: float  # upper confidence limit, value + z * se

    @property
    def half_width(self) -> float:
        """Half the width of the confidence interval (the "±" figure)."""
        return (self.ci_high - self.ci_low) / 2.0

    @classmethod
    def from_se(cls, value: float, se: float, z: float) -> "Estimate":
        """Build the symmetric normal-approximation interval value ± z * se."""
        value, se = float(value), float(se)
        return cls(value, se, value - z * se, value + z * se)


def normal_quantile(confidence: float) -> float:
    """z such that a normal interval ± z * se covers `confidence` (1.96 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence level {confidence} must lie strictly between 0 and 1 (e.g. 0.95).")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


@dataclass
class ClassAccuracy:
    """Area-weighted results for one class."""

    class_id: int  # class id in the map and in the reference labels
    mapped_pixels: float  # pixels of the map in this class (NaN when not known)
    mapped_area: float  # mapped_pixels * pixel area
    n_map: int  # sample points mapped as this class
    n_reference: int  # sample points whose reference class is this class
    users_accuracy: Estimate  # share of the area mapped as the class that truly is the class
    producers_accuracy: Estimate  # share of the true area of the class that the map shows as the class
    f1: float  # harmonic mean of the estimated user's and producer's accuracies
    area_proportion: Estimate  # estimated share of the total area that truly is the class
    area: Estimate  # estimated true area of the class, area_proportion * total area


@dataclass
class AccuracyAssessment:
    """Everything an accuracy assessment by random points estimates, ready for a report."""

    estimator: str  # OLOFSSON or STEHMAN
    classes: list[int]  # class ids, the order of every matrix and per-class list
    counts: np.ndarray  # int64 [K, K] sample points, rows map class, columns reference class
    proportions: np.ndarray  # float [K, K] estimated share of the total area in each (map, reference) cell
    overall_accuracy: Estimate  # estimated share of the area that is correctly mapped
    per_class: list[ClassAccuracy]  # one per class, in `classes` order
    sample: SampleAccuracy  # unweighted measures counted on the points (kappa, F1, ...)
    confidence: float  # confidence level of every interval
    pixel_area: float  # area of one map pixel, in area_unit
    total_area: float  # area of the population (sum of the strata), in area_unit
    area_unit: str  # unit of every area ("m²", "pixels", ...)
    strata: dict[int, tuple[float, int]]  # stratum -> (pixels, sample points)
    n_points: int  # points given, before exclusions
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> points left out
    warnings: list[str] = field(default_factory=list)  # what the user should know: undefined SEs, gaps

    @property
    def n_used(self) -> int:
        """Points that entered the estimates."""
        return int(self.counts.sum())

    def class_result(self, class_id: int) -> ClassAccuracy:
        """The per-class result of `class_id`; InputError when it is not a class of the assessment."""
        for result in self.per_class:
            if result.class_id == class_id:
                return result
        raise InputError(f"class {class_id} is not in this assessment (classes: {self.classes}).")

    def to_dict(self) -> dict[str, Any]:
        """Every number as plain JSON-ready Python (NaN becomes None)."""
        data = asdict(self)
        data["counts"] = self.counts.tolist()
        data["proportions"] = self.proportions.tolist()
        data["strata"] = {str(k): {"pixels": v[0], "points": v[1]} for k, v in self.strata.items()}
        data["n_used"] = self.n_used
        data["sample"]["mean_f1"] = self.sample.mean_f1
        return _json_ready(data)


def _json_ready(value: Any) -> Any:
    """Replace NaN/inf by None and numpy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _per_class_pixels(mapped_pixels: Mapping[int, float] | Sequence[float], classes: Sequence[int]) -> np.ndarray:
    """Mapped pixels aligned with `classes` (a mapping may omit classes the map does not show)."""
    if isinstance(mapped_pixels, Mapping):
        extra = {int(c): v for c, v in mapped_pixels.items() if int(c) not in set(classes) and v > 0}
        if extra:
            raise InputError(f"map classes {sorted(extra)} have pixels but are not among the classes {list(classes)}: "
                             "list every class of the map.")
        values = [float(mapped_pixels.get(c, 0.0)) for c in classes]
    else:
        values = [float(v) for v in mapped_pixels]
        if len(values) != len(classes):
            raise InputError(f"{len(values)} mapped areas for {len(classes)} classes: give one per class.")
    pixels = np.asarray(values, dtype=np.float64)
    if (pixels < 0).any() or not np.isfinite(pixels).all():
        raise InputError(f"mapped pixel counts must be finite and >= 0, got {values}.")
    if pixels.sum() <= 0:
        raise InputError("the map has no pixel in any class: check the map raster and its nodata value.")
    return pixels


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
    pixels = _per_class_pixels(mapped_pixels, classes)
    total_pixels = pixels.sum()
    w = pixels / total_pixels  # W_i: share of the map in map class i
    n_row = n.sum(axis=1)  # n_i.
    warnings = _stratum_warnings(classes, pixels, n_row, "map class")

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

    return _assemble(OLOFSSON, classes, n.astype(np.int64), p, overall, var_overall, users, var_users,
                     producers, var_producers, p_ref, var_props, pixels, pixel_area, area_unit, confidence, z,
                     strata={c: (float(pixels[i]), int(n_row[i])) for i, c in enumerate(classes)},
                     warnings=warnings)


def _stratum_warnings(labels: Sequence[int], pixels: np.ndarray, points: np.ndarray, kind: str) -> list[str]:
    """Warnings for strata with no point (estimates biased) or one point (standard errors undefined)."""
    warnings = []
    total = pixels.sum()
    for label, size, count in zip(labels, pixels, points):
        if size > 0 and count == 0:
            warnings.append(f"{kind} {label} ({100 * size / total:.3g} % of the area) has no sample point: its "
                            "area is missing from every estimate, which are therefore biased. Add points in it.")
        elif size > 0 and count == 1:
            warnings.append(f"{kind} {label} has only 1 sample point: the standard errors that depend on it are "
                            "undefined (NaN). Label at least 2 points in it.")
    return warnings


def _assemble(estimator: str, classes: list[int], counts: np.ndarray, p: np.ndarray, overall: float,
              var_overall: float, users: np.ndarray, var_users: np.ndarray, producers: np.ndarray,
              var_producers: np.ndarray, p_ref: np.ndarray, var_props: np.ndarray, mapped_pixels: np.ndarray,
              pixel_area: float, area_unit: str, confidence: float, z: float,
              strata: dict[int, tuple[float, int]], warnings: list[str]) -> AccuracyAssessment:
    """Pack point estimates and variances into an AccuracyAssessment with intervals."""
    total_pixels = float(sum(size for size, _ in strata.values()))
    total_area = total_pixels * pixel_area
    n_map = counts.sum(axis=1)
    n_ref = counts.sum(axis=0)
    per_class = []
    for i, c in enumerate(classes):
        se_prop = math.sqrt(var_props[i]) if np.isfinite(var_props[i]) else float("nan")
        u, pa = float(users[i]), float(producers[i])
        f1 = 2 * u * pa / (u + pa) if np.isfinite(u) and np.isfinite(pa) and u + pa > 0 else float("nan")
        per_class.append(ClassAccuracy(
            class_id=c,
            mapped_pixels=float(mapped_pixels[i]),
            mapped_area=float(mapped_pixels[i]) * pixel_area,
            n_map=int(n_map[i]),
            n_reference=int(n_ref[i]),
            users_accuracy=Estimate.from_se(u, _sqrt(var_users[i]), z),
            producers_accuracy=Estimate.from_se(pa, _sqrt(var_producers[i]), z),
            f1=f1,
            area_proportion=Estimate.from_se(float(p_ref[i]), se_prop, z),
            area=Estimate.from_se(float(p_ref[i]) * total_area, se_prop * total_area, z),
        ))
        if n_map[i] == 0 and mapped_pixels[i] == 0:
            warnings.append(f"reference class {c} is not a class of the map: its user's accuracy is undefined "
                            "and its producer's accuracy is 0.")
    return AccuracyAssessment(
        estimator=estimator, classes=classes, counts=counts, proportions=p,
        overall_accuracy=Estimate.from_se(overall, _sqrt(var_overall), z), per_class=per_class,
        sample=sample_accuracy(counts, classes), confidence=confidence, pixel_area=float(pixel_area),
        total_area=total_area, area_unit=area_unit, strata=strata, n_points=int(counts.sum()), warnings=warnings)


def _sqrt(variance: float) -> float:
    """Square root that keeps NaN (undefined variance) as NaN."""
    variance = float(variance)
    return math.sqrt(max(variance, 0.0)) if math.isfinite(variance) else float("nan")


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
    m = np.asarray(map_class, dtype=np.int64).ravel()
    r = np.asarray(ref_class, dtype=np.int64).ravel()
    s = np.asarray(stratum, dtype=np.int64).ravel()
    if not (m.size == r.size == s.size):
        raise InputError(f"map_class ({m.size}), ref_class ({r.size}) and stratum ({s.size}) must have one value "
                         "per point.")
    if classes is None:
        classes = sorted(set(m.tolist()) | set(r.tolist()) | {int(c) for c, v in (mapped_pixels or {}).items()
                                                                  if v > 0})
    classes = [int(c) for c in classes]
    z = normal_quantile(confidence)
    labels = sorted(int(h) for h in stratum_pixels)
    sizes = np.asarray([float(stratum_pixels[h]) for h in labels], dtype=np.float64)
    if (sizes < 0).any() or sizes.sum() <= 0:
        raise InputError(f"stratum sizes must be >= 0 with a positive total, got {dict(stratum_pixels)}.")
    unknown = sorted(set(s.tolist()) - set(labels))
    if unknown:
        raise InputError(f"points lie in strata {unknown} that have no size in stratum_pixels "
                         f"(known strata: {labels}): give the size of every stratum.")
    counts = confusion_matrix(m, r, classes)
    n_h = np.asarray([(s == h).sum() for h in labels], dtype=np.float64)
    warnings = _stratum_warnings(labels, sizes, n_h, "stratum")
    total_pixels = sizes.sum()
    fpc = 1.0 - nan_ratio(n_h, sizes) if finite_population_correction else np.ones_like(sizes)

    def total_and_variance(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Stratified total sum_h N_h ybar_h of each column of y [n, V] and its variance (eq. 25)."""
        tot = np.zeros(y.shape[1])
        var = np.zeros(y.shape[1])
        for h, size in enumerate(sizes):
            in_h = y[s == labels[h]]
            if in_h.shape[0] == 0:
                continue  # unsampled stratum: warned about above
            tot += size * in_h.mean(axis=0)
            if in_h.shape[0] < 2:
                var += np.nan
            else:
                var += size ** 2 * fpc[h] * in_h.var(axis=0, ddof=1) / in_h.shape[0]
        return tot, var

    ids = np.asarray(classes)
    is_map = (m[:, None] == ids[None, :]).astype(np.float64)  # [n, K]
    is_ref = (r[:, None] == ids[None, :]).astype(np.float64)
    correct = (m == r).astype(np.float64)
    both = is_map * is_ref  # correct and of class k
    cells = (is_map[:, :, None] * is_ref[:, None, :]).reshape(m.size, -1)

    cell_tot, _ = total_and_variance(cells)
    p = cell_tot.reshape(len(classes), len(classes)) / total_pixels  # eq. 14 per cell
    ref_tot, ref_var = total_and_variance(is_ref)  # eq. 14: area of each reference class
    oa_tot, oa_var = total_and_variance(correct[:, None])  # eq. 12
    both_tot, _ = total_and_variance(both)
    map_tot, _ = total_and_variance(is_map)

    users = nan_ratio(both_tot, map_tot)  # eq. 16
    producers = nan_ratio(both_tot, ref_tot)  # eq. 20
    # Ratio variance (eq. 28): V(R) = V(total of y - R x) / X^2, y - R x taken per point.
    _, users_num_var = total_and_variance(both - np.nan_to_num(users)[None, :] * is_map)
    _, prod_num_var = total_and_variance(both - np.nan_to_num(producers)[None, :] * is_ref)
    var_users = nan_ratio(users_num_var, map_tot ** 2)
    var_producers = nan_ratio(prod_num_var, ref_tot ** 2)

    mapped = np.full(len(classes), np.nan)
    if mapped_pixels is not None:
        mapped = np.asarray([float(mapped_pixels.get(c, 0.0)) for c in classes])
    return _assemble(STEHMAN, classes, counts, p, float(oa_tot[0] / total_pixels),
                     float(oa_var[0] / total_pixels ** 2), users, var_users, producers, var_producers,
                     ref_tot / total_pixels, ref_var / total_pixels ** 2, mapped, pixel_area, area_unit,
                     confidence, z, strata={h: (float(sizes[i]), int(n_h[i])) for i, h in enumerate(labels)},
                     warnings=warnings)


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
                  map_nodata: float | None = None, finite_population_correction: bool = False) -> AccuracyAssessment:
    """Assess a map from labelled points: exclude unusable points (counted), then estimate.

    `map_class`: the map's class under each point (-1 outside the map; 0 or `map_nodata`: no class).
    `ref_class`: the reference label of each point (None, NaN, 0 or negative: not labelled).
    `mapped_pixels`: pixels of each map class (e.g. `class_pixel_counts(map_path)`), the strata weights.
    `stratum` with `stratum_pixels`: per-point stratum label and stratum sizes in pixels when the sample was
    stratified by something other than the map classes (Stehman 2014); without them the map classes are the
    strata (Olofsson et al. 2014), which for a simple random or systematic sample is the post-stratified estimator.
    """
    n_points = len(map_class)
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
    drop(~r_ok, NO_REFERENCE)
    warnings: list[str] = []
    if excluded.get(NOT_IN_MAP):
        warnings.append(f"{excluded[NOT_IN_MAP]} points carry a map class that has no pixel in the map: they were "
                        "left out. Check that the map-class field was sampled from this map.")

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
    if strata_given:
        result = stehman_estimates(m[keep], r[keep], s[keep], stratum_pixels, classes, mapped, pixel_area,
                                   area_unit, confidence, finite_population_correction)
    else:
        counts = confusion_matrix(m[keep], r[keep], classes)
        result = olofsson_estimates(counts, mapped, classes, pixel_area, area_unit, confidence)
    result.n_points = n_points
    result.excluded = excluded
    result.warnings = warnings + result.warnings
    return result


def assess_map(map_path: str | os.PathLike, x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray,
               ref_class: Sequence[Any] | np.ndarray, points_crs_wkt: str | None = None,
               stratum: Sequence[Any] | np.ndarray | None = None,
               stratum_pixels: Mapping[int, float] | None = None, confidence: float = 0.95,
               finite_population_correction: bool = False) -> AccuracyAssessment:
    """Assess a classified map raster from labelled points at (x, y): reads the class under each point and the
    mapped area of each class, then calls `assess_points`. Points in another CRS (`points_crs_wkt`) are reprojected.
    """
    from .sampling import classes_at_points, summarise_map

    summary = summarise_map(map_path)
    map_class = classes_at_points(map_path, x, y, points_crs_wkt)
    result = assess_points(map_class, ref_class, summary.class_pixels, summary.pixel_area, summary.area_unit,
                           stratum, stratum_pixels, confidence, None, finite_population_correction)
    result.warnings = summary.warnings + result.warnings
    return result
