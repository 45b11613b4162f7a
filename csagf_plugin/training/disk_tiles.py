"""A tile store on disk: tiles appended as they are cut, read back tile by tile, never held whole in memory.

A folder `NAME.tiles/` of plain .npy files (vhr, ntl, labels, scene, origin, ntl_missing) and `meta.json` (what
TileStore.meta() holds).  The writer appends each tile's bytes to the files and fixes the .npy headers' tile
count when it closes, so preparing N tiles needs memory for one tile, and the folder appears (renamed into place)
only when complete.  `open_disk_store` returns a TileStore whose large arrays (vhr, ntl, labels) are TileFiles:
each read maps the file, copies the tiles asked for and unmaps it, so DataLoader workers and DDP ranks read the
same files through the page cache and an epoch leaves nothing of the store in their resident memory.

Numpy only, like tile_store.py.
"""

from __future__ import annotations

import json
import mmap
import os
import shutil
from pathlib import Path
from typing import Self

import numpy as np

from ..core.errors import InputError
from .tile_store import TileStore

ARRAYS = ("vhr", "ntl", "labels", "scene", "origin", "ntl_missing")
HEADER_BYTES = 128  # fixed .npy header (magic + length + dict), so the tile count can be rewritten in place
SUFFIX = ".tiles"


def _header(dtype: np.dtype, shape: tuple[int, ...]) -> bytes:
    """A .npy (version 1.0) header of exactly HEADER_BYTES bytes."""
    text = repr({"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": tuple(shape)})
    room = HEADER_BYTES - 10  # magic (6) + version (2) + header length (2)
    if len(text) + 1 > room:
        raise InputError(f"Tile shape {shape} is too large for the disk tile store's header.")
    body = (text + " " * (room - len(text) - 1) + "\n").encode("latin1")
    return b"\x93NUMPY" + bytes([1, 0]) + len(body).to_bytes(2, "little") + body


class DiskTileWriter:
    """Appends tiles to a disk tile store; `close(meta)` makes it complete, `abort()` (or an error) removes it.

        with DiskTileWriter("city.tiles", tile_size=256, vhr_bands=3, ntl_bands=1, vhr_dtype="uint8") as w:
            w.append(vhr, ntl, labels, scene=0, origin=(row, col))
            w.close(meta)
    """

    def __init__(self, path: str | os.PathLike, tile_size: int, vhr_bands: int, ntl_bands: int,
                 vhr_dtype: str = "uint8") -> None:
        self.path = Path(path)
        if self.path.suffix != SUFFIX:
            raise InputError(f"A disk tile store is a folder named *{SUFFIX}: got {self.path}.")
        if not self.path.parent.is_dir():
            raise InputError(f"Folder {self.path.parent} does not exist: create it or pick another tile store path.")
        self.partial = self.path.with_name(f".{self.path.name}.partial")
        shutil.rmtree(self.partial, ignore_errors=True)
        self.partial.mkdir()
        t = tile_size
        self.shapes = {"vhr": ((vhr_bands, t, t), np.dtype(vhr_dtype)), "ntl": ((ntl_bands, t, t), np.dtype("float32")),
                       "labels": ((t, t), np.dtype("uint8")), "scene": ((), np.dtype("int32")),
                       "origin": ((2,), np.dtype("int64")), "ntl_missing": ((), np.dtype("bool"))}
        self.files = {}
        for name, (shape, dtype) in self.shapes.items():
            f = open(self.partial / f"{name}.npy", "wb")  # noqa: SIM115  # closed in close() / abort()
            f.write(_header(dtype, (0,) + shape))
            self.files[name] = f
        self.count = 0
        self.closed = False

    def append(self, vhr: np.ndarray, ntl: np.ndarray, labels: np.ndarray, scene: int, origin: tuple[int, int],
               ntl_missing: bool = False) -> None:
        """Add one tile (vhr [B, T, T], ntl [Bn, T, T] radiance, labels [T, T])."""
        values = {"vhr": vhr, "ntl": ntl, "labels": labels, "scene": scene, "origin": origin,
                  "ntl_missing": ntl_missing}
        for name, value in values.items():
            shape, dtype = self.shapes[name]
            array = np.asarray(value)
            if array.shape != shape:
                raise InputError(f"Tile {self.count}: {name} has shape {array.shape}, the store holds {shape}.")
            self.files[name].write(np.ascontiguousarray(array, dtype=dtype).tobytes())
        self.count += 1

    def close(self, meta: dict) -> Path:
        """Fix the tile counts, write the metadata and rename the folder into place; returns its path."""
        for name, f in self.files.items():
            shape, dtype = self.shapes[name]
            f.seek(0)
            f.write(_header(dtype, (self.count,) + shape))
            f.close()
        (self.partial / "meta.json").write_text(json.dumps(meta, indent=1), encoding="utf-8")
        if self.path.exists():
            shutil.rmtree(self.path)
        os.replace(self.partial, self.path)
        self.closed = True
        return self.path

    def abort(self) -> None:
        """Remove the unfinished store."""
        for f in self.files.values():
            f.close()
        shutil.rmtree(self.partial, ignore_errors=True)
        self.closed = True

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: object, *rest: object) -> None:
        if not self.closed:
            self.abort()


LAZY = ("vhr", "ntl", "labels")  # the large arrays; scene, origin and ntl_missing are small and read whole


class TileFile:
    """One large array of a disk tile store, read on indexing: each read maps the .npy file, copies the tiles asked
    for and unmaps it, so the tiles read stay out of the process's resident memory (a memory map kept open would
    count every tile an epoch touched, and peak RSS would grow with the number of tiles)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with open(path, "rb") as fh:
            version = np.lib.format.read_magic(fh)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(fh)
            self.offset = fh.tell()  # where the data starts
        if fortran:
            raise InputError(f"{path} is stored in Fortran order; prepare the tile store again.")
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)

    @property
    def ndim(self) -> int:
        """Number of dimensions, as numpy arrays have."""
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: object) -> np.ndarray:
        if self.shape[0] == 0:
            return np.zeros(self.shape, self.dtype)[key]
        with open(self.path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            view = np.ndarray(self.shape, self.dtype, buffer=mapped, offset=self.offset)
            tiles = np.array(view[key])  # a copy: the map is closed (unmapped) on leaving this block
            del view
        return tiles

    def __array__(self, dtype: object = None, copy: object = None) -> np.ndarray:
        data = self[:]
        return data if dtype is None else data.astype(dtype)


def open_disk_store(path: str | os.PathLike) -> TileStore:
    """A TileStore over a disk tile store's files (vhr, ntl, labels read on indexing; see TileFile)."""
    folder = Path(path)
    if not (folder / "meta.json").is_file():
        raise InputError(f"{folder} is not a disk tile store (no meta.json): write one with DiskTileWriter.")
    meta = json.loads((folder / "meta.json").read_text(encoding="utf-8"))
    arrays = {}
    for name in ARRAYS:
        try:
            arrays[name] = TileFile(folder / f"{name}.npy") if name in LAZY else np.load(folder / f"{name}.npy")
        except (OSError, ValueError) as exc:
            raise InputError(f"Disk tile store {folder}: {name}.npy cannot be read ({exc}); prepare it again.") \
                from exc
    counts = {len(a) for a in arrays.values()}
    if len(counts) != 1:
        raise InputError(f"Disk tile store {folder} is inconsistent (tile counts {sorted(counts)}): prepare it again.")
    known = set(TileStore.__dataclass_fields__) - set(ARRAYS)
    return TileStore(**arrays, **{k: v for k, v in meta.items() if k in known})
