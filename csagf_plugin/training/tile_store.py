"""The tile store: training tiles as numpy arrays plus plain metadata, in memory or as one .npz file.

Numpy only, so that a GPU server can train from a store made elsewhere without GDAL or rasterio.
"""

from __future__ import annotations

import json
import os
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..core.errors import InputError
from .atomic_file import atomic_file


@dataclass
class TileStore:
    """Tiles ready for training: arrays plus what the model card needs to know about them."""

    vhr: np.ndarray  # [N, B, T, T] VHR digital numbers in the source dtype
    ntl: np.ndarray  # [N, Bn, T, T] float32 radiance on the tile grid, NaN where the NTL raster has no data
    labels: np.ndarray  # [N, T, T] uint8 class ids, 0 = ignore
    scene: np.ndarray  # [N] index into `scenes`
    origin: np.ndarray  # [N, 2] (row, col) of each tile's top-left pixel in its scene
    scenes: list[str] = field(default_factory=list)  # VHR path of each scene
    vhr_dtype: str = "uint8"  # source dtype of the VHR (selects the scale in the model card)
    vhr_band_names: list[str] = field(default_factory=lambda: ["red", "green", "blue"])
    ntl_band_names: list[str] = field(default_factory=lambda: ["radiance"])
    vhr_pixel_size_m: float = 1.0  # ground pixel size of the VHR
    ntl_pixel_size_m: float = 500.0  # ground pixel size of the NTL
    description: str = ""  # what the tiles were made from, for the model card
    ntl_missing: np.ndarray | None = None  # [N] bool: no night light is known for the tile (e.g. no georeference)

    @property
    def num_tiles(self) -> int:
        """Number of tiles."""
        return int(self.labels.shape[0])

    @property
    def tile_size(self) -> int:
        """Tile edge in pixels."""
        return int(self.labels.shape[-1])

    def class_pixel_counts(self, indices: np.ndarray | None = None, num_classes: int = 7) -> np.ndarray:
        """Labelled pixels per class id 1..num_classes (index k = class k+1) over the chosen tiles."""
        indices = np.arange(self.num_tiles) if indices is None else np.asarray(indices)
        counts = np.zeros(num_classes + 1, dtype=np.int64)
        for start in range(0, len(indices), 256):  # in chunks: a memory-mapped store is never read whole
            chunk = self.labels[np.sort(indices[start:start + 256])]
            counts += np.bincount(chunk.ravel(), minlength=num_classes + 1)[:num_classes + 1]
        return counts[1:]

    def meta(self) -> dict:
        """Plain metadata (everything but the arrays)."""
        skip = {"vhr", "ntl", "labels", "scene", "origin", "ntl_missing"}
        return {k: getattr(self, k) for k in self.__dataclass_fields__ if k not in skip}

    def save(self, path: str | os.PathLike, compress: bool = True) -> str:
        """Write the store as one .npz (arrays + JSON metadata) atomically; returns the path."""
        write = np.savez_compressed if compress else np.savez
        extra = {} if self.ntl_missing is None else {"ntl_missing": np.asarray(self.ntl_missing, dtype=bool)}
        with atomic_file(path) as tmp, open(tmp, "wb") as fh:  # a file object: np.savez would append .npz to a name
            write(fh, vhr=self.vhr, ntl=self.ntl, labels=self.labels, scene=self.scene, origin=self.origin,
                  meta=np.array(json.dumps(self.meta())), **extra)
        return str(Path(path))

    @classmethod
    def load(cls, path: str | os.PathLike) -> "TileStore":
        """Read a store written by save(), or open a disk tile store (a `*.tiles` folder, memory-mapped)."""
        if os.path.isdir(path) and os.fspath(path).rstrip("/\\").endswith(".tiles"):
            from .disk_tiles import open_disk_store

            return open_disk_store(path)
        if not os.path.isfile(path):
            raise InputError(f"Tile store {path} does not exist: run prepare first or give the right path.")
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["meta"]))
                return cls(vhr=data["vhr"], ntl=data["ntl"], labels=data["labels"], scene=data["scene"],
                           origin=data["origin"],
                           ntl_missing=data["ntl_missing"] if "ntl_missing" in data.files else None, **meta)
        except (KeyError, ValueError, OSError, EOFError, zipfile.BadZipFile, zlib.error) as exc:  # truncated, corrupt
            raise InputError(f"{path} is not a CSAGF tile store ({exc}); make one with the prepare command.") from exc


def concat_stores(stores: list[TileStore]) -> TileStore:
    """One store holding the tiles of several (same tile size, bands and VHR dtype); scenes are renumbered."""
    first = stores[0]
    for other in stores[1:]:
        if (other.tile_size, other.vhr.shape[1], other.ntl.shape[1], other.vhr_dtype) != \
                (first.tile_size, first.vhr.shape[1], first.ntl.shape[1], first.vhr_dtype):
            raise InputError("Tile stores to combine must share tile size, band counts and VHR data type: "
                             f"{[(s.tile_size, s.vhr.shape[1], s.ntl.shape[1], s.vhr_dtype) for s in stores]}.")
    offsets = np.cumsum([0] + [len(s.scenes) for s in stores[:-1]])
    missing = [s.ntl_missing if s.ntl_missing is not None else np.zeros(s.num_tiles, dtype=bool) for s in stores]
    sizes = np.array([s.vhr_pixel_size_m for s in stores])
    counts = np.array([s.num_tiles for s in stores])
    return TileStore(
        vhr=np.concatenate([s.vhr for s in stores]), ntl=np.concatenate([s.ntl for s in stores]),
        labels=np.concatenate([s.labels for s in stores]),
        scene=np.concatenate([s.scene + o for s, o in zip(stores, offsets)]).astype(np.int32),
        origin=np.concatenate([s.origin for s in stores]), scenes=[p for s in stores for p in s.scenes],
        vhr_dtype=first.vhr_dtype, vhr_band_names=first.vhr_band_names, ntl_band_names=first.ntl_band_names,
        vhr_pixel_size_m=round(float((sizes * counts).sum() / counts.sum()), 3),
        ntl_pixel_size_m=first.ntl_pixel_size_m, description="; ".join(s.description for s in stores),
        ntl_missing=np.concatenate(missing))
