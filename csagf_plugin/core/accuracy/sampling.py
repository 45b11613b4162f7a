"""Random-point sampling designs on a classified map raster, read window by window.

Designs: simple random and stratified random by map class (allocations in `sample_size`); systematic grids are
in `systematic`. Points lie at pixel centres; class 0, the raster's nodata and non-positive values are never
sampled. A minimum distance between points (map units) is enforced by rejection with a spatial hash.

The raster is never read whole: a first windowed pass counts the pixels of each class, random ranks are drawn
among the pixels of each class from those counts, and a second windowed pass finds the pixels with those ranks.
Every sample carries its `SamplingDesign` (`SamplePoints.sampling_design`), which the point layer records.
"""

from __future__ import annotations

import math
import os
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import rasterio

from ..errors import InputError
from ..progress import Progress, SilentProgress
from ..raster import open_raster
from .design import DESIGNS, MAP_CLASS_STRATA, NO_STRATA, SIMPLE_RANDOM, STRATIFIED_RANDOM, SYSTEMATIC, SamplingDesign
from .map_summary import (  # noqa: F401 (re-exported: the sampling API of earlier versions)
    MapSummary,
    ProgressPart,
    check_band,
    class_pixel_counts,
    classes_at_points,
    mapped_area,
    pixel_centres,
    pixel_classes,
    step,
    strips,
    summarise_map,
    values_at,
)
from .sample_size import ALLOCATIONS, PROPORTIONAL, allocate, sample_size_for_oa  # noqa: F401 (re-exported)

ALL_CLASSES = -1  # stratum key of the designs that do not stratify
MAX_ROUNDS = 8  # candidate draws per stratum before giving up on the minimum distance


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
    allocation: str = ""  # stratified: how the points were shared between classes
    population: dict[int, float] = field(default_factory=dict)  # stratum -> pixels (ALL_CLASSES: the whole map)
    systematic: str = ""  # systematic: "aligned" or "unaligned"
    grid_step: tuple[int, int] | None = None  # systematic: grid cell in pixels (rows, columns)

    @property
    def sampling_design(self) -> SamplingDesign:
        """The design of this sample, as the point layer records it and the estimators read it."""
        return SamplingDesign(design=self.design, strata=MAP_CLASS_STRATA if self.design == STRATIFIED_RANDOM
                              else NO_STRATA, allocation=self.allocation, seed=self.seed,
                              population=dict(self.population), requested=dict(self.requested),
                              systematic=self.systematic, grid_step=self.grid_step, source="csagf:random_points")

    def stratum_of_points(self) -> np.ndarray:
        """Stratum of each point: its map class for a stratified sample, ALL_CLASSES otherwise."""
        if self.design == STRATIFIED_RANDOM:
            return self.map_class.copy()
        return np.full(self.map_class.size, ALL_CLASSES, dtype=np.int64)

    def __len__(self) -> int:
        return int(self.x.size)

    def counts(self) -> dict[int, int]:
        """Points per map class."""
        values, counts = np.unique(self.map_class, return_counts=True)
        return {int(v): int(c) for v, c in zip(values, counts)}


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
    for window in strips(src):
        classes, valid = pixel_classes(src, src.read(band, window=window))
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
        step(progress, stage[0] * src.height + window.row_off + window.height, stage[1] * src.height)
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
        check_band(src, band)
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
        xs, ys = pixel_centres(transform, rows, cols)
        map_class = values_at(src, band, rows, cols)
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


def simple_random(map_path: str | os.PathLike, n: int, min_distance: float = 0.0, seed: int | None = None,
                  band: int = 1, progress: Progress | None = None) -> SamplePoints:
    """Simple random sample of n classified pixels (without replacement), at pixel centres."""
    if n is None or n < 1:
        raise InputError(f"give the number of points n (>= 1), got {n}.")
    progress = progress or SilentProgress()
    summary = summarise_map(map_path, band, ProgressPart(progress, 0.0, 30.0))
    total = summary.classified_pixels
    if total == 0:
        raise InputError(f"map {map_path} has no classified pixel (all 0 or nodata): nothing to sample.")
    requested = {ALL_CLASSES: min(int(n), total)}
    points = _random_design(map_path, requested, {ALL_CLASSES: total}, False, SIMPLE_RANDOM, min_distance,
                            _resolve_seed(seed), band, ProgressPart(progress, 30.0, 70.0))
    points.population = {ALL_CLASSES: float(total)}
    if n > total:
        points.warnings.insert(0, f"asked for {n} points but the map has only {total} classified pixels.")
    return points


def stratified_random(map_path: str | os.PathLike, n: int | None = None, allocation: str = PROPORTIONAL,
                      n_per_class: Mapping[int, int] | None = None, min_per_class: int = 0,
                      min_distance: float = 0.0, seed: int | None = None, band: int = 1,
                      progress: Progress | None = None,
                      user_accuracies: Mapping[int, float] | None = None) -> SamplePoints:
    """Stratified random sample with the map classes as strata; see `sample_size.allocate` for the allocations."""
    progress = progress or SilentProgress()
    summary = summarise_map(map_path, band, ProgressPart(progress, 0.0, 30.0))
    requested = allocate(summary.class_pixels, n, allocation, n_per_class, min_per_class, user_accuracies)
    points = _random_design(map_path, requested, summary.class_pixels, True, STRATIFIED_RANDOM, min_distance,
                            _resolve_seed(seed), band, ProgressPart(progress, 30.0, 70.0))
    points.allocation = "fixed" if n_per_class else allocation
    points.population = {int(c): float(v) for c, v in summary.class_pixels.items()}
    return points


def sample_points(map_path: str | os.PathLike, design: str = STRATIFIED_RANDOM, n: int | None = None,
                  n_per_class: Mapping[int, int] | None = None, allocation: str = PROPORTIONAL,
                  min_per_class: int = 0, min_distance: float = 0.0, seed: int | None = None,
                  spacing: float | None = None, band: int = 1, progress: Progress | None = None,
                  layout: str = "aligned", user_accuracies: Mapping[int, float] | None = None) -> SamplePoints:
    """Draw sample points on a classified map with one of DESIGNS; the one entry point for the QGIS tools.

    `layout` is the systematic grid's ("aligned" or "unaligned"); `user_accuracies` feed the Neyman allocation.
    """
    if design == SIMPLE_RANDOM:
        if n is None:
            raise InputError("simple random sampling needs the number of points n.")
        return simple_random(map_path, n, min_distance, seed, band, progress)
    if design == STRATIFIED_RANDOM:
        return stratified_random(map_path, n, allocation, n_per_class, min_per_class, min_distance, seed, band,
                                 progress, user_accuracies)
    if design == SYSTEMATIC:
        from .systematic import systematic

        return systematic(map_path, n, spacing, seed, min_distance, band, progress, layout)
    raise InputError(f"unknown sampling design '{design}': use one of {list(DESIGNS)}.")
