"""Real-data experiments on Shanghai Pudong: one split, several models, label sources and SIRI-WHU, one table.

    .venv/bin/python scripts/shanghai_experiments.py [--runs full_pre,vhr_pre,...] [--epochs 12] [--work DIR]

Split (the same for every run): the 10 labelled tiles; google_5_0 and google_5_6 are held out whole for validation
(the split the bundled Shanghai model used), the other 8 train.  The four unlabelled tiles (google_2_7, google_5_10,
google_6_4, google_8_1) are in no run.  No model selection on the validation tiles: every run trains a fixed number
of epochs and the model after the last epoch is scored, by classifying the held-out tiles through the plugin's own
inference (core.classify, tile blending) against their visual labels.  Results go to DIR/results.json after each
run (a rerun skips finished runs), the ONNX models to DIR/<run>.onnx.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from train_shanghai import LABELLED, NTL_FILE, check_data, say, validation_through_classify  # noqa: E402

VAL = ["google_5_0", "google_5_6"]
DEFAULT_VAL = list(VAL)  # the split the old bundled model was validated on
TRAIN = [t for t in LABELLED if t not in VAL]
OSM = "osm_landuse/landuse_2024.gpkg"
# The tiles the OSM extract covers (40-70 % each; ../shared/data/README.md); the others get visual labels only.
OSM_TILES = ["google_3_5", "google_3_6", "google_5_0", "google_5_5", "google_5_6", "google_6_0", "google_6_1"]
GEOFABRIK = REPO / "resources" / "class_mappings" / "geofabrik_fclass.csv"
SIRI_PER_CLASS = 10

# The fine-tuning recipe of the pretrained runs (chosen by the recipe runs below, see docs/shanghai.md): gentler
# class weights than the paper's 1/frequency, which made the rare industrial class swallow the held-out tiles.
RECIPE = {"class_weight_power": 0.5, "freeze_encoder_epochs": 3}
# run name -> (model, VHR encoder, label sources, with SIRI-WHU, TrainConfig overrides)
RUNS: dict[str, tuple[str, str, str, bool, dict]] = {
    "full_pre_paperloss": ("full", "efficientnet_lite0", "visual", False, {}),
    "full_pre_frozen": ("full", "efficientnet_lite0", "visual", False,
                        {"class_weight_power": 0.5, "freeze_encoder_epochs": 100}),
    "full_pre": ("full", "efficientnet_lite0", "visual", False, RECIPE),
    "vhr_pre": ("vhr", "efficientnet_lite0", "visual", False, RECIPE),
    "full_pre_osm": ("full", "efficientnet_lite0", "osm+visual", False, RECIPE),
    "full_pre_siri": ("full", "efficientnet_lite0", "visual", True, RECIPE),
    "vhr_pre_siri": ("vhr", "efficientnet_lite0", "visual", True, RECIPE),
    # The paper's encoder from random weights with the recipe's class weights (it has nothing pretrained to freeze):
    # separates what the pretrained encoder brings from what the recipe brings.
    "full_paper": ("full", "paper", "visual", False, {"class_weight_power": 0.5}),
    "unet_pre": ("unet", "efficientnet_lite0", "visual", False, RECIPE),  # VHR-only baseline, same encoder
}


def make_store(data: Path, labels: str, siri: bool, work: Path):
    """Tile store of the training and validation tiles for one label configuration (cached in work)."""
    from csagf_plugin.training.scene_tiles import SceneFolderConfig, scene_folder_tiles
    from csagf_plugin.training.tile_store import TileStore, concat_stores
    from csagf_plugin.training.tiles import LabelSource, PrepareConfig, SceneSource, prepare_tiles

    path = work / f"tiles_{labels.replace('+', '_')}{'_siri' if siri else ''}.npz"
    if path.exists():
        return TileStore.load(path)
    scenes = []
    for tile in TRAIN + VAL:
        vhr, visual = str(data / "vhr" / f"{tile}.tif"), str(data / "labels_visual" / f"{tile}_labels.tif")
        if labels == "osm+visual" and tile in TRAIN and tile in OSM_TILES:  # OSM wins where it exists
            scenes.append(SceneSource(vhr, str(data / OSM), class_field=None,
                                      more_labels=[LabelSource(visual)]))
        else:
            scenes.append(SceneSource(vhr, visual))
    mapping = str(GEOFABRIK) if labels == "osm+visual" else None
    store = prepare_tiles(PrepareConfig(scenes, str(data / NTL_FILE), mapping=mapping, tile_size=256, stride=128),
                          warn=lambda m: say(f"warning: {m}"))
    if siri:
        blind = scene_folder_tiles(SceneFolderConfig(str(data.parent / "siri_whu"), 2.0, store.vhr_pixel_size_m,
                                                     per_class=SIRI_PER_CLASS), warn=lambda m: say(f"warning: {m}"))
        store = concat_stores([store, blind])
    store.save(path)
    return store


def run_one(name: str, data: Path, work: Path, epochs: int, batch_size: int, seed: int = 0,
            run_name: str | None = None) -> dict:
    """Train one run for a fixed number of epochs, export the last epoch, score it on the held-out tiles."""
    import numpy as np

    from csagf_plugin.core.model_card import ModelCard
    from csagf_plugin.training.checkpoint import load_checkpoint, model_from_checkpoint
    from csagf_plugin.training.export import export_onnx
    from csagf_plugin.training.fit import TrainConfig, train

    model, encoder, labels, siri, overrides = RUNS[name]
    name = run_name or name
    store = make_store(data, labels, siri, work)
    say(f"{name}: {store.num_tiles} tiles ({int(np.sum(store.ntl_missing)) if store.ntl_missing is not None else 0} "
        f"without night light), labels {labels}, model {model}, encoder {encoder}")
    held_out = int(np.isin([Path(p).stem for p in np.asarray(store.scenes)[store.scene]], VAL).sum())
    shanghai = int(np.sum(~store.ntl_missing)) if store.ntl_missing is not None else store.num_tiles
    if siri:  # the same number of training steps as without SIRI-WHU: its tiles take the place of Shanghai steps
        epochs = max(1, round(epochs * (shanghai - held_out) / (store.num_tiles - held_out)))
    started = time.perf_counter()
    config = TrainConfig(output_dir=str(work / name), tiles=str(work / f"tiles_{labels.replace('+', '_')}"
                                                                     f"{'_siri' if siri else ''}.npz"),
                         model=model, width="small", vhr_encoder=encoder, epochs=epochs, batch_size=batch_size,
                         patience=epochs + 1, val_scenes=[f"{t}.tif" for t in VAL], name=name, export=False,
                         seed=seed, **overrides)
    last = work / name / f"{name}_last.pt"
    if last.exists() and load_checkpoint(last)["meta"]["train_state"]["epoch"] >= epochs:
        say(f"{name}: trained before ({last}), only scored now")  # a run interrupted while scoring
        state = load_checkpoint(last)["meta"]["train_state"]
        history, epochs_run, minutes = state["history"], state["epoch"], sum(h["seconds"] for h in state["history"]) / 60
    else:
        result = train(config, warn=lambda m: say(f"warning: {m}"), log=lambda m: say(f"{name}: {m}"))
        history, epochs_run, minutes = result.history, result.epochs_run, (time.perf_counter() - started) / 60
    net, meta = model_from_checkpoint(last)
    card = ModelCard.from_json(meta["card"], str(last))
    card.name, card.trained = name, True
    onnx_path = work / f"{name}.onnx"
    export_onnx(net, onnx_path, card)
    val = validation_through_classify(onnx_path, data, VAL, work)
    say(f"{name}: mIoU {val['miou']:.3f}, OA {val['oa']:.3f} after {epochs_run} epochs, {minutes:.1f} min")
    return {"model": model, "vhr_encoder": encoder, "overrides": overrides, "labels": labels, "siri_whu": siri,
            "siri_tiles": SIRI_PER_CLASS * 11 if siri else 0, "tiles": store.num_tiles, "epochs": epochs_run,
            "train_minutes": round(minutes, 1), "validation": val, "history": history,
            "onnx": str(onnx_path), "onnx_mb": round(onnx_path.stat().st_size / 1e6, 2)}


CHART_RUNS = ("old_shanghai", "full_paper", "full_pre", "vhr_pre", "full_pre_osm", "full_pre_siri", "vhr_pre_siri",
              "full_pre_frozen", "unet_pre")
CLASS_SHORT = ["residential", "commercial", "industrial", "green", "streets", "water", "non-developed"]


def report(results: dict, png: Path) -> str:
    """A markdown table of every run (same split) and a bar chart of per-class IoU; returns the table."""
    import numpy as np
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    head = ("| run | VHR encoder | model | labels | SIRI-WHU | epochs | min | mIoU | macro F1 | OA | "
            + " | ".join(CLASS_SHORT) + " |")
    lines = [head, "|" + "---|" * (10 + len(CLASS_SHORT))]
    for name, r in results.items():
        v = r["validation"]
        ious = [c["iou"] for c in v["per_class"].values()]
        lines.append(f"| {name} | {r['vhr_encoder']} | {r['model']} | {r['labels']} | "
                     f"{'yes (' + str(r.get('siri_tiles', 0)) + ' tiles)' if r['siri_whu'] else 'no'} | "
                     f"{r.get('epochs', '-')} | {r.get('train_minutes', '-')} | {v['miou']:.3f} | "
                     f"{v['macro_f1']:.3f} | {v['oa']:.3f} | "
                     + " | ".join("-" if i is None else f"{i:.2f}" for i in ious) + " |")
    fig = Figure(figsize=(10, 4), dpi=90)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    shown = {n: r for n, r in results.items() if n in CHART_RUNS}  # seeds and recipe pilots are in the table only
    width = 0.8 / max(len(shown), 1)
    x = np.arange(len(CLASS_SHORT))
    for k, (name, r) in enumerate(shown.items()):
        ious = [c["iou"] or 0.0 for c in r["validation"]["per_class"].values()]
        ax.bar(x + k * width - 0.4 + width / 2, ious, width, label=f"{name} (mIoU {r['validation']['miou']:.2f})")
    ax.set_xticks(x, CLASS_SHORT)
    ax.set_ylabel("IoU on held-out tiles")
    ax.set_title("Shanghai Pudong, held-out tiles google_5_0 + google_5_6 (industrial absent there)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(png)
    return "\n".join(lines)


def night_light_report(work: Path, results: dict) -> str:
    """Full vs VHR-only (same encoder, recipe, budget): every seed of the default split and every fold, per class."""
    import numpy as np

    runs = {"default split": results}
    for folder in sorted((work / "folds").glob("val_*")):
        if (folder / "results.json").exists():
            runs[folder.name.removeprefix("val_").replace("_google", ", google")] = json.loads(
                (folder / "results.json").read_text())
    lines = ["| held-out tiles | seed | full mIoU | VHR-only mIoU | full OA | VHR-only OA |", "|---|---|---|---|---|---|"]
    per_class = {"full": [], "vhr": []}
    for split, res in runs.items():
        for seed in range(10):
            suffix = f"_seed{seed}" if seed else ""
            full, vhr = res.get(f"full_pre{suffix}"), res.get(f"vhr_pre{suffix}")
            if not (full and vhr):
                continue
            f, v = full["validation"], vhr["validation"]
            lines.append(f"| {split} | {seed} | {f['miou']:.3f} | {v['miou']:.3f} | {f['oa']:.3f} | {v['oa']:.3f} |")
            for key, r in (("full", f), ("vhr", v)):
                per_class[key].append([np.nan if c["iou"] is None or c["reference_pixels"] == 0 else c["iou"]
                                       for c in r["per_class"].values()])
    if not per_class["full"]:
        return ""
    import warnings

    warnings.filterwarnings("ignore", "Mean of empty slice")  # a class absent from every held-out pair stays nan
    full, vhr = np.array(per_class["full"]), np.array(per_class["vhr"])
    lines += ["", f"Mean over the {len(full)} pairs above (classes absent from a run's held-out tiles left out):", "",
              "| | mIoU | " + " | ".join(CLASS_SHORT) + " |", "|---|---|" + "---|" * len(CLASS_SHORT)]
    for key, arr in (("full", full), ("VHR-only", vhr)):
        lines.append(f"| {key} | {np.nanmean(np.nanmean(arr, axis=1)):.3f} | "
                     + " | ".join(f"{x:.2f}" for x in np.nanmean(arr, axis=0)) + " |")
    diff = full - vhr
    lines.append("| full - VHR-only | " + f"{np.nanmean(np.nanmean(full, 1) - np.nanmean(vhr, 1)):+.3f} | "
                 + " | ".join(f"{x:+.2f}" for x in np.nanmean(diff, axis=0)) + " |")
    wins = int(np.sum(np.nanmean(full, 1) > np.nanmean(vhr, 1)))
    lines.append(f"\nFull beats VHR-only in {wins} of {len(full)} pairs (mIoU over the classes present).")
    return "\n".join(lines)


def gate_summary(model_path: Path, data: Path, tiles: list[str], folder: Path) -> dict[str, float]:
    """Mean GFM gate (the VHR weight; 1 - gate is night light's) per predicted class over the held-out tiles."""
    import numpy as np
    import rasterio

    from csagf_plugin.core.classify import ClassifyConfig, classify_scene
    from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES

    sums, counts = np.zeros(8), np.zeros(8)
    for tile in tiles:
        out, gate = folder / f"{tile}_gate_zones.tif", folder / f"{tile}_gate.tif"
        classify_scene(ClassifyConfig(str(data / "vhr" / f"{tile}.tif"), str(data / NTL_FILE), str(model_path),
                                      str(out), gate_path=str(gate)), warn=None)
        with rasterio.open(out) as z, rasterio.open(gate) as g:
            zones, values = z.read(1), g.read(1)
        ok = (zones > 0) & np.isfinite(values)
        sums += np.bincount(zones[ok], weights=values[ok], minlength=8)
        counts += np.bincount(zones[ok], minlength=8)
    summary = {"all": round(float(sums.sum() / max(counts.sum(), 1)), 3)}
    summary.update({c.name: round(float(sums[c.id] / counts[c.id]), 3) for c in FUNCTIONAL_CLASSES if counts[c.id]})
    return summary


def bundle(results: dict, run: str, data: Path, work: Path, model_out: Path, img_dir: Path) -> dict:
    """Copy a run's model into models/ with a complete card and draw the four unlabelled tiles with it."""
    import onnx

    from csagf_plugin.core.model_card import METADATA_KEY, ModelCard
    from train_shanghai import classify_unlabelled

    r = results[run]
    model = onnx.load(r["onnx"])
    props = {p.key: p.value for p in model.metadata_props}
    card = ModelCard.from_metadata(props, r["onnx"])
    v = r["validation"]
    card.name = model_out.stem
    card.training_data = (
        f"Shanghai Pudong (121.48-121.52 E, 31.10-31.14 N): Google Earth tiles {TRAIN} (512 px, about "
        f"{card.vhr_pixel_size_m:.2f} m, EPSG:3857; imagery without licence, used for development only, not "
        f"redistributed) with coarse visual labels (32 px cells){' and OSM land use (Geofabrik fclass) first' if 'osm' in r['labels'] else ''}"
        f"{', plus ' + str(r.get('siri_tiles')) + ' SIRI-WHU Wuhan scenes as tile-level labels without night light' if r['siri_whu'] else ''}"
        f"; VIIRS DNB 2025 annual radiance (about 460 m). {card.variant} CSAGFNet, VHR encoder {card.vhr_encoder}, "
        f"small width, {r['epochs']} epochs (the last one kept, no selection on validation), batch 8, "
        f"{r['train_minutes']:.0f} min on 2 shared CPU cores. Validation: whole held-out tiles {VAL} through the "
        "plugin's classify. Never trained or selected on google_2_7, google_5_10, google_6_4, google_8_1. Meant "
        f"for VHR at about {card.vhr_pixel_size_m:.2f} m (other pixel sizes are resampled to it) in similar "
        "Chinese cities; a development model, not a production map-maker.")
    card.metrics = {"val_miou": round(v["miou"], 4), "val_macro_f1": round(v["macro_f1"], 4),
                    "val_oa": round(v["oa"], 4),
                    **{f"val_iou_{n.lower().replace(' ', '_')}": round(c["iou"], 4)
                       for n, c in v["per_class"].items() if c["iou"] is not None},
                    # user's accuracy per class, for csagf:sample_size's expected accuracies
                    **{f"val_precision_{n.lower().replace(' ', '_')}": round(c["precision"], 4)
                       for n, c in v["per_class"].items() if c["precision"] is not None}}
    for p in model.metadata_props:
        if p.key == METADATA_KEY:
            p.value = card.to_json()
    tmp = model_out.with_suffix(".onnx.partial")
    onnx.save(model, str(tmp))
    tmp.replace(model_out)
    shares = classify_unlabelled(model_out, data, work, img_dir, prefix="pudong")
    return {"model": str(model_out), "mb": round(model_out.stat().st_size / 1e6, 2), "class_shares": shares,
            "mean_gate_on_held_out_tiles": gate_summary(model_out, data, VAL, work)}


def main(argv: list[str] | None = None) -> int:
    global VAL, TRAIN  # a fold (--val) replaces the default split for the whole run
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data" / "shanghai_pudong")
    p.add_argument("--work", type=Path, default=REPO / "build" / "shanghai_experiments")
    p.add_argument("--runs", default=",".join(RUNS), help=f"comma-separated runs of {list(RUNS)}")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=8)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0, help="seed of the runs (run names get _seed<N> when not 0)")
    p.add_argument("--val", nargs=2, default=VAL, metavar="TILE",
                   help=f"the two labelled tiles held out (default {' '.join(VAL)}); another pair is a fold of a "
                        "cross-validation, kept in its own folder under --work")
    p.add_argument("--report", type=Path, default=None, help="write the per-class IoU chart here, print the table")
    p.add_argument("--bundle", default=None, help="run whose model becomes --model-out (with the unlabelled tiles' "
                                                  "previews in docs/img)")
    p.add_argument("--model-out", type=Path, default=REPO / "models" / "csagfnet_pudong.onnx")
    a = p.parse_args(argv)
    import torch

    if sorted(a.val) != sorted(VAL):
        a.work = a.work / "folds" / ("val_" + "_".join(sorted(a.val)))
    if set(a.val) - set(LABELLED):
        p.error(f"--val takes two of the labelled tiles {LABELLED}")
    VAL = list(a.val)
    TRAIN = [t for t in LABELLED if t not in VAL]
    torch.set_num_threads(a.threads)
    check_data(a.data)
    a.work.mkdir(parents=True, exist_ok=True)
    results_path = a.work / "results.json"
    results = json.loads(results_path.read_text()) if results_path.exists() else {}
    if "old_shanghai" not in results and VAL == DEFAULT_VAL:  # other folds: the old model trained on their tiles
        old = REPO / "models" / "csagfnet_shanghai.onnx"
        results["old_shanghai"] = {"model": "full", "vhr_encoder": "paper", "labels": "visual", "siri_whu": False,
                                   "validation": validation_through_classify(old, a.data, VAL, a.work),
                                   "onnx": str(old), "note": "bundled csagfnet_shanghai.onnx, same split"}
        results_path.write_text(json.dumps(results, indent=1))
    if a.report or a.bundle:
        if a.report:
            print(report(results, a.report))
            print()
            print(night_light_report(a.work, results))
        if a.bundle:
            print(json.dumps(bundle(results, a.bundle, a.data, a.work, a.model_out, REPO / "docs" / "img"), indent=1))
        return 0
    for name in a.runs.split(","):
        key = f"{name}_seed{a.seed}" if a.seed else name
        if key in results:
            say(f"{key}: done before, skipped")
            continue
        results[key] = run_one(name, a.data, a.work, a.epochs, a.batch_size, a.seed, key)
        results[key]["seed"], results[key]["validation_tiles"] = a.seed, VAL
        results_path.write_text(json.dumps(results, indent=1))
    for name, r in results.items():
        v = r["validation"]
        say(f"{name:16s} mIoU {v['miou']:.3f}  F1 {v['macro_f1']:.3f}  OA {v['oa']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
