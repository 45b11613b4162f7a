"""What the experiments compare and how their results are shown: the models, the paper's numbers, the markdown
tables and the pictures (test area, every model's map, the gate map, the difference map).

Part of benchmarks/experiments.py (the paper's experiments on the synthetic benchmark city).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES

if TYPE_CHECKING:
    from experiment_scene import SceneMaps

CSAGF_VARIANTS = ("vhr", "cat", "oafa", "full")
BASELINES = ("unet", "deeplabv3plus", "fpn", "pspnet", "pan")
ALL_MODELS = CSAGF_VARIANTS + BASELINES
CLASS_NAMES = [c.name for c in FUNCTIONAL_CLASSES]

# The paper's own numbers (PAPER.md, "Results the paper reports"; Guangzhou data, not public). None = not reported.
PAPER_RESULTS: dict[str, dict[str, float | None]] = {
    "full": {"miou": 0.853, "macro_f1": 0.894, "oa": 0.934},
    "oafa": {"miou": 0.789, "macro_f1": 0.804, "oa": 0.843},
    "vhr": {"miou": 0.743, "macro_f1": 0.727, "oa": None},
    "cat": {"miou": 0.713, "macro_f1": None, "oa": None},
    "unet": {"miou": 0.812, "macro_f1": None, "oa": None},
    "fpn": {"miou": 0.789, "macro_f1": None, "oa": None},
    "pspnet": {"miou": 0.747, "macro_f1": None, "oa": None},
    "pan": {"miou": 0.693, "macro_f1": None, "oa": None},
    "deeplabv3plus": {"miou": None, "macro_f1": 0.836, "oa": None},
}
MODEL_LABELS = {"full": "CSAGFNet (full: alignment + gated fusion)", "oafa": "CSAGFNet-OAFA (alignment, concat)",
                "cat": "CSAGFNet-Cat (concat, no alignment)", "vhr": "CSAGFNet-VHR (VHR stream only)",
                "unet": "U-Net, ResNet34 (VHR)", "deeplabv3plus": "DeepLabV3+, ResNet34 (VHR)",
                "fpn": "FPN, ResNet34 (VHR)", "pspnet": "PSPNet, ResNet34 (VHR)", "pan": "PAN, ResNet34 (VHR)"}
PICTURE_PX = 1024  # long side of the pictures' panels (the test city is decimated to this)

# ------------------------------------------------------------------------------------------------------ report

def _fmt(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3f}"


def markdown_tables(results: dict) -> str:
    """Headline table (ours beside the paper's) and per-class IoU table, in markdown."""
    models = [m for m in ALL_MODELS if m in results["models"]]
    lines = ["| model | test mIoU | test macro F1 | test OA | paper mIoU | paper F1 | paper OA | epochs (best) "
             "| train min |", "|---|---|---|---|---|---|---|---|---|"]
    for m in models:
        r, p = results["models"][m], PAPER_RESULTS[m]
        t = r["test"]
        lines.append(f"| {MODEL_LABELS[m]} | {_fmt(t['miou'])} | {_fmt(t['macro_f1'])} | {_fmt(t['oa'])} | "
                     f"{_fmt(p['miou'])} | {_fmt(p['macro_f1'])} | {_fmt(p['oa'])} | {r['epochs_run']} "
                     f"({r['best_epoch']}) | {r['train_seconds'] / 60:.1f} |")
    short = ["resid.", "comm.", "indus.", "green", "streets", "water", "non-dev."]
    lines += ["", "Per-class IoU on the test city:", "",
              "| model | " + " | ".join(short) + " |", "|---|" + "---|" * len(short)]
    for m in models:
        per = results["models"][m]["test"]["per_class"]
        lines.append(f"| {m} | " + " | ".join(_fmt(per[n]["iou"]) for n in CLASS_NAMES) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------- pictures

def _decimate(a: np.ndarray, step: int) -> np.ndarray:
    return a[..., ::step, ::step]


def _class_rgba(labels: np.ndarray) -> np.ndarray:
    lut = np.zeros((256, 4), np.float32)
    for c in FUNCTIONAL_CLASSES:
        lut[c.id] = [int(c.color[i:i + 2], 16) / 255 for i in (1, 3, 5)] + [1.0]
    return lut[labels]


def _rgb(vhr: np.ndarray) -> np.ndarray:
    x = np.moveaxis(vhr.astype(np.float32), 0, -1)
    lo, hi = np.percentile(x, 1), np.percentile(x, 99)
    return np.clip((x - lo) / max(hi - lo, 1e-6), 0, 1)


def _figure(ncols: int, nrows: int = 1, size: float = 4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size * ncols, size * nrows + 0.8), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, axes


def _legend(fig) -> None:
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(facecolor=c.color, edgecolor="black", linewidth=0.3, label=c.name)
                        for c in FUNCTIONAL_CLASSES], loc="lower center", ncol=4, frameon=False, fontsize=9)


