"""Segmentation metrics against numbers worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from csagf_plugin.training.metrics import confusion_matrix, metrics_from_confusion, segmentation_metrics


def test_confusion_matrix_counts_and_ignores_zero() -> None:
    reference = np.array([[1, 1, 2, 0], [2, 3, 3, 3]])
    predicted = np.array([[1, 2, 2, 3], [2, 3, 1, 0]])
    cm = confusion_matrix(reference, predicted, num_classes=3)
    # pairs (ref, pred) kept: (1,1) (1,2) (2,2) (2,2) (3,3) (3,1); (0,3) has no reference, (3,0) no prediction
    assert cm.tolist() == [[1, 1, 0], [0, 2, 0], [1, 0, 1]]


def test_scores_by_hand() -> None:
    cm = np.array([[1, 1, 0], [0, 2, 0], [1, 0, 1]])
    m = metrics_from_confusion(cm)
    # class 1: TP 1, FP 1 (from class 3), FN 1 -> IoU 1/3, P 1/2, R 1/2, F1 1/2
    # class 2: TP 2, FP 1, FN 0 -> IoU 2/3, P 2/3, R 1, F1 4/5
    # class 3: TP 1, FP 0, FN 1 -> IoU 1/2, P 1, R 1/2, F1 2/3
    np.testing.assert_allclose(m.iou, [1 / 3, 2 / 3, 1 / 2])
    np.testing.assert_allclose(m.precision, [1 / 2, 2 / 3, 1])
    np.testing.assert_allclose(m.recall, [1 / 2, 1, 1 / 2])
    np.testing.assert_allclose(m.f1, [1 / 2, 4 / 5, 2 / 3])
    assert m.miou == pytest.approx((1 / 3 + 2 / 3 + 1 / 2) / 3)
    assert m.macro_f1 == pytest.approx((1 / 2 + 4 / 5 + 2 / 3) / 3)
    assert m.oa == pytest.approx(4 / 6)


def test_absent_class_is_left_out_of_the_means() -> None:
    reference = np.array([1, 1, 2, 2])
    predicted = np.array([1, 1, 2, 1])
    m = segmentation_metrics(reference, predicted, num_classes=7)
    assert np.isnan(m.iou[2:]).all()
    # class 1: TP 2, FP 1 -> IoU 2/3; class 2: TP 1, FN 1 -> IoU 1/2
    assert m.miou == pytest.approx((2 / 3 + 1 / 2) / 2)
    assert m.oa == pytest.approx(3 / 4)
    d = m.to_dict([str(i) for i in range(1, 8)])
    assert d["per_class"]["3"]["iou"] is None and d["pixels"] == 4


def test_class_never_predicted_has_zero_f1_not_nan() -> None:
    m = segmentation_metrics(np.array([1, 2]), np.array([1, 1]), num_classes=2)
    assert m.f1[1] == 0.0 and np.isnan(m.precision[1]) and m.recall[1] == 0.0
