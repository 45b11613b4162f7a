"""Sample-size planning and allocation of points to strata, before any point is drawn.

* `sample_size_for_oa`: Olofsson et al. (2014) eq. 13 for stratified random sampling by map class,
  n = (sum_i W_i S_i / S(O))^2 with S_i = sqrt(U_i (1 - U_i)) (Cochran 1977 eq. 5.25: the n of the Neyman
  allocation; any other allocation needs more points for the same standard error).
* `cochran_sample_size`: simple random sampling, n0 = P (1 - P) / SE^2 and n = n0 / (1 + (n0 - 1) / N)
  (Cochran 1977 eqs. 4.2-4.3 written with a standard error instead of a half-width).
* `allocation_counts`: points per stratum for a total n: proportional, equal, a minimum per class (rare classes
  raised to the minimum, the rest shared in proportion to area) or Neyman (n_h proportional to W_h S_h).
* `plan_sample_size`: the smallest n for which the chosen design and allocation reach a target standard error of
  the overall accuracy or of one class's user's accuracy, with the expected standard errors of that plan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from .design import SIMPLE_RANDOM, STRATIFIED_RANDOM

PROPORTIONAL = "proportional"
EQUAL = "equal"
FIXED = "fixed"
MINIMUM = "minimum"  # a minimum per class, the rest proportional
NEYMAN = "neyman"  # n_h proportional to W_h S_h
ALLOCATIONS = (PROPORTIONAL, EQUAL, FIXED, MINIMUM, NEYMAN)
PLAN_ALLOCATIONS = (PROPORTIONAL, EQUAL, MINIMUM, NEYMAN)  # the ones a plan can use (FIXED is the user's own)
OVERALL = "overall_accuracy"  # plan target: standard error of the overall accuracy


def _arrays(user_accuracies: Sequence[float] | Mapping[int, float],
            area_weights: Sequence[float] | Mapping[int, float]) -> tuple[list[int], np.ndarray, np.ndarray]:
    """Classes, expected user's accuracies U and normalised area weights W, checked."""
    if isinstance(user_accuracies, Mapping) != isinstance(area_weights, Mapping):
        raise InputError("give user accuracies and area weights both as mappings by class or both as sequences.")
    if isinstance(user_accuracies, Mapping):
        keys = sorted(int(k) for k in area_weights)
        missing = [k for k in keys if k not in user_accuracies]
        if missing:
            raise InputError(f"no expected user's accuracy for classes {missing}: give one for every map class.")
        u = np.asarray([user_accuracies[k] for k in keys], dtype=np.float64)
        w = np.asarray([area_weights[k] for k in keys], dtype=np.float64)
    else:
        u = np.asarray(user_accuracies, dtype=np.float64)
        w = np.asarray(area_weights, dtype=np.float64)
        keys = list(range(1, u.size + 1))
    if u.shape != w.shape or u.ndim != 1 or u.size == 0:
        raise InputError(f"{u.size} user accuracies for {w.size} area weights: give one of each per class.")
    if ((u < 0) | (u > 1)).any() or not np.isfinite(u).all():
        raise InputError(f"user's accuracies must lie in [0, 1], got {u.tolist()}.")
    if (w < 0).any() or w.sum() <= 0:
        raise InputError(f"area weights must be >= 0 with a positive sum, got {w.tolist()}.")
    return keys, u, w / w.sum()


def _check_se(target_se: float) -> None:
    if not target_se > 0 or not target_se < 1:
        raise InputError(f"the target standard error must lie in (0, 1) (e.g. 0.01), got {target_se}.")


def sample_size_for_oa(user_accuracies: Sequence[float] | Mapping[int, float],
                       area_weights: Sequence[float] | Mapping[int, float], target_se: float) -> int:
    """Olofsson et al. (2014) eq. 13: points for stratified random sampling to give OA the target standard error.

    U_i are the expected user's accuracies and W_i the mapped area shares (normalised here so they sum to 1).
    """
    _check_se(target_se)
    _, u, w = _arrays(user_accuracies, area_weights)
    return int(math.ceil((np.sum(w * np.sqrt(u * (1 - u))) / target_se) ** 2 - 1e-9))


