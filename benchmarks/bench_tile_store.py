"""Peak memory of preparing and training from a tile store in memory (.npz) and on disk (*.tiles), by tile count.

Run from the repository root:  .venv/bin/python benchmarks/bench_tile_store.py --tiles 100 800 [--scene-tiles 100]
Each step runs in a fresh process (its peak RSS is that child's ru_maxrss, from os.wait4): a synthetic benchmark city is
generated (its size grows with N; with --scene-tiles, N / scene-tiles cities of a fixed size), prepare cuts them into
N tiles of 64 px, then one epoch of a tiny VHR-only CSAGFNet trains on them.
Prints a table; with the disk store, peak RSS should not grow with N, with the .npz store it does.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CITY = """
import sys
sys.path.insert(0, {repo!r})
from csagf_plugin.benchmark_city import generate_city
for k in range({count}):
    generate_city({folder!r} + f"/{{k}}", size_px={size}, seed=3 + k)
"""

PREPARE = """
import sys, json
sys.path.insert(0, {repo!r})
from csagf_plugin.training.tiles import PrepareConfig, SceneSource, prepare_tiles
cities = [{folder!r} + f"/{{k}}" for k in range({count})]  # written by CITY in a process of its own
# the cities share their place (one seed each), so city 0's NTL covers them all
store = prepare_tiles(PrepareConfig([SceneSource(c + "/vhr.tif", c + "/labels.tif") for c in cities],
                                    cities[0] + "/ntl.tif", tile_size=64, stride=64, output={output!r}))
print(json.dumps({{"tiles": store.num_tiles}}))
"""

TRAIN = """
import sys, json, torch
sys.path.insert(0, {repo!r})
torch.set_num_threads(2)
from csagf_plugin.training.fit import TrainConfig, train
result = train(TrainConfig({run!r}, tiles={tiles!r}, model="vhr", width=8, epochs=1, batch_size=16, block_size=256,
                           val_share=0.2, test_share=0.0, export=False))
print(json.dumps({{"epochs": result.epochs_run}}))
"""


def run_child(code: str) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of a fresh Python running `code`: os.wait4 gives that child's own rusage."""
    start = time.perf_counter()
    with tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode:
            err.seek(0)
            raise SystemExit(err.read()[-2000:])
    return usage.ru_maxrss / 1024, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiles", type=int, nargs="+", default=[100, 800], help="tile counts (approximate)")
    parser.add_argument("--scene-tiles", type=int, default=0,
                        help="tiles per scene: the count grows by adding scenes of this many tiles (default 0: "
                             "by growing one scene)")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        for n in sorted(args.tiles):
            per_scene = args.scene_tiles or n
            size, count = 64 * math.ceil(math.sqrt(per_scene)), math.ceil(n / per_scene)
            for kind in ("npz", "tiles"):
                folder = Path(scratch) / f"{kind}_{n}"
                folder.mkdir()
                output = str(folder / f"store.{kind}")
                run_child(CITY.format(repo=str(REPO), folder=str(folder / "city"), size=size, count=count))
                prep_mb, prep_s = run_child(PREPARE.format(repo=str(REPO), folder=str(folder / "city"),
                                                           count=count, output=output))
                train_mb, train_s = run_child(TRAIN.format(repo=str(REPO), run=str(folder / "run"), tiles=output))
                rows.append((n, f"{count} x {size}", kind, prep_mb, prep_s, train_mb, train_s))
                print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print("| tiles (about) | scenes x px | store | prepare peak RSS (MB) | s | train peak RSS (MB) | s |")
    print("|---|---|---|---|---|---|---|")
    for n, size, kind, pm, ps, tm, ts in rows:
        print(f"| {n} | {size} | {kind} | {pm:.0f} | {ps:.1f} | {tm:.0f} | {ts:.1f} |")
    print("\nPeak RSS: each child's own ru_maxrss (os.wait4), model, torch and GDAL included.")


if __name__ == "__main__":
    main()
