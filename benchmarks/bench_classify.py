"""Throughput and peak memory of classify_scene on generated scenes of growing size.

    .venv/bin/python benchmarks/bench_classify.py --sizes 2000 8000 [--model M.onnx] [--threads 2]

For each size a VHR scene (RGB uint8, 0.5 m, UTM 51N, tiled DEFLATE GeoTIFF) is written window by window, with
a 40 m NTL raster in EPSG:4326 around it; each size is then classified in a fresh subprocess, so that its peak
RSS is its own.  Prints megapixels of VHR per second, peak RSS, and the share of time spent reading/warping,
inferring, blending and writing.  Without --model, a small convolutional ONNX model (two 3 x 3 convolutions,
16 channels, with a gate) stands in for CSAGFNet: the figures then measure the engine, not the network.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PIXEL_M = 0.5
ORIGIN = (340_000.0, 3_460_000.0)  # UTM 51N, Shanghai
NTL_PIXEL_DEG = 0.0004  # about 40 m
STRIP = 512  # rows written per window while generating
SHARES = ("load", "read", "infer", "blend", "write")  # stages of Timings.shares, in table order


def write_scene(folder: Path, size: int, seed: int = 0) -> tuple[Path, Path]:
    """Write a size x size RGB VHR scene window by window and an NTL raster covering it; return their paths.

    A scene of that size already in `folder` is reused.
    """
    import rasterio
    from rasterio.crs import CRS
    from rasterio.transform import from_origin
    from rasterio.warp import transform_bounds
    from rasterio.windows import Window

    vhr_path, ntl_path = folder / f"vhr_{size}.tif", folder / f"ntl_{size}.tif"
    if vhr_path.exists() and ntl_path.exists():  # a scene kept in --workdir by an earlier run
        with rasterio.open(vhr_path) as src:
            if src.shape == (size, size):
                return vhr_path, ntl_path
    crs = CRS.from_epsg(32651)
    transform = from_origin(*ORIGIN, PIXEL_M, PIXEL_M)
    rng = np.random.default_rng(seed)
    freqs = rng.uniform(0.002, 0.03, size=(3, 4))
    phases = rng.uniform(0, 2 * np.pi, size=(3, 4))
    profile = {"driver": "GTiff", "width": size, "height": size, "count": 3, "dtype": "uint8", "crs": crs,
               "transform": transform, "tiled": True, "blockxsize": 512, "blockysize": 512, "compress": "deflate",
               "BIGTIFF": "IF_SAFER"}
    cols = np.arange(size, dtype=np.float32)
    with rasterio.open(vhr_path, "w", **profile) as dst:
        for row0 in range(0, size, STRIP):
            rows = np.arange(row0, min(size, row0 + STRIP), dtype=np.float32)[:, None]
            data = np.empty((3, rows.shape[0], size), np.uint8)
            for b in range(3):
                f, p = freqs[b], phases[b]
                wave = (np.sin(f[0] * cols + p[0]) * np.cos(f[1] * rows + p[1])
                        + np.sin(f[2] * (cols + rows) + p[2]) + np.cos(f[3] * (cols - rows) + p[3]))
                noise = rng.normal(0, 12, size=wave.shape)
                data[b] = np.clip(128 + 40 * wave + noise, 0, 255).astype(np.uint8)
            dst.write(data, window=Window(0, row0, size, rows.shape[0]))
    with rasterio.open(vhr_path) as src:
        west, south, east, north = transform_bounds(src.crs, "EPSG:4326", *src.bounds)
    west, north = west - 0.01, north + 0.01
    width = int((east + 0.01 - west) / NTL_PIXEL_DEG) + 1
    height = int((north - (south - 0.01)) / NTL_PIXEL_DEG) + 1
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    radiance = (30 + 25 * np.sin(xx / 17.0) * np.cos(yy / 23.0) + rng.gamma(2, 3, size=(height, width)))
    with rasterio.open(ntl_path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(west, north, NTL_PIXEL_DEG, NTL_PIXEL_DEG),
                       compress="deflate") as dst:
        dst.write(radiance.astype(np.float32)[None])
    return vhr_path, ntl_path


def write_small_model(path: Path, width: int = 16) -> Path:
    """A small CSAGF-carded ONNX model: conv3x3(4->width), ReLU, conv3x3(width->7) + gate = sigmoid(ntl)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    from csagf_plugin.core.model_card import METADATA_KEY, ModelCard

    card = ModelCard(name="bench_small_conv", variant="full", output_names=["logits", "gate"])
    rng = np.random.default_rng(0)
    w1 = rng.normal(0, 0.3, (width, 4, 3, 3)).astype(np.float32)
    w2 = rng.normal(0, 0.3, (7, width, 3, 3)).astype(np.float32)
    nodes = [
        helper.make_node("Concat", ["vhr", "ntl"], ["x"], axis=1),
        helper.make_node("Conv", ["x", "w1", "b1"], ["h"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["h"], ["hr"]),
        helper.make_node("Conv", ["hr", "w2", "b2"], ["logits"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Sigmoid", ["ntl"], ["gate"]),
    ]
    inits = [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(np.zeros(width, np.float32), "b1"),
             numpy_helper.from_array(w2, "w2"), numpy_helper.from_array(np.zeros(7, np.float32), "b2")]
    dims = ["N", None, "H", "W"]
    inputs = [helper.make_tensor_value_info("vhr", TensorProto.FLOAT, [dims[0], 3, dims[2], dims[3]]),
              helper.make_tensor_value_info("ntl", TensorProto.FLOAT, [dims[0], 1, dims[2], dims[3]])]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [dims[0], 7, dims[2], dims[3]]),
               helper.make_tensor_value_info("gate", TensorProto.FLOAT, [dims[0], 1, dims[2], dims[3]])]
    model = helper.make_model(helper.make_graph(nodes, "bench_small_conv", inputs, outputs, inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {METADATA_KEY: card.to_json()})
    onnx.save(model, str(path))
    return path


def run_one(vhr: str, ntl: str, model: str, output: str, threads: int, batch: int, device: str,
            tile: int | None, overlap: int | None, extras: bool, overlap_io: bool = True) -> dict:
    """Classify one scene in this process and return the figures (called in a subprocess)."""
    from csagf_plugin.core.classify import ClassifyConfig, classify_scene

    config = ClassifyConfig(vhr, ntl, model, output, batch_size=batch, device=device, threads=threads,
                            tile_size=tile, overlap=overlap, overlap_io=overlap_io,
                            confidence_path=output.replace(".tif", "_conf.tif") if extras else None,
                            gate_path=output.replace(".tif", "_gate.tif") if extras else None)
    result = classify_scene(config, warn=lambda m: print(f"warning: {m}", file=sys.stderr))
    t = result.timings
    return {
        "pixels": result.width * result.height, "mp_per_s": result.megapixels_per_second,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        "total_s": t.total_s, "shares": t.shares(), "providers": result.providers, "tiles": result.tiles,
        "tile_size": result.tile_size, "overlap": result.overlap,
    }


def main() -> int:
    """Generate the scenes, classify each in a subprocess, print the table."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000], help="scene edges in pixels")
    parser.add_argument("--model", help="ONNX model with a CSAGF card (default: a small generated conv model)")
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime CPU threads")
    parser.add_argument("--batch", type=int, default=4, help="tiles per onnxruntime call")
    parser.add_argument("--device", default="cpu", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--tile", type=int, default=None, help="tile size (default: the model card's)")
    parser.add_argument("--overlap", type=int, default=None, help="tile overlap (default: the model card's)")
    parser.add_argument("--extras", action="store_true", help="also write the confidence and gate maps")
    parser.add_argument("--no-overlap-io", action="store_true", help="read, infer and blend one after another")
    parser.add_argument("--workdir", help="folder for scenes and outputs, kept and reused (default: a temporary one)")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    parser.add_argument("--run-one", nargs=4, metavar=("VHR", "NTL", "MODEL", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run_one:
        print(json.dumps(run_one(*args.run_one, args.threads, args.batch, args.device, args.tile, args.overlap,
                                 args.extras, not args.no_overlap_io)))
        return 0
    with tempfile.TemporaryDirectory(prefix="csagf_bench_") as tmp:
        folder = Path(args.workdir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        model = args.model or str(write_small_model(folder / "bench_small_conv.onnx"))
        rows = []
        for size in args.sizes:
            t0 = time.perf_counter()
            vhr, ntl = write_scene(folder, size)
            print(f"generated {size} x {size} in {time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
            command = [sys.executable, __file__, "--run-one", str(vhr), str(ntl), model,
                       str(folder / f"zones_{size}.tif"), "--threads", str(args.threads), "--batch",
                       str(args.batch), "--device", args.device]
            command += (["--tile", str(args.tile)] if args.tile else []) + (["--extras"] if args.extras else [])
            command += ["--no-overlap-io"] if args.no_overlap_io else []
            command += ["--overlap", str(args.overlap)] if args.overlap is not None else []
            env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
            done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
            if done.returncode:
                print(done.stderr, file=sys.stderr)
                return done.returncode
            figures = json.loads(done.stdout.strip().splitlines()[-1])
            figures["size"] = size
            rows.append(figures)
            for name in (vhr, ntl):
                if not args.workdir:
                    os.remove(name)
        print(f"model: {Path(model).name}, threads {args.threads}, batch {args.batch}, device {args.device}, "
              f"providers {rows[0]['providers']}, tile {rows[0]['tile_size']}, overlap {rows[0]['overlap']}")
        print(f"{'size':>7} {'MP':>7} {'MP/s':>7} {'total s':>8} {'peak RSS MB':>12} "
              + " ".join(f"{k:>6}" for k in SHARES))
        for r in rows:
            s = r["shares"]
            print(f"{r['size']:>7} {r['pixels'] / 1e6:>7.1f} {r['mp_per_s']:>7.2f} {r['total_s']:>8.1f} "
                  f"{r['peak_rss_mb']:>12.0f} " + " ".join(f"{s[k]:>6.0%}" for k in SHARES))
        if len(rows) > 1:
            print(f"peak RSS ratio largest/smallest: {rows[-1]['peak_rss_mb'] / rows[0]['peak_rss_mb']:.2f}")
        if args.json:
            Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
