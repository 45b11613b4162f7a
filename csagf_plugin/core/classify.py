"""Predict a whole scene: stream the VHR tile by tile, warp the NTL onto each tile, infer, blend, write, report.

Memory stays bounded whatever the scene's size: tiles are read one batch at a time (rasterio windows, never the
whole raster), blended by a StreamingBlender that keeps only `overlap` rows of class scores, and written in whole
GeoTIFF block rows while GDAL's block cache is capped (GDAL_CACHE_BYTES; rasterio's own GDAL, not QGIS's).
Per 256 x 256 tile the NTL is warped exactly as training warps it (ntl_on_grid), which costs about 13 ms.
Outputs are written to temporary files beside the destination and renamed at the very end, so an error or a
cancel leaves no partial output and never touches the inputs.
"""

from __future__ import annotations

import json
import os
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import rasterio
from rasterio._err import CPLE_BaseError
from rasterio.enums import ColorInterp, MaskFlags
from rasterio.errors import RasterioError
from rasterio.windows import Window

from .errors import Canceled, InputError
from .io_errors import raise_io_error
from .model import LoadedModel, load_model
from .model_card import FunctionalClass, ModelCard, normalise_ntl, normalise_vhr
from .progress import Progress, SilentProgress
from .raster import area_unit, check_overlap, ntl_on_grid, open_raster, pixel_area
from .resolution import FAR_FACTOR, ResamplePlan, ground_pixel_size_m, plan_resampling, regrid, write_resampled_vrt
from .output_checks import check_outputs
from .safe_output import discard, temp_folder, temp_path
from .style import CLASSES_TAG, category_names_aux_xml, colormap
from .tiling import StreamingBlender, TileBlock, TileGrid
from .value_checks import check_ntl_range, vhr_scale

BLOCK_SIZE = 256  # GeoTIFF block edge of the outputs
GDAL_CACHE_BYTES = 16 * 1024 * 1024  # GDAL block cache while classifying: bounds memory on huge scenes


def print_warning(message: str) -> None:
    """Default warning sink for scripts: one line on stderr."""
    print(f"Warning: {message}", file=sys.stderr)


@dataclass
class ClassifyConfig:
    """What to classify, with which model, and where to write the maps."""

    vhr_path: str  # VHR daytime raster (bands as the model card says, optional 4th band = alpha)
    ntl_path: str | None  # night-light raster, any CRS/resolution covering the VHR (None for VHR-only models)
    model_path: str  # ONNX model with a CSAGF model card
    output_path: str  # functional-zone GeoTIFF (uint8 class ids, 0 = no data)
    confidence_path: str | None = None  # optional float32 GeoTIFF of the winning class's probability
    gate_path: str | None = None  # optional float32 GeoTIFF of the GFM gate (VHR weight), full models only
    tile_size: int | None = None  # tile edge in pixels; None = the model card's
    overlap: int | None = None  # overlap of neighbouring tiles in pixels; None = the model card's
    batch_size: int = 4  # tiles per onnxruntime call
    device: str = "auto"  # "auto", "cpu" or "cuda"
    threads: int = 0  # onnxruntime CPU threads, 0 = onnxruntime's default
    overlap_io: bool = True  # read the next batch and blend the last one while onnxruntime runs (two threads)
    block: TileBlock | None = None  # only these tiles of the scene's grid (a Dask block): outputs cover its pixels
    # Ground pixel size (m) the VHR is resampled to before predicting; the maps are written on the input grid.
    # None: the model card's pixel size; 0: the VHR as it is (no resampling).  Blocks (Dask) are never resampled:
    # classify_on_dask resamples the scene once (resolve_scene) and cuts the resampled grid into blocks.
    vhr_pixel_size_m: float | None = None
    # What the VHR values are divided by before the card's mean/std: "auto" (chosen from the values, see
    # core/value_checks.py), "card" (the model card's divisor for the VHR's data type) or a number.
    vhr_scale: str | float = "auto"

    @property
    def output_paths(self) -> list[str]:
        """Every output that will be written."""
        return [p for p in (self.output_path, self.confidence_path, self.gate_path) if p]


@dataclass
class Timings:
    """Seconds spent in each stage of a run (with overlap_io the stages run at once, in three threads)."""

    load_s: float = 0.0  # creating the onnxruntime session
    read_s: float = 0.0  # reading VHR windows, warping NTL, normalising
    infer_s: float = 0.0  # onnxruntime
    blend_s: float = 0.0  # softmax, blending, argmax
    write_s: float = 0.0  # writing GeoTIFF blocks, colour table, renaming
    total_s: float = 0.0  # wall time of the whole run, model loading included

    def shares(self) -> dict[str, float]:
        """Share of the total time of each stage (0..1; with overlap_io they may add up to more than 1)."""
        total = self.total_s or 1.0
        return {"load": self.load_s / total, "read": self.read_s / total, "infer": self.infer_s / total,
                "blend": self.blend_s / total, "write": self.write_s / total}


