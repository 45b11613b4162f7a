"""INT8 against float: onnxruntime speed and mIoU on the synthetic held-out city and the Shanghai held-out tiles.

    .venv/bin/python benchmarks/bench_quantise.py [--size 1024] [--threads 2] [--shanghai ../shared/data/shanghai_pudong]

1. The bundled sample model is quantised (training/quantise.py) with calibration tiles from a training-city
   scene (synthetic seed 1, the city it was trained on), never from the test data.
2. Speed: onnxruntime alone on the same batches of real tiles of the held-out city, float then INT8 (one warm-up
   call each), and the speed-up.
3. Accuracy: the held-out city (seed 2, labels from the generator) classified through core.classify with each
   model; mIoU, macro F1, OA and the share of pixels whose class changed.  With --shanghai, the bundled Shanghai
   model is quantised on its training tiles and scored on the two held-out tiles (google_5_0, google_5_6).
One run each: on a shared machine, read the ratios.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SHANGHAI_TRAIN = ["google_0_10", "google_3_5", "google_6_1"]  # calibration scenes (training tiles of the model)
SHANGHAI_HELD_OUT = ["google_5_0", "google_5_6"]
SHANGHAI_NTL = "ntl/viirs_dnb_2025.tif"


def engine_seconds(model_path: str, vhr: str, ntl: str, threads: int, batches: int, batch: int) -> float:
    """Seconds onnxruntime takes for `batches` batches of real tiles read from the scene's top rows."""
    import rasterio
    from rasterio.windows import Window

    from csagf_plugin.core.model import load_model
    from csagf_plugin.core.model_card import normalise_ntl, normalise_vhr
    from csagf_plugin.core.raster import ntl_on_grid

    model = load_model(model_path, "cpu", threads)
    card, t = model.card, model.card.tile_size
    xs, ns = [], []
    with rasterio.open(vhr) as v, rasterio.open(ntl) as n:
        for i in range(batches * batch):
            col, row = (i * t) % (v.width - t + 1), ((i * t) // (v.width - t + 1)) * t % (v.height - t + 1)
            window = Window(col, row, t, t)
            xs.append(normalise_vhr(v.read([1, 2, 3], window=window), v.dtypes[0], card))
            ns.append(normalise_ntl(ntl_on_grid(n, v.crs, v.window_transform(window), t, t, [1]), card))
    x, m = np.stack(xs), np.stack(ns)
    model.run(x[:batch], m[:batch])
    started = time.perf_counter()
    for b in range(batches):
        model.run(x[b * batch:(b + 1) * batch], m[b * batch:(b + 1) * batch])
    return time.perf_counter() - started


def scores(model_path: str, scenes: list[tuple[str, str, str]], folder: Path, tag: str) -> tuple[dict, list[Path]]:
    """Classify (vhr, ntl, labels) scenes through core.classify; pooled metrics and the maps written."""
    import rasterio

    from csagf_plugin.core.classify import ClassifyConfig, classify_scene
    from csagf_plugin.training.metrics import confusion_matrix, metrics_from_confusion

    cm = np.zeros((7, 7), np.int64)
    maps = []
    for i, (vhr, ntl, labels) in enumerate(scenes):
        out = folder / f"{tag}_{i}.tif"
        classify_scene(ClassifyConfig(vhr, ntl, model_path, str(out), threads=2), warn=None)
        with rasterio.open(out) as pred, rasterio.open(labels) as ref:
            cm += confusion_matrix(ref.read(1), pred.read(1), 7)
        maps.append(out)
    m = metrics_from_confusion(cm)
    return {"miou": m.miou, "macro_f1": m.macro_f1, "oa": m.oa}, maps


def changed_share(a: list[Path], b: list[Path]) -> float:
    """Share of pixels whose class differs between two sets of maps."""
    import rasterio

    diff = total = 0
    for pa, pb in zip(a, b):
        with rasterio.open(pa) as x, rasterio.open(pb) as y:
            u, v = x.read(1), y.read(1)
        diff += int((u != v).sum())
        total += u.size
    return diff / max(total, 1)


def compare(name: str, float_model: str, int8_model: str, speed_scene: tuple[str, str], scenes, folder: Path,
            threads: int, batches: int, batch: int) -> dict:
    """Speed and accuracy of one float/INT8 pair."""
    t_float = engine_seconds(float_model, *speed_scene, threads, batches, batch)
    t_int8 = engine_seconds(int8_model, *speed_scene, threads, batches, batch)
    s_float, maps_float = scores(float_model, scenes, folder, f"{name}_float")
    s_int8, maps_int8 = scores(int8_model, scenes, folder, f"{name}_int8")
    return {"float_s": t_float, "int8_s": t_int8, "speedup": t_float / t_int8, "float": s_float, "int8": s_int8,
            "miou_points_lost": 100 * (s_float["miou"] - s_int8["miou"]),
            "pixels_changed": changed_share(maps_float, maps_int8)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=1024, help="edge of the synthetic cities in pixels")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--batches", type=int, default=6, help="batches timed per model")
    parser.add_argument("--calibration-tiles", type=int, default=32)
    parser.add_argument("--shanghai", help="the shanghai_pudong folder of ../shared/data (also score that model)")
    parser.add_argument("--real-models", nargs="+", default=["csagfnet_pudong", "csagfnet_shanghai"],
                        help="bundled real-data models scored with --shanghai (all share its training tiles)")
    parser.add_argument("--workdir", help="folder for cities, models and maps (default: a temporary one)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    from csagf_plugin.benchmark_city import generate_city
    from csagf_plugin.training.quantise import QuantiseConfig, quantise_model

    with tempfile.TemporaryDirectory(prefix="csagf_bench_quantise_") as tmp:
        folder = Path(args.workdir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        train_city = generate_city(folder / "city_seed1", size_px=args.size, seed=1)
        test_city = generate_city(folder / "city_seed2", size_px=args.size, seed=2)
        sample = str(REPO / "models" / "csagfnet_sample.onnx")
        int8 = str(folder / "csagfnet_sample_int8.onnx")
        t0 = time.perf_counter()
        q = quantise_model(QuantiseConfig(sample, int8, [str(train_city.vhr)], str(train_city.ntl),
                                          tiles=args.calibration_tiles))
        print(f"quantised {q.quantised_nodes} convolutions ({len(q.float_nodes)} nodes kept in float) on "
              f"{q.calibration_tiles} calibration tiles in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
        figures = {"synthetic": compare("synthetic", sample, int8, (str(test_city.vhr), str(test_city.ntl)),
                                        [(str(test_city.vhr), str(test_city.ntl), str(test_city.labels))], folder,
                                        args.threads, args.batches, args.batch)}
        if args.shanghai:
            data = Path(args.shanghai)
            ntl = str(data / SHANGHAI_NTL)
            held = [(str(data / "vhr" / f"{t}.tif"), ntl, str(data / "labels_visual" / f"{t}_labels.tif"))
                    for t in SHANGHAI_HELD_OUT]
            for name in args.real_models:
                real = str(REPO / "models" / f"{name}.onnx")
                real_int8 = str(folder / f"{name}_int8.onnx")
                quantise_model(QuantiseConfig(real, real_int8, [str(data / "vhr" / f"{t}.tif") for t in SHANGHAI_TRAIN],
                                              ntl, tiles=args.calibration_tiles))
                key = "shanghai" if name == "csagfnet_shanghai" else name
                figures[key] = compare(key, real, real_int8, held[0][:2], held, folder, args.threads, args.batches,
                                       args.batch)
        print(f"{'data':>10} {'float s':>8} {'int8 s':>7} {'speed-up':>9} {'mIoU float':>11} {'mIoU int8':>10} "
              f"{'points lost':>12} {'px changed':>11}")
        for name, f in figures.items():
            print(f"{name:>10} {f['float_s']:>8.2f} {f['int8_s']:>7.2f} {f['speedup']:>9.2f} "
                  f"{f['float']['miou']:>11.3f} {f['int8']['miou']:>10.3f} {f['miou_points_lost']:>12.2f} "
                  f"{f['pixels_changed']:>11.2%}")
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
