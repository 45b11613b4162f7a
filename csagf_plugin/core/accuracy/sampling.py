"""Random-point sampling designs on a classified map raster, read window by window.

Designs: simple random, stratified random by map class (allocation proportional, equal or a fixed count per
class, with a minimum per class) and systematic (a regular grid with a random start). Points lie at pixel
centres; class 0, the raster's nodata and non-positive values are never sampled. A minimum distance between
points (map units) is enforced by rejection with a spatial hash.

The raster is never read whole: a first windowed pass counts the pixels of each class, random ranks are drawn
among the pixels of each class from those counts, and a second windowed pass finds the pixels with those ranks.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import rasterio
from rasterio.windows import Window

from ..errors import Canceled, InputError
from ..progress import Progress, SilentProgress
from ..raster import area_unit, open_raster, pixel_area

SIMPLE_RANDOM = "simple_random"
STRATIFIED_RANDOM = "stratified_random"
SYSTEMATIC = "systematic"
DESIGNS = (SIMPLE_RANDOM, STRATIFIED_RANDOM, SYSTEMATIC)

PROPORTIONAL = "proportional"
EQUAL = "equal"
FIXED = "fixed"
ALLOCATIONS = (PROPORTIONAL, EQUAL, FIXED)

ALL_CLASSES = -1  # stratum key of the designs that do not stratify
STRIP_PIXELS = 1 << 22  # pixels read per window (about 4 M: 4 MB of uint8)
MAX_ROUNDS = 8  # candidate draws per stratum before giving up on the minimum distance


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


@dataclass
class SamplePoints:
    """Sample points drawn on a map, at pixel centres, in the map's CRS."""

    x: np.ndarray  # float64 easting / longitude of each point
    y: np.ndarray  # float64 northing / latitude
    row: np.ndarray  # int64 raster row of the pixel under the point
    col: np.ndarray  # int64 raster column
    map_class: np.ndarray  # int64 map class under the point
    crs_wkt: str  # CRS of x and y (the map's)
    design: str  # SIMPLE_RANDOM, STRATIFIED_RANDOM or SYSTEMATIC
    seed: int  # seed that reproduces this sample
    requested: dict[int, int]  # points asked per class (per ALL_CLASSES for unstratified designs)
    min_distance: float  # minimum distance between points that was enforced, map units
    warnings: list[str] = field(default_factory=list)  # shortfalls and other things the user should know

    def __len__(self) -> int:
        return int(self.x.size)

    def counts(self) -> dict[int, int]:
        """Points per map class."""
        values, counts = np.unique(self.map_class, return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts)}


