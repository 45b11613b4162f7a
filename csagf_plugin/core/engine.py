"""The streaming engine of classify: tiles read, run through the model, blended and written block row by block row.

classify.py decides what to run (inputs checked, tiling, resampling); this module runs it over the tiles of a
grid or of one block with its halo.  Three stages overlap (config.overlap_io): a reader thread reads and warps
batch k+2, an inference thread runs batch k+1 (onnxruntime releases the GIL) and the caller's thread blends and
writes batch k.  Memory stays bounded: one carry strip in the blender, a block row plus a tile row of output
buffers, GDAL's cache capped by the caller.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import rasterio
from rasterio.enums import MaskFlags
from rasterio.windows import Window

from .errors import Canceled, InputError
from .model import LoadedModel
from .model_card import ModelCard, normalise_ntl, normalise_vhr
from .progress import Progress
from .raster import ntl_on_grid
from .safe_output import temp_path
from .style import CLASSES_TAG, category_names_aux_xml, colormap
from .tiling import StreamingBlender, TileBlock, TileGrid

if TYPE_CHECKING:
    from .classify import ClassifyConfig, ClassifyResult, _Inputs

BLOCK_SIZE = 256  # GeoTIFF block edge of the outputs


def temp_output_path(final: str) -> str:
    """A fresh hidden file name beside `final` (same folder, so the final rename is atomic), removed on a kill."""
    return temp_path(final)


def remove_quietly(path: str) -> None:
    """Delete a file if it exists (a clean-up that fails must not hide the error that made it necessary)."""
    try:
        os.remove(path)
    except OSError:
        pass


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


def _blend_batch(batch: _Batch, blender: StreamingBlender, block: TileBlock, fed: TileBlock, rows: _RowWriter,
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


def run_tiles(model: LoadedModel, inputs: _Inputs, grid: TileGrid, block: TileBlock, window: Window,
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
            temps[key] = temp_output_path(final)
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
                remove_quietly(final + ".aux.xml")  # a stale one from an earlier run would describe another map
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
            remove_quietly(temp)
            remove_quietly(temp + ".aux.xml")
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

