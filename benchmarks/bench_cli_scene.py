"""A large generated scene through the command line, on one process and on a Dask LocalCluster: time and peak RSS.

    .venv/bin/python benchmarks/bench_cli_scene.py --size 40000 [--workers 2] [--workdir DIR] [--skip-single | --skip-dask]

Writes (or reuses, in --workdir) a size x size RGB scene at 0.5 m with NTL (bench_classify.write_scene, window by
window), then runs `python -m csagf_plugin classify` with the synthetic sample model (the scene is synthetic): once
in one process (`--threads 2`), once with `--scheduler auto --workers N` (N workers x 1 thread). For each it prints
wall time, megapixels per second and the largest peak RSS of any one process (the CLI or one Dask worker).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def run_cli(args: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of `python -m csagf_plugin ARGS`.  os.wait4's ru_maxrss on Linux is the largest
    peak of the process and of the descendants it waited for (the Dask nanny's workers), not their sum."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "csagf_plugin", *args], cwd=REPO, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"the CLI failed: exit status {os.waitstatus_to_exitcode(status)}; run it by hand: {args}")
    return time.perf_counter() - start, usage.ru_maxrss / 1024


def main() -> None:
    from bench_classify import write_scene

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=40000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--skip-single", action="store_true", help="only the Dask run")
    parser.add_argument("--skip-dask", action="store_true", help="only the single-process run")
    a = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        folder = a.workdir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        vhr, ntl = write_scene(folder, a.size)
        print(f"scene {a.size} x {a.size} px written in {time.perf_counter() - t0:.0f} s", flush=True)
        model = str(REPO / "models" / "csagfnet_sample.onnx")
        megapixels = a.size * a.size / 1e6
        runs = [] if a.skip_single else [("1 process x 2 threads", ["--threads", "2"])]
        if not a.skip_dask:
            runs.append((f"LocalCluster {a.workers} workers x 1 thread", ["--scheduler", "auto", "--workers",
                                                                          str(a.workers), "--threads", "1"]))
        print("| run | wall s | MP/s | largest peak RSS of one process (MB) |")
        print("|---|---|---|---|")
        for label, extra in runs:
            out = folder / f"zones_{label.split()[0]}.tif"
            seconds, rss = run_cli(["classify", "--vhr", str(vhr), "--ntl", str(ntl), "--model", model,
                                             "--out", str(out), *extra])
            print(f"| {label} | {seconds:.0f} | {megapixels / seconds:.2f} | {rss:.0f} |", flush=True)
            out.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
