"""Segmentation accuracy from a confusion matrix: per-class IoU, precision, recall, F1, mIoU, macro F1, OA.

Class ids are 1..num_classes; reference pixels equal to 0 (no label) are ignored, and so are pixels the map left
as 0 (no data). Rows of the matrix are the reference, columns the prediction. A class absent from both reference
and prediction has undefined (NaN) scores and is left out of the means.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.accuracy.confusion import nan_ratio


def confusion_matrix(reference: np.ndarray, predicted: np.ndarray, num_classes: int = 7) -> np.ndarray:
    """[num_classes, num_classes] int64 counts, row = reference class id - 1, column = predicted class id - 1."""
    ref = np.asarray(reference).ravel().astype(np.int64)
    pred = np.asarray(predicted).ravel().astype(np.int64)
    if ref.shape != pred.shape:
        raise ValueError(f"reference and prediction differ in size ({ref.size} vs {pred.size})")
    keep = (ref >= 1) & (ref <= num_classes) & (pred >= 1) & (pred <= num_classes)
    idx = (ref[keep] - 1) * num_classes + (pred[keep] - 1)
    return np.bincount(idx, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


@dataclass
class SegmentationMetrics:
    """Scores of one confusion matrix."""

    confusion: np.ndarray  # [C, C] counts, rows reference, columns prediction
    iou: np.ndarray  # [C] TP / (TP + FP + FN), NaN when the class is absent from both
    precision: np.ndarray  # [C] TP / (TP + FP)
    recall: np.ndarray  # [C] TP / (TP + FN)
    f1: np.ndarray  # [C] harmonic mean of precision and recall
    miou: float  # mean IoU over classes present in reference or prediction
    macro_f1: float  # mean F1 over the same classes
    oa: float  # overall accuracy: correct / all counted pixels

    def summary(self) -> dict[str, float]:
        """The headline numbers (mIoU, macro F1, OA) as plain floats."""
        return {"miou": float(self.miou), "macro_f1": float(self.macro_f1), "oa": float(self.oa)}

    def to_dict(self, class_names: list[str] | None = None) -> dict:
        """Everything as JSON-ready values; per-class entries keyed by class name (or id)."""
        names = class_names or [str(i + 1) for i in range(len(self.iou))]
        per_class = {n: {"iou": _num(self.iou[k]), "precision": _num(self.precision[k]),
                         "recall": _num(self.recall[k]), "f1": _num(self.f1[k]),
                         "reference_pixels": int(self.confusion[k].sum()),
                         "predicted_pixels": int(self.confusion[:, k].sum())} for k, n in enumerate(names)}
        return {**{k: _num(v) for k, v in self.summary().items()}, "pixels": int(self.confusion.sum()),
                "per_class": per_class, "confusion": self.confusion.tolist()}


def _num(x: float) -> float | None:
    return None if not np.isfinite(x) else float(x)


def metrics_from_confusion(confusion: np.ndarray) -> SegmentationMetrics:
    """All scores of a confusion matrix (rows reference, columns prediction)."""
    cm = np.asarray(confusion, dtype=np.float64)
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    iou = nan_ratio(tp, tp + fp + fn)
    precision = nan_ratio(tp, tp + fp)
    recall = nan_ratio(tp, tp + fn)
    f1 = nan_ratio(2 * tp, 2 * tp + fp + fn)  # equals 2PR/(P+R), and is 0 (not NaN) when TP = 0
    present = (tp + fp + fn) > 0
    miou = float(np.mean(iou[present])) if present.any() else float("nan")
    macro_f1 = float(np.mean(f1[present])) if present.any() else float("nan")
    oa = float(nan_ratio(tp.sum(), cm.sum()))
    return SegmentationMetrics(np.asarray(confusion, dtype=np.int64), iou, precision, recall, f1, miou, macro_f1, oa)


def segmentation_metrics(reference: np.ndarray, predicted: np.ndarray, num_classes: int = 7) -> SegmentationMetrics:
    """Scores of a predicted class-id map against a reference map (0 ignored in both)."""
    return metrics_from_confusion(confusion_matrix(reference, predicted, num_classes))