@dataclass
class ClassifyResult:
    """What a run wrote and measured."""

    output_path: str  # the functional-zone map
    confidence_path: str | None  # the confidence map, if written
    gate_path: str | None  # the gate map, if written
    classes: list[FunctionalClass]  # class table of the model (ids, names, colours)
    class_pixels: dict[int, int]  # pixel count per class id, 0 = no data
    pixel_area: float  # area of one pixel in square CRS units
    area_unit: str  # unit of pixel_area and class_areas, e.g. "m²"
    providers: list[str]  # onnxruntime providers used, best first
    device: str  # "cuda" or "cpu"
    tile_size: int  # tile edge used
    overlap: int  # overlap used
    tiles: int  # tiles in the grid
    tiles_skipped: int  # tiles skipped because all their pixels were no data
    width: int  # raster width in pixels
    height: int  # raster height in pixels
    timings: Timings = field(default_factory=Timings)
    warnings: list[str] = field(default_factory=list)  # recoverable problems met during the run

    @property
    def class_areas(self) -> dict[int, float]:
        """Area per class id in `area_unit`."""
        return {cid: n * self.pixel_area for cid, n in self.class_pixels.items()}

    @property
    def megapixels_per_second(self) -> float:
        """Throughput in megapixels of VHR per second of total time."""
        return self.width * self.height / 1e6 / (self.timings.total_s or 1e-9)


@dataclass
class _Inputs:
    """The opened rasters and what was decided about their bands."""

    vhr: rasterio.DatasetReader
    ntl: rasterio.DatasetReader | None
    vhr_bands: list[int]  # VHR bands fed to the model
    alpha_band: int | None  # VHR band read as alpha (0 = no data)
    ntl_bands: list[int]  # NTL bands fed to the model
    vhr_dtype: str  # source dtype of the VHR, for the card's scale
    vhr_scale: float | None = None  # divisor of the VHR values (core/value_checks.vhr_scale); None: the card's


def classify_scene(config: ClassifyConfig, progress: Progress = SilentProgress(),
                   warn: Callable[[str], None] | None = print_warning,
                   model: LoadedModel | None = None) -> ClassifyResult:
    """Classify a scene into functional zones and write the map (and optional confidence and gate maps).

    `model`: a session already loaded from config.model_path (a Dask worker keeps one for all its blocks).
    """
    started = time.perf_counter()
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        if warn is not None:
            warn(message)

    check_output_paths(config, note)
    if config.batch_size < 1:
        raise InputError(f"Batch size {config.batch_size} is not usable: pick 1 or more.")
    model = model or load_model(config.model_path, config.device, config.threads, warn=note)
    loaded = time.perf_counter()
    card = model.card
    config, plan = resolve_scene(config, card, note)
    if plan is not None:
        try:
            result = _classify_resampled(config, plan, model, progress, note)
        except (OSError, RasterioError, CPLE_BaseError) as exc:
            raise_io_error(exc, {"VHR raster": config.vhr_path, "NTL raster": config.ntl_path},
                           {"map": config.output_path})
        result.warnings = notes
        result.timings.total_s = time.perf_counter() - started
        return result
    with rasterio.Env(GDAL_CACHEMAX=GDAL_CACHE_BYTES), open_raster(config.vhr_path, "VHR") as vhr:
        if card.uses_ntl:
            if not config.ntl_path:
                raise InputError(f"Model {config.model_path} uses night light: give an NTL raster.")
            ntl_context = open_raster(config.ntl_path, "NTL")
        else:
            if config.ntl_path:
                note(f"Model {card.name} uses no night light: the NTL raster {config.ntl_path} is not read.")
            ntl_context = nullcontext()
        with ntl_context as ntl:
            inputs = _check_inputs(vhr, ntl, card, config, note)
            tile_size, overlap = _tiling(config, model, note)
            gate_path = config.gate_path
            if gate_path and not card.has_gate:
                note(f"Model {card.name} ({card.variant}) has no gate output: no gate map is written.")
                gate_path = None
            grid = TileGrid(vhr.width, vhr.height, tile_size, overlap)
            block = _check_block(config.block, grid)
            window = Window(*block.pixels(grid))
            result = ClassifyResult(
                output_path=os.fspath(config.output_path), confidence_path=config.confidence_path,
                gate_path=gate_path, classes=list(card.classes), class_pixels={}, pixel_area=pixel_area(vhr),
                area_unit=area_unit(vhr)[0], providers=model.providers, device=model.device, tile_size=tile_size,
                overlap=overlap, tiles=len(block), tiles_skipped=0, width=int(window.width),
                height=int(window.height), warnings=notes)
            result.timings.load_s = loaded - started
            try:
                _run(model, inputs, grid, block, window, result, config, progress, note)
            except (OSError, RasterioError, CPLE_BaseError) as exc:
                raise_io_error(exc, {"VHR raster": config.vhr_path, "NTL raster": config.ntl_path},
                               {"map": config.output_path})
    result.timings.total_s = time.perf_counter() - started
    return result


