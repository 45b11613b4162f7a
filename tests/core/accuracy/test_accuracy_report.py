"""The written report: JSON with every number, CSV tables, heat-map PNG and HTML; and assess_map end to end."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from accuracy_rasters import NODATA, ORIGIN, PIXEL, class_map  # noqa: F401 (fixture)
from csagf_plugin.core.accuracy import assess_map, assessment_report, olofsson_estimates, sample_points
from csagf_plugin.core.model_card import FunctionalClass

COUNTS = np.array([[66, 0, 5, 4], [0, 55, 8, 12], [1, 0, 153, 11], [2, 1, 9, 313]])  # Olofsson 2014, rows map
LEGEND = [FunctionalClass(1, "Deforestation", "#ff0000"), FunctionalClass(2, "Forest gain", "#00ff00"),
          FunctionalClass(3, "Stable forest", "#006600"), FunctionalClass(4, "Stable non-forest", "#ffff99")]


def read_csv(path: str) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_report_files(tmp_path: Path) -> None:
    result = olofsson_estimates(COUNTS, [200_000, 150_000, 3_200_000, 6_450_000], [1, 2, 3, 4], 0.09, "ha")
    files = assessment_report(result, tmp_path / "out", LEGEND, title="Olofsson <2014> example")
    for path in files.all_paths():
        assert Path(path).is_file() and Path(path).stat().st_size > 0

    data = json.loads(Path(files.json).read_text(encoding="utf-8"))
    assert data["counts"] == COUNTS.tolist()
    assert data["overall_accuracy"]["value"] == pytest.approx(result.overall_accuracy.value)
    assert data["per_class"][0]["area"]["ci_low"] == pytest.approx(result.per_class[0].area.ci_low)
    assert data["class_names"]["1"] == "Deforestation"
    assert data["sample"]["kappa"] == pytest.approx(result.sample.kappa)
    assert data["confidence"] == 0.95 and data["area_unit"] == "ha" and data["n_used"] == 640

    counts = read_csv(files.csv["confusion_counts"])
    assert counts[0] == ["map \\ reference", "Deforestation", "Forest gain", "Stable forest", "Stable non-forest",
                         "total"]
    assert counts[1][1:] == ["66", "0", "5", "4", "75"] and counts[-1][-1] == "640"
    proportions = read_csv(files.csv["area_proportions"])
    assert float(proportions[-1][-1]) == pytest.approx(1.0)
    assert float(proportions[1][1]) == pytest.approx(0.02 * 66 / 75)
    per_class = read_csv(files.csv["per_class"])
    header = per_class[0]
    row = dict(zip(header, per_class[1]))
    assert float(row["area_ha"]) == pytest.approx(21_158, abs=1)
    assert float(row["users_accuracy"]) == pytest.approx(0.88)
    assert len(per_class) == 5

    page = Path(files.html).read_text(encoding="utf-8")
    assert "Olofsson &lt;2014&gt; example" in page  # escaped
    assert page.count("<table>") == 4 and "data:image/png;base64," in page
    assert "21,158 ± 6,158" in page
    assert Path(files.heat_map).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_assess_map_end_to_end_with_warnings(class_map, tmp_path: Path) -> None:
    path, classes = class_map
    points = sample_points(path, "stratified_random", n=30, allocation="equal", seed=1)
    ref = points.map_class.copy()
    ref[::3] = np.where(ref[::3] == 1, 2, 1)  # a third of the labels disagree with the map
    ref = ref.tolist()
    ref[1] = None  # not labelled yet
    x = np.concatenate([points.x, [ORIGIN[0] - 50.0, ORIGIN[0] + 0.5 * PIXEL]])  # outside; on class 0
    y = np.concatenate([points.y, [ORIGIN[1] + 50.0, ORIGIN[1] - 0.5 * PIXEL]])
    result = assess_map(path, x, y, ref + [1, 1], points.crs_wkt)
    assert result.n_points == 32 and result.n_used == 29
    assert result.excluded == {"outside_map": 1, "no_map_class": 1, "no_reference": 1}
    assert 0 < result.overall_accuracy.value < 1 and math.isfinite(result.overall_accuracy.se)
    mapped = {c.class_id: c.mapped_pixels for c in result.per_class}
    expected = {int(c): int(((classes == c)).sum()) for c in (1, 2, 3, 4, 5)}
    assert mapped == expected and NODATA not in mapped
    files = assessment_report(result, tmp_path, None)
    page = Path(files.html).read_text(encoding="utf-8")
    assert "Residential" in page and "class 5" not in page  # default legend: the functional classes
    assert "1 point(s): outside map" in page


def test_report_names_the_design_and_clips_intervals_at_one(tmp_path: Path) -> None:
    """All 10 points of class 1 correct, 9 of 10 of class 2: UA_2 = 0.9 with SE 0.1 (conditional), so its interval
    0.9 ± 0.196 reaches 1.096; the report shows [0.704, 1.000], the CSV 1, the JSON 1.096. Two interpreters
    disagree on point 20, settled as class 1."""
    from csagf_plugin.core.accuracy import SamplingDesign, assess_points

    m = [1] * 10 + [2] * 10
    first = [1] * 10 + [2] * 9 + [1]
    second = [1] * 10 + [2] * 9 + [2]
    result = assess_points(m, first, {1: 500, 2: 500}, design=SamplingDesign("simple_random", seed=3),
                           variance="conditional", second_reference=second, final_ref=[None] * 19 + [1],
                           point_ids=list(range(1, 21)))
    files = assessment_report(result, tmp_path, title="clip")
    page = Path(files.html).read_text(encoding="utf-8")
    assert "simple random (seed 3)" in page and "post-stratified by map class" in page
    assert "conditional on the points per map class" in page and "cut to [0, 1]" in page
    assert "0.900 [0.704, 1.000]" in page
    assert "Two interpreters" in page and "Cohen's kappa" in page
    data = json.loads(Path(files.json).read_text(encoding="utf-8"))
    assert data["per_class"][1]["users_accuracy"]["ci_high"] == pytest.approx(0.9 + 1.959963984540054 * 0.1)
    assert data["estimator"] == "post_stratified" and data["variance"] == "conditional"
    assert data["design"]["design"] == "simple_random" and data["interpreters"]["disagreements"][0]["final"] == 1
    row = read_csv(files.csv["per_class"])[2]
    header = read_csv(files.csv["per_class"])[0]
    assert float(row[header.index("users_accuracy_ci_high")]) == 1.0
