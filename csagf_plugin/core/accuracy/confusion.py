"""Sample-count confusion matrices and the accuracy measures read from them (not area-weighted).

Convention everywhere in this package: rows are MAP classes, columns are REFERENCE classes.
These measures treat every sample point alike; under stratified sampling they are biased, and the
area-weighted estimators of `estimators.py` are the ones to report as accuracy (Olofsson et al. 2014).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InputError


def confusion_matrix(map_class: Sequence[int] | np.ndarray, ref_class: Sequence[int] | np.ndarray,
                     classes: Sequence[int] | None = None) -> np.ndarray:
    """Count points per (map class, reference class): int64 [K, K], rows map, columns reference, in `classes` order.

    `classes` defaults to the sorted union of the classes seen; a class outside `classes` raises InputError.
    """
    m = np.asarray(map_class, dtype=np.int64).ravel()
    r = np.asarray(ref_class, dtype=np.int64).ravel()
    if m.shape != r.shape:
        raise InputError(f"map_class has {m.size} values but ref_class has {r.size}: give one of each per point.")
    if classes is None:
        classes = sorted(set(np.unique(m).tolist()) | set(np.unique(r).tolist()))
    ids = np.asarray(list(classes), dtype=np.int64)
    if np.unique(ids).size != ids.size:
        raise InputError(f"classes {list(classes)} repeat a class id: list each class once.")
    order = np.argsort(ids)
    sorted_ids = ids[order]
    counts = np.zeros((ids.size, ids.size), dtype=np.int64)
    if m.size == 0:
        return counts
    for name, values in (("map", m), ("reference", r)):
        unknown = np.setdiff1d(values, ids)
        if unknown.size:
            raise InputError(f"{name} classes {unknown.tolist()} are not among the classes {ids.tolist()}: "
                             "add them to the class list or drop those points.")
    mi = order[np.searchsorted(sorted_ids, m)]
    ri = order[np.searchsorted(sorted_ids, r)]
    np.add.at(counts, (mi, ri), 1)
    return counts


def nan_ratio(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
    """num / den with NaN where den is 0 (no warning): a score with no points behind it is undefined, not 0."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def overall_accuracy(counts: np.ndarray) -> float:
    """Share of points whose map class equals their reference class (NaN for an empty matrix)."""
    counts = np.asarray(counts, dtype=np.float64)
    return float(nan_ratio(np.trace(counts), counts.sum()))


def users_accuracy(counts: np.ndarray) -> np.ndarray:
    """Per class: correct points / points mapped as the class (1 - commission error); NaN when none is mapped."""
    counts = np.asarray(counts, dtype=np.float64)
    return nan_ratio(np.diag(counts), counts.sum(axis=1))


def producers_accuracy(counts: np.ndarray) -> np.ndarray:
    """Per class: correct points / points of the class in the reference (1 - omission error); NaN when none."""
    counts = np.asarray(counts, dtype=np.float64)
    return nan_ratio(np.diag(counts), counts.sum(axis=0))


def f1_scores(counts: np.ndarray) -> np.ndarray:
    """Per class harmonic mean of user's and producer's accuracy: 2 n_kk / (n_k. + n_.k); NaN when both are 0."""
    counts = np.asarray(counts, dtype=np.float64)
    return nan_ratio(2.0 * np.diag(counts), counts.sum(axis=1) + counts.sum(axis=0))


def cohen_kappa(counts: np.ndarray) -> float:
    """Cohen's kappa (p_o - p_e) / (1 - p_e) from sample counts; NaN when undefined (empty or p_e = 1)."""
    counts = np.asarray(counts, dtype=np.float64)
    total = counts.sum()
    if total == 0:
        return float("nan")
    p_o = np.trace(counts) / total
    p_e = float(np.sum(counts.sum(axis=1) * counts.sum(axis=0))) / total ** 2
    return float(nan_ratio(p_o - p_e, 1.0 - p_e))


@dataclass
class SampleAccuracy:
    """Accuracy measures counted on the sample points, every point weighing the same."""

    classes: list[int]  # class ids, in the order of the per-class lists
    n_points: int  # points in the matrix
    overall_accuracy: float  # share of correct points
    kappa: float  # Cohen's kappa
    users_accuracy: list[float]  # per class, NaN when no point is mapped as the class
    producers_accuracy: list[float]  # per class, NaN when no reference point is of the class
    f1: list[float]  # per class

    @property
    def mean_f1(self) -> float:
        """Mean F1 over the classes where it is defined."""
        values = np.asarray(self.f1, dtype=np.float64)
        return float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")


def sample_accuracy(counts: np.ndarray, classes: Sequence[int]) -> SampleAccuracy:
    """All sample-count measures of a confusion matrix (rows map, columns reference) in one result."""
    counts = np.asarray(counts)
    if counts.ndim != 2 or counts.shape[0] != counts.shape[1] or counts.shape[0] != len(classes):
        raise InputError(f"counts must be a square matrix with one row per class ({len(classes)}), "
                         f"got shape {counts.shape}.")
    return SampleAccuracy(
        classes=[int(c) for c in classes],
        n_points=int(counts.sum()),
        overall_accuracy=overall_accuracy(counts),
        kappa=cohen_kappa(counts),
        users_accuracy=users_accuracy(counts).tolist(),
        producers_accuracy=producers_accuracy(counts).tolist(),
        f1=f1_scores(counts).tolist(),
    )
