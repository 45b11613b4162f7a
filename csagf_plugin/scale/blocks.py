"""Classify a scene block by block on Dask: one task per block, files committed by rename, resume, assembly.

Blocks and their files live in a work folder beside the output (`.NAME.blocks/`).  A block is done when all its
files exist: classify_scene writes each to a temporary name and renames it only when the block is complete, so
a worker that dies leaves no block file, and Dask runs the block again on another worker (the scheduler's
`distributed.scheduler.allowed-failures`, default 3).  A rerun with the same inputs and settings skips finished
blocks.  The mosaic (VRT over the blocks, copied into a Cloud Optimized GeoTIFF) is written to a temporary name
and renamed, so an error or a cancel leaves no partial mosaic; the work folder goes once the mosaic is in place.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from ..core.classify import (
    ClassifyConfig,
    ClassifyResult,
    Timings,
    check_output_paths,
    classify_scene,
    resolve_scene,
    scene_grid,
)
from ..core.errors import Canceled, CsagfError, InputError
from ..core.model import LoadedModel, load_model
from ..core.mosaic import Piece, partial_path, write_cog, write_vrt
from ..core.progress import Progress, SilentProgress
from ..core.resolution import ResamplePlan, regrid, write_resampled_vrt
from ..core.style import category_names_aux_xml
from ..core.tiling import TileBlock, TileGrid
from .cluster import ClusterConfig, dask_client

PLAN = "plan.json"  # what the blocks in the work folder were made from
OUTPUTS = ("map", "confidence", "gate")
RETRIES = 2  # extra tries of a block that raised an unexpected error (a lost worker is retried by the scheduler)

_MODELS: dict[tuple[str, str, int], LoadedModel] = {}  # per worker process: one onnxruntime session per model


@dataclass(frozen=True)
class BlockJob:
    """What one Dask task classifies: the scene config restricted to a block, with the block's own files."""

    index: int  # block number in raster order
    config: ClassifyConfig  # the scene's config with `block` and the block's output paths


def work_folder(output_path: str) -> str:
    """The folder beside the output where its blocks are kept until the mosaic is assembled."""
    folder, name = os.path.split(os.path.abspath(output_path))
    return os.path.join(folder, f".{name}.blocks")


def classify_on_dask(config: ClassifyConfig, cluster: ClusterConfig | None = None,
                     progress: Progress | None = None, warn: Callable[[str], None] | None = None,
                     client: Any = None) -> ClassifyResult:
    """Classify `config`'s scene on a Dask cluster and assemble COG outputs; the maps equal classify_scene's.

    `client`: an existing dask.distributed Client to use (its workers' threads as they are); else one is made
    from `cluster`.
    """
    started = time.perf_counter()
    cluster = cluster or ClusterConfig()
    progress = progress or SilentProgress()
    notes: list[str] = []

    def note(message: str) -> None:
        if message not in notes:
            notes.append(message)
            if warn is not None:
                warn(message)

    check_output_paths(config, note)
    local_model = load_model(config.model_path, "cpu", 1, warn=note)  # the card and the grid only
    if config.gate_path and not local_model.card.has_gate:
        note(f"Model {local_model.card.name} ({local_model.card.variant}) has no gate output: no gate map is written.")
        config = replace(config, gate_path=None)
    config, plan = resolve_scene(config, local_model.card, note)  # once for all blocks, as classify_scene does
    folder = work_folder(config.output_path)
    _prepare_folder(folder, config, cluster, plan, note)
    scene = config  # what the blocks classify: the VHR, or its warped VRT at the model's pixel size
    if plan is not None:
        vrt = write_resampled_vrt(config.vhr_path, plan, os.path.join(folder, "vhr_resampled.vrt"))
        scene = replace(config, vhr_path=vrt, vhr_pixel_size_m=0)
    grid = scene_grid(scene, local_model)
    blocks = grid.blocks(cluster.block_tiles)
    if client is not None:
        jobs, results = _run_blocks(client, scene, cluster.threads, blocks, folder, progress, note)
    else:
        with dask_client(cluster, config.device) as (dask, threads):
            jobs, results = _run_blocks(dask, scene, threads, blocks, folder, progress, note)
    result = _assemble(config, grid, blocks, jobs, results, local_model, plan)
    if not cluster.keep_blocks:
        shutil.rmtree(folder, ignore_errors=True)
    result.warnings = notes
    result.timings.total_s = time.perf_counter() - started
    progress.set_progress(100.0)
    return result


