"""Where training runs: the device, the torchrun process group (DistributedDataParallel), out-of-memory advice."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..core.errors import InputError

if TYPE_CHECKING:
    from .config import TrainConfig


@dataclass
class Dist:
    """This process's place in a torchrun group (rank 0 of 1 without torchrun)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    owns_group: bool = False  # this run started the process group, so it ends it

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device: str) -> Dist:
    """Join the torchrun process group when WORLD_SIZE > 1 (gloo on the CPU, NCCL on GPUs)."""
    import torch.distributed as dist

    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    owns = not dist.is_initialized()
    if owns:
        dist.init_process_group(backend="nccl" if device.startswith("cuda") else "gloo")
    return Dist(dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", "0")), owns)


def pick_device(requested: str, dist_info: Dist) -> str:
    """The torch device to train on: "auto" picks CUDA when PyTorch sees a GPU; each rank gets its own GPU."""
    import torch

    if requested == "auto":
        requested = "cuda" if torch.cuda.is_available() else "cpu"
    if requested.startswith("cuda"):
        if not torch.cuda.is_available():
            raise InputError("Device 'cuda' was asked for but PyTorch sees no CUDA GPU: use device 'cpu'.")
        if requested == "cuda":
            requested = f"cuda:{dist_info.local_rank if dist_info.world_size > 1 else 0}"
    elif requested != "cpu":
        raise InputError(f"Unknown device '{requested}': use auto, cpu, cuda or cuda:N.")
    return requested


def is_oom(exc: BaseException) -> bool:
    """True when an exception is the device (or host) running out of memory."""
    import torch

    text = str(exc).lower()
    return isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in text or "can't allocate memory" in text


def oom_error(config: "TrainConfig", device: str, exc: BaseException) -> InputError:
    """The message that says which batch size to try instead."""
    return InputError(f"Batch size {config.batch_size} does not fit in the memory of {device} ({exc}). "
                      f"Try a smaller batch size, e.g. {max(1, config.batch_size // 2)}, or a smaller model width.")


def all_reduce(values: np.ndarray, dist_info: Dist) -> np.ndarray:
    """Sum `values` over all ranks (unchanged without torchrun)."""
    if dist_info.world_size == 1:
        return values
    import torch
    import torch.distributed as dist

    t = torch.as_tensor(values, dtype=torch.float64)
    dist.all_reduce(t)
    return t.numpy()
