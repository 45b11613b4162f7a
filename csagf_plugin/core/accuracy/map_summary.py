"""What the accuracy tools read from a classified map raster, window by window: class pixel counts, pixel area,
the class under given points, and the strips and pixel tests the sampling designs share.

The raster is never read whole: STRIP_PIXELS bounds every read.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import rasterio
from rasterio.windows import Window

from ..errors import Canceled, InputError
from ..progress import Progress, SilentProgress
from ..raster import area_unit, open_raster, pixel_area

STRIP_PIXELS = 1 << 22  # pixels read per window (about 4 M: 4 MB of uint8)


@dataclass
class MapSummary:
    """What the accuracy tools need to know about a classified map raster."""

    class_pixels: dict[int, int]  # pixels of each class (class 0 and nodata left out)
    pixel_area: float  # area of one pixel, in area_unit
    area_unit: str  # "m²", "ft²", "degree²" ...
    crs_wkt: str  # the map's coordinate reference system
    nodata: float | None  # the raster's nodata value
    width: int  # pixels per row
    height: int  # rows
    warnings: list[str] = field(default_factory=list)  # e.g. areas in square degrees or Web Mercator

    @property
    def mapped_area(self) -> dict[int, float]:
        """Area of each class: pixel count times pixel area."""
        return {c: n * self.pixel_area for c, n in self.class_pixels.items()}

    @property
    def classified_pixels(self) -> int:
        """Pixels that carry a class."""
        return int(sum(self.class_pixels.values()))


def strips(src: rasterio.DatasetReader, max_pixels: int | None = None) -> Iterator[Window]:
    """Full-width windows of whole block rows, about `max_pixels` (default STRIP_PIXELS) each, top to bottom."""
    max_pixels = max_pixels or STRIP_PIXELS
    block_rows = max(1, src.block_shapes[0][0])
    rows = max(1, max_pixels // max(1, src.width))
    if rows >= block_rows:
        rows -= rows % block_rows
    for row0 in range(0, src.height, rows):
        yield Window(0, row0, src.width, min(rows, src.height - row0))


def pixel_classes(src: rasterio.DatasetReader, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Class ids (int64) and the mask of pixels that carry a class (> 0, not nodata, finite)."""
    valid = np.ones(data.shape, dtype=bool)
    if np.issubdtype(data.dtype, np.floating):
        valid &= np.isfinite(data)
        safe = np.where(valid, data, 0)
        if (safe != np.round(safe)).any():
            raise InputError(f"map raster {src.name} holds non-integer values: pick a classified map "
                             "(integer class ids).")
        data = safe
    if src.nodata is not None and not (isinstance(src.nodata, float) and math.isnan(src.nodata)):
        valid &= data != src.nodata
    classes = data.astype(np.int64)
    valid &= classes > 0
    return classes, valid


def check_band(src: rasterio.DatasetReader, band: int) -> None:
    """Raise InputError when the band does not exist."""
    if not 1 <= band <= src.count:
        raise InputError(f"map raster {src.name} has {src.count} band(s); band {band} does not exist.")


class ProgressPart:
    """The part [start, start + span] percent of a caller's progress, for one pass of several."""

    def __init__(self, progress: Progress, start: float, span: float) -> None:
        self.progress, self.start, self.span = progress, start, span

    def set_progress(self, percent: float) -> None:
        self.progress.set_progress(self.start + self.span * percent / 100.0)

    def is_canceled(self) -> bool:
        return self.progress.is_canceled()


def step(progress: Progress, done: float, total: float) -> None:
    """Report progress and stop on cancel."""
    if progress.is_canceled():
        raise Canceled("sampling canceled")
    progress.set_progress(100.0 * done / max(total, 1.0))