def resolve_scene(config: ClassifyConfig, card: ModelCard,
                  note: Callable[[str], None]) -> tuple[ClassifyConfig, ResamplePlan | None]:
    """The decisions made once per scene before tiling: the config with its VHR scale resolved from the values,
    and how the VHR is resampled to the model's pixel size (None: as it is; always None for a block).  Dask makes
    them once for all its blocks."""
    if isinstance(config.vhr_scale, str):
        config = _check_values(config, card, note)
    return config, (_resolution_plan(config, card, note) if config.block is None else None)


def _resolution_plan(config: ClassifyConfig, card: ModelCard, note: Callable[[str], None]) -> ResamplePlan | None:
    """How the VHR is resampled to the model's pixel size (None: used as it is); warns when far from the card's."""
    if config.vhr_pixel_size_m is not None and config.vhr_pixel_size_m < 0:
        raise InputError(f"VHR pixel size {config.vhr_pixel_size_m} m is negative: give a size in metres, or 0 to "
                         "use the VHR as it is.")
    with open_raster(config.vhr_path, "VHR") as vhr:
        input_m = ground_pixel_size_m(vhr.crs, vhr.transform, vhr.width, vhr.height)
        target = card.vhr_pixel_size_m if config.vhr_pixel_size_m is None else config.vhr_pixel_size_m
        used = target or input_m
        trained = card.vhr_pixel_size_m
        if trained and max(used / trained, trained / used) > FAR_FACTOR:
            note(f"The model {card.name} was trained on {trained:.2f} m pixels but predicts on {used:.2f} m "
                 f"({'the VHR as it is' if not target else 'the pixel size asked for'}; the VHR has "
                 f"{input_m:.2f} m): objects look {used / trained:.1f} times their training size, so expect a "
                 "poorer map. Leave the pixel size empty to resample to the model's.")
        plan = plan_resampling(vhr, target)
        if plan is not None:
            note(f"VHR resampled from {plan.input_m:.2f} m to the model's {plan.target_m:.2f} m pixels "
                 f"({plan.width} x {plan.height} px) for prediction; the map is written on the input grid.")
        return plan


def _classify_resampled(config: ClassifyConfig, plan: ResamplePlan, model: LoadedModel, progress: Progress,
                        note: Callable[[str], None]) -> ClassifyResult:
    """Classify a warped VRT of the VHR at the model's pixel size, then write the maps on the input grid."""
    import shutil
    from dataclasses import replace

    from rasterio.enums import Resampling

    finals = {"map": config.output_path, "confidence": config.confidence_path, "gate": config.gate_path}
    work = temp_folder(os.fspath(config.output_path))  # beside the map: its disk, removed on a kill, stale ones too
    temps: list[str] = []
    try:
        vrt = write_resampled_vrt(config.vhr_path, plan, os.path.join(work, "vhr.vrt"))
        inner = replace(config, vhr_path=vrt, vhr_pixel_size_m=0, output_path=os.path.join(work, "map.tif"),
                        confidence_path=os.path.join(work, "confidence.tif") if config.confidence_path else None,
                        gate_path=os.path.join(work, "gate.tif") if config.gate_path else None)
        result = classify_scene(inner, _ScaledProgress(progress, 0.0, 90.0), None, model)
        produced = {"map": result.output_path, "confidence": result.confidence_path, "gate": result.gate_path}
        with open_raster(config.vhr_path, "VHR") as vhr:
            moves = []
            for key, final in finals.items():
                if not final or not produced[key]:
                    continue
                if progress.is_canceled():
                    raise Canceled("Classification canceled: no output was written.")
                temp = _temp_path(final)
                temps.append(temp)
                counts = regrid(produced[key], temp, vhr, Resampling.nearest if key == "map" else Resampling.bilinear)
                if key == "map":
                    result.class_pixels = counts
                moves.append((temp, final, produced[key]))
            for temp, final, source in moves:
                os.replace(temp, final)
                if os.path.exists(source + ".aux.xml"):
                    shutil.copyfile(source + ".aux.xml", final + ".aux.xml")
                else:
                    _remove(final + ".aux.xml")
            result.output_path = os.fspath(config.output_path)
            result.confidence_path = config.confidence_path if produced["confidence"] else None
            result.gate_path = config.gate_path if produced["gate"] else None
            result.width, result.height = vhr.width, vhr.height
            result.pixel_area = pixel_area(vhr)
        progress.set_progress(100.0)
        return result
    finally:
        for temp in temps:
            _remove(temp)
        discard(work)