def cochran_sample_size(proportion: float, target_se: float, population: float | None = None) -> int:
    """Simple random sample size for a proportion P with standard error `target_se` (Cochran 1977, 4.2-4.3)."""
    _check_se(target_se)
    if not 0.0 <= proportion <= 1.0:
        raise InputError(f"the expected proportion must lie in [0, 1], got {proportion}.")
    n0 = proportion * (1.0 - proportion) / target_se ** 2
    if population is not None and population > 0:
        n0 = n0 / (1.0 + (n0 - 1.0) / population)
    return max(1, int(math.ceil(n0 - 1e-9)))


def _largest_remainders(exact: np.ndarray, n: int) -> np.ndarray:
    """Integers summing to n, each floor(exact) or one more, the extra ones to the largest remainders."""
    base = np.floor(exact).astype(np.int64)
    short = n - int(base.sum())
    order = sorted(range(exact.size), key=lambda i: (-(exact[i] - base[i]), i))
    for i in order[:max(short, 0)]:
        base[i] += 1
    return base


def allocation_counts(weights: Sequence[float] | np.ndarray, n: int, allocation: str = PROPORTIONAL,
                      minimum: int = 0, deviations: Sequence[float] | np.ndarray | None = None) -> np.ndarray:
    """Points per stratum summing to n (int64, in the order of `weights`, the strata's area shares).

    proportional: n W_h; equal: n / H; minimum: strata whose proportional share is below `minimum` get `minimum`,
    the others share the rest in proportion to area; neyman: n W_h S_h / sum W S with `deviations` S_h
    (Cochran 1977 eq. 5.26). Rounded by largest remainders.
    """
    w = np.asarray(weights, dtype=np.float64)
    w = w / w.sum()
    if n < 0:
        raise InputError(f"the number of points must be >= 0, got {n}.")
    if allocation == EQUAL:
        return _largest_remainders(np.full(w.size, n / w.size), n)
    if allocation == NEYMAN:
        if deviations is None:
            raise InputError("Neyman allocation needs the expected user's accuracy of every class.")
        ws = w * np.asarray(deviations, dtype=np.float64)
        if ws.sum() <= 0:
            raise InputError("Neyman allocation is undefined when every class is expected to be 0 % or 100 % "
                             "accurate (no variance anywhere): use proportional or equal allocation.")
        return _largest_remainders(n * ws / ws.sum(), n)
    if allocation == MINIMUM:
        if minimum * w.size > n:
            raise InputError(f"a minimum of {minimum} points for each of {w.size} classes needs {minimum * w.size} "
                             f"points, more than the {n} planned: lower the minimum or raise n.")
        raised = np.zeros(w.size, dtype=bool)
        while True:  # raise the strata below the minimum until the proportional rest leaves none below it
            rest = n - minimum * raised.sum()
            share = np.where(raised, 0.0, w)
            exact = np.where(raised, float(minimum), rest * share / share.sum() if share.sum() > 0 else 0.0)
            below = (~raised) & (exact < minimum)
            if not below.any():
                break
            raised |= below
        out = _largest_remainders(np.where(raised, 0.0, exact), n - minimum * int(raised.sum()))
        return out + np.where(raised, minimum, 0)
    if allocation != PROPORTIONAL:
        raise InputError(f"unknown allocation '{allocation}': use one of {list(PLAN_ALLOCATIONS)}.")
    return _largest_remainders(n * w, n)


