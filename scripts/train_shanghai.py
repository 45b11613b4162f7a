"""Train the bundled Shanghai model: full CSAGFNet (small width) on the 10 labelled Pudong tiles with VIIRS night light.

    .venv/bin/python scripts/train_shanghai.py [--data ../shared/data/shanghai_pudong] [--epochs 12]

Reads the data where it lies (never copies it): vhr/google_<x>_<y>.tif (RGBA, EPSG:3857),
labels_visual/google_<x>_<y>_labels.tif (coarse visual labels, 32 px cells) and ntl/viirs_dnb_2025.tif.
Validation holds out whole tiles: the split uses one spatial block per tile (512 px), so no validation pixel was
seen in training.  After training, the held-out tiles are classified through csagf_plugin.core.classify (the
plugin's own inference path, with tile blending) and compared with their labels: those are the validation metrics
written into the model card.  The four unlabelled tiles are then classified and small previews written to
docs/img/.  The imagery has no licence: it is read for development only; nothing of it is written into the
repository except downscaled previews.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from csagf_plugin.core.errors import CsagfError, InputError  # noqa: E402
from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES, ModelCard  # noqa: E402

LABELLED = ["google_0_10", "google_0_9", "google_3_5", "google_3_6", "google_5_0", "google_5_5", "google_5_6",
            "google_6_0", "google_6_1", "google_7_10"]
UNLABELLED = ["google_2_7", "google_5_10", "google_6_4", "google_8_1"]
NTL_FILE = "ntl/viirs_dnb_2025.tif"


def say(message: str) -> None:
    """Progress line on stdout, flushed at once."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class Deadline:
    """A Progress that cancels training after `seconds` (train keeps its best epoch)."""

    def __init__(self, seconds: float | None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds

    def set_progress(self, percent: float) -> None:
        """Epochs are logged by train's log callback."""

    def is_canceled(self) -> bool:
        """True once the time is up."""
        return self.deadline is not None and time.monotonic() > self.deadline


def check_data(data: Path) -> None:
    """Raise InputError naming what is missing from the Shanghai data folder."""
    needed = [data / NTL_FILE] + [data / "vhr" / f"{t}.tif" for t in LABELLED + UNLABELLED] + \
             [data / "labels_visual" / f"{t}_labels.tif" for t in LABELLED]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise InputError(f"The Shanghai data is incomplete: {missing[:5]} (and {max(0, len(missing) - 5)} more) "
                         "missing; give --data the shanghai_pudong folder of ../shared/data.")


def validation_through_classify(model_path: Path, data: Path, tiles: list[str], folder: Path) -> dict:
    """Classify held-out tiles with the plugin's inference and score them against their labels (cells pooled)."""
    import numpy as np
    import rasterio

    from csagf_plugin.core.classify import ClassifyConfig, classify_scene
    from csagf_plugin.training.metrics import confusion_matrix, metrics_from_confusion

    cm = np.zeros((len(FUNCTIONAL_CLASSES),) * 2, dtype=np.int64)
    for tile in tiles:
        out = folder / f"{tile}_val.tif"
        classify_scene(ClassifyConfig(str(data / "vhr" / f"{tile}.tif"), str(data / NTL_FILE), str(model_path),
                                      str(out)), warn=None)
        with rasterio.open(out) as pred, rasterio.open(data / "labels_visual" / f"{tile}_labels.tif") as ref:
            cm += confusion_matrix(ref.read(1), pred.read(1), len(FUNCTIONAL_CLASSES))
    return metrics_from_confusion(cm).to_dict([c.name for c in FUNCTIONAL_CLASSES])


def classify_unlabelled(model_path: Path, data: Path, folder: Path, img_dir: Path,
                        prefix: str = "shanghai") -> dict[str, dict[str, float]]:
    """Classify the four unlabelled tiles, write small previews to img_dir; return class shares per tile."""
    import numpy as np
    import rasterio

    from csagf_plugin.core.classify import ClassifyConfig, classify_scene
    from csagf_plugin.core.style import preview_png

    img_dir.mkdir(parents=True, exist_ok=True)
    shares = {}
    for tile in UNLABELLED:
        vhr = data / "vhr" / f"{tile}.tif"
        out = folder / f"{tile}_zones.tif"
        classify_scene(ClassifyConfig(str(vhr), str(data / NTL_FILE), str(model_path), str(out)), warn=None)
        preview_png(vhr, out, img_dir / f"{prefix}_{tile}.png", max_pixels=256, dpi=60,
                    title=f"Shanghai Pudong {tile} (no labels): {model_path.stem}")
        with rasterio.open(out) as src:
            counts = np.bincount(src.read(1).ravel(), minlength=8)
        total = max(int(counts[1:].sum()), 1)
        shares[tile] = {c.name: round(float(counts[c.id] / total), 3) for c in FUNCTIONAL_CLASSES}
        say(f"{tile}: {shares[tile]}")
    return shares


def run(data: Path, model_out: Path, img_dir: Path, epochs: int, batch_size: int, time_budget_min: float | None,
        threads: int, work: Path) -> dict:
    """Train, validate through classify, export with the card, classify the unlabelled tiles; return a summary."""
    import torch

    from csagf_plugin.training.checkpoint import model_from_checkpoint
    from csagf_plugin.training.export import export_onnx
    from csagf_plugin.training.fit import TrainConfig, train
    from csagf_plugin.training.splits import split_by_blocks
    from csagf_plugin.training.tiles import PrepareConfig, SceneSource, prepare_tiles

    check_data(data)
    if threads:
        torch.set_num_threads(threads)
    store = prepare_tiles(PrepareConfig([SceneSource(str(data / "vhr" / f"{t}.tif"),
                                                     str(data / "labels_visual" / f"{t}_labels.tif"))
                                         for t in LABELLED], str(data / NTL_FILE), tile_size=256, stride=128))
    split_args = {"block_size": 512, "val_share": 0.2, "test_share": 0.0, "seed": 0}
    split = split_by_blocks(store.scene, store.origin, store.tile_size, split_args["block_size"],
                            split_args["val_share"], split_args["test_share"], split_args["seed"])
    val_tiles = sorted({LABELLED[s] for s in store.scene[split.val]})
    train_tiles = sorted({LABELLED[s] for s in store.scene[split.train]})
    say(f"{store.num_tiles} tiles; training tiles {train_tiles}; held-out validation tiles {val_tiles}")
    started = time.perf_counter()
    config = TrainConfig(output_dir=str(work / "run"), tiles=store.save(work / "tiles.npz"), model="full",
                         width="small", epochs=epochs, batch_size=batch_size, patience=epochs,
                         name="csagfnet_shanghai", export=False, **split_args)
    result = train(config,
                   Deadline(None if time_budget_min is None else 60 * time_budget_min),
                   warn=lambda m: say(f"warning: {m}"), log=say)
    minutes = (time.perf_counter() - started) / 60
    say(f"trained {result.epochs_run} epochs in {minutes:.1f} min, best epoch {result.best_epoch}")

    model, meta = model_from_checkpoint(result.best_checkpoint)
    card = ModelCard.from_json(meta["card"], result.best_checkpoint)
    card.name = "csagfnet_shanghai"
    card.trained = True
    tmp_model = work / "csagfnet_shanghai.onnx"
    export_onnx(model, tmp_model, card)
    val = validation_through_classify(tmp_model, data, val_tiles, work)
    say(f"validation through classify on {val_tiles}: mIoU {val['miou']:.3f}, macro F1 {val['macro_f1']:.3f}, "
        f"OA {val['oa']:.3f}")
    card.training_data = (
        f"Shanghai Pudong (121.48-121.52 E, 31.10-31.14 N): {len(train_tiles)} Google Earth tiles of 512 px "
        f"(about 0.86 m, EPSG:3857; imagery without licence, used for development only and not redistributed) "
        f"{train_tiles}, coarse visual labels on 32 px cells, VIIRS DNB 2025 annual radiance (about 460 m). "
        f"Held-out validation tiles {val_tiles}. Full CSAGFNet, small width, {result.epochs_run} epochs, batch "
        f"{batch_size}, {minutes:.0f} min on 2 CPU cores.")
    card.metrics = {"val_miou": round(val["miou"], 4), "val_macro_f1": round(val["macro_f1"], 4),
                    "val_oa": round(val["oa"], 4), "best_epoch": result.best_epoch,
                    **{f"val_iou_{n.lower().replace(' ', '_')}": round(v["iou"], 4)
                       for n, v in val["per_class"].items() if v["iou"] is not None}}
    export_onnx(model, model_out, card)
    say(f"model written to {model_out} ({model_out.stat().st_size / 1e6:.2f} MB)")
    shares = classify_unlabelled(model_out, data, work, img_dir)
    return {"train_tiles": train_tiles, "validation_tiles": val_tiles, "epochs_run": result.epochs_run,
            "best_epoch": result.best_epoch, "train_minutes": round(minutes, 1), "validation": val,
            "history": result.history, "unlabelled_class_shares": shares, "model": str(model_out),
            "model_mb": round(model_out.stat().st_size / 1e6, 2)}


def main(argv: list[str] | None = None) -> int:
    """Command line; typed errors become one line and exit code 2."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "shanghai_pudong",
                   help="the shanghai_pudong data folder (default ../shared/data/shanghai_pudong)")
    p.add_argument("--model-out", type=Path, default=REPO / "models" / "csagfnet_shanghai.onnx")
    p.add_argument("--img-dir", type=Path, default=REPO / "docs" / "img", help="where the previews go")
    p.add_argument("--summary", type=Path, default=None, help="write the run's summary JSON here")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--time-budget-min", type=float, default=None, help="cancel training after this many minutes")
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    a = p.parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="csagf_shanghai_") as work:
            summary = run(a.data, a.model_out, a.img_dir, a.epochs, a.batch_size, a.time_budget_min, a.threads,
                          Path(work))
    except CsagfError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    text = json.dumps(summary, indent=1)
    if a.summary:
        a.summary.write_text(text)
    print(text, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