class _ScaledProgress:
    """Progress of a part of the work mapped to [low, high] percent of the whole."""

    def __init__(self, outer: Progress, low: float, high: float) -> None:
        self.outer, self.low, self.high = outer, low, high

    def set_progress(self, percent: float) -> None:
        self.outer.set_progress(self.low + (self.high - self.low) * percent / 100.0)

    def is_canceled(self) -> bool:
        return self.outer.is_canceled()


def scene_grid(config: ClassifyConfig, model: LoadedModel) -> TileGrid:
    """The tile grid classify_scene lays over the config's VHR raster (Dask cuts it into blocks)."""
    with open_raster(config.vhr_path, "VHR") as vhr:
        tile_size, overlap = _tiling(config, model, lambda message: None)
        return TileGrid(vhr.width, vhr.height, tile_size, overlap)


def _check_block(block: TileBlock | None, grid: TileGrid) -> TileBlock:
    """The whole grid when `block` is None, else `block` once checked to lie inside the grid."""
    if block is None:
        return TileBlock(range(grid.rows), range(grid.columns))
    rows, columns = block.rows, block.columns
    if (rows.step != 1 or columns.step != 1 or not rows or not columns or rows.start < 0 or columns.start < 0
            or rows.stop > grid.rows or columns.stop > grid.columns):
        raise InputError(f"Block of tile rows {rows} and columns {columns} is not inside the scene's grid of "
                         f"{grid.rows} x {grid.columns} tiles: cut blocks with TileGrid.blocks.")
    return block


def check_output_paths(config: ClassifyConfig, warn: Callable[[str], None] | None = None) -> None:
    """Refuse outputs that equal an input or each other, or whose folder is missing or read-only (the checks all
    algorithms share, core/safe_output.py); stale temporary files of killed runs are removed from the folders."""
    inputs = {"VHR raster": config.vhr_path, "NTL raster": config.ntl_path, "model file": config.model_path}
    outputs = {"map": config.output_path, "confidence map": config.confidence_path, "gate map": config.gate_path}
    check_outputs(outputs, inputs, warn)


def _check_inputs(vhr: rasterio.DatasetReader, ntl: rasterio.DatasetReader | None, card: ModelCard,
                  config: ClassifyConfig, note: Callable[[str], None]) -> _Inputs:
    """Match the rasters' bands to the model card and check that they overlap."""
    need = len(card.vhr_bands)
    if vhr.count == need:
        vhr_bands, alpha = list(range(1, need + 1)), None
    elif vhr.count == need + 1:
        vhr_bands, alpha = list(range(1, need + 1)), need + 1
        interp = vhr.colorinterp[alpha - 1]
        if interp != ColorInterp.alpha:
            note(f"VHR raster {config.vhr_path} has {vhr.count} bands; model {card.name} expects {need}, so band "
                 f"{alpha} (colour interpretation '{interp.name}', not alpha) is read as alpha: 0 = no data. "
                 "If it is not an alpha band, give a raster with only the model's bands.")
    else:
        raise InputError(
            f"VHR raster {config.vhr_path} has {vhr.count} bands but model {card.name} expects {need} "
            f"({', '.join(card.vhr_bands)}), optionally followed by an alpha band. Pick a raster with these bands "
            "(QGIS: Raster > Miscellaneous > Build Virtual Raster to select bands).")
    dtype = vhr.dtypes[0]
    ntl_bands: list[int] = []
    if ntl is not None:
        n_need = len(card.ntl_bands)
        if ntl.count < n_need:
            raise InputError(f"NTL raster {config.ntl_path} has {ntl.count} band(s) but model {card.name} expects "
                             f"{n_need} ({', '.join(card.ntl_bands)}). Pick a night-light raster with these bands.")
        if ntl.count > n_need:
            note(f"NTL raster {config.ntl_path} has {ntl.count} bands; model {card.name} uses the first {n_need} "
                 f"({', '.join(card.ntl_bands)}).")
        ntl_bands = list(range(1, n_need + 1))
        check_overlap(vhr, ntl, "NTL")
    return _Inputs(vhr=vhr, ntl=ntl, vhr_bands=vhr_bands, alpha_band=alpha, ntl_bands=ntl_bands, vhr_dtype=dtype,
                   vhr_scale=None if isinstance(config.vhr_scale, str) else float(config.vhr_scale))