def allocate(class_pixels: Mapping[int, int], n: int | None = None, allocation: str = PROPORTIONAL,
             n_per_class: Mapping[int, int] | None = None, min_per_class: int = 0,
             user_accuracies: Mapping[int, float] | None = None) -> dict[int, int]:
    """Points per map class for stratified random sampling, never more than the class has pixels.

    proportional, equal, minimum, neyman: `allocation_counts` of n (neyman needs `user_accuracies`); fixed (or any
    `n_per_class` given): those counts, other classes get `min_per_class`. Every class then gets at least
    `min_per_class`, so the total can exceed n (Olofsson et al. 2014 recommend this for rare classes).
    """
    pixels = {int(c): int(v) for c, v in class_pixels.items() if v > 0}
    if not pixels:
        raise InputError("the map has no classified pixel (all 0 or nodata): nothing to sample.")
    if min_per_class < 0:
        raise InputError(f"min_per_class must be >= 0, got {min_per_class}.")
    classes = sorted(pixels)
    if n_per_class is not None or allocation == FIXED:
        if not n_per_class:
            raise InputError("fixed allocation needs n_per_class, e.g. {1: 50, 2: 50}.")
        unknown = sorted(int(c) for c in n_per_class if int(c) not in pixels)
        if unknown:
            raise InputError(f"n_per_class names classes {unknown} that have no pixel in the map "
                             f"(its classes: {classes}).")
        if any(int(v) < 0 for v in n_per_class.values()):
            raise InputError(f"points per class must be >= 0, got {dict(n_per_class)}.")
        wanted = {c: int(n_per_class.get(c, 0)) for c in classes}
    else:
        if allocation not in ALLOCATIONS:
            raise InputError(f"unknown allocation '{allocation}': use one of {list(ALLOCATIONS)}.")
        if n is None or n < 1:
            raise InputError(f"give the number of points n (>= 1) for {allocation} allocation, got {n}.")
        deviations = None
        if allocation == NEYMAN:
            if not user_accuracies:
                raise InputError("Neyman allocation needs the expected user's accuracy of every class.")
            _, u, _ = _arrays(user_accuracies, {c: pixels[c] for c in classes})
            deviations = np.sqrt(u * (1.0 - u))
        counts = allocation_counts([pixels[c] for c in classes], int(n), allocation, min_per_class, deviations)
        wanted = dict(zip(classes, counts.tolist()))
    return {c: min(max(wanted[c], min_per_class), pixels[c]) for c in classes}


@dataclass
class SampleSizePlan:
    """A planned sample: how many points, where, and the standard errors to expect."""

    design: str  # STRATIFIED_RANDOM or SIMPLE_RANDOM
    target: str  # OVERALL, or "users_accuracy:<class id>"
    target_se: float  # standard error aimed at
    n: int  # total points of the plan
    per_class: dict[int, int]  # points per map class (simple random: the expected counts, rounded)
    allocation: str  # allocation of a stratified plan ("" for simple random)
    n_olofsson_eq13: int  # eq. 13 (stratified) or Cochran's n (simple random) for OA, for comparison
    expected_users_accuracy: dict[int, float]  # U_i used
    weights: dict[int, float]  # mapped area shares W_i
    expected_se_overall: float  # standard error of OA expected with this plan
    expected_se_users: dict[int, float]  # standard error of each UA expected with this plan
    notes: list[str] = field(default_factory=list)  # what the user should know

    def per_class_text(self) -> str:
        """'1:50,2:30': the points per class as csagf:random_points' N_PER_CLASS takes them."""
        return ",".join(f"{c}:{k}" for c, k in self.per_class.items())


def _expected_se(u: np.ndarray, w: np.ndarray, n_h: np.ndarray) -> tuple[float, np.ndarray]:
    """SE of OA, sqrt(sum W^2 U(1-U)/n_h), and of each UA, sqrt(U(1-U)/n_h), for n_h points per class."""
    with np.errstate(divide="ignore", invalid="ignore"):
        var_u = np.where(n_h > 0, u * (1.0 - u) / n_h, np.inf)
    var_u = np.where((n_h == 0) & (u * (1 - u) == 0) & (w == 0), 0.0, var_u)
    return float(math.sqrt(np.sum(w ** 2 * var_u))), np.sqrt(var_u)