def draw_pictures(scene: SceneMaps, results: dict, folder: Path) -> dict[str, str]:
    """PNG files: test area, every model's map, gate map and difference map; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    step = max(1, math.ceil(max(scene.labels.shape) / PICTURE_PX))
    rgb = _rgb(_decimate(scene.vhr, step))
    labels = _decimate(scene.labels, step)
    ntl = np.log1p(np.clip(_decimate(scene.ntl, step), 0, None))
    written = {}

    fig, ax = _figure(3)
    ax[0, 0].imshow(rgb)
    ax[0, 0].set_title("VHR (test city)")
    im = ax[0, 1].imshow(ntl, cmap="magma")
    ax[0, 1].set_title("NTL on the VHR grid, log(1 + radiance)")
    fig.colorbar(im, ax=ax[0, 1], fraction=0.046, pad=0.02)
    ax[0, 2].imshow(_class_rgba(labels), interpolation="nearest")
    ax[0, 2].set_title("Reference labels")
    _legend(fig)
    fig.suptitle(f"Held-out SYNTHETIC test city (seed {results['config']['test_seed']})")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.88, bottom=0.12, wspace=0.08)
    written["test_area"] = str(folder / "test_area.png")
    fig.savefig(written["test_area"])

    models = [m for m in ALL_MODELS if m in scene.predictions]
    ncols = min(5, len(models) + 1)
    nrows = math.ceil((len(models) + 1) / ncols)
    fig, ax = _figure(ncols, nrows, 3.2)
    panels = [("reference", labels)] + [(m, _decimate(scene.predictions[m], step)) for m in models]
    for a, (name, data) in zip(ax.ravel(), panels):
        a.imshow(_class_rgba(data), interpolation="nearest")
        title = name if name == "reference" else f"{name}: mIoU {results['models'][name]['test']['miou']:.3f}"
        a.set_title(title, fontsize=10)
    for a in ax.ravel()[len(panels):]:
        a.axis("off")
    _legend(fig)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.95, bottom=0.1, wspace=0.05, hspace=0.12)
    written["predictions"] = str(folder / "predictions.png")
    fig.savefig(written["predictions"])

    if scene.gate is not None:
        fig, ax = _figure(3)
        ax[0, 0].imshow(rgb)
        ax[0, 0].set_title("VHR (test city)")
        ax[0, 1].imshow(ntl, cmap="magma")
        ax[0, 1].set_title("NTL, log(1 + radiance)")
        weight = 1.0 - _decimate(scene.gate, step)
        lo, hi = (float(v) for v in np.percentile(weight, [2, 98]))
        im = ax[0, 2].imshow(weight, cmap="viridis", vmin=lo, vmax=max(hi, lo + 1e-3))
        ax[0, 2].set_title(f"Night-light weight 1 - G (full model), {lo:.2f} to {hi:.2f}", fontsize=10)
        fig.colorbar(im, ax=ax[0, 2], fraction=0.046, pad=0.02)
        fig.suptitle("Gated fusion: where night light drove the decision (bright = NTL features weighted more; "
                     "colours stretched over the 2-98 % range)")
        fig.subplots_adjust(left=0.01, right=0.97, top=0.88, bottom=0.04, wspace=0.1)
        written["gate_map"] = str(folder / "gate_map.png")
        fig.savefig(written["gate_map"])

    if "full" in scene.predictions and "vhr" in scene.predictions:
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        lab = scene.labels
        right_full = scene.predictions["full"] == lab
        right_vhr = scene.predictions["vhr"] == lab
        code = np.zeros(lab.shape, np.uint8)  # 0 unlabelled, 1 both right, 2 only full, 3 only vhr, 4 both wrong
        code[(lab > 0) & right_full & right_vhr] = 1
        code[(lab > 0) & right_full & ~right_vhr] = 2
        code[(lab > 0) & ~right_full & right_vhr] = 3
        code[(lab > 0) & ~right_full & ~right_vhr] = 4
        colours = ["#ffffff", "#d9d9d9", "#1a9850", "#d73027", "#404040"]
        shares = results.get("full_vs_vhr", {})
        names = ["unlabelled", f"both right ({shares.get('both_right', 0):.1%})",
                 f"only full right ({shares.get('only_full_right', 0):.1%})",
                 f"only VHR-only right ({shares.get('only_vhr_right', 0):.1%})",
                 f"both wrong ({shares.get('both_wrong', 0):.1%})"]
        fig, ax = _figure(2, 1, 5.0)
        ax[0, 0].imshow(rgb)
        ax[0, 0].set_title("VHR (test city)")
        ax[0, 1].imshow(_decimate(code, step), cmap=ListedColormap(colours), vmin=0, vmax=4, interpolation="nearest")
        ax[0, 1].set_title("Full CSAGFNet vs CSAGFNet-VHR")
        fig.legend(handles=[Patch(facecolor=c, edgecolor="black", linewidth=0.3, label=n)
                            for c, n in zip(colours[1:], names[1:])], loc="lower center", ncol=2, frameon=False)
        fig.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.14, wspace=0.05)
        written["difference_map"] = str(folder / "difference_map.png")
        fig.savefig(written["difference_map"])
    return written


# ------------------------------------------------------------------------------------------------------ export
