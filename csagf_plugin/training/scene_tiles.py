"""Scene-labelled image folders (one class per image, no georeference) as training tiles for the VHR branch.

Data sets such as SIRI-WHU give one land-use label per image: `<folder>/<class>/<image>.tif`.  Each image becomes
one tile whose every pixel carries the image's class (weak, tile-level supervision), resampled to the pixel size
the model trains at, with its night light marked unknown (TileStore.ntl_missing): without a georeference no NTL
can be matched, and the network learns to decide from VHR alone there.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling

from ..core.errors import Canceled, InputError
from ..core.progress import Progress, SilentProgress, Warn, ignore_warning
from .labels import ClassMapping
from .tile_store import TileStore

DEFAULT_SCENE_MAPPING = Path(__file__).resolve().parents[2] / "resources" / "class_mappings" / "siri_whu.csv"
IMAGE_SUFFIXES = (".tif", ".tiff", ".png", ".jpg", ".jpeg")


@dataclass
class SceneFolderConfig:
    """Which scene-labelled images to cut and how."""

    folder: str  # root folder holding one sub-folder per scene class
    source_pixel_size_m: float  # ground pixel size of the images (SIRI-WHU: about 2 m)
    pixel_size_m: float  # pixel size the model trains at; images are resampled to it
    tile_size: int = 256  # tile edge after resampling (a random crop when the image is larger)
    mapping: str | None = None  # CSV mapping of folder names (key "scene") to class ids; None: SIRI-WHU's
    per_class: int | None = None  # at most this many images per folder (seeded draw); None: all
    seed: int = 0  # seeds the draw and the crops

    def __post_init__(self) -> None:
        if self.source_pixel_size_m <= 0 or self.pixel_size_m <= 0:
            raise InputError(f"Pixel sizes must be positive: source {self.source_pixel_size_m} m, "
                             f"target {self.pixel_size_m} m.")
        if self.tile_size < 64 or self.tile_size % 32:
            raise InputError(f"Tile size {self.tile_size} must be a multiple of 32 and at least 64.")


def scene_folder_tiles(config: SceneFolderConfig, progress: Progress | None = None,
                       warn: Warn = ignore_warning) -> TileStore:
    """A tile store from a folder of scene-labelled images (see the module docstring)."""
    progress = progress or SilentProgress()
    root = Path(config.folder)
    if not root.is_dir():
        raise InputError(f"Scene folder {root} does not exist: give the folder holding one sub-folder per class.")
    mapping = ClassMapping.from_file(config.mapping or DEFAULT_SCENE_MAPPING, "scene")
    rng = np.random.default_rng(config.seed)
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    unmapped = [f.name for f in folders if mapping.classify({"scene": f.name}) is None]
    if unmapped:
        warn(f"Scene classes {unmapped} match no rule of {mapping.source}: their images are left out.")
    chosen: list[tuple[Path, int]] = []
    for f in folders:
        class_id = mapping.classify({"scene": f.name})
        if not class_id:
            continue
        images = sorted(p for p in f.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if config.per_class is not None and len(images) > config.per_class:
            images = [images[i] for i in sorted(rng.choice(len(images), config.per_class, replace=False))]
        chosen += [(p, class_id) for p in images]
    if not chosen:
        raise InputError(f"No image in {root} maps to a class: check the folder names against {mapping.source}.")
    T, zoom = config.tile_size, config.source_pixel_size_m / config.pixel_size_m
    vhr, labels, dtypes = [], [], set()
    for i, (path, class_id) in enumerate(chosen):
        with warnings.catch_warnings():  # scene images have no georeference by nature
            warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
            src = rasterio.open(path)
        with src:
            if src.count < 3:
                raise InputError(f"{path} has {src.count} bands; scene images must be RGB.")
            h, w = max(T, round(src.height * zoom)), max(T, round(src.width * zoom))
            image = src.read([1, 2, 3], out_shape=(3, h, w), resampling=Resampling.bilinear)
            dtypes.add(src.dtypes[0])
        r, c = int(rng.integers(0, h - T + 1)), int(rng.integers(0, w - T + 1))
        vhr.append(image[:, r:r + T, c:c + T])
        labels.append(np.full((T, T), class_id, dtype=np.uint8))
        if i % 50 == 0:
            if progress.is_canceled():
                raise Canceled("Cutting scene tiles was canceled.")
            progress.set_progress(100.0 * i / len(chosen))
    if len(dtypes) > 1:
        raise InputError(f"The scene images differ in data type {sorted(dtypes)}: use one product.")
    n = len(chosen)
    progress.set_progress(100.0)
    return TileStore(vhr=np.stack(vhr), ntl=np.full((n, 1, T, T), np.nan, dtype=np.float32), labels=np.stack(labels),
                     scene=np.arange(n, dtype=np.int32), origin=np.zeros((n, 2), dtype=np.int32),
                     scenes=[os.fspath(p) for p, _ in chosen], vhr_dtype=str(dtypes.pop()),
                     vhr_pixel_size_m=config.pixel_size_m,
                     description=(f"{n} scene-labelled images of {root.name} (tile-level labels, {T} px at "
                                  f"{config.pixel_size_m:g} m resampled from {config.source_pixel_size_m:g} m, no "
                                  "night light)"),
                     ntl_missing=np.ones(n, dtype=bool))