def _check_values(config: ClassifyConfig, card: ModelCard, note: Callable[[str], None]) -> ClassifyConfig:
    """The config with its VHR scale resolved from the VHR's values (refusing an all-no-data VHR), after a warning
    for night light outside a physical range (core/value_checks.py)."""
    from dataclasses import replace

    with open_raster(config.vhr_path, "VHR") as vhr:
        scale = vhr_scale(vhr, list(range(1, min(vhr.count, len(card.vhr_bands)) + 1)), card, config.vhr_scale,
                          note)
    if card.uses_ntl and config.ntl_path:
        with open_raster(config.ntl_path, "NTL") as ntl:
            check_ntl_range(ntl, list(range(1, min(ntl.count, len(card.ntl_bands)) + 1)), card, note)
    return replace(config, vhr_scale=scale)


def _tiling(config: ClassifyConfig, model: LoadedModel, note: Callable[[str], None]) -> tuple[int, int]:
    """Tile size and overlap from the config, the graph and the model card."""
    card = model.card
    tile = config.tile_size or model.fixed_tile_size or card.tile_size
    if model.fixed_tile_size and tile != model.fixed_tile_size:
        raise InputError(f"Model {config.model_path} only accepts tiles of {model.fixed_tile_size} pixels: "
                         f"leave the tile size empty or set it to {model.fixed_tile_size}.")
    if config.overlap is not None:
        return tile, config.overlap
    overlap = card.overlap
    if 2 * overlap > tile:
        note(f"The model card's overlap {overlap} is more than half the tile size {tile}: using {tile // 2}.")
        overlap = tile // 2
    return tile, overlap


