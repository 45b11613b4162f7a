"""The HTML report reads as a person expects: areas in full digits and km², classes named in warnings, and no
red when there is nothing to warn about."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from csagf_plugin.core.accuracy import assessment_report, olofsson_estimates
from csagf_plugin.core.accuracy.report import named_classes, readable_area
from csagf_plugin.core.model_card import FunctionalClass

LEGEND = [FunctionalClass(1, "residential", "#ff0000"), FunctionalClass(2, "industrial", "#888888")]


def test_areas_in_full_digits_with_km2_and_ha():
    assert readable_area(1_048_576.0, "m²") == "1,048,576 m² (1.05 km²)"
    assert readable_area(25_000.0, "m²") == "25,000 m² (2.50 ha)"
    assert readable_area(12.5, "degree²") == "12.50 degree²"
    assert readable_area(float("nan"), "m²") == "n/a"


def test_warnings_name_the_classes():
    names = {1: "residential", 3: "industrial"}
    assert named_classes("map class 3 has only 1 sample point", names) == \
        "map class 3 (industrial) has only 1 sample point"
    assert named_classes("stratum 1 (12 % of the area) has no sample point", names) == \
        "stratum 1 (residential) (12 % of the area) has no sample point"
    assert named_classes("reference class 9 is not a class of the map", names) == \
        "reference class 9 is not a class of the map"


def test_report_page(tmp_path: Path):
    counts = np.array([[40, 2], [3, 30]])
    clean = olofsson_estimates(counts, [1_000_000, 48_576], [1, 2], 1.0, "m²")
    page = Path(assessment_report(clean, tmp_path / "clean", LEGEND).html).read_text(encoding="utf-8")
    assert "1,048,576 m² (1.05 km²)" in page and "e+06" not in page
    assert "<h2>Warnings</h2><p>None.</p>" in page and 'class="warnings"' not in page

    lonely = olofsson_estimates(np.array([[40, 2], [0, 1]]), [1_000_000, 48_576], [1, 2], 1.0, "m²")
    assert lonely.warnings
    page = Path(assessment_report(lonely, tmp_path / "lonely", LEGEND).html).read_text(encoding="utf-8")
    assert 'class="warnings"' in page and "class 2 (industrial)" in page
