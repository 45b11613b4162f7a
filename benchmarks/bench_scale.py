"""The engine's share of wall time with and without I/O overlapping inference, and a 2-worker LocalCluster.

    .venv/bin/python benchmarks/bench_scale.py [--size 2048] [--model models/csagfnet_sample.onnx] [--threads 2]

On one generated scene (bench_classify.write_scene: RGB uint8 at 0.5 m, NTL at 40 m in EPSG:4326) it measures
  pure       onnxruntime alone on the scene's own tiles, read beforehand (same batches): the floor
  serial     classify_scene reading, inferring and blending one after another (overlap_io=False)
  overlapped classify_scene with the reader and inference threads (overlap_io=True, the default)
  dask       classify_on_dask on a LocalCluster of 2 workers x 1 onnxruntime thread (with --dask)
and prints wall times, the engine's share (onnxruntime seconds / wall seconds) and wall / pure (with --repeats N,
the fastest of N interleaved runs of each).  With
--rss-sizes A B, scenes of A and B px go through classify_on_dask (2 workers, a fresh cluster each, the small
stand-in model of bench_classify) and the peak RSS of each worker is printed: it must not grow with the scene.
Each run is one run: on a shared machine, read ratios, not absolute times.
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
sys.path.insert(0, str(REPO / "benchmarks"))

from bench_classify import write_scene, write_small_model


def pure_inference(model_path: str, vhr_path: str, ntl_path: str, batch: int, threads: int) -> tuple[float, int]:
    """Seconds onnxruntime alone takes for the scene's own tiles (read and normalised beforehand, as classify
    feeds them, in the same batches; one warm-up call), and the number of tiles."""
    import rasterio
    from rasterio.windows import Window

    from csagf_plugin.core.model import load_model
    from csagf_plugin.core.model_card import normalise_ntl, normalise_vhr
    from csagf_plugin.core.raster import ntl_on_grid
    from csagf_plugin.core.tiling import TileGrid

    model = load_model(model_path, "cpu", threads)
    card = model.card
    t = model.fixed_tile_size or card.tile_size
    xs, ns = [], []
    with rasterio.open(vhr_path) as vhr, rasterio.open(ntl_path) as ntl:
        grid = TileGrid(vhr.width, vhr.height, t, card.overlap)
        for row, column in grid:
            x0, y0 = grid.origin(row, column)
            window = Window(x0, y0, t, t)
            xs.append(normalise_vhr(vhr.read([1, 2, 3], window=window, boundless=True, fill_value=0), "uint8",
                                    card))
            ns.append(normalise_ntl(ntl_on_grid(ntl, vhr.crs, vhr.window_transform(window), t, t, [1]), card))
    x, m = np.stack(xs), (np.stack(ns) if card.uses_ntl else None)
    model.run(x[:batch], None if m is None else m[:batch])
    started = time.perf_counter()
    for b in range(0, len(x), batch):
        model.run(x[b:b + batch], None if m is None else m[b:b + batch])
    return time.perf_counter() - started, len(x)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2048, help="scene edge in pixels (0: skip this comparison)")
    parser.add_argument("--model", default=str(REPO / "models" / "csagfnet_sample.onnx"))
    parser.add_argument("--threads", type=int, default=2, help="onnxruntime threads of the single process")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1, help="runs of serial, overlapped and pure; the fastest "
                                                               "of each is reported")
    parser.add_argument("--dask", action="store_true", help="also run a 2-worker LocalCluster")
    parser.add_argument("--block-tiles", type=int, default=6, help="Dask block edge in tiles")
    parser.add_argument("--rss-sizes", type=int, nargs="*", default=[],
                        help="scene edges for the per-worker peak-RSS check on Dask (e.g. 2048 4096)")
    parser.add_argument("--workdir", help="folder for the scene and outputs, kept and reused")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="csagf_bench_scale_") as tmp:
        folder = Path(args.workdir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        figures: dict[str, dict] = compare_engines(args, folder) if args.size else {}
        if args.rss_sizes:
            figures["worker_rss"] = worker_rss(folder, args.rss_sizes, args.block_tiles)
            for size, r in figures["worker_rss"].items():
                print(f"dask {size} x {size} px: {r['wall_s']:.1f} s, peak RSS per worker "
                      f"{', '.join(f'{m:.0f}' for m in r['peak_rss_mb'])} MB")
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


def compare_engines(args: argparse.Namespace, folder: Path) -> dict[str, dict]:
    """Serial, overlapped, pure inference (and Dask with --dask) on one scene of args.size px; prints the table."""
    from csagf_plugin.core.classify import ClassifyConfig, classify_scene

    vhr, ntl = write_scene(folder, args.size)
    figures: dict[str, dict] = {}
    pure = float("inf")
    for _ in range(args.repeats):  # interleaved; the fastest of each is the least disturbed by other work
        for name, overlap_io in (("serial", False), ("overlapped", True)):
            config = ClassifyConfig(str(vhr), str(ntl), args.model, str(folder / f"zones_{name}.tif"),
                                    batch_size=args.batch, device="cpu", threads=args.threads, overlap_io=overlap_io)
            result = classify_scene(config, warn=None)
            t = result.timings
            row = {"wall_s": t.total_s - t.load_s, "infer_s": t.infer_s, "read_s": t.read_s, "blend_s": t.blend_s,
                   "write_s": t.write_s, "tiles": result.tiles}
            if name not in figures or row["wall_s"] < figures[name]["wall_s"]:
                figures[name] = row
        seconds, fed = pure_inference(args.model, str(vhr), str(ntl), args.batch, args.threads)
        pure = min(pure, seconds)
    tiles = int(figures["serial"]["tiles"])
    if fed != tiles:
        raise RuntimeError(f"pure inference ran {fed} tiles, classify {tiles}")
    figures["pure"] = {"wall_s": pure, "infer_s": pure, "tiles": tiles}
    if args.dask:
        from csagf_plugin.scale.blocks import classify_on_dask
        from csagf_plugin.scale.cluster import ClusterConfig

        config = ClassifyConfig(str(vhr), str(ntl), args.model, str(folder / "zones_dask.tif"),
                                batch_size=args.batch, device="cpu")
        started = time.perf_counter()
        result = classify_on_dask(config, ClusterConfig(workers=2, threads=1, block_tiles=args.block_tiles))
        wall = time.perf_counter() - started
        figures["dask"] = {"wall_s": wall, "infer_s": result.timings.infer_s, "tiles": result.tiles}
        with_halo = sum(len(b.with_halo()) for b in _blocks(config, args.block_tiles))
        figures["dask"]["halo_tiles"] = with_halo - tiles
    print(f"scene {args.size} x {args.size} px, {tiles} tiles, model {Path(args.model).name}, "
          f"{args.threads} onnxruntime threads, batch {args.batch}")
    print(f"{'run':>11} {'wall s':>8} {'engine s':>9} {'engine share':>13} {'wall / pure':>12}")
    for name, f in figures.items():
        share = f["infer_s"] / f["wall_s"] if name != "dask" else f["infer_s"] / 2 / f["wall_s"]
        print(f"{name:>11} {f['wall_s']:>8.2f} {f['infer_s']:>9.2f} {share:>13.0%} {f['wall_s'] / pure:>12.2f}")
    print(f"overlapped / serial wall time: {figures['overlapped']['wall_s'] / figures['serial']['wall_s']:.2f}")
    if "dask" in figures:
        print(f"dask 2 workers x 1 thread / 1 process x {args.threads} threads (overlapped): "
              f"{figures['dask']['wall_s'] / figures['overlapped']['wall_s']:.2f} "
              f"(cluster start and COG assembly included; {figures['dask']['halo_tiles']} halo tiles)")
    return figures


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def worker_rss(folder: Path, sizes: list[int], block_tiles: int) -> dict[int, dict]:
    """Peak RSS of each of 2 workers classifying scenes of growing size on Dask (a fresh cluster per size)."""
    import logging

    from distributed import Client, LocalCluster

    from csagf_plugin.core.classify import ClassifyConfig
    from csagf_plugin.scale.blocks import classify_on_dask
    from csagf_plugin.scale.cluster import ClusterConfig

    model = str(write_small_model(folder / "bench_small_conv.onnx"))
    out = {}
    for size in sizes:
        vhr, ntl = write_scene(folder, size)
        config = ClassifyConfig(str(vhr), str(ntl), model, str(folder / f"zones_rss_{size}.tif"), device="cpu")
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                          silence_logs=logging.ERROR) as cluster, Client(cluster) as client:
            started = time.perf_counter()
            classify_on_dask(config, ClusterConfig(threads=1, block_tiles=block_tiles), client=client)
            wall = time.perf_counter() - started
            rss = sorted(client.run(_peak_rss_mb).values())
        out[size] = {"wall_s": wall, "peak_rss_mb": rss}
    return out


def _blocks(config, block_tiles: int):
    from csagf_plugin.core.classify import scene_grid
    from csagf_plugin.core.model import load_model

    return scene_grid(config, load_model(config.model_path, "cpu", 1)).blocks(block_tiles)


if __name__ == "__main__":
    sys.exit(main())
