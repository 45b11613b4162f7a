"""Pictures of a training run: loss and mIoU curves, and a confusion matrix (matplotlib, no display needed)."""

from __future__ import annotations

import os

import numpy as np


def _figure(width: float, height: float):
    """A matplotlib Figure on its own Agg canvas: no pyplot, so QGIS's (or anyone's) backend is left alone."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def plot_training_curves(history: list[dict[str, float]], path: str | os.PathLike) -> str:
    """Training/validation loss and validation mIoU per epoch, side by side, as a PNG; returns the path."""
    epochs = [row["epoch"] for row in history]
    fig = _figure(10, 4)
    ax_loss, ax_iou = fig.subplots(1, 2)
    ax_loss.plot(epochs, [row["train_loss"] for row in history], marker="o", label="training")
    ax_loss.plot(epochs, [row["val_loss"] for row in history], marker="o", label="validation")
    ax_loss.set_xlabel("epoch")
    ax_loss.set_ylabel("loss")
    ax_loss.legend()
    ax_loss.grid(alpha=0.3)
    ax_iou.plot(epochs, [row["val_miou"] for row in history], marker="o", color="tab:green", label="mIoU")
    ax_iou.plot(epochs, [row["val_oa"] for row in history], marker=".", color="tab:gray", label="OA")
    ax_iou.set_xlabel("epoch")
    ax_iou.set_ylabel("validation score")
    ax_iou.set_ylim(0, 1)
    ax_iou.legend()
    ax_iou.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=100)
    return os.fspath(path)


def plot_confusion_matrix(confusion: np.ndarray, class_names: list[str], path: str | os.PathLike,
                          title: str = "Confusion matrix") -> str:
    """Row-normalised confusion matrix (reference rows, predicted columns) with pixel counts, as a PNG."""
    cm = np.asarray(confusion, dtype=np.float64)
    rows = cm.sum(axis=1, keepdims=True)
    share = np.divide(cm, rows, out=np.zeros_like(cm), where=rows > 0)
    n = len(class_names)
    fig = _figure(1.1 * n + 3, 1.0 * n + 2)
    ax = fig.subplots()
    image = ax.imshow(share, cmap="Blues", vmin=0, vmax=1)
    fig.colorbar(image, ax=ax, fraction=0.046, label="share of reference pixels")
    ax.set_xticks(range(n), class_names, rotation=45, ha="right")
    ax.set_yticks(range(n), class_names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("reference")
    ax.set_title(title)
    for r in range(n):
        for c in range(n):
            if cm[r, c]:
                ax.text(c, r, f"{share[r, c]:.2f}\n{int(cm[r, c])}", ha="center", va="center", fontsize=7,
                        color="white" if share[r, c] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(os.fspath(path), dpi=100)
    return os.fspath(path)