def _read_tile(inputs: _Inputs, x0: int, y0: int, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Read one VHR tile [B, size, size] (raw values, zero past the edge) and its validity mask [size, size]."""
    src = inputs.vhr
    w = min(size, src.width - x0)
    h = min(size, src.height - y0)
    window = Window(x0, y0, w, h)
    data = np.zeros((len(inputs.vhr_bands), size, size), dtype=src.dtypes[0])
    valid = np.zeros((size, size), dtype=bool)
    data[:, :h, :w] = src.read(inputs.vhr_bands, window=window)
    part = np.ones((h, w), dtype=bool)
    flags = src.mask_flag_enums[0]
    if inputs.alpha_band is not None:
        part &= src.read(inputs.alpha_band, window=window) > 0
    elif MaskFlags.all_valid not in flags and MaskFlags.nodata not in flags:
        part &= src.read_masks(1, window=window) > 0  # alpha or internal mask band
    if src.nodata is not None and not np.isnan(src.nodata):
        part &= ~np.all(data[:, :h, :w] == np.asarray(src.nodata, dtype=data.dtype), axis=0)
    if np.issubdtype(data.dtype, np.floating):
        part &= np.all(np.isfinite(data[:, :h, :w]), axis=0)
    valid[:h, :w] = part
    return data, valid


def _softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over axis 1 of [N, C, H, W], in float32."""
    z = logits - logits.max(axis=1, keepdims=True)
    np.exp(z, out=z)
    z /= z.sum(axis=1, keepdims=True)
    return z


def _winner(probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index and value of the largest of [C, H, W] along C (first one on ties, like argmax, but faster)."""
    winner = np.zeros(probs.shape[1:], dtype=np.intp)
    best = probs[0].copy()
    for k in range(1, probs.shape[0]):
        better = probs[k] > best
        winner[better] = k
        np.maximum(best, probs[k], out=best)
    return winner, best


def _open_output(path: str, vhr: rasterio.DatasetReader, window: Window, dtype: str,
                 nodata: float) -> rasterio.io.DatasetWriter:
    """Create a tiled DEFLATE GeoTIFF on the VHR grid, covering `window` of it."""
    profile = {
        "driver": "GTiff", "width": int(window.width), "height": int(window.height), "count": 1, "dtype": dtype,
        "crs": vhr.crs, "transform": vhr.window_transform(window), "nodata": nodata, "tiled": True,
        "blockxsize": BLOCK_SIZE, "blockysize": BLOCK_SIZE, "compress": "deflate",
        "predictor": 3 if dtype == "float32" else 1, "BIGTIFF": "IF_SAFER",
    }
    return rasterio.open(path, "w", **profile)


def _temp_path(final: str) -> str:
    """A fresh hidden file name beside `final` (same folder, so the final rename is atomic), removed on a kill."""
    return temp_path(final)


def _remove(path: str) -> None:
    """Delete a file if it exists (a clean-up that fails must not hide the error that made it necessary)."""
    try:
        os.remove(path)
    except OSError:
        pass


class _RowWriter:
    """Turns blended blocks into class ids (and confidence, gate) and writes them in whole GeoTIFF block rows.

    Writing whole block rows means each compressed output block is written once, never re-read and rewritten,
    so GDAL's block cache holds at most a few block rows of output whatever the scene's size.  Rows wait in
    buffers allocated once (a block row plus a tile row high), so no scene-wide array is ever allocated.
    """

    def __init__(self, card: ModelCard, writers: dict[str, rasterio.io.DatasetWriter], width: int,
                 tile_size: int, x_offset: int = 0) -> None:
        self.ids = card.class_ids()
        self.classes = len(self.ids)
        self.writers = writers
        self.width = width
        self.x_offset = x_offset  # raster column of the outputs' first column
        self.counts = np.zeros(256, dtype=np.int64)
        rows = BLOCK_SIZE + tile_size
        self.buffers = {key: np.zeros((rows, width), np.uint8) if key == "map"
                        else np.full((rows, width), np.nan, np.float32) for key in writers}
        self.filled = 0  # rows of the buffers finished and waiting to be written
        self.row_height = 0  # height of the tile row being filled, 0 before its first block
        self.written = 0  # raster rows already written

    def add(self, x0: int, values: np.ndarray, valid: np.ndarray) -> None:
        """Put a blended block [K, h, w] at raster column x0 of the current tile row."""
        h, w = values.shape[1:]
        x0 -= self.x_offset
        self.row_height = h
        rows = slice(self.filled, self.filled + h)
        probs = values[:self.classes]
        winner, best = _winner(probs)
        ids = np.where(valid, self.ids[winner], 0).astype(np.uint8)
        self.buffers["map"][rows, x0:x0 + w] = ids
        self.counts += np.bincount(ids.ravel(), minlength=256)  # per block: bincount makes an int64 copy
        if "confidence" in self.buffers:
            total = probs.sum(axis=0)
            conf = np.divide(best, total, out=np.zeros_like(best), where=total > 0)
            self.buffers["confidence"][rows, x0:x0 + w] = np.where(valid, conf, np.nan)
        if "gate" in self.buffers:
            self.buffers["gate"][rows, x0:x0 + w] = np.where(valid, values[self.classes], np.nan)

    def end_row(self, last: bool) -> None:
        """Finish the current tile row; write every whole block row ready (everything when `last`)."""
        if self.row_height:
            self.filled += self.row_height
            self.row_height = 0
        rows = self.filled if last else (self.filled // BLOCK_SIZE) * BLOCK_SIZE
        if rows == 0:
            return
        window = Window(0, self.written, self.width, rows)
        left = self.filled - rows  # fewer than BLOCK_SIZE <= rows: the move below never overlaps itself
        for key, buffer in self.buffers.items():
            self.writers[key].write(buffer[:rows], 1, window=window)
            buffer[:left] = buffer[rows:self.filled]
        self.filled = left
        self.written += rows


@dataclass
class _Batch:
    """A batch of tiles read and normalised, then run through the model."""

    tiles: list[tuple[int, int]]  # (row, column) of each tile
    valids: list[np.ndarray]  # validity mask [tile, tile] of each tile
    live: list[tuple[int, int]]  # tiles with valid pixels, the ones the model runs on
    vhr: list[np.ndarray]  # normalised VHR [B, tile, tile] of each live tile
    ntl: list[np.ndarray]  # normalised NTL [B, tile, tile] of each live tile (empty for VHR-only models)
    ntl_missing: int = 0  # live tiles with no NTL data at all
    outputs: dict[tuple[int, int], np.ndarray] = field(default_factory=dict)  # probabilities (+ gate) per tile
    read_s: float = 0.0  # seconds reading, warping and normalising
    infer_s: float = 0.0  # seconds in onnxruntime
    softmax_s: float = 0.0  # seconds in the softmax


class _Stage:
    """One worker thread for a pipeline stage, or (workers=0) a stage that runs each call at once in the caller."""

    def __init__(self, workers: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="csagf") if workers else None

    def submit(self, fn: Callable, *args: object) -> Future:
        """Run fn(*args) in the stage's thread (or now) and return its future."""
        if self.pool is not None:
            return self.pool.submit(fn, *args)
        future: Future = Future()
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed on to whoever asks for the result, as a thread's would be
            future.set_exception(exc)
        return future

    def __enter__(self) -> "_Stage":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.pool is not None:  # wait for the running call: the rasters close only after it
            self.pool.shutdown(wait=True, cancel_futures=True)


def _read_batch(inputs: _Inputs, grid: TileGrid, card: ModelCard, tiles: list[tuple[int, int]]) -> _Batch:
    """Read, warp and normalise the tiles of a batch (in the reader thread when I/O overlaps inference)."""
    t0 = time.perf_counter()
    vhr = inputs.vhr
    batch = _Batch(tiles=tiles, valids=[], live=[], vhr=[], ntl=[])
    for row, column in tiles:
        x0, y0 = grid.origin(row, column)
        data, valid = _read_tile(inputs, x0, y0, grid.tile_size)
        batch.valids.append(valid)
        if not valid.any():
            continue
        batch.live.append((row, column))
        x = normalise_vhr(data, inputs.vhr_dtype, card, inputs.vhr_scale)
        x[:, ~valid] = 0.0  # no-data pixels enter the model as the training mean
        batch.vhr.append(x)
        if inputs.ntl is not None:
            radiance = ntl_on_grid(inputs.ntl, vhr.crs, vhr.window_transform(
                Window(x0, y0, grid.tile_size, grid.tile_size)), grid.tile_size, grid.tile_size, inputs.ntl_bands)
            if not np.isfinite(radiance).any():
                batch.ntl_missing += 1
            batch.ntl.append(normalise_ntl(radiance, card))
    batch.read_s = time.perf_counter() - t0
    return batch


def _infer_batch(model: LoadedModel, batch: _Batch, with_gate: bool, size: int) -> _Batch:
    """Run the model on the live tiles of a batch and keep their probabilities (and gate) per tile."""
    if not batch.live:
        return batch
    t0 = time.perf_counter()
    logits, gate = model.run(np.stack(batch.vhr), np.stack(batch.ntl) if batch.ntl else None)
    t1 = time.perf_counter()
    batch.infer_s = t1 - t0
    batch.vhr, batch.ntl = [], []  # the inputs are no longer needed
    _check_output_shape(logits, gate, len(batch.live), model.card, size, model.path)
    probs = _softmax(logits.astype(np.float32, copy=False))
    for i, key in enumerate(batch.live):
        batch.outputs[key] = probs[i] if not with_gate else np.concatenate([probs[i], gate[i]])
    batch.softmax_s = time.perf_counter() - t1
    return batch


def _blend_batch(batch: _Batch, blender: StreamingBlender, block: TileBlock, fed: TileBlock, rows: "_RowWriter",
                 result: ClassifyResult) -> None:
    """Blend a batch's tiles in raster order and write the finished rows of the pixels the block owns."""
    t0 = time.perf_counter()
    write_s = 0.0
    for (row, column), valid in zip(batch.tiles, batch.valids):
        values = batch.outputs.get((row, column))
        own = row in block.rows and column in block.columns  # else a halo tile: only its overlap is kept
        if values is None and own:
            result.tiles_skipped += 1
        for x0, _, chunk in blender.add(row, column, values):
            if own:
                rows.add(x0, chunk, valid[:chunk.shape[1], :chunk.shape[2]])
        if column == fed.columns.stop - 1 and row in block.rows:
            t1 = time.perf_counter()
            rows.end_row(last=row == fed.rows.stop - 1)
            write_s += time.perf_counter() - t1
    timings = result.timings
    timings.read_s += batch.read_s
    timings.infer_s += batch.infer_s
    timings.write_s += write_s
    timings.blend_s += batch.softmax_s + time.perf_counter() - t0 - write_s


def _run(model: LoadedModel, inputs: _Inputs, grid: TileGrid, block: TileBlock, window: Window,
         result: ClassifyResult, config: ClassifyConfig, progress: Progress, note: Callable[[str], None]) -> None:
    """Classify the block's tiles (and their halo), blend, write to temporary files, then move them into place.

    With config.overlap_io three stages run at once: a reader thread reads and warps batch k+2, an inference
    thread runs batch k+1 (onnxruntime releases the GIL) and this thread blends and writes batch k.
    """
    card = model.card
    vhr = inputs.vhr
    finals = {"map": result.output_path}
    if result.confidence_path:
        finals["confidence"] = result.confidence_path
    if result.gate_path:
        finals["gate"] = result.gate_path
    temps: dict[str, str] = {}
    writers: dict[str, rasterio.io.DatasetWriter] = {}
    timings = result.timings
    try:
        for key, final in finals.items():
            temps[key] = _temp_path(final)
            if key == "map":
                writers[key] = _open_output(temps[key], vhr, window, "uint8", 0)
            else:
                writers[key] = _open_output(temps[key], vhr, window, "float32", float("nan"))
        with_gate = "gate" in writers
        fed = block.with_halo()  # the halo's tiles blend into the block's pixels; their own pixels are dropped
        blender = StreamingBlender(grid, card.num_classes + (1 if with_gate else 0), fed)
        rows = _RowWriter(card, writers, int(window.width), grid.tile_size, int(window.col_off))
        tiles = list(fed)
        batches = [tiles[start:start + config.batch_size] for start in range(0, len(tiles), config.batch_size)]
        ntl_missing = 0
        done = 0
        progress.set_progress(0.0)
        workers = 1 if config.overlap_io else 0
        with _Stage(workers) as reader, _Stage(workers) as engine:
            reads = [reader.submit(_read_batch, inputs, grid, card, batches[0])] if batches else []
            running: Future | None = None
            for k in range(len(batches) + 1):
                following = None
                if k < len(batches):
                    if progress.is_canceled():  # once per batch
                        raise Canceled("Classification canceled: no output was written.")
                    if k + 1 < len(batches):
                        reads.append(reader.submit(_read_batch, inputs, grid, card, batches[k + 1]))
                    following = engine.submit(_infer_batch, model, reads[k].result(), with_gate, grid.tile_size)
                    reads[k] = None  # type: ignore[call-overload]  # the batch lives on in the inference
                if running is not None:
                    batch = running.result()
                    ntl_missing += batch.ntl_missing
                    _blend_batch(batch, blender, block, fed, rows, result)
                    done += len(batch.tiles)
                    progress.set_progress(100.0 * done / len(tiles))
                running = following
        t0 = time.perf_counter()
        writers["map"].write_colormap(1, colormap(card.classes))
        writers["map"].set_band_description(1, "functional_zone")
        writers["map"].update_tags(CSAGF_MODEL=card.name, CSAGF_VARIANT=card.variant,
                                   **{CLASSES_TAG: json.dumps([[c.id, c.name, c.color] for c in card.classes])})
        if "confidence" in writers:
            writers["confidence"].set_band_description(1, "confidence")
        if "gate" in writers:
            writers["gate"].set_band_description(1, "gate_vhr_weight")
        for writer in writers.values():
            writer.close()
        with open(temps["map"] + ".aux.xml", "w", encoding="utf-8") as f:
            f.write(category_names_aux_xml(card.classes))
        for key, final in finals.items():
            os.replace(temps[key], final)
            if os.path.exists(temps[key] + ".aux.xml"):
                os.replace(temps[key] + ".aux.xml", final + ".aux.xml")
            else:
                _remove(final + ".aux.xml")  # a stale one from an earlier run would describe another map
        timings.write_s += time.perf_counter() - t0
        result.class_pixels = {int(i): int(n) for i, n in enumerate(rows.counts) if n}
        if ntl_missing:
            note(f"NTL raster {inputs.ntl.name} has no data under {ntl_missing} of {len(tiles)} tiles: they were "
                 f"filled with radiance {card.ntl_fill} as the model card says.")
        progress.set_progress(100.0)
    except BaseException:
        for writer in writers.values():
            try:
                writer.close()
            except Exception:  # on a full disk the close fails too: the temporary files are removed all the same
                pass
        for temp in temps.values():
            _remove(temp)
            _remove(temp + ".aux.xml")
        raise


def _check_output_shape(logits: np.ndarray, gate: np.ndarray | None, n: int, card: ModelCard, size: int,
                        path: str) -> None:
    """Raise InputError when the model's outputs do not have the shapes its card promises."""
    expected = (n, card.num_classes, size, size)
    if tuple(logits.shape) != expected:
        raise InputError(f"Model {path} returned logits of shape {tuple(logits.shape)}, expected {expected} "
                         f"({card.num_classes} classes in its card). Re-export the model.")
    if gate is not None and tuple(gate.shape) != (n, 1, size, size):
        raise InputError(f"Model {path} returned a gate of shape {tuple(gate.shape)}, expected "
                         f"{(n, 1, size, size)}. Re-export the model.")