def plan_sample_size(user_accuracies: Mapping[int, float], area_weights: Mapping[int, float], target_se: float,
                     design: str = STRATIFIED_RANDOM, allocation: str = PROPORTIONAL, minimum: int = 0,
                     target_class: int | None = None, population: float | None = None,
                     max_points: int = 1_000_000) -> SampleSizePlan:
    """The smallest total n whose design and allocation reach `target_se` for OA (or for UA of `target_class`).

    Expected standard errors use V(OA) = sum W_h^2 U_h(1 - U_h)/n_h (stratified; simple random: n_h = n W_h and
    V = P(1 - P)/n with P = sum W U) and V(U_i) = U_i(1 - U_i)/n_i.
    """
    _check_se(target_se)
    classes, u, w = _arrays(user_accuracies, area_weights)
    s = np.sqrt(u * (1.0 - u))
    notes: list[str] = []
    if design not in (STRATIFIED_RANDOM, SIMPLE_RANDOM):
        raise InputError(f"plans are for '{STRATIFIED_RANDOM}' or '{SIMPLE_RANDOM}' designs, got '{design}' "
                         "(plan a systematic sample as simple random).")
    if target_class is not None and target_class not in classes:
        raise InputError(f"target class {target_class} is not a map class ({classes}).")
    p_overall = float(np.sum(w * u))
    if design == SIMPLE_RANDOM:
        eq13 = cochran_sample_size(p_overall, target_se, population)
        allocation = ""
    else:
        eq13 = sample_size_for_oa(u.tolist(), w.tolist(), target_se)
        if allocation not in PLAN_ALLOCATIONS:
            raise InputError(f"unknown allocation '{allocation}': use one of {list(PLAN_ALLOCATIONS)}.")

    def counts_for(n: int) -> np.ndarray:
        if design == SIMPLE_RANDOM:
            return n * w  # expected points per map class
        return allocation_counts(w, n, allocation, minimum, s).astype(np.float64)

    def se_for(n: int) -> tuple[float, np.ndarray]:
        n_h = counts_for(n)
        se_oa, se_u = _expected_se(u, w, n_h)
        if design == SIMPLE_RANDOM:
            fpc = 1.0 - n / population if population else 1.0
            se_oa = math.sqrt(max(fpc, 0.0) * p_overall * (1.0 - p_overall) / n)
        return se_oa, se_u

    def meets(n: int) -> bool:
        if design == STRATIFIED_RANDOM and allocation == MINIMUM and minimum * len(classes) > n:
            return False
        se_oa, se_u = se_for(n)
        value = se_oa if target_class is None else float(se_u[classes.index(target_class)])
        return value <= target_se * (1 + 1e-12)

    low = max(1, minimum * len(classes) if allocation == MINIMUM else 1)
    if design == SIMPLE_RANDOM and target_class is None:
        low = eq13
    high = max(low, eq13 if target_class is None else 1)
    while not meets(high):
        if high >= max_points:
            raise InputError(f"no plan of at most {max_points} points reaches a standard error of {target_se}: "
                             "aim at a larger standard error.")
        high = min(max_points, high * 2)
    while low < high:  # smallest n that meets the target (the SEs fall as n grows)
        mid = (low + high) // 2
        if meets(mid):
            high = mid
        else:
            low = mid + 1
    n = high
    se_oa, se_u = se_for(n)
    per_class = dict(zip(classes, np.rint(counts_for(n)).astype(int).tolist()))
    if design == SIMPLE_RANDOM:
        notes.append("simple random: the points per class are expected counts (n W_i), not an allocation.")
        rare = [c for c, k in per_class.items() if k < 5]
        if rare:
            notes.append(f"classes {rare} expect fewer than 5 points: their user's accuracies will be poorly "
                         "estimated; a stratified design gives them a minimum.")
    elif target_class is None and n > eq13:
        notes.append(f"Olofsson eq. 13 gives {eq13} points, which assumes the Neyman allocation; the {allocation} "
                     f"allocation needs {n} for the same standard error.")
    return SampleSizePlan(design=design, target=OVERALL if target_class is None else f"users_accuracy:{target_class}",
                          target_se=float(target_se), n=int(n), per_class=per_class, allocation=allocation,
                          n_olofsson_eq13=int(eq13), expected_users_accuracy=dict(zip(classes, u.tolist())),
                          weights=dict(zip(classes, w.tolist())), expected_se_overall=se_oa,
                          expected_se_users=dict(zip(classes, se_u.tolist())), notes=notes)


