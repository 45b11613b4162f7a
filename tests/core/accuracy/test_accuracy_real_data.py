"""Sampling and assessment on a real visually-interpreted label raster of Pudong (skipped without ../shared/data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

from csagf_plugin.core.accuracy import assess_map, assessment_report, sample_points, summarise_map

pytestmark = pytest.mark.real_data


@pytest.fixture
def label_map(shared_data: Path) -> Path:
    path = shared_data / "shanghai_pudong" / "labels_visual" / "google_0_10_labels.tif"
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path


def test_real_label_map_sampling_and_assessment(label_map: Path, tmp_path: Path) -> None:
    with rasterio.open(label_map) as src:
        labels = src.read(1)
        transform = src.transform
    summary = summarise_map(label_map)
    values, counts = np.unique(labels[labels > 0], return_counts=True)
    assert summary.class_pixels == dict(zip(values.tolist(), counts.tolist()))
    assert any("Web Mercator" in w for w in summary.warnings)  # EPSG:3857: areas are not ground areas

    points = sample_points(label_map, "stratified_random", n=60, allocation="equal", min_per_class=3,
                           min_distance=20.0, seed=7)
    assert set(points.counts()) == set(summary.class_pixels)
    assert (labels[points.row, points.col] == points.map_class).all()

    # A perfect reference: OA is 1 and every estimated area equals the mapped area.
    perfect = assess_map(label_map, points.x, points.y, points.map_class, points.crs_wkt)
    assert perfect.overall_accuracy.value == pytest.approx(1.0) and perfect.overall_accuracy.se == 0.0
    for c in perfect.per_class:
        assert c.area.value == pytest.approx(c.mapped_area)

    # An imperfect reference: the label one 32-pixel cell to the east (the labels' own coarseness).
    east = np.clip(points.col + 32, 0, labels.shape[1] - 1)
    shifted = labels[points.row, east].astype(np.int64)
    result = assess_map(label_map, points.x, points.y, shifted, points.crs_wkt)
    assert 0.0 < result.overall_accuracy.value < 1.0
    assert result.proportions.sum() == pytest.approx(1.0, abs=1e-9)  # every class stratum kept points
    assert result.total_area == pytest.approx(summary.classified_pixels * abs(transform.a * transform.e))
    files = assessment_report(result, tmp_path, title="Pudong labels against themselves shifted one cell")
    assert Path(files.html).stat().st_size > 0
