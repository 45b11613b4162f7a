"""Predict a whole scene: stream the VHR tile by tile, warp the NTL onto each tile, infer, blend, write, report.

Memory stays bounded whatever the scene's size: tiles are read one batch at a time (rasterio windows, never the
whole raster), blended by a StreamingBlender that keeps only `overlap` rows of class scores, and written in whole
GeoTIFF block rows while GDAL's block cache is capped (GDAL_CACHE_BYTES; rasterio's own GDAL, not QGIS's).
Per 256 x 256 tile the NTL is warped exactly as training warps it (ntl_on_grid), which costs about 13 ms.
Outputs are written to temporary files beside the destination and renamed at the very end, so an error or a
cancel leaves no partial output and never touches the inputs.  This module decides what to run (inputs, tiling,
resampling); core/engine.py streams the tiles.
"""

from __future__ import annotations

import os
import sys
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Callable

import rasterio
from rasterio._err import CPLE_BaseError
from rasterio.enums import ColorInterp
from rasterio.errors import RasterioError
from rasterio.windows import Window

from .engine import remove_quietly as _remove
from .engine import run_tiles
from .engine import temp_output_path as _temp_path
from .errors import Canceled, InputError
from .io_errors import raise_io_error
from .model import LoadedModel, load_model
from .model_card import FunctionalClass, ModelCard
from .output_checks import check_outputs
from .progress import Progress, SilentProgress
from .raster import GDAL_CACHE_BYTES, area_unit, check_overlap, open_raster, pixel_area
from .resolution import FAR_FACTOR, ResamplePlan, ground_pixel_size_m, plan_resampling, regrid, write_resampled_vrt
from .safe_output import discard, temp_folder
from .tiling import TileBlock, TileGrid
from .value_checks import check_ntl_range, vhr_scale


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
                run_tiles(model, inputs, grid, block, window, result, config, progress, note)
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
