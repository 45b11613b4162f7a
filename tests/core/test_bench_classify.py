"""The benchmark script runs end to end on a tiny scene and prints its figures (guards it against bit rot)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_benchmark_prints_throughput_memory_and_shares(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    done = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_classify.py"), "--sizes", "300",
                           "--threads", "1", "--tile", "128", "--overlap", "32", "--json", str(figures),
                           "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert "MP/s" in done.stdout and "peak RSS MB" in done.stdout
    (row,) = json.loads(figures.read_text())
    assert row["size"] == 300 and row["pixels"] == 300 * 300 and row["tiles"] == 9
    assert row["mp_per_s"] > 0 and row["peak_rss_mb"] > 0
    shares = row["shares"]
    assert set(shares) == {"load", "read", "infer", "blend", "write"}
    # the stages account for most of the run; with I/O overlapping inference (the default) they run at once, so
    # their shares may add up to more than 1, but none exceeds the run
    assert 0.5 < sum(shares.values()) and all(0.0 <= s <= 1.0 for s in shares.values())