def classify_block(job: BlockJob) -> ClassifyResult:
    """The Dask task: classify one block with this worker's session (loaded once per model and worker)."""
    c = job.config
    key = (os.path.abspath(c.model_path), c.device, c.threads)
    model = _MODELS.get(key)
    if model is None:
        model = _MODELS[key] = load_model(c.model_path, c.device, c.threads, warn=lambda message: None)
    messages: list[str] = []
    result = classify_scene(c, warn=messages.append, model=model)
    result.warnings = messages
    return result


def _block_paths(folder: str, index: int, config: ClassifyConfig) -> dict[str, str]:
    """The block's file per output of the config."""
    finals = dict(zip(OUTPUTS, (config.output_path, config.confidence_path, config.gate_path)))
    return {key: os.path.join(folder, f"block_{index:05d}_{key}.tif") for key, final in finals.items() if final}


def _fingerprint(config: ClassifyConfig, cluster: ClusterConfig, plan: ResamplePlan | None) -> dict[str, Any]:
    """What decides the blocks' contents: inputs (path, size, time), model, settings and resampling."""
    def stat(path: str | None) -> list[Any] | None:
        if not path:
            return None
        info = os.stat(path)
        return [os.path.abspath(path), info.st_size, info.st_mtime_ns]

    settings = asdict(replace(config, block=None, output_path="", confidence_path=None, gate_path=None,
                              vhr_path="", ntl_path=None, model_path="", batch_size=1, overlap_io=True, threads=0))
    return {"vhr": stat(config.vhr_path), "ntl": stat(config.ntl_path), "model": stat(config.model_path),
            "settings": settings, "outputs": [k for k in OUTPUTS if k in _block_paths("", 0, config)],
            "resampled": None if plan is None else [plan.width, plan.height, *plan.transform[:6]],
            "block_tiles": cluster.block_tiles}


def _prepare_folder(folder: str, config: ClassifyConfig, cluster: ClusterConfig, resampling: ResamplePlan | None,
                    note: Callable[[str], None]) -> None:
    """Create the work folder, or keep its blocks when they were made from the same inputs and settings."""
    plan = _fingerprint(config, cluster, resampling)
    path = os.path.join(folder, PLAN)
    if os.path.isdir(folder):
        try:
            with open(path, encoding="utf-8") as f:
                same = json.load(f) == json.loads(json.dumps(plan))
        except (OSError, ValueError):
            same = False
        if same:
            return
        note(f"Blocks in {folder} were made from other inputs or settings: they are classified again.")
        shutil.rmtree(folder)
    os.makedirs(folder)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(plan, f, indent=1)
    os.replace(path + ".tmp", path)


def _run_blocks(client: Any, config: ClassifyConfig, threads: int, blocks: list[TileBlock], folder: str,
                progress: Progress, note: Callable[[str], None]) -> tuple[list[BlockJob], dict[int, ClassifyResult]]:
    """Submit every unfinished block, wait for them with progress and cancel, and return every block's result."""
    from distributed import as_completed

    jobs = []
    for i, block in enumerate(blocks):
        paths = _block_paths(folder, i, config)
        jobs.append(BlockJob(i, replace(config, block=block, threads=threads, output_path=paths["map"],
                                        confidence_path=paths.get("confidence"), gate_path=paths.get("gate"))))
    results: dict[int, ClassifyResult] = {}
    todo = [job for job in jobs if not _is_done(job, folder)]
    done_before = len(jobs) - len(todo)
    if done_before:
        note(f"{done_before} of {len(jobs)} blocks were finished by an earlier run: they are not classified again.")
    futures = {client.submit(classify_block, job, retries=RETRIES, pure=False): job.index for job in todo}
    progress.set_progress(0.0)
    pending = as_completed(futures)
    finished = 0
    try:
        while not pending.is_empty():
            if progress.is_canceled():
                raise Canceled(f"Classification canceled: no mosaic was written; finished blocks are kept in "
                               f"{folder} for a rerun.")
            for future in pending.next_batch(block=False):
                result = future.result()  # raises the block's error (its type and message travel back)
                results[futures[future]] = result
                for message in result.warnings:
                    note(message)
                finished += 1
                progress.set_progress(95.0 * finished / max(1, len(futures)))
            time.sleep(0.05)
    except BaseException as exc:
        client.cancel(list(futures))
        if isinstance(exc, (CsagfError, KeyboardInterrupt)):
            raise
        raise InputError(f"A block failed on the Dask cluster: {type(exc).__name__}: {exc}. Finished blocks are "
                         f"kept in {folder}; run again to resume.") from exc
    for job in jobs:
        if job.index not in results:  # finished by an earlier run: its counts are read back from its map
            results[job.index] = _summary_of_block(job)
    return jobs, results


