"""Where the blocks run: a Dask LocalCluster started here, or an existing scheduler at tcp://host:port.

On a LocalCluster every worker is one process with one Dask thread (one block at a time) and one onnxruntime
session of `threads` intra-op threads, so workers x threads = the machine's cores.
"""

from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

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


@contextmanager
def dask_client(cluster: ClusterConfig) -> Iterator[tuple[Any, int]]:
    """A dask.distributed Client for the config and the onnxruntime threads each worker should use.

    A LocalCluster started here is closed on the way out, whatever happened.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise InputError("Classifying on Dask needs the dask[distributed] package: "
                         "pip install 'dask[distributed]' in the plugin's environment.") from exc
    if cluster.scheduler == AUTO:
        workers, threads = cluster.layout()
        local = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                             silence_logs=logging.ERROR)
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