def users_accuracy_from_confusion(matrix: Sequence[Sequence[float]] | np.ndarray, classes: Sequence[int],
                                  rows: str = "reference") -> dict[int, float]:
    """Expected user's accuracy per class (precision) from a validation confusion matrix of pixel counts.

    `rows`: "reference" (csagf:evaluate's matrix: rows reference, columns prediction) or "map". Classes never
    predicted get no value.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1] or m.shape[0] != len(classes):
        raise InputError(f"the confusion matrix must be {len(classes)} x {len(classes)}, got {m.shape}.")
    if rows not in ("reference", "map"):
        raise InputError(f"rows must be 'reference' or 'map', got '{rows}'.")
    predicted = m.sum(axis=0) if rows == "reference" else m.sum(axis=1)
    return {int(c): float(m[i, i] / predicted[i]) for i, c in enumerate(classes) if predicted[i] > 0}


def read_expected_users_accuracy(path: str) -> dict[int, float]:
    """Expected user's accuracies from csagf:evaluate's files: the metrics CSV (class_id, precision columns) or
    the confusion-matrix CSV ("reference \\ predicted" header, rows reference, classes 1..K in order)."""
    import csv

    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except OSError as exc:
        raise InputError(f"cannot read the validation file {path} ({exc}).") from exc
    if not rows:
        raise InputError(f"the validation file {path} is empty.")
    header = [h.strip() for h in rows[0]]
    if "class_id" in header and "precision" in header:
        i_id, i_p = header.index("class_id"), header.index("precision")
        out = {}
        for row in rows[1:]:
            if len(row) > max(i_id, i_p) and row[i_id].strip() and row[i_p].strip():
                out[int(row[i_id])] = float(row[i_p])
        return out
    if header and header[0].lower().startswith("reference"):
        matrix = [[float(v) for v in row[1:]] for row in rows[1:] if row]
        return users_accuracy_from_confusion(matrix, list(range(1, len(matrix) + 1)), rows="reference")
    raise InputError(f"{path} is neither csagf:evaluate's metrics CSV (class_id, precision) nor its confusion-matrix "
                     "CSV (reference \\ predicted): give one of those, or type the accuracies.")


def users_accuracy_from_card(metrics: Mapping[str, float], class_names: Mapping[int, str]) -> tuple[dict[int, float],
                                                                                                     str]:
    """Expected user's accuracies from a model card's validation metrics, and a note saying where they came from.

    Per-class precision ("val_precision_<class name>", "precision_<class name>", spaces as underscores) is the
    user's accuracy; a card without it (the cards so far keep IoU, OA and F1 only) gives its validation overall
    accuracy to every class, which the note says.
    """
    def slug(name: str) -> str:
        return name.strip().lower().replace(" ", "_")

    found: dict[int, float] = {}
    for c, name in class_names.items():
        for key in (f"val_precision_{slug(name)}", f"precision_{slug(name)}", f"test_precision_{slug(name)}"):
            if key in metrics:
                found[int(c)] = float(metrics[key])
                break
    if found:
        return found, "per-class precision of the model card's validation"
    for key in ("val_oa", "oa", "test_oa", "test_city_oa"):
        if key in metrics:
            value = float(metrics[key])
            return ({int(c): value for c in class_names},
                    f"the model card has no per-class precision: its {key} ({value:.3f}) stands for every class")
    raise InputError("the model card has no validation precision per class nor an overall accuracy (val_oa): type "
                     "the expected accuracies, or give csagf:evaluate's CSV.")