def _strips(src: rasterio.DatasetReader, max_pixels: int | None = None) -> Iterator[Window]:
    """Full-width windows of whole block rows, about `max_pixels` (default STRIP_PIXELS) each, top to bottom."""
    max_pixels = max_pixels or STRIP_PIXELS
    block_rows = max(1, src.block_shapes[0][0])
    rows = max(1, max_pixels // max(1, src.width))
    if rows >= block_rows:
        rows -= rows % block_rows
    for row0 in range(0, src.height, rows):
        yield Window(0, row0, src.width, min(rows, src.height - row0))


def _classes(src: rasterio.DatasetReader, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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


def _check_band(src: rasterio.DatasetReader, band: int) -> None:
    """Raise InputError when the band does not exist."""
    if not 1 <= band <= src.count:
        raise InputError(f"map raster {src.name} has {src.count} band(s); band {band} does not exist.")


class _Part:
    """The part [start, start + span] percent of a caller's progress, for one pass of several."""

    def __init__(self, progress: Progress, start: float, span: float) -> None:
        self.progress, self.start, self.span = progress, start, span

    def set_progress(self, percent: float) -> None:
        self.progress.set_progress(self.start + self.span * percent / 100.0)

    def is_canceled(self) -> bool:
        return self.progress.is_canceled()


def _step(progress: Progress, done: float, total: float) -> None:
    """Report progress and stop on cancel."""
    if progress.is_canceled():
        raise Canceled("sampling canceled")
    progress.set_progress(100.0 * done / max(total, 1.0))


def summarise_map(map_path: str | os.PathLike, band: int = 1, progress: Progress | None = None) -> MapSummary:
    """Count the pixels of each class window by window, with the pixel area and its unit."""
    progress = progress or SilentProgress()
    counts: dict[int, int] = defaultdict(int)
    with open_raster(map_path, "map") as src:
        _check_band(src, band)
        small_ints = np.dtype(src.dtypes[band - 1]) in (np.dtype(np.uint8), np.dtype(np.uint16))
        for window in _strips(src):
            classes, valid = _classes(src, src.read(band, window=window))
            values = classes[valid]
            if small_ints:
                binned = np.bincount(values, minlength=1)
                for c in np.flatnonzero(binned):
                    counts[int(c)] += int(binned[c])
            else:
                uniq, n = np.unique(values, return_counts=True)
                for c, k in zip(uniq.tolist(), n.tolist()):
                    counts[c] += k
            _step(progress, window.row_off + window.height, src.height)
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


def sample_size_for_oa(user_accuracies: Sequence[float] | Mapping[int, float],
                       area_weights: Sequence[float] | Mapping[int, float], target_se: float) -> int:
    """Sample size for stratified random sampling that gives overall accuracy the target standard error.

    Olofsson et al. (2014) eq. 13: n = (sum_i W_i S_i / S(O))^2 with S_i = sqrt(U_i (1 - U_i)), where U_i are the
    expected user's accuracies and W_i the mapped area shares (normalised here so they sum to 1).
    """
    if isinstance(user_accuracies, Mapping) != isinstance(area_weights, Mapping):
        raise InputError("give user accuracies and area weights both as mappings by class or both as sequences.")
    if isinstance(user_accuracies, Mapping):
        keys = sorted(area_weights)
        missing = [k for k in keys if k not in user_accuracies]
        if missing:
            raise InputError(f"no expected user's accuracy for classes {missing}.")
        u = np.asarray([user_accuracies[k] for k in keys], dtype=np.float64)
        w = np.asarray([area_weights[k] for k in keys], dtype=np.float64)
    else:
        u = np.asarray(user_accuracies, dtype=np.float64)
        w = np.asarray(area_weights, dtype=np.float64)
    if u.shape != w.shape or u.ndim != 1 or u.size == 0:
        raise InputError(f"{u.size} user accuracies for {w.size} area weights: give one of each per class.")
    if ((u < 0) | (u > 1)).any():
        raise InputError(f"user's accuracies must lie in [0, 1], got {u.tolist()}.")
    if (w < 0).any() or w.sum() <= 0:
        raise InputError(f"area weights must be >= 0 with a positive sum, got {w.tolist()}.")
    if not target_se > 0:
        raise InputError(f"the target standard error must be > 0 (e.g. 0.01), got {target_se}.")
    w = w / w.sum()
    return int(math.ceil((np.sum(w * np.sqrt(u * (1 - u))) / target_se) ** 2 - 1e-9))


def allocate(class_pixels: Mapping[int, int], n: int | None = None, allocation: str = PROPORTIONAL,
             n_per_class: Mapping[int, int] | None = None, min_per_class: int = 0) -> dict[int, int]:
    """Points per class for stratified random sampling, never more than the class has pixels.

    proportional: n shared by pixel counts (largest remainders); equal: n shared equally; fixed (or any
    `n_per_class` given): those counts, other classes get `min_per_class`. Every class then gets at least
    `min_per_class`, so the total can exceed n (Olofsson et al. 2014 recommend this for rare classes).
    """
    pixels = {int(c): int(v) for c, v in class_pixels.items() if v > 0}
    if not pixels:
        raise InputError("the map has no classified pixel (all 0 or nodata): nothing to sample.")
    if min_per_class < 0:
        raise InputError(f"min_per_class must be >= 0, got {min_per_class}.")
    classes = sorted(pixels)
    if n_per_class is not None or allocation == FIXED:
        if not n_per_class:
            raise InputError("fixed allocation needs n_per_class, e.g. {1: 50, 2: 50}.")
        unknown = sorted(int(c) for c in n_per_class if int(c) not in pixels)
        if unknown:
            raise InputError(f"n_per_class names classes {unknown} that have no pixel in the map "
                             f"(its classes: {classes}).")
        if any(int(v) < 0 for v in n_per_class.values()):
            raise InputError(f"points per class must be >= 0, got {dict(n_per_class)}.")
        wanted = {c: int(n_per_class.get(c, 0)) for c in classes}
    else:
        if allocation not in ALLOCATIONS:
            raise InputError(f"unknown allocation '{allocation}': use one of {list(ALLOCATIONS)}.")
        if n is None or n < 1:
            raise InputError(f"give the number of points n (>= 1) for {allocation} allocation, got {n}.")
        if allocation == EQUAL:
            base, extra = divmod(n, len(classes))
            wanted = {c: base + (1 if i < extra else 0) for i, c in enumerate(classes)}
        else:
            total = sum(pixels.values())
            exact = {c: n * pixels[c] / total for c in classes}
            wanted = {c: int(math.floor(v)) for c, v in exact.items()}
            short = n - sum(wanted.values())
            for c in sorted(classes, key=lambda c: (-(exact[c] - wanted[c]), c))[:short]:
                wanted[c] += 1
    return {c: min(max(wanted[c], min_per_class), pixels[c]) for c in classes}


class _SpatialHash:
    """Accepted points bucketed in square cells of the minimum distance, for O(1) nearest checks."""

    def __init__(self, min_distance: float) -> None:
        self.d = float(min_distance)
        self.cells: dict[tuple[int, int], list[tuple[float, float]]] = defaultdict(list)

    def _cell(self, x: float, y: float) -> tuple[int, int]:
        return int(math.floor(x / self.d)), int(math.floor(y / self.d))

    def far_enough(self, x: float, y: float) -> bool:
        """True when no accepted point lies closer than the minimum distance."""
        if self.d <= 0:
            return True
        cx, cy = self._cell(x, y)
        d2 = self.d * self.d
        for i in (cx - 1, cx, cx + 1):
            for j in (cy - 1, cy, cy + 1):
                for px, py in self.cells.get((i, j), ()):
                    if (px - x) ** 2 + (py - y) ** 2 < d2:
                        return False
        return True

    def add(self, x: float, y: float) -> None:
        """Record an accepted point."""
        if self.d > 0:
            self.cells[self._cell(x, y)].append((x, y))


def _draw_new(rng: np.random.Generator, population: int, drawn: np.ndarray, size: int) -> np.ndarray:
    """`size` ranks in [0, population) not in the sorted array `drawn`, without replacement, in random order."""
    free = population - drawn.size
    size = min(size, free)
    if size <= 0:
        return np.empty(0, dtype=np.int64)
    picks = rng.choice(free, size=size, replace=False).astype(np.int64)
    # The q-th free rank is q plus the number of drawn ranks d[k] with d[k] - k <= q.
    shifted = drawn - np.arange(drawn.size, dtype=np.int64)
    return picks + np.searchsorted(shifted, picks, side="right")


def _locate(src: rasterio.DatasetReader, band: int, targets: dict[int, np.ndarray], stratified: bool,
            progress: Progress, stage: tuple[int, int]) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """Rows and columns of the pixels with the given ranks (raster order) among the pixels of each stratum."""
    ordered = {k: np.sort(v) for k, v in targets.items() if v.size}
    seen: dict[int, int] = defaultdict(int)
    found: dict[int, list[np.ndarray]] = defaultdict(list)
    for window in _strips(src):
        classes, valid = _classes(src, src.read(band, window=window))
        flat = np.flatnonzero(valid)
        flat_classes = classes.ravel()[flat] if stratified else None
        for key, ranks in ordered.items():
            positions = flat[flat_classes == key] if stratified else flat
            start = seen[key]
            end = start + positions.size
            lo, hi = np.searchsorted(ranks, [start, end])
            if hi > lo:
                found[key].append(positions[ranks[lo:hi] - start] + window.row_off * src.width)
            seen[key] = end
        _step(progress, stage[0] * src.height + window.row_off + window.height, stage[1] * src.height)
    out = {}
    for key in ordered:
        index = np.concatenate(found[key]) if found[key] else np.empty(0, dtype=np.int64)
        out[key] = (index // src.width, index % src.width)
    return out


def _resolve_seed(seed: int | None) -> int:
    """The given seed, or a fresh one that is recorded so the sample can be reproduced."""
    if seed is None:
        return int(np.random.SeedSequence().entropy % (2 ** 63))
    if int(seed) < 0:
        raise InputError(f"seed must be >= 0, got {seed}.")
    return int(seed)


def _random_design(map_path: str | os.PathLike, requested: dict[int, int], pixels: dict[int, int], stratified: bool,
                   design: str, min_distance: float, seed: int, band: int, progress: Progress) -> SamplePoints:
    """Draw `requested` points per stratum by rank, locate them, and keep those far enough apart."""
    if min_distance < 0:
        raise InputError(f"min_distance must be >= 0 (map units), got {min_distance}.")
    rng = np.random.default_rng(seed)
    need = {k: v for k, v in requested.items() if v > 0}
    drawn = {k: np.empty(0, dtype=np.int64) for k in need}
    spatial = _SpatialHash(min_distance)
    accepted: list[tuple[int, int, int]] = []  # (key, row, col)
    with open_raster(map_path, "map") as src:
        _check_band(src, band)
        transform = src.transform
        factor = 1.0 if min_distance <= 0 else 2.0
        for round_index in range(MAX_ROUNDS):
            targets = {}
            for key in sorted(need):
                if need[key] <= 0:
                    continue
                size = need[key] if min_distance <= 0 else int(math.ceil(need[key] * factor)) + 8
                fresh = _draw_new(rng, pixels[key], drawn[key], size)
                if fresh.size:
                    targets[key] = fresh
                    drawn[key] = np.sort(np.concatenate([drawn[key], fresh]))
            if not targets:
                break
            located = _locate(src, band, targets, stratified, progress, (round_index, MAX_ROUNDS))
            keys = np.concatenate([np.full(rows.size, key) for key, (rows, _) in located.items()])
            rows = np.concatenate([r for r, _ in located.values()])
            cols = np.concatenate([c for _, c in located.values()])
            for i in rng.permutation(keys.size):  # accept in random order, not raster order
                key = int(keys[i])
                if need[key] <= 0:
                    continue
                x, y = transform * (cols[i] + 0.5, rows[i] + 0.5)
                if spatial.far_enough(x, y):
                    spatial.add(x, y)
                    accepted.append((key, int(rows[i]), int(cols[i])))
                    need[key] -= 1
            if all(v <= 0 for v in need.values()):
                break
            factor *= 2.0
        accepted.sort(key=lambda t: (t[1], t[2]))
        rows = np.asarray([t[1] for t in accepted], dtype=np.int64)
        cols = np.asarray([t[2] for t in accepted], dtype=np.int64)
        xs, ys = _pixel_centres(transform, rows, cols)
        map_class = _values_at(src, band, rows, cols)
        crs_wkt = src.crs.to_wkt()
    warnings = []
    for key, short in sorted(need.items()):
        if short > 0:
            what = "the map" if key == ALL_CLASSES else f"class {key}"
            warnings.append(f"{what}: {requested[key] - short} of {requested[key]} points placed; no more pixels lie "
                            f"at least {min_distance:g} map units from the others. Lower the minimum distance or n.")
    progress.set_progress(100.0)
    return SamplePoints(x=xs, y=ys, row=rows, col=cols, map_class=map_class, crs_wkt=crs_wkt, design=design,
                        seed=seed, requested=dict(requested), min_distance=float(min_distance), warnings=warnings)


def _pixel_centres(transform: rasterio.Affine, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map coordinates of the centres of pixels (rows, cols)."""
    cx, cy = cols.astype(np.float64) + 0.5, rows.astype(np.float64) + 0.5
    return (transform.c + cx * transform.a + cy * transform.b, transform.f + cx * transform.d + cy * transform.e)


def _values_at(src: rasterio.DatasetReader, band: int, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Class under each (row, col) inside the raster, 0 for nodata, read one strip at a time."""
    out = np.zeros(rows.size, dtype=np.int64)
    if rows.size == 0:
        return out
    for window in _strips(src):
        inside = (rows >= window.row_off) & (rows < window.row_off + window.height)
        if not inside.any():
            continue
        r0, r1 = int(rows[inside].min()), int(rows[inside].max())
        part = Window(0, r0, src.width, r1 - r0 + 1)
        classes, valid = _classes(src, src.read(band, window=part))
        out[inside] = np.where(valid, classes, 0)[rows[inside] - r0, cols[inside]]
    return out


def simple_random(map_path: str | os.PathLike, n: int, min_distance: float = 0.0, seed: int | None = None,
                  band: int = 1, progress: Progress | None = None) -> SamplePoints:
    """Simple random sample of n classified pixels (without replacement), at pixel centres."""
    if n is None or n < 1:
        raise InputError(f"give the number of points n (>= 1), got {n}.")
    progress = progress or SilentProgress()
    summary = summarise_map(map_path, band, _Part(progress, 0.0, 30.0))
    total = summary.classified_pixels
    if total == 0:
        raise InputError(f"map {map_path} has no classified pixel (all 0 or nodata): nothing to sample.")
    requested = {ALL_CLASSES: min(int(n), total)}
    points = _random_design(map_path, requested, {ALL_CLASSES: total}, False, SIMPLE_RANDOM, min_distance,
                            _resolve_seed(seed), band, _Part(progress, 30.0, 70.0))
    if n > total:
        points.warnings.insert(0, f"asked for {n} points but the map has only {total} classified pixels.")
    return points


def stratified_random(map_path: str | os.PathLike, n: int | None = None, allocation: str = PROPORTIONAL,
                      n_per_class: Mapping[int, int] | None = None, min_per_class: int = 0,
                      min_distance: float = 0.0, seed: int | None = None, band: int = 1,
                      progress: Progress | None = None) -> SamplePoints:
    """Stratified random sample with the map classes as strata; see `allocate` for the allocations."""
    progress = progress or SilentProgress()
    summary = summarise_map(map_path, band, _Part(progress, 0.0, 30.0))
    requested = allocate(summary.class_pixels, n, allocation, n_per_class, min_per_class)
    return _random_design(map_path, requested, summary.class_pixels, True, STRATIFIED_RANDOM, min_distance,
                          _resolve_seed(seed), band, _Part(progress, 30.0, 70.0))


def systematic(map_path: str | os.PathLike, n: int | None = None, spacing: float | None = None,
               seed: int | None = None, min_distance: float = 0.0, band: int = 1,
               progress: Progress | None = None) -> SamplePoints:
    """Regular grid of pixel centres with a random start, keeping the grid nodes on classified pixels.

    The spacing (map units) is given, or chosen so that about n nodes fall on classified pixels; it is rounded to
    whole pixels, so nodes sit exactly at pixel centres. The number of points is therefore close to n, not exact.
    """
    seed = _resolve_seed(seed)
    rng = np.random.default_rng(seed)
    progress = progress or SilentProgress()
    summary = summarise_map(map_path, band, _Part(progress, 0.0, 50.0))
    progress = _Part(progress, 50.0, 50.0)
    if summary.classified_pixels == 0:
        raise InputError(f"map {map_path} has no classified pixel (all 0 or nodata): nothing to sample.")
    with open_raster(map_path, "map") as src:
        _check_band(src, band)
        xres, yres = src.res
        if spacing is None:
            if n is None or n < 1:
                raise InputError(f"systematic sampling needs n (>= 1) or a grid spacing, got n={n}.")
            spacing = math.sqrt(summary.classified_pixels * xres * yres / n)
        if not spacing > 0:
            raise InputError(f"grid spacing must be > 0 map units, got {spacing}.")
        step_col = max(1, int(round(spacing / xres)))
        step_row = max(1, int(round(spacing / yres)))
        if min_distance > min(step_col * xres, step_row * yres):
            raise InputError(f"minimum distance {min_distance:g} exceeds the grid spacing "
                             f"({step_col * xres:g} x {step_row * yres:g} map units): ask for fewer points or a "
                             "larger spacing.")
        start_col = int(rng.integers(step_col))
        start_row = int(rng.integers(step_row))
        grid_cols = np.arange(start_col, src.width, step_col, dtype=np.int64)
        rows_out, cols_out, classes_out = [], [], []
        for window in _strips(src):
            r0 = window.row_off
            first = start_row + int(math.ceil(max(0, r0 - start_row) / step_row)) * step_row
            grid_rows = np.arange(first, r0 + window.height, step_row, dtype=np.int64)
            if grid_rows.size and grid_cols.size:
                classes, valid = _classes(src, src.read(band, window=window))
                sub_valid = valid[np.ix_(grid_rows - r0, grid_cols)]
                rr, cc = np.nonzero(sub_valid)
                rows_out.append(grid_rows[rr])
                cols_out.append(grid_cols[cc])
                classes_out.append(classes[grid_rows[rr] - r0, grid_cols[cc]])
            _step(progress, r0 + window.height, src.height)
        transform = src.transform
        crs_wkt = src.crs.to_wkt()
    rows = np.concatenate(rows_out) if rows_out else np.empty(0, dtype=np.int64)
    cols = np.concatenate(cols_out) if cols_out else np.empty(0, dtype=np.int64)
    map_class = np.concatenate(classes_out) if classes_out else np.empty(0, dtype=np.int64)
    xs, ys = _pixel_centres(transform, rows, cols)
    warnings = []
    if rows.size == 0:
        warnings.append("no grid node fell on a classified pixel: use a smaller spacing (more points).")
    return SamplePoints(x=xs.astype(np.float64), y=ys.astype(np.float64), row=rows, col=cols,
                        map_class=map_class.astype(np.int64), crs_wkt=crs_wkt, design=SYSTEMATIC, seed=seed,
                        requested={ALL_CLASSES: int(n) if n else int(rows.size)},
                        min_distance=float(min(step_col * xres, step_row * yres)), warnings=warnings)


def sample_points(map_path: str | os.PathLike, design: str = STRATIFIED_RANDOM, n: int | None = None,
                  n_per_class: Mapping[int, int] | None = None, allocation: str = PROPORTIONAL,
                  min_per_class: int = 0, min_distance: float = 0.0, seed: int | None = None,
                  spacing: float | None = None, band: int = 1, progress: Progress | None = None) -> SamplePoints:
    """Draw sample points on a classified map with one of DESIGNS; the one entry point for the QGIS tools."""
    if design == SIMPLE_RANDOM:
        if n is None:
            raise InputError("simple random sampling needs the number of points n.")
        return simple_random(map_path, n, min_distance, seed, band, progress)
    if design == STRATIFIED_RANDOM:
        return stratified_random(map_path, n, allocation, n_per_class, min_per_class, min_distance, seed, band,
                                 progress)
    if design == SYSTEMATIC:
        return systematic(map_path, n, spacing, seed, min_distance, band, progress)
    raise InputError(f"unknown sampling design '{design}': use one of {list(DESIGNS)}.")


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
        _check_band(src, band)
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
        out[inside] = _values_at(src, band, rows, cols)
    return out
