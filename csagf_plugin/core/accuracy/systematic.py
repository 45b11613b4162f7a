"""Systematic samples on a classified map: a grid of cells of s_r x s_c pixels, one point per cell.

* aligned: the same random offset in every cell (a regular grid with a random start);
* unaligned: a random offset drawn for each cell on its own (the points no longer line up, which avoids a grid
  resonating with regular patterns of the landscape, such as street blocks).

Either way every pixel has the same inclusion probability 1 / (s_r s_c), so the expected number of points is the
number of classified pixels / (s_r s_c). The cell is chosen to bring that expectation closest to the n asked; the
number drawn is the number of cells whose point falls on a classified pixel, which varies with the offsets. A
systematic sample keeps every such point (adding or dropping points would break its equal spacing), so when the
count differs from n the sample says by how much and why.
"""

from __future__ import annotations

import math
import os

import numpy as np

from ..errors import InputError
from ..progress import Progress, SilentProgress
from ..raster import open_raster
from .design import ALIGNED, SYSTEMATIC, SYSTEMATIC_KINDS, UNALIGNED
from .map_summary import ProgressPart, check_band, pixel_centres, summarise_map, values_at
from .sampling import ALL_CLASSES, SamplePoints, _resolve_seed


def grid_cell(classified_pixels: int, n: int, xres: float = 1.0, yres: float = 1.0) -> tuple[int, int]:
    """Cell (rows, columns) in whole pixels, about square on the ground, whose expected point count is nearest n."""
    if n < 1:
        raise InputError(f"systematic sampling needs n >= 1, got {n}.")
    side = math.sqrt(classified_pixels * xres * yres / n)  # map units
    best: tuple[float, int, int] | None = None
    base_r, base_c = max(1, int(side / yres)), max(1, int(side / xres))
    for s_r in range(max(1, base_r - 1), base_r + 3):
        for s_c in range(max(1, base_c - 1), base_c + 3):
            if abs(s_r * yres - s_c * xres) > max(xres, yres) * 1.0001:
                continue  # keep cells about square on the ground
            miss = abs(classified_pixels / (s_r * s_c) - n)
            if best is None or miss < best[0] - 1e-9:
                best = (miss, s_r, s_c)
    assert best is not None
    return best[1], best[2]


def systematic(map_path: str | os.PathLike, n: int | None = None, spacing: float | None = None,
               seed: int | None = None, min_distance: float = 0.0, band: int = 1,
               progress: Progress | None = None, layout: str = ALIGNED) -> SamplePoints:
    """One point per grid cell on classified pixels, `layout` ALIGNED or UNALIGNED (see the module docstring).

    The cell side is `spacing` map units (rounded to whole pixels) or chosen from n with `grid_cell`.
    """
    if layout not in SYSTEMATIC_KINDS:
        raise InputError(f"unknown systematic layout '{layout}': use one of {list(SYSTEMATIC_KINDS)}.")
    seed = _resolve_seed(seed)
    rng = np.random.default_rng(seed)
    progress = progress or SilentProgress()
    summary = summarise_map(map_path, band, ProgressPart(progress, 0.0, 50.0))
    progress = ProgressPart(progress, 50.0, 50.0)
    classified = summary.classified_pixels
    if classified == 0:
        raise InputError(f"map {map_path} has no classified pixel (all 0 or nodata): nothing to sample.")
    with open_raster(map_path, "map") as src:
        check_band(src, band)
        xres, yres = src.res
        if spacing is not None:
            if not spacing > 0:
                raise InputError(f"grid spacing must be > 0 map units, got {spacing}.")
            s_r, s_c = max(1, int(round(spacing / yres))), max(1, int(round(spacing / xres)))
        else:
            if n is None or n < 1:
                raise InputError(f"systematic sampling needs n (>= 1) or a grid spacing, got n={n}.")
            s_r, s_c = grid_cell(classified, int(n), xres, yres)
        if min_distance > 0 and layout == UNALIGNED:
            raise InputError("an unaligned systematic grid puts points of neighbouring cells as close as one pixel: "
                             "leave the minimum distance at 0, or use the aligned grid.")
        if min_distance > min(s_c * xres, s_r * yres):
            raise InputError(f"minimum distance {min_distance:g} exceeds the grid spacing "
                             f"({s_c * xres:g} x {s_r * yres:g} map units): ask for fewer points or a "
                             "larger spacing.")
        cells_r, cells_c = math.ceil(src.height / s_r), math.ceil(src.width / s_c)
        if layout == ALIGNED:
            off_r = np.full((cells_r, cells_c), int(rng.integers(s_r)))
            off_c = np.full((cells_r, cells_c), int(rng.integers(s_c)))
        else:
            off_r = rng.integers(s_r, size=(cells_r, cells_c))
            off_c = rng.integers(s_c, size=(cells_r, cells_c))
        rows = (np.arange(cells_r)[:, None] * s_r + off_r).ravel().astype(np.int64)
        cols = (np.arange(cells_c)[None, :] * s_c + off_c).ravel().astype(np.int64)
        inside = (rows < src.height) & (cols < src.width)  # a point of an edge cell may fall off the raster
        rows, cols = rows[inside], cols[inside]
        order = np.lexsort((cols, rows))
        rows, cols = rows[order], cols[order]
        classes = values_at(src, band, rows, cols)
        progress.set_progress(100.0)
        keep = classes > 0
        rows, cols, classes = rows[keep], cols[keep], classes[keep]
        xs, ys = pixel_centres(src.transform, rows, cols)
        crs_wkt = src.crs.to_wkt()
    expected = classified / (s_r * s_c)
    warnings = []
    if rows.size == 0:
        warnings.append("no grid point fell on a classified pixel: use a smaller spacing (more points).")
    asked = int(n) if n else None
    if asked is not None and rows.size != asked:
        warnings.append(
            f"{rows.size} points instead of the {asked} asked: the {layout} grid of {s_r} x {s_c} pixels "
            f"({s_r * yres:g} x {s_c * xres:g} map units) expects {expected:.1f} points on the "
            f"{classified} classified pixels, and its random offsets gave {rows.size}. A systematic sample keeps "
            "every grid point that falls on the map; dropping or adding points would break its equal spacing. "
            "Use simple random sampling when the count must be exact.")
    return SamplePoints(x=xs.astype(np.float64), y=ys.astype(np.float64), row=rows, col=cols,
                        map_class=classes.astype(np.int64), crs_wkt=crs_wkt, design=SYSTEMATIC, seed=seed,
                        requested={ALL_CLASSES: asked if asked else int(rows.size)},
                        min_distance=float(min(s_c * xres, s_r * yres)) if layout == ALIGNED else 0.0,
                        warnings=warnings, population={ALL_CLASSES: float(classified)}, systematic=layout,
                        grid_step=(s_r, s_c))
