"""Accuracy of a classified map against reference labels (raster or polygons + mapping): CSV, JSON and PNG."""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from ..core.model_card import FUNCTIONAL_CLASSES
from ..core.progress import Progress, SilentProgress, Warn, ignore_warning
from ..core.raster import open_raster
from ..core.safe_output import atomic_outputs
from .labels import ClassMapping, labels_on_grid
from .metrics import SegmentationMetrics, confusion_matrix, metrics_from_confusion
from .outputs import EVALUATE_OUTPUTS, check_evaluate_outputs

CSV_FIELDS = ["class_id", "class_name", "iou", "precision", "recall", "f1", "reference_pixels", "predicted_pixels",
              "oa"]


@dataclass
class EvaluateConfig:
    """A classified raster, the reference to compare it with, and where to write the report."""

    classified: str  # raster of class ids 1..7 (0 = no data), e.g. a csagf:classify output
    reference: str  # raster of class ids, or a polygon layer (with a mapping or a class-id field)
    output_dir: str  # folder for <name>.csv, <name>.json, <name>_confusion.csv and <name>_confusion.png
    reference_layer: str | None = None  # layer inside a multi-layer vector reference
    class_field: str | None = None  # field of the reference polygons holding the class (or the mapped value)
    mapping: str | None = None  # CSV/JSON mapping of the reference's values; None: class ids or the OSM default
    name: str = "evaluation"  # base name of the output files


@dataclass
class EvaluationResult:
    """Scores and the files that hold them."""

    metrics: SegmentationMetrics
    csv: str  # per-class scores, plus an "all" row with mIoU, macro F1 and OA
    json: str  # everything, confusion matrix included
    confusion_csv: str  # the confusion matrix (rows reference, columns prediction)
    png: str  # row-normalised confusion matrix picture


def _fmt(x: float) -> str:
    return "" if not np.isfinite(x) else f"{x:.6f}"


def write_metrics_csv(path: str | os.PathLike, metrics: SegmentationMetrics, class_names: list[str]) -> str:
    """Per-class IoU, precision, recall, F1 and pixel counts, then an `all` row (mIoU, macro F1, OA)."""
    with open(path, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=CSV_FIELDS)
        writer.writeheader()
        for k, name in enumerate(class_names):
            writer.writerow({"class_id": k + 1, "class_name": name, "iou": _fmt(metrics.iou[k]),
                             "precision": _fmt(metrics.precision[k]), "recall": _fmt(metrics.recall[k]),
                             "f1": _fmt(metrics.f1[k]), "reference_pixels": int(metrics.confusion[k].sum()),
                             "predicted_pixels": int(metrics.confusion[:, k].sum()), "oa": ""})
        writer.writerow({"class_id": "", "class_name": "all (mean over present classes)", "iou": _fmt(metrics.miou),
                         "precision": "", "recall": "", "f1": _fmt(metrics.macro_f1),
                         "reference_pixels": int(metrics.confusion.sum()),
                         "predicted_pixels": int(metrics.confusion.sum()), "oa": _fmt(metrics.oa)})
    return os.fspath(path)


def evaluate(config: EvaluateConfig, progress: Progress | None = None,
             warn: Warn = ignore_warning) -> EvaluationResult:
    """Compare the classified raster with the reference on the classified raster's grid and write the report."""
    from .plots import plot_confusion_matrix

    progress = progress or SilentProgress()
    check_evaluate_outputs(config, warn)
    mapping = ClassMapping.from_file(config.mapping, config.class_field) if config.mapping else None
    with open_raster(config.classified, "Classified") as src:
        classified = src.read(1)
        if src.nodata is not None:
            classified = np.where(classified == src.nodata, 0, classified)
        progress.set_progress(20)
        reference = labels_on_grid(config.reference, src.crs, src.transform, src.width, src.height, mapping,
                                   config.reference_layer, config.class_field, warn)
    progress.set_progress(60)
    labelled = reference > 0
    if not labelled.any():
        raise InputError(f"The reference {config.reference} labels no pixel of the classified raster "
                         f"{config.classified}: check that both cover the same place and the class mapping.")
    unclassified = int(np.count_nonzero(labelled & (classified == 0)))
    if unclassified:
        warn(f"{unclassified} labelled reference pixels are no data in the classified raster; they are left out.")
    outside = np.unique(classified[(classified > len(FUNCTIONAL_CLASSES))])
    if outside.size:
        warn(f"The classified raster holds values {outside.tolist()[:20]} that are not class ids 1..7; left out.")
    metrics = metrics_from_confusion(confusion_matrix(reference, classified, len(FUNCTIONAL_CLASSES)))
    names = [c.name for c in FUNCTIONAL_CLASSES]
    finals = [os.path.join(config.output_dir, f"{config.name}{suffix}") for suffix in EVALUATE_OUTPUTS]
    with atomic_outputs(finals, "evaluation report") as (csv_path, json_path, cm_path, png_path):
        write_metrics_csv(csv_path, metrics, names)
        Path(json_path).write_text(json.dumps({"classified": os.fspath(config.classified),
                                               "reference": os.fspath(config.reference),
                                               **metrics.to_dict(names)}, indent=1))
        with open(cm_path, "w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["reference \\ predicted", *names])
            for name, row in zip(names, metrics.confusion):
                writer.writerow([name, *row.tolist()])
        plot_confusion_matrix(metrics.confusion, names, png_path,
                              f"{Path(config.classified).name}: mIoU {metrics.miou:.3f}, OA {metrics.oa:.3f}")
    progress.set_progress(100)
    return EvaluationResult(metrics, *finals)
