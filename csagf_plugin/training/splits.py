"""Train / validation / test split by spatial blocks, so that no pixel is shared between splits."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.errors import InputError


@dataclass
class Split:
    """Tile indices of each split; `dropped` tiles straddle blocks of two splits and are used nowhere."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray
    dropped: np.ndarray
    num_blocks: int  # spatial blocks the tiles fell into


def _blocks_touched(row: int, col: int, tile: int, block: int) -> list[tuple[int, int]]:
    return [(by, bx) for by in range(row // block, (row + tile - 1) // block + 1)
            for bx in range(col // block, (col + tile - 1) // block + 1)]


def split_by_blocks(scene: np.ndarray, origin: np.ndarray, tile_size: int, block_size: int, val_share: float = 0.15,
                    test_share: float = 0.15, seed: int = 0) -> Split:
    """Assign square blocks of `block_size` px (per scene) to splits at random (seeded) by tile share.

    A tile belongs to the block holding its centre; it is kept only when every block it touches went to the same
    split, so overlapping tiles (stride < tile size) never leak pixels between splits.
    """
    if block_size < tile_size:
        raise InputError(f"Block size {block_size} px must be at least the tile size {tile_size} px.")
    if val_share < 0 or test_share < 0 or val_share + test_share >= 1:
        raise InputError(f"Validation share {val_share} and test share {test_share} must be >= 0 and sum below 1.")
    n = len(scene)
    home = [(int(scene[i]), int((origin[i, 0] + tile_size // 2) // block_size),
             int((origin[i, 1] + tile_size // 2) // block_size)) for i in range(n)]
    touched = [[(int(scene[i]), by, bx) for by, bx in _blocks_touched(int(origin[i, 0]), int(origin[i, 1]),
                                                                       tile_size, block_size)] for i in range(n)]
    blocks = sorted({b for t in touched for b in t})
    home_count = {b: 0 for b in blocks}
    for b in home:
        home_count[b] += 1
    order = np.random.default_rng(seed).permutation(len(blocks))
    targets = [("test", test_share * n), ("val", val_share * n)]
    assign: dict[tuple[int, int, int], str] = {}
    filled = {"test": 0, "val": 0}
    for k in order:
        b = blocks[k]
        for name, target in targets:
            if target > 0 and filled[name] < target and home_count[b] > 0:
                assign[b] = name
                filled[name] += home_count[b]
                break
        else:
            assign[b] = "train"
    out: dict[str, list[int]] = {"train": [], "val": [], "test": [], "dropped": []}
    for i in range(n):
        split = assign[home[i]]
        out[split if all(assign[b] == split for b in touched[i]) else "dropped"].append(i)
    arr = {k: np.asarray(v, dtype=np.int64) for k, v in out.items()}
    return Split(arr["train"], arr["val"], arr["test"], arr["dropped"], len(blocks))
