"""Two interpreters labelling the same points: their agreement, their disagreements, and the final reference.

Olofsson et al. (2014) recommend more than one interpreter. Each labels the points on their own (two reference
fields); `interpreter_agreement` reports the share of points both labelled alike and Cohen's kappa between them,
and lists the points where they differ; `final_reference` gives the reference the estimators use: the settled
label where one was given, otherwise the common label, and none where the two still disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InputError
from .confusion import cohen_kappa, confusion_matrix, nan_ratio


@dataclass
class Disagreement:
    """One point that the two interpreters labelled differently."""

    point_id: int  # the point's id (its point_id field, or its position)
    first: int  # class given by the first interpreter
    second: int  # class given by the second interpreter
    final: int | None  # the settled class, None while not settled


@dataclass
class InterpreterAgreement:
    """How far two interpreters agree on the points that both labelled."""

    n_both: int  # points labelled by both
    n_first_only: int  # points labelled by the first interpreter only
    n_second_only: int  # points labelled by the second interpreter only
    agreement: float  # share of n_both with the same label (NaN when n_both is 0)
    kappa: float  # Cohen's kappa between the two interpreters (NaN when undefined)
    classes: list[int]  # classes of the matrix
    matrix: np.ndarray  # int64 [K, K]: rows first interpreter, columns second
    disagreements: list[Disagreement] = field(default_factory=list)

    @property
    def unsettled(self) -> int:
        """Disagreements without a final label."""
        return sum(1 for d in self.disagreements if d.final is None)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready values (the estimators' `_json_ready` turns NaN into null)."""
        return {"n_both": self.n_both, "n_first_only": self.n_first_only, "n_second_only": self.n_second_only,
                "agreement": self.agreement, "kappa": self.kappa, "classes": self.classes,
                "matrix": self.matrix.tolist(), "unsettled": self.unsettled,
                "disagreements": [{"point_id": d.point_id, "first": d.first, "second": d.second, "final": d.final}
                                  for d in self.disagreements]}


def _as_labels(values: Sequence[int | None] | np.ndarray, n: int, what: str) -> np.ndarray:
    """int64 labels with 0 for a missing label (None, NaN, <= 0)."""
    items = list(values)
    if len(items) != n:
        raise InputError(f"{what} has {len(items)} values for {n} points: give one per point.")
    out = np.zeros(n, dtype=np.int64)
    for i, v in enumerate(items):
        if v is None:
            continue
        f = float(v)
        if np.isfinite(f) and f > 0:
            out[i] = int(f)
    return out


def interpreter_agreement(first: Sequence[int | None] | np.ndarray, second: Sequence[int | None] | np.ndarray,
                          point_ids: Sequence[int] | None = None,
                          final: Sequence[int | None] | np.ndarray | None = None) -> InterpreterAgreement:
    """Agreement share, Cohen's kappa and the list of disagreements of two interpreters' labels, point by point.

    Labels are class ids; None, NaN and values <= 0 mean "not labelled". `final` gives settled labels, if any.
    """
    n = len(first)
    a = _as_labels(first, n, "the first interpreter's labels")
    b = _as_labels(second, n, "the second interpreter's labels")
    settled = _as_labels(final, n, "the final labels") if final is not None else np.zeros(n, dtype=np.int64)
    ids = list(point_ids) if point_ids is not None else list(range(1, n + 1))
    if len(ids) != n:
        raise InputError(f"{len(ids)} point ids for {n} points.")
    both = (a > 0) & (b > 0)
    classes = sorted(set(a[both].tolist()) | set(b[both].tolist()))
    matrix = confusion_matrix(a[both], b[both], classes)
    agreement = float(nan_ratio(np.trace(matrix), matrix.sum()))
    kappa = cohen_kappa(matrix) if matrix.sum() else float("nan")
    disagreements = [Disagreement(int(ids[i]), int(a[i]), int(b[i]), int(settled[i]) if settled[i] > 0 else None)
                     for i in np.flatnonzero(both & (a != b))]
    return InterpreterAgreement(n_both=int(both.sum()), n_first_only=int(((a > 0) & (b == 0)).sum()),
                                n_second_only=int(((a == 0) & (b > 0)).sum()), agreement=agreement, kappa=kappa,
                                classes=classes, matrix=matrix, disagreements=disagreements)


def final_reference(first: Sequence[int | None] | np.ndarray, second: Sequence[int | None] | np.ndarray,
                    final: Sequence[int | None] | np.ndarray | None = None) -> list[int | None]:
    """The reference per point: the settled label, else the label both gave (or the only one given), else None.

    A point that one interpreter labelled and the other did not keeps the one label; a disagreement that is not
    settled gives None (the point is left out and counted).
    """
    n = len(first)
    a = _as_labels(first, n, "the first interpreter's labels")
    b = _as_labels(second, n, "the second interpreter's labels")
    settled = _as_labels(final, n, "the final labels") if final is not None else np.zeros(n, dtype=np.int64)
    out: list[int | None] = []
    for x, y, s in zip(a.tolist(), b.tolist(), settled.tolist()):
        if s > 0:
            out.append(s)
        elif x > 0 and y > 0:
            out.append(x if x == y else None)
        else:
            out.append(x or y or None)
    return out
