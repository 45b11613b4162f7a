"""Where the blocks run: a Dask LocalCluster started here, or an existing scheduler at tcp://host:port.

On a LocalCluster every worker is one process with one Dask thread (one block at a time) and one onnxruntime
session of `threads` intra-op threads, so workers x threads = the machine's cores.  With device "auto" or "cuda",
an onnxruntime that has the CUDA provider and NVIDIA GPUs present, there is one worker per GPU instead, each
seeing only its own GPU (CUDA_VISIBLE_DEVICES).
"""

from __future__ import annotations

import logging
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..core.errors import InputError

AUTO = "auto"
THREADS_PER_SESSION = 4  # onnxruntime scales well to about this many threads; past it a new worker pays more


@dataclass
class ClusterConfig:
    """Which Dask cluster runs the blocks and how the local one is laid out."""

    scheduler: str = AUTO  # "auto" = start a LocalCluster here, or a scheduler address such as tcp://host:8786
    workers: int = 0  # LocalCluster worker processes, 0 = cores / threads (at least 1)
    threads: int = 0  # onnxruntime threads per worker, 0 = cores / workers (LocalCluster) or cores (remote)
    block_tiles: int = 16  # block edge in tiles: each block also runs its halo (one tile row and column)
    keep_blocks: bool = False  # keep the block files after assembling the mosaic

    def layout(self, cores: int | None = None) -> tuple[int, int]:
        """(workers, onnxruntime threads per worker) of a LocalCluster on `cores` cores (default: this machine)."""
        cores = cores or os.cpu_count() or 1
        if self.workers < 0 or self.threads < 0:
            raise InputError(f"Workers {self.workers} and threads {self.threads} must be 0 (automatic) or more.")
        if self.workers:
            workers = self.workers
        else:
            workers = max(1, cores // (self.threads or THREADS_PER_SESSION))
        threads = self.threads or max(1, cores // workers)
        return workers, threads


def gpu_ids() -> list[str]:
    """The NVIDIA GPUs this process may use (CUDA_VISIBLE_DEVICES when set, else `nvidia-smi -L`)."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip() and d.strip() != "-1"]
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30,
                                 check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(line for line in listing.splitlines() if line.startswith("GPU "))]


def worker_specs(workers: int, gpus: list[str]) -> dict[str, dict[str, Any]]:
    """SpecCluster worker specs: one single-threaded Nanny per GPU (seeing only it), else `workers` of them."""
    from distributed import Nanny

    if gpus:
        return {f"gpu-{g}": {"cls": Nanny, "options": {"nthreads": 1, "env": {"CUDA_VISIBLE_DEVICES": g}}}
                for g in gpus}
    return {f"cpu-{i}": {"cls": Nanny, "options": {"nthreads": 1}} for i in range(workers)}


def _gpus_for(device: str) -> list[str]:
    """GPUs to give a worker each: for "auto"/"cuda" when onnxruntime has the CUDA provider, else none."""
    if device not in ("auto", "cuda"):
        return []
    import onnxruntime as ort

    return gpu_ids() if "CUDAExecutionProvider" in ort.get_available_providers() else []


@contextmanager
def dask_client(cluster: ClusterConfig, device: str = "cpu") -> Iterator[tuple[Any, int]]:
    """A dask.distributed Client for the config and the onnxruntime threads each worker should use.

    A LocalCluster started here is closed on the way out, whatever happened.
    """
    try:
        from distributed import Client, Scheduler, SpecCluster
    except ImportError as exc:
        raise InputError("Classifying on Dask needs the dask[distributed] package: "
                         "pip install 'dask[distributed]' in the plugin's environment.") from exc
    if cluster.scheduler == AUTO:
        gpus = [] if cluster.workers else _gpus_for(device)
        workers, threads = cluster.layout()
        if gpus:
            threads = cluster.threads or max(1, (os.cpu_count() or 1) // len(gpus))
        local = SpecCluster(workers=worker_specs(workers, gpus), silence_logs=logging.ERROR,
                            scheduler={"cls": Scheduler, "options": {"dashboard_address": None}})
        try:
            with Client(local) as client:
                yield client, threads
        finally:
            local.close()
        return
    if "://" not in cluster.scheduler:
        raise InputError(f"Scheduler '{cluster.scheduler}' is neither 'auto' nor an address such as "
                         "tcp://host:8786.")
    try:
        client = Client(cluster.scheduler, timeout="20s")
    except OSError as exc:
        raise InputError(f"No Dask scheduler answers at {cluster.scheduler} ({exc}): start one with "
                         "`dask scheduler` and workers with `dask worker ADDRESS`, or use --scheduler auto.") from exc
    with client:
        yield client, cluster.threads