def _is_done(job: BlockJob, folder: str) -> bool:
    """True when every file of the block exists (each is renamed into place only when complete)."""
    return all(os.path.exists(p) for p in job.config.output_paths)


def _summary_of_block(job: BlockJob) -> ClassifyResult:
    """Class counts of a block finished earlier, read from its map."""
    import numpy as np
    import rasterio

    with rasterio.open(job.config.output_path) as src:
        counts = np.zeros(256, np.int64)
        for _, window in src.block_windows(1):
            counts += np.bincount(src.read(1, window=window).ravel(), minlength=256)
    return ClassifyResult(output_path=job.config.output_path, confidence_path=None, gate_path=None, classes=[],
                          class_pixels={int(i): int(n) for i, n in enumerate(counts) if n}, pixel_area=0.0,
                          area_unit="", providers=[], device="", tile_size=0, overlap=0, tiles=len(job.config.block),
                          tiles_skipped=0, width=0, height=0)


def _assemble(config: ClassifyConfig, grid: TileGrid, blocks: list[TileBlock], jobs: list[BlockJob],
              results: dict[int, ClassifyResult], model: LoadedModel, plan: ResamplePlan | None) -> ClassifyResult:
    """VRT over the blocks' files of each output, put back on the VHR grid when it was resampled, copied into a
    COG at the final path; the summed result."""
    import rasterio
    from rasterio.enums import Resampling

    finals = dict(zip(OUTPUTS, (config.output_path, config.confidence_path, config.gate_path)))
    first = next((r for r in results.values() if r.providers), None)
    on_vhr_grid: dict[int, int] | None = None  # class counts of the map put back on the VHR grid
    for key, final in finals.items():
        if not final:
            continue
        pieces = []
        for job, block in zip(jobs, blocks):
            x, y, w, h = block.pixels(grid)
            pieces.append(Piece(_block_paths(os.path.dirname(job.config.output_path), job.index, config)[key],
                                x, y, w, h))
        vrt = write_vrt(os.path.join(os.path.dirname(pieces[0].path), f"mosaic_{key}.vrt"), pieces, grid.width,
                        grid.height)
        if plan is None:
            write_cog(vrt, final, categorical=key == "map")
        else:  # as classify_scene writes a resampled scene's maps: nearest for class ids, bilinear for the rest
            import rasterio.shutil

            on_model_grid, on_input = partial_path(final), partial_path(final)
            try:  # regrid writes a copy of its source's format: a GeoTIFF, not a VRT
                rasterio.shutil.copy(vrt, on_model_grid, driver="GTiff", TILED="YES", COMPRESS="DEFLATE",
                                     BIGTIFF="IF_SAFER")
                with rasterio.open(config.vhr_path) as vhr:
                    values = regrid(on_model_grid, on_input, vhr,
                                    Resampling.nearest if key == "map" else Resampling.bilinear)
                write_cog(on_input, final, categorical=key == "map")
            finally:
                for temp in (on_model_grid, on_input):
                    if os.path.exists(temp):
                        os.remove(temp)
            if key == "map":
                on_vhr_grid = values
        if key == "map":
            with open(final + ".aux.xml", "w", encoding="utf-8") as f:
                f.write(category_names_aux_xml(model.card.classes))
        elif os.path.exists(final + ".aux.xml"):
            os.remove(final + ".aux.xml")  # a stale one from an earlier run would describe another raster
    counts: dict[int, int] = {}
    timings = Timings()
    skipped = 0
    for r in results.values():
        for cid, n in r.class_pixels.items():
            counts[cid] = counts.get(cid, 0) + n
        skipped += r.tiles_skipped
        for stage in ("load_s", "read_s", "infer_s", "blend_s", "write_s"):
            setattr(timings, stage, getattr(timings, stage) + getattr(r.timings, stage))
    with rasterio.open(config.output_path) as out:
        from ..core.raster import area_unit, pixel_area

        area, unit, width, height = pixel_area(out), area_unit(out)[0], out.width, out.height
    return ClassifyResult(
        output_path=config.output_path, confidence_path=config.confidence_path,
        gate_path=config.gate_path, classes=list(model.card.classes),
        class_pixels=counts if on_vhr_grid is None else on_vhr_grid, pixel_area=area, area_unit=unit,
        providers=first.providers if first else [], device=first.device if first else "", tile_size=grid.tile_size,
        overlap=grid.overlap, tiles=len(grid), tiles_skipped=skipped, width=width, height=height, timings=timings)
