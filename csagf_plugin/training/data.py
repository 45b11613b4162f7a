"""From a tile store to batches: normalisation through the model card, augmentation, minority oversampling."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..core.model_card import ModelCard, normalise_ntl, normalise_vhr
from .augment import augment
from .tile_store import TileStore

if TYPE_CHECKING:
    import torch


def fit_normalisation(store: TileStore, indices: np.ndarray, card: ModelCard, max_tiles: int = 256) -> ModelCard:
    """Set the card's VHR mean/std (after dtype scaling) and NTL mean/std (after fill and log1p) from training tiles."""
    if len(indices) > max_tiles:
        indices = np.sort(np.random.default_rng(0).choice(indices, max_tiles, replace=False))
    scale = np.float64(card.vhr_scale.get(store.vhr_dtype, 1.0))
    vhr = store.vhr[indices].astype(np.float64) / scale
    card.vhr_mean = [round(float(v), 6) for v in vhr.mean(axis=(0, 2, 3))]
    card.vhr_std = [round(max(float(v), 1e-6), 6) for v in vhr.std(axis=(0, 2, 3))]
    raw = ModelCard(name="stats", variant="stats", ntl_transform=card.ntl_transform, ntl_fill=card.ntl_fill,
                    ntl_mean=[0.0], ntl_std=[1.0])
    if store.ntl_missing is not None and (~store.ntl_missing[indices]).any():
        indices = indices[~store.ntl_missing[indices]]  # tiles without night light say nothing about its statistics
    ntl = np.stack([normalise_ntl(t, raw) for t in store.ntl[indices]]).astype(np.float64)
    card.ntl_mean = [round(float(v), 6) for v in ntl.mean(axis=(0, 2, 3))]
    card.ntl_std = [round(max(float(v), 1e-3), 6) for v in ntl.std(axis=(0, 2, 3))]
    return card


def tile_sample_weights(labels: np.ndarray, num_classes: int = 7, threshold: float = 0.5,
                        min_pixels: int = 16, indices: np.ndarray | None = None) -> np.ndarray:
    """Repeat factor of each tile (LVIS repeat-factor sampling): max over its classes of max(1, sqrt(t / f_c)).

    f_c is the share of tiles holding class c (at least `min_pixels` pixels) and t the `threshold`: a class found in
    half the tiles or more is not oversampled, one in 5 % of the tiles about 3 times, so rare classes are seen more
    often without a few tiles being drawn over and over.
    """
    rows = np.arange(len(labels)) if indices is None else np.asarray(indices)  # tile by tile: labels may be on disk
    n = len(rows)
    held = np.zeros((n, num_classes), dtype=bool)
    for i, t in enumerate(rows):
        counts = np.bincount(labels[t].ravel(), minlength=num_classes + 1)[1:num_classes + 1]
        held[i] = counts >= min_pixels
    share = held.mean(axis=0) if n else np.zeros(num_classes)
    factor = np.where(share > 0, np.sqrt(threshold / np.maximum(share, 1e-12)), 1.0)
    factor = np.maximum(factor, 1.0)
    return np.array([factor[h].max() if h.any() else 1.0 for h in held], dtype=np.float64)


def make_dataset(store: TileStore, indices: np.ndarray, card: ModelCard, train: bool, seed: int = 0
                 ) -> "torch.utils.data.Dataset":
    """A map-style dataset of (vhr, ntl, labels) tensors for the chosen tiles, normalised as the card says."""
    import torch

    class TileDataset(torch.utils.data.Dataset):
        """Tiles of a store, normalised with the card; random flips/turns/brightness when training."""

        def __init__(self) -> None:
            self.indices = np.asarray(indices, dtype=np.int64)
            self.epoch = 0

        def __len__(self) -> int:
            return len(self.indices)

        def __getitem__(self, i: int) -> tuple["torch.Tensor", "torch.Tensor", "torch.Tensor"]:
            t = int(self.indices[i])
            vhr = normalise_vhr(store.vhr[t], store.vhr_dtype, card)
            if store.ntl_missing is not None and store.ntl_missing[t]:
                # Night light unknown (a scene without georeference): the training mean, i.e. 0 after standardising,
                # so the network learns to classify from VHR alone when NTL carries no information.
                ntl = np.zeros(store.ntl[t].shape, dtype=np.float32)
            else:
                ntl = normalise_ntl(store.ntl[t], card)
            labels = store.labels[t]
            if train:
                rng = np.random.default_rng((seed, self.epoch, t))
                vhr, ntl, labels = augment(vhr, ntl, labels, rng)
            return (torch.from_numpy(np.ascontiguousarray(vhr, dtype=np.float32)),
                    torch.from_numpy(np.ascontiguousarray(ntl, dtype=np.float32)),
                    torch.from_numpy(labels.astype(np.int64)))

    return TileDataset()


class EpochSampler:
    """Indices of one epoch for one process: weighted draws with replacement (oversampling) or a permutation,
    the same on every process for a given (seed, epoch), then split between processes for DDP."""

    def __init__(self, num_items: int, weights: np.ndarray | None, seed: int, rank: int = 0, world_size: int = 1):
        self.num_items, self.seed, self.rank, self.world_size = num_items, seed, rank, world_size
        self.p = None if weights is None else np.asarray(weights, dtype=np.float64) / np.sum(weights)
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Choose the epoch whose draw __iter__ yields."""
        self.epoch = epoch

    def __len__(self) -> int:
        return -(-self.num_items // self.world_size)

    def __iter__(self):
        rng = np.random.default_rng((self.seed, self.epoch))
        if self.p is None:
            order = rng.permutation(self.num_items)
        else:
            order = rng.choice(self.num_items, size=self.num_items, replace=True, p=self.p)
        padded = np.resize(order, len(self) * self.world_size)  # every process gets as many items
        return iter(padded[self.rank::self.world_size].tolist())