def summarise_map(map_path: str | os.PathLike, band: int = 1, progress: Progress | None = None) -> MapSummary:
    """Count the pixels of each class window by window, with the pixel area and its unit."""
    progress = progress or SilentProgress()
    counts: dict[int, int] = defaultdict(int)
    with open_raster(map_path, "map") as src:
        check_band(src, band)
        small_ints = np.dtype(src.dtypes[band - 1]) in (np.dtype(np.uint8), np.dtype(np.uint16))
        for window in strips(src):
            classes, valid = pixel_classes(src, src.read(band, window=window))
            values = classes[valid]
            if small_ints:
                binned = np.bincount(values, minlength=1)
                for c in np.flatnonzero(binned):
                    counts[int(c)] += int(binned[c])
            else:
                uniq, n = np.unique(values, return_counts=True)
                for c, k in zip(uniq.tolist(), n.tolist()):
                    counts[c] += k
            step(progress, window.row_off + window.height, src.height)
        unit, warnings = area_unit(src)
        return MapSummary(class_pixels=dict(sorted(counts.items())), pixel_area=pixel_area(src), area_unit=unit,
                          crs_wkt=src.crs.to_wkt(), nodata=src.nodata, width=src.width, height=src.height,
                          warnings=warnings)


def class_pixel_counts(map_path: str | os.PathLike, band: int = 1) -> dict[int, int]:
    """Pixels of each class of a classified map (class 0 and nodata left out), read window by window."""
    return summarise_map(map_path, band).class_pixels


def mapped_area(map_path: str | os.PathLike, band: int = 1) -> dict[int, float]:
    """Mapped area of each class: pixel count times pixel area, in the squared units of the map's CRS."""
    return summarise_map(map_path, band).mapped_area


def pixel_centres(transform: rasterio.Affine, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinates of the centres of pixels (rows, cols)."""
    cx, cy = cols.astype(np.float64) + 0.5, rows.astype(np.float64) + 0.5
    return (transform.c + cx * transform.a + cy * transform.b, transform.f + cx * transform.d + cy * transform.e)


def values_at(src: rasterio.DatasetReader, band: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Class under each (row, col) inside the raster, 0 for nodata, read one strip at a time."""
    out = np.zeros(rows.size, dtype=np.int64)
    if rows.size == 0:
        return out
    for window in strips(src):
        inside = (rows >= window.row_off) & (rows < window.row_off + window.height)
        if not inside.any():
            continue
        r0, r1 = int(rows[inside].min()), int(rows[inside].max())
        part = Window(0, r0, src.width, r1 - r0 + 1)
        classes, valid = pixel_classes(src, src.read(band, window=part))
        out[inside] = np.where(valid, classes, 0)[rows[inside] - r0, cols[inside]]
    return out


def classes_at_points(map_path: str | os.PathLike, x: Sequence[float] | np.ndarray, y: Sequence[float] | np.ndarray,
                      points_crs_wkt: str | None = None, band: int = 1) -> np.ndarray:
    """Map class under each point: int64, -1 outside the map, 0 on class 0 or nodata.

    Points given in another CRS (`points_crs_wkt`) are reprojected to the map's CRS first.
    """
    xs = np.asarray(x, dtype=np.float64).ravel()
    ys = np.asarray(y, dtype=np.float64).ravel()
    if xs.shape != ys.shape:
        raise InputError(f"{xs.size} x coordinates for {ys.size} y coordinates: give one of each per point.")
    with open_raster(map_path, "map") as src:
        check_band(src, band)
        if points_crs_wkt and xs.size:
            from rasterio.crs import CRS
            from rasterio.warp import transform as warp_transform

            points_crs = CRS.from_wkt(points_crs_wkt) if "[" in points_crs_wkt else CRS.from_user_input(
                points_crs_wkt)
            if points_crs != src.crs:
                xs, ys = (np.asarray(v, dtype=np.float64) for v in warp_transform(points_crs, src.crs, xs, ys))
        inverse = ~src.transform
        cols_f, rows_f = inverse * (xs, ys)
        cols_f = np.asarray(cols_f, dtype=np.float64)
        rows_f = np.asarray(rows_f, dtype=np.float64)
        inside = (np.isfinite(cols_f) & np.isfinite(rows_f) & (cols_f >= 0) & (rows_f >= 0)
                  & (cols_f < src.width) & (rows_f < src.height))
        out = np.full(xs.size, -1, dtype=np.int64)
        rows = np.floor(rows_f[inside]).astype(np.int64)
        cols = np.floor(cols_f[inside]).astype(np.int64)
        out[inside] = values_at(src, band, rows, cols)
    return out
