"""Random sampling designs on small classified rasters: counts, allocation, min distance, seeds, pixel centres.

Systematic grids: test_accuracy_systematic.py; sample-size plans: test_accuracy_sample_size.py.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from accuracy_rasters import NODATA, ORIGIN, PIXEL, make_classes, write_map, class_map  # noqa: F401 (fixture)
from csagf_plugin.core.accuracy import map_summary
from csagf_plugin.core.accuracy.sampling import (
    ALL_CLASSES,
    allocate,
    class_pixel_counts,
    classes_at_points,
    mapped_area,
    sample_points,
    sample_size_for_oa,
    summarise_map,
)
from csagf_plugin.core.errors import Canceled, InputError


@pytest.fixture(autouse=True)
def small_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """Read 16-row strips so every test goes through many windows, as on a large raster."""
    monkeypatch.setattr(map_summary, "STRIP_PIXELS", 16 * 80)


def expected_counts(classes: np.ndarray) -> dict[int, int]:
    values, counts = np.unique(classes[(classes != 0) & (classes != NODATA)], return_counts=True)
    return {int(v): int(c) for v, c in zip(values, counts)}


def check_points(points, classes: np.ndarray) -> None:
    """Points sit at pixel centres of classified pixels and carry the class under them."""
    assert points.x.dtype == np.float64 and points.row.dtype == np.int64 and points.map_class.dtype == np.int64
    under = classes[points.row, points.col]
    assert (under != 0).all() and (under != NODATA).all()
    assert points.map_class.tolist() == under.tolist()
    assert points.x == pytest.approx(ORIGIN[0] + (points.col + 0.5) * PIXEL)
    assert points.y == pytest.approx(ORIGIN[1] - (points.row + 0.5) * PIXEL)
    pixels = set(zip(points.row.tolist(), points.col.tolist()))
    assert len(pixels) == len(points)  # without replacement


def test_class_pixel_counts_and_mapped_area(class_map) -> None:
    path, classes = class_map
    assert class_pixel_counts(path) == expected_counts(classes)
    assert mapped_area(path) == {c: n * PIXEL * PIXEL for c, n in expected_counts(classes).items()}
    summary = summarise_map(path)
    assert summary.area_unit == "m²" and summary.pixel_area == 100.0 and summary.warnings == []


def test_geographic_map_areas_are_flagged(tmp_path: Path) -> None:
    path = write_map(tmp_path / "geo.tif", make_classes(20, 20), crs="EPSG:4326", pixel=0.001)
    summary = summarise_map(path)
    assert summary.area_unit == "degree²"
    assert any("geographic" in w for w in summary.warnings)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_stratified_equal_allocation(class_map, seed: int) -> None:
    path, classes = class_map
    points = sample_points(path, "stratified_random", n=40, allocation="equal", seed=seed)
    check_points(points, classes)
    assert points.counts() == {1: 8, 2: 8, 3: 8, 4: 8, 5: 8}
    assert points.seed == seed and points.warnings == []


def test_stratified_proportional_with_minimum(class_map) -> None:
    path, classes = class_map
    pixels = expected_counts(classes)
    points = sample_points(path, "stratified_random", n=100, allocation="proportional", min_per_class=5, seed=4)
    check_points(points, classes)
    wanted = allocate(pixels, 100, "proportional", None, 5)
    assert points.counts() == wanted
    assert wanted[5] == 5  # the rare class (about 20 pixels, 0.5 % of the map) is lifted to the minimum
    total = sum(pixels.values())
    for c in (1, 2, 3, 4):
        assert abs(wanted[c] - 100 * pixels[c] / total) < 1.0


def test_fixed_allocation_can_take_every_pixel_of_a_class(class_map) -> None:
    path, classes = class_map
    rare = expected_counts(classes)[5]  # the 4 x 5 blob less its random nodata pixels
    points = sample_points(path, "stratified_random", n_per_class={5: rare, 2: 3}, seed=9)
    check_points(points, classes)
    assert points.counts() == {2: 3, 5: rare}
    rows, cols = np.nonzero(classes == 5)
    assert set(zip(rows.tolist(), cols.tolist())) <= set(zip(points.row.tolist(), points.col.tolist()))
    capped = sample_points(path, "stratified_random", n_per_class={5: 50}, seed=9)
    assert capped.counts() == {5: rare}  # never more points than pixels


def test_allocation_errors_say_what_to_fix(class_map) -> None:
    path, _ = class_map
    with pytest.raises(InputError, match=r"classes \[9\] that have no pixel"):
        sample_points(path, "stratified_random", n_per_class={9: 3})
    with pytest.raises(InputError, match="unknown allocation"):
        sample_points(path, "stratified_random", n=10, allocation="cluster")
    with pytest.raises(InputError, match="Neyman allocation needs the expected user's accuracy"):
        sample_points(path, "stratified_random", n=10, allocation="neyman")
    with pytest.raises(InputError, match="unknown sampling design"):
        sample_points(path, "cluster", n=10)


def test_simple_random(class_map) -> None:
    path, classes = class_map
    points = sample_points(path, "simple_random", n=200, seed=5)
    check_points(points, classes)
    assert len(points) == 200 and points.requested == {ALL_CLASSES: 200}
    # class shares of a simple random sample follow the map (loose bound: 200 points)
    share_1 = (points.map_class == 1).mean()
    true_1 = expected_counts(classes)[1] / sum(expected_counts(classes).values())
    assert abs(share_1 - true_1) < 0.12


def test_seed_determinism(class_map) -> None:
    path, _ = class_map
    a = sample_points(path, "stratified_random", n=30, min_distance=25.0, seed=11)
    b = sample_points(path, "stratified_random", n=30, min_distance=25.0, seed=11)
    c = sample_points(path, "stratified_random", n=30, min_distance=25.0, seed=12)
    assert a.row.tolist() == b.row.tolist() and a.col.tolist() == b.col.tolist()
    assert (a.row.tolist(), a.col.tolist()) != (c.row.tolist(), c.col.tolist())
    unseeded = sample_points(path, "simple_random", n=5)
    again = sample_points(path, "simple_random", n=5, seed=unseeded.seed)
    assert unseeded.row.tolist() == again.row.tolist()  # the recorded seed reproduces an unseeded sample


@pytest.mark.parametrize("design", ["simple_random", "stratified_random"])
def test_min_distance_respected(class_map, design: str) -> None:
    path, classes = class_map
    d = 45.0  # 4.5 pixels
    points = sample_points(path, design, n=40, min_distance=d, seed=3)
    check_points(points, classes)
    xy = np.stack([points.x, points.y], axis=1)
    dist = np.sqrt(((xy[:, None, :] - xy[None, :, :]) ** 2).sum(-1))
    np.fill_diagonal(dist, np.inf)
    assert dist.min() >= d
    assert len(points) == 40 and points.warnings == []


def test_impossible_min_distance_places_fewer_points_and_warns(class_map) -> None:
    path, classes = class_map
    points = sample_points(path, "simple_random", n=50, min_distance=300.0, seed=1)  # map is 800 m x 600 m
    check_points(points, classes)
    assert 1 <= len(points) < 50
    assert any("points placed" in w for w in points.warnings)


def test_sample_size_for_overall_accuracy() -> None:
    # Olofsson et al. (2014) section 5.1: expected UA 0.7, 0.6, 0.9, 0.95, target S(O) = 0.01 -> n = 641.
    w = [0.02, 0.015, 0.32, 0.645]
    assert sample_size_for_oa([0.7, 0.6, 0.9, 0.95], w, 0.01) == 641
    assert sample_size_for_oa({1: 0.7, 2: 0.6, 3: 0.9, 4: 0.95}, {1: 2, 2: 1.5, 3: 32, 4: 64.5}, 0.01) == 641
    # halving the target SE quadruples n (up to rounding)
    assert sample_size_for_oa([0.7, 0.6, 0.9, 0.95], w, 0.005) == pytest.approx(4 * 640.5, abs=2)
    with pytest.raises(InputError, match="target standard error"):
        sample_size_for_oa([0.9], [1.0], 0)


def test_classes_at_points(class_map) -> None:
    path, classes = class_map
    rows = np.array([10, 5, 0, 2, 59])
    cols = np.array([10, 6, 0, 79, 79])
    x = ORIGIN[0] + (cols + 0.3) * PIXEL
    y = ORIGIN[1] - (rows + 0.6) * PIXEL
    inside = classes_at_points(path, x, y)
    expect = np.where(classes[rows, cols] == NODATA, 0, classes[rows, cols])
    assert inside.tolist() == expect.tolist()
    assert classes_at_points(path, [ORIGIN[0] - 5.0, ORIGIN[0] + 805.0], [ORIGIN[1] - 5, ORIGIN[1] - 5]).tolist() == [
        -1, -1]
    # the same points given in WGS 84 are reprojected onto the map
    with rasterio.open(path) as src:
        lon, lat = rasterio.warp.transform(src.crs, "EPSG:4326", x.tolist(), y.tolist())
    wgs84 = rasterio.crs.CRS.from_epsg(4326).to_wkt()
    assert classes_at_points(path, lon, lat, wgs84).tolist() == expect.tolist()


class CancelAfter:
    """A Progress that asks to stop after a number of progress reports."""

    def __init__(self, reports: int) -> None:
        self.left = reports
        self.percents: list[float] = []

    def set_progress(self, percent: float) -> None:
        self.percents.append(percent)
        self.left -= 1

    def is_canceled(self) -> bool:
        return self.left <= 0


def test_progress_and_cancel(class_map) -> None:
    path, _ = class_map
    for design in ("stratified_random", "systematic"):
        progress = CancelAfter(10_000)
        sample_points(path, design, n=10, seed=0, progress=progress)
        assert progress.percents == sorted(progress.percents)  # one rising bar over both passes
        assert progress.percents[0] >= 0 and progress.percents[-1] == pytest.approx(100)
    with pytest.raises(Canceled):
        sample_points(path, "simple_random", n=10, seed=0, progress=CancelAfter(1))


def test_float_map_with_fractions_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "float.tif"
    with rasterio.open(path, "w", driver="GTiff", width=4, height=4, count=1, dtype="float32", crs="EPSG:32651",
                       transform=rasterio.transform.from_origin(0, 40, 10, 10)) as dst:
        dst.write(np.full((1, 4, 4), 1.5, dtype=np.float32))
    with pytest.raises(InputError, match="non-integer values"):
        class_pixel_counts(path)
