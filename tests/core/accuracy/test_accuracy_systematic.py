"""Systematic grids, aligned and unaligned: one point per cell, equal spacing, counts near n and explained."""

from __future__ import annotations

import numpy as np
import pytest
from accuracy_rasters import NODATA, ORIGIN, PIXEL, class_map  # noqa: F401 (fixture)

from csagf_plugin.core.accuracy import map_summary
from csagf_plugin.core.accuracy.sampling import sample_points
from csagf_plugin.core.accuracy.systematic import grid_cell
from csagf_plugin.core.errors import InputError


@pytest.fixture(autouse=True)
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read 16-row strips so every test goes through many windows, as on a large raster."""
    monkeypatch.setattr(map_summary, "STRIP_PIXELS", 16 * 80)


def classified(classes: np.ndarray) -> np.ndarray:
    return (classes != 0) & (classes != NODATA)


def test_grid_cell_brings_the_expected_count_nearest_n() -> None:
    """3,000 classified pixels, n = 20: a square cell of sqrt(150) = 12.2 pixels. Whole-pixel cells expect
    3000/132 = 22.7 (11 x 12), 3000/144 = 20.8 (12 x 12), 3000/156 = 19.2 (12 x 13), 3000/169 = 17.8 (13 x 13):
    12 x 13 is nearest (0.77 away)."""
    assert grid_cell(3000, 20) == (12, 13)
    assert grid_cell(100, 100) == (1, 1)


def test_aligned_grid(class_map) -> None:
    path, classes = class_map
    points = sample_points(path, "systematic", n=100, seed=2)
    s_r, s_c = points.grid_step
    assert np.unique(points.row % s_r).size == 1 and np.unique(points.col % s_c).size == 1
    r0, c0 = int(points.row[0] % s_r), int(points.col[0] % s_c)
    assert len(points) == int(classified(classes[r0::s_r, c0::s_c]).sum())  # every node on the map is kept
    assert points.sampling_design.systematic == "aligned" and points.sampling_design.design == "systematic"
    assert points.x == pytest.approx(ORIGIN[0] + (points.col + 0.5) * PIXEL)
    assert sample_points(path, "systematic", n=100, seed=2).row.tolist() == points.row.tolist()
    starts = {(int(p.row[0] % s_r), int(p.col[0] % s_c))
              for p in (sample_points(path, "systematic", n=100, seed=s) for s in range(8))}
    assert len(starts) > 1  # the start of the grid is random


def test_unaligned_grid_one_point_per_cell(class_map) -> None:
    path, classes = class_map
    points = sample_points(path, "systematic", n=60, seed=5, layout="unaligned")
    s_r, s_c = points.grid_step
    cells = list(zip((points.row // s_r).tolist(), (points.col // s_c).tolist()))
    assert len(set(cells)) == len(cells)  # at most one point per cell
    assert classified(classes[points.row, points.col]).all()
    assert np.unique(points.row % s_r).size > 1  # offsets differ between cells
    assert points.sampling_design.systematic == "unaligned"
    with pytest.raises(InputError, match="unaligned"):
        sample_points(path, "systematic", n=60, layout="unaligned", min_distance=5.0)


@pytest.mark.parametrize("layout", ["aligned", "unaligned"])
def test_count_differs_from_n_only_with_an_explanation(class_map, layout: str) -> None:
    """Over many seeds, the mean count is near the expectation (classified / cell) and every miss is explained."""
    path, classes = class_map
    n = 20
    counts = []
    for seed in range(12):
        points = sample_points(path, "systematic", n=n, seed=seed, layout=layout)
        counts.append(len(points))
        if len(points) != n:
            assert any(f"{len(points)} points instead of the {n} asked" in w and "equal spacing" in w
                       for w in points.warnings)
        else:
            assert points.warnings == []
    s_r, s_c = points.grid_step
    expected = classified(classes).sum() / (s_r * s_c)
    assert abs(expected - n) <= 3
    assert abs(np.mean(counts) - expected) < 3


def test_spacing_given(class_map) -> None:
    path, _ = class_map
    points = sample_points(path, "systematic", spacing=100.0, seed=0)
    assert set(np.diff(np.unique(points.col)).tolist()) == {10}
    assert set(np.diff(np.unique(points.row)).tolist()) <= {10, 20}  # a grid row may fall on class 0 only
    assert points.warnings == []  # no n asked, nothing to explain
    with pytest.raises(InputError, match="exceeds the grid spacing"):
        sample_points(path, "systematic", spacing=100.0, min_distance=150.0)
