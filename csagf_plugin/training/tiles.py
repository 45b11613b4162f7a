"""Training tiles: VHR windows by sliding window, NTL warped onto each tile's grid, labels; kept in memory or npz.

NTL goes through core.raster.ntl_on_grid, the same function inference uses, and is stored as radiance (NaN where
the NTL raster has no data): normalisation happens later through core.model_card.normalise_ntl, as at inference.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import ColorInterp
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from ..core.errors import Canceled, InputError
from ..core.model_card import ModelCard
from ..core.progress import Progress, SilentProgress, Warn, ignore_warning
from ..core.raster import GDAL_CACHE_BYTES, check_overlap, ntl_on_grid, open_raster
from ..core.resolution import ground_pixel_size_m, plan_resampling
from ..core.value_checks import check_ntl_range
from .disk_tiles import SUFFIX as DISK_SUFFIX
from .disk_tiles import DiskTileWriter, open_disk_store
from .labels import ClassMapping, is_raster
from .scene_labels import scene_label_bands
from .tile_store import TileStore


@dataclass
class LabelSource:
    """A further label source for a scene, with its own layer, class field and mapping."""

    path: str  # label raster of class ids, or a polygon layer
    layer: str | None = None  # layer inside a multi-layer vector source
    class_field: str | None = None  # field holding the class
    mapping: str | None = None  # CSV/JSON mapping for this source; None: the run's mapping (vector) or none (raster)


@dataclass
class SceneSource:
    """One VHR raster and the labels that go with it."""

    vhr: str  # path of the VHR raster
    labels: str  # label raster of class ids, or a polygon layer (GPKG, Shapefile, OSM .pbf, ...)
    layer: str | None = None  # layer name inside a multi-layer vector source (OSM: "multipolygons" by default)
    class_field: str | None = None  # field holding the class; with no mapping it must hold class ids 1..7
    # Further sources, in priority order: each labels only pixels that every source before it left unlabelled, so
    # the first source wins where several have a label (e.g. precise polygons first, coarse visual cells after).
    more_labels: list[LabelSource] = field(default_factory=list)


@dataclass
class PrepareConfig:
    """What to cut into training tiles and how."""

    scenes: list[SceneSource]  # one or more VHR rasters, each with its own label source
    ntl: str  # night-light raster (any CRS and grid; warped onto each tile)
    mapping: str | None = None  # CSV/JSON class mapping; None: the default OSM mapping for vector labels
    vhr_bands: list[int] | None = None  # 1-based VHR bands to use, in order; None: RGB (first three, alpha skipped)
    tile_size: int = 256  # tile edge in pixels
    stride: int | None = None  # step of the sliding window in px (< tile_size overlaps tiles); None: tile_size
    min_labelled: float = 0.1  # tiles with a smaller share of labelled pixels are dropped
    output: str | None = None  # .npz path to write the tile store to; None keeps it in memory only
    pixel_size_m: float | None = None  # ground pixel size to train at: each VHR is resampled to it; None: as it is

    def __post_init__(self) -> None:
        if not self.scenes:
            raise InputError("Give at least one VHR raster with its labels.")
        if self.tile_size < 64 or self.tile_size % 32:
            raise InputError(f"Tile size {self.tile_size} must be a multiple of 32 and at least 64 (paper: 256).")
        if self.stride is None:
            self.stride = self.tile_size
        if not 0 < self.stride <= self.tile_size:
            raise InputError(f"Stride {self.stride} must be between 1 and the tile size {self.tile_size}.")
        if not 0 <= self.min_labelled <= 1:
            raise InputError(f"Minimum labelled share {self.min_labelled} must be between 0 and 1.")


class TileSink:
    """Where prepare puts the tiles it cuts: lists in memory, or appended one by one to a disk tile store when the
    output is a `*.tiles` folder (memory then holds one tile, whatever the number of tiles)."""

    def __init__(self, output: str | None) -> None:
        self.output = output
        self.on_disk = bool(output) and os.fspath(output).rstrip("/\\").endswith(DISK_SUFFIX)
        self.writer: DiskTileWriter | None = None
        self.arrays: dict[str, list] = {k: [] for k in ("vhr", "ntl", "labels", "scene", "origin")}
        self.count = 0

    def add(self, vhr: np.ndarray, ntl: np.ndarray, labels: np.ndarray, scene: int, origin: tuple[int, int]) -> None:
        """Keep one tile."""
        if self.on_disk:
            if self.writer is None:
                self.writer = DiskTileWriter(self.output, labels.shape[-1], vhr.shape[0], ntl.shape[0],
                                             str(vhr.dtype))
            self.writer.append(vhr, ntl, labels, scene, origin)
        else:
            for key, value in zip(self.arrays, (vhr, ntl, labels, scene, origin)):
                self.arrays[key].append(value)
        self.count += 1

    def finish(self, meta: dict) -> TileStore:
        """The store of every tile kept (memory-mapped from the disk store when on disk)."""
        if self.writer is not None:
            return open_disk_store(self.writer.close(meta))
        a = self.arrays
        return TileStore(vhr=np.stack(a["vhr"]), ntl=np.stack(a["ntl"]), labels=np.stack(a["labels"]),
                         scene=np.asarray(a["scene"], dtype=np.int32), origin=np.asarray(a["origin"], dtype=np.int32),
                         **meta)

    def abort(self) -> None:
        """Drop the tiles (an unfinished disk store is removed)."""
        if self.writer is not None and not self.writer.closed:
            self.writer.abort()


def window_starts(size: int, tile: int, stride: int) -> list[int]:
    """Top/left offsets of a sliding window covering `size` pixels; the last window is snapped to the edge."""
    if size < tile:
        return []
    starts = list(range(0, size - tile + 1, stride))
    if starts[-1] != size - tile:
        starts.append(size - tile)
    return starts


def default_vhr_bands(src: rasterio.DatasetReader) -> list[int]:
    """RGB bands of a VHR raster: the first three that are not alpha (all bands when fewer than three)."""
    bands = [i + 1 for i, ci in enumerate(src.colorinterp) if ci != ColorInterp.alpha]
    return bands[:3] if len(bands) >= 3 else bands


def _band_names(src: rasterio.DatasetReader, bands: list[int]) -> list[str]:
    names = []
    for b in bands:
        ci = src.colorinterp[b - 1]
        names.append(src.descriptions[b - 1] or (ci.name if ci not in (ColorInterp.undefined, ColorInterp.gray)
                                                  else f"band{b}"))
    return names


@contextmanager
def _at_pixel_size(src: rasterio.DatasetReader, pixel_size_m: float | None, warn: Warn):
    """The raster itself, or a WarpedVRT of it at `pixel_size_m` (read window by window, like classify does)."""
    plan = plan_resampling(src, pixel_size_m)
    if plan is None:
        yield src
        return
    warn(f"VHR raster {src.name} resampled from {plan.input_m:.2f} m to {plan.target_m:.2f} m for training.")
    with WarpedVRT(src, crs=src.crs, transform=plan.transform, width=plan.width, height=plan.height,
                   resampling=plan.resampling) as vrt:
        yield vrt


def prepare_tiles(config: PrepareConfig, progress: Progress | None = None, warn: Warn = ignore_warning) -> TileStore:
    """Cut every scene into tiles with NTL and labels, drop barely labelled tiles, optionally save as npz."""
    progress = progress or SilentProgress()
    mappings: dict[str | None, ClassMapping] = {}

    def mapping_for(class_field: str | None) -> ClassMapping | None:
        """The run's mapping, read with the scene's class field (a value,class_id CSV needs it as its key)."""
        if not config.mapping:
            return None
        if class_field not in mappings:
            mappings[class_field] = ClassMapping.from_file(config.mapping, class_field)
        return mappings[class_field]

    if config.mapping and not is_raster(config.scenes[0].labels):  # a bad mapping is reported before any raster
        mapping_for(config.scenes[0].class_field)
    T = config.tile_size
    dtypes, band_counts, band_names, vhr_sizes, ntl_sizes = set(), set(), None, [], []
    ntl_missing_px, ntl_missing_tiles, labelled_total = 0, 0, 0
    sink = TileSink(config.output)
    try:
        # a capped block cache: windows read once each would otherwise fill GDAL's (5 % of RAM) with the scene
        with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES), open_raster(config.ntl, "NTL") as ntl:
            ntl_bands = list(range(1, ntl.count + 1))
            check_ntl_range(ntl, ntl_bands, ModelCard("training", "training"), warn)  # 1e30 would skew the NTL mean
            ntl_names = [ntl.descriptions[b - 1] or ("radiance" if ntl.count == 1 else f"ntl{b}") for b in ntl_bands]
            for s, scene in enumerate(config.scenes):
                with open_raster(scene.vhr, "VHR") as raw, _at_pixel_size(raw, config.pixel_size_m, warn) as vhr:
                    check_overlap(vhr, ntl, "NTL")
                    bands = config.vhr_bands or default_vhr_bands(vhr)
                    if max(bands) > vhr.count or min(bands) < 1:
                        raise InputError(f"VHR raster {scene.vhr} has {vhr.count} bands; bands {bands} were asked for.")
                    dtypes.add(vhr.dtypes[bands[0] - 1])
                    band_counts.add(len(bands))
                    band_names = band_names or _band_names(vhr, bands)
                    vhr_sizes.append(ground_pixel_size_m(vhr.crs, vhr.transform, vhr.width, vhr.height))
                    ntl_sizes.append(ground_pixel_size_m(ntl.crs, ntl.transform, ntl.width, ntl.height))
                    if vhr.width < T or vhr.height < T:
                        raise InputError(f"VHR raster {scene.vhr} ({vhr.width} x {vhr.height} px) is smaller than one "
                                         f"tile ({T} px): choose a smaller tile size.")
                    rows, cols = window_starts(vhr.height, T, config.stride), window_starts(vhr.width, T, config.stride)
                    n_labelled, done_rows = 0, 0
                    for band in scene_label_bands(vhr, scene, rows, T, mapping_for, warn):
                        n_labelled += int(np.count_nonzero(band.labels[:band.own_rows]))
                        for r in band.tile_rows:
                            for c in cols:
                                lab = band.labels[r - band.row0:r - band.row0 + T, c:c + T]
                                if np.count_nonzero(lab) < config.min_labelled * T * T or not lab.any():
                                    continue
                                window = Window(c, r, T, T)
                                tile_vhr = vhr.read(bands, window=window)
                                tile_ntl = ntl_on_grid(ntl, vhr.crs, vhr.window_transform(window), T, T, ntl_bands)
                                missing = int(np.count_nonzero(~np.isfinite(tile_ntl[0])))
                                if missing:
                                    ntl_missing_px += missing
                                    ntl_missing_tiles += 1
                                sink.add(tile_vhr, tile_ntl.astype(np.float32), lab.copy(), s, (r, c))
                            done_rows += 1
                            if progress.is_canceled():
                                raise Canceled("Preparing training tiles was canceled.")
                            progress.set_progress(100.0 * (s + done_rows / len(rows)) / len(config.scenes))
                    labelled_total += n_labelled
                    if n_labelled == 0:
                        warn(f"No labelled pixel on VHR raster {scene.vhr}: its labels {scene.labels} map to no class "
                             "there; the scene gives no tiles.")
        if len(dtypes) > 1 or len(band_counts) > 1:
            raise InputError(f"The VHR rasters differ in data type {sorted(dtypes)} or band count {sorted(band_counts)}: "
                             "use rasters of one sensor and product, or choose the same bands for all.")
        if not sink.count:
            raise InputError(
                f"No training tile: {labelled_total} labelled pixels in all, and each {T} x {T} tile needs at least "
                f"{config.min_labelled:.0%} labelled ({int(config.min_labelled * T * T)} px). Add labels, choose a "
                "smaller tile size, or lower the minimum labelled share.")
        if ntl_missing_px:
            warn(f"The NTL raster has no data under {ntl_missing_px} pixels of {ntl_missing_tiles} tiles; they are filled "
                 "with the model card's NTL fill value (radiance 0), exactly as at inference. Use an NTL raster that "
                 "covers the whole VHR area if that is wrong.")
        if max(vhr_sizes) > 1.2 * min(vhr_sizes):
            warn(f"The VHR rasters have different pixel sizes ({min(vhr_sizes):.2f} to {max(vhr_sizes):.2f} m): the "
                 "model card records their mean; give a pixel size to train at (--pixel-size) for a consistent model.")
        store = sink.finish(dict(
            scenes=[os.fspath(sc.vhr) for sc in config.scenes], vhr_dtype=str(dtypes.pop()),
            vhr_band_names=list(band_names or []), ntl_band_names=ntl_names,
            vhr_pixel_size_m=round(float(np.mean(vhr_sizes)), 3),
            ntl_pixel_size_m=round(float(np.mean(ntl_sizes)), 1),
            description=(f"{sink.count} tiles of {T} px from {len(config.scenes)} VHR raster(s) "
                         f"({', '.join(Path(sc.vhr).name for sc in config.scenes[:5])}"
                         f"{', ...' if len(config.scenes) > 5 else ''}), labels from "
                         f"{', '.join(sorted({Path(sc.labels).name for sc in config.scenes})[:5])}, NTL "
                         f"{Path(config.ntl).name}")))
    except BaseException:
        sink.abort()
        raise
    if config.output and not sink.on_disk:
        store.save(config.output)
    progress.set_progress(100.0)
    return store
