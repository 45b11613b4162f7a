"""csagf:random_points, csagf:sample_reference and csagf:accuracy_assessment through processing.run and qgis_process."""

from __future__ import annotations

import csv
import json
import math
from collections import Counter

import pytest
from accuracy_scene import (
    CRS,
    NAMES,
    ORIGIN,
    PIXEL,
    SIZE,
    map_array,
    reference_array,
    write_classes,
    write_points,
)
from qgis.core import (
    QgsFeature,
    QgsGeometry,
    QgsProcessingException,
    QgsRectangle,
    QgsVectorLayer,
)

from csagf_plugin.processing.fields import make_field

pytestmark = pytest.mark.usefixtures("csagf_provider")


@pytest.fixture
def map_path(tmp_path):
    """The 40 x 40 test map (classes 1-4 in quadrants, class 0 on the top two rows) with category names."""
    return str(write_classes(tmp_path / "map.tif", map_array()))


def run(algorithm: str, parameters: dict) -> dict:
    import processing

    return processing.run(f"csagf:{algorithm}", parameters)


def read_points(path: str) -> list[dict]:
    """Attributes of every feature of a point file, plus the pixel (row, col) under it in the test grid."""
    layer = QgsVectorLayer(path, "points", "ogr")
    assert layer.isValid(), path
    rows = []
    for feature in layer.getFeatures():
        point = feature.geometry().asPoint()
        record = {name: feature[name] for name in layer.fields().names()}
        record["row"] = int((ORIGIN[1] - point.y()) // PIXEL)
        record["col"] = int((point.x() - ORIGIN[0]) // PIXEL)
        record["at_centre"] = math.isclose((point.x() - ORIGIN[0]) / PIXEL % 1, 0.5) and math.isclose(
            (ORIGIN[1] - point.y()) / PIXEL % 1, 0.5)
        record["crs"] = layer.crs().authid()
        rows.append(record)
    return rows


def is_null(value) -> bool:
    return value is None or (hasattr(value, "isNull") and value.isNull())


def test_random_points_stratified_fixed_counts(map_path, tmp_path):
    out = str(tmp_path / "points.gpkg")
    result = run("random_points", {"MAP": map_path, "DESIGN": 1, "N_PER_CLASS": "1:5, 2:4,3:3;4:6",
                                   "SEED": 7, "OUTPUT": out})
    points = read_points(result["OUTPUT"])
    classes = map_array()
    assert Counter(p["map_class"] for p in points) == {1: 5, 2: 4, 3: 3, 4: 6}
    assert sorted(p["point_id"] for p in points) == list(range(1, 19))
    for p in points:
        assert p["crs"] == CRS
        assert p["at_centre"]
        assert classes[p["row"], p["col"]] == p["map_class"]  # the class under the point, never class 0
        assert p["map_name"] == NAMES[p["map_class"]]  # names from the raster's category names
        assert is_null(p["ref_class"])


def test_random_points_seeded_and_systematic(map_path, tmp_path):
    first = read_points(run("random_points", {"MAP": map_path, "DESIGN": 0, "N": 12, "SEED": 3,
                                              "MIN_DISTANCE": 25.0, "OUTPUT": str(tmp_path / "a.gpkg")})["OUTPUT"])
    again = read_points(run("random_points", {"MAP": map_path, "DESIGN": 0, "N": 12, "SEED": 3,
                                              "MIN_DISTANCE": 25.0, "OUTPUT": str(tmp_path / "b.gpkg")})["OUTPUT"])
    assert len(first) == 12
    assert [(p["row"], p["col"]) for p in first] == [(p["row"], p["col"]) for p in again]
    cells = [(p["row"], p["col"]) for p in first]
    for i, a in enumerate(cells):
        for b in cells[i + 1:]:
            assert math.dist(a, b) * PIXEL >= 25.0
    grid = read_points(run("random_points", {"MAP": map_path, "DESIGN": 2, "N": 16, "SEED": 1,
                                             "OUTPUT": str(tmp_path / "grid.gpkg")})["OUTPUT"])
    assert 10 <= len(grid) <= 22
    rows = sorted({p["row"] for p in grid})
    steps = {b - a for a, b in zip(rows, rows[1:])}
    assert len(steps) == 1 and min(rows) >= 2  # a regular grid, nothing on the class-0 strip


def test_random_points_explains_bad_counts(map_path, tmp_path):
    with pytest.raises(QgsProcessingException, match="class id:count"):
        run("random_points", {"MAP": map_path, "DESIGN": 1, "N_PER_CLASS": "1=5", "OUTPUT": str(tmp_path / "x.gpkg")})
    with pytest.raises(QgsProcessingException, match="no pixel in the map"):
        run("random_points", {"MAP": map_path, "DESIGN": 1, "N_PER_CLASS": "9:5", "OUTPUT": str(tmp_path / "y.gpkg")})


# Points of the assessment test: pixel (row, col) -> what they exercise.
SAMPLE = [(5, 5), (10, 12), (15, 3),  # class 1, correct
          (5, 22), (12, 25), (6, 33), (15, 38),  # class 2: two in the left half (really class 1), two correct
          (25, 5), (30, 10), (35, 15),  # class 3, correct
          (25, 25), (30, 30), (38, 38)]  # class 4, correct
OUTSIDE = (-5, 10)  # above the map
ON_CLASS_0 = (0, 10)  # on the class-0 strip


def test_sample_reference_from_raster_in_another_crs(map_path, tmp_path):
    reference = str(write_classes(tmp_path / "reference.tif", reference_array(), names=None))
    points = str(write_points(tmp_path / "p.gpkg", SAMPLE + [OUTSIDE, ON_CLASS_0], crs="EPSG:4326"))
    out = run("sample_reference", {"POINTS": points, "REFERENCE": reference,
                                   "OUTPUT": str(tmp_path / "ref.gpkg")})["OUTPUT"]
    layer = QgsVectorLayer(out, "ref", "ogr")
    assert layer.crs().authid() == "EPSG:4326"
    by_id = {f["point_id"]: f["ref_class"] for f in layer.getFeatures()}
    truth = reference_array()
    for i, (row, col) in enumerate(SAMPLE):
        assert by_id[i + 1] == truth[row, col], (row, col)
    assert is_null(by_id[len(SAMPLE) + 1])  # outside the reference
    assert is_null(by_id[len(SAMPLE) + 2])  # reference class 0


def test_sample_reference_from_polygons_with_class_names(tmp_path):
    polygons = QgsVectorLayer("Polygon?crs=EPSG:32650", "zones", "memory")
    polygons.dataProvider().addAttributes([make_field("zone", "string")])
    polygons.updateFields()
    left = QgsRectangle(ORIGIN[0], ORIGIN[1] - SIZE * PIXEL, ORIGIN[0] + SIZE * PIXEL / 2, ORIGIN[1])
    right = QgsRectangle(ORIGIN[0] + SIZE * PIXEL / 2, ORIGIN[1] - SIZE * PIXEL, ORIGIN[0] + SIZE * PIXEL, ORIGIN[1])
    features = []
    for rect, name in ((left, "Water"), (right, "green space")):
        feature = QgsFeature(polygons.fields())
        feature.setGeometry(QgsGeometry.fromRect(rect))
        feature.setAttributes([name])
        features.append(feature)
    polygons.dataProvider().addFeatures(features)
    points = str(write_points(tmp_path / "p.gpkg", [(5, 5), (5, 35)], crs="EPSG:3857"))
    out = run("sample_reference", {"POINTS": points, "REFERENCE_VECTOR": polygons, "FIELD": "zone",
                                   "OUTPUT": str(tmp_path / "ref.gpkg")})["OUTPUT"]
    refs = {f["point_id"]: f["ref_class"] for f in QgsVectorLayer(out, "ref", "ogr").getFeatures()}
    assert refs == {1: 6, 2: 4}  # names of FUNCTIONAL_CLASSES, any case
    with pytest.raises(QgsProcessingException, match="No reference given"):
        run("sample_reference", {"POINTS": points, "OUTPUT": str(tmp_path / "none.gpkg")})


def test_accuracy_assessment_area_weighted_report(map_path, tmp_path):
    truth = reference_array()
    cells = SAMPLE + [OUTSIDE, ON_CLASS_0, (20, 20)]
    refs = [int(truth[r, c]) for r, c in SAMPLE] + [1, 1, None]  # the last point is not labelled
    points = str(write_points(tmp_path / "p.gpkg", cells, crs="EPSG:4326", ref_class=refs))
    folder = tmp_path / "tables"
    result = run("accuracy_assessment", {"MAP": map_path, "POINTS": points, "REFERENCE_FIELD": "ref_class",
                                         "CONFIDENCE": 90, "OUTPUT_HTML": str(tmp_path / "report.html"),
                                         "OUTPUT_JSON": str(tmp_path / "report.json"),
                                         "OUTPUT_FOLDER": str(folder)})
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "data:image/png;base64," in html and "Homes" in html and "Shops" in html
    data = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    assert data["excluded"] == {"outside_map": 1, "no_map_class": 1, "no_reference": 1}
    assert data["n_points"] == 16 and data["n_used"] == 13
    assert data["counts"] == [[3, 0, 0, 0], [2, 2, 0, 0], [0, 0, 3, 0], [0, 0, 0, 3]]
    # Olofsson eq. 1 by hand: mapped pixels 360, 360, 400, 400; user's accuracies 1, 0.5, 1, 1.
    expected_oa = (360 * 1 + 360 * 0.5 + 400 + 400) / 1520
    assert data["overall_accuracy"]["value"] == pytest.approx(expected_oa)
    assert result["OVERALL_ACCURACY"] == pytest.approx(expected_oa)
    assert result["POINTS_USED"] == 13
    assert data["confidence"] == pytest.approx(0.90)
    assert data["class_names"] == {"1": "Homes", "2": "Shops", "3": "Factories", "4": "Parks"}
    assert data["area_unit"] == "m²" and data["pixel_area"] == pytest.approx(100.0)
    with open(folder / "accuracy_confusion_counts.csv", encoding="utf-8") as f:
        table = list(csv.reader(f))
    assert table[0] == ["map \\ reference", "Homes", "Shops", "Factories", "Parks", "total"]
    assert (folder / "accuracy_per_class.csv").exists() and (folder / "accuracy_confusion.png").exists()


def test_accuracy_assessment_single_point_class_and_empty_layer(map_path, tmp_path):
    cells = [(5, 5), (6, 6), (5, 30), (25, 5), (26, 6), (30, 30), (31, 31)]  # class 2 has a single point
    points = str(write_points(tmp_path / "p.gpkg", cells, ref_class=[1, 1, 2, 3, 3, 4, 4]))
    run("accuracy_assessment", {"MAP": map_path, "POINTS": points, "REFERENCE_FIELD": "ref_class",
                                "OUTPUT_HTML": str(tmp_path / "r.html"), "OUTPUT_JSON": str(tmp_path / "r.json")})
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert any("only 1 sample point" in w for w in data["warnings"])
    assert data["per_class"][1]["users_accuracy"]["se"] is None  # undefined, not a crash
    assert "only 1 sample point" in (tmp_path / "r.html").read_text(encoding="utf-8")

    empty = str(write_points(tmp_path / "empty.gpkg", []))
    with pytest.raises(QgsProcessingException, match="no points"):
        run("accuracy_assessment", {"MAP": map_path, "POINTS": empty, "REFERENCE_FIELD": "ref_class",
                                    "OUTPUT_HTML": str(tmp_path / "e.html")})


def test_random_points_through_qgis_process(map_path, tmp_path, qgis_process):
    out = tmp_path / "cli.gpkg"
    done = qgis_process("run", "csagf:random_points", "--", f"MAP={map_path}", "DESIGN=1", "N=8", "ALLOCATION=1",
                        "SEED=2", f"OUTPUT={out}")
    assert done.returncode == 0, done.stdout + done.stderr
    points = read_points(str(out))
    assert Counter(p["map_class"] for p in points) == {1: 2, 2: 2, 3: 2, 4: 2}  # equal allocation


def test_accuracy_assessment_with_strata_other_than_map_classes(map_path, tmp_path):
    truth = reference_array()
    refs = [int(truth[r, c]) for r, c in SAMPLE]
    points = str(write_points(tmp_path / "p.gpkg", SAMPLE, ref_class=refs))
    common = {"MAP": map_path, "POINTS": points, "REFERENCE_FIELD": "ref_class"}
    olofsson = run("accuracy_assessment", {**common, "OUTPUT_HTML": str(tmp_path / "o.html")})
    # Strata read from a strata raster under each point, or given per point: Stehman 2014. With the map itself as
    # the strata raster they are the map classes, and Stehman's estimator must give Olofsson's numbers.
    from_raster = run("accuracy_assessment", {**common, "STRATA": map_path, "OUTPUT_HTML": str(tmp_path / "s.html"),
                                              "OUTPUT_JSON": str(tmp_path / "s.json")})
    from_field = run("accuracy_assessment", {**common, "STRATA": map_path, "STRATUM_FIELD": "map_class",
                                             "OUTPUT_HTML": str(tmp_path / "f.html")})
    assert json.loads((tmp_path / "s.json").read_text(encoding="utf-8"))["estimator"] == "stehman2014"
    expected = (360 * 1 + 360 * 0.5 + 400 + 400) / 1520
    for result in (olofsson, from_raster, from_field):
        assert result["OVERALL_ACCURACY"] == pytest.approx(expected)
    with pytest.raises(QgsProcessingException, match="strata raster"):
        run("accuracy_assessment", {**common, "STRATUM_FIELD": "map_class", "OUTPUT_HTML": str(tmp_path / "x.html")})


def test_accuracy_assessment_reads_class_names_and_flags_unknown_ones(map_path, tmp_path):
    points_path = write_points(tmp_path / "p.gpkg", [(5, 5), (6, 6), (5, 30), (6, 31), (25, 5), (26, 6),
                                                      (30, 30), (31, 31)])
    layer = QgsVectorLayer(str(points_path), "p", "ogr")
    layer.dataProvider().addAttributes([make_field("label", "string")])
    layer.updateFields()
    index = layer.fields().indexOf("label")
    names = ["homes", "HOMES", "Shops", "Water", "Factories", "factories", "Parks", "lava"]  # 6 = Water not in map
    layer.dataProvider().changeAttributeValues({f.id(): {index: names[f["point_id"] - 1]}
                                                for f in layer.getFeatures()})
    run("accuracy_assessment", {"MAP": map_path, "POINTS": str(points_path), "REFERENCE_FIELD": "label",
                                "OUTPUT_HTML": str(tmp_path / "r.html"), "OUTPUT_JSON": str(tmp_path / "r.json")})
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert data["excluded"] == {"no_reference": 1}  # "lava" is no class
    assert data["classes"] == [1, 2, 3, 4, 6]
    assert any("[6]" in w and "legend" in w for w in data["warnings"])  # water is not a class of this map


@pytest.mark.real_data
def test_real_labels_raster_and_cells_agree_at_random_points(shared_data, tmp_path):
    """Pudong: points drawn on a visual-label raster get the same reference from the label cells (polygons)."""
    labels = shared_data / "shanghai_pudong" / "labels_visual"
    raster = str(labels / "google_5_5_labels.tif")
    points = run("random_points", {"MAP": raster, "DESIGN": 1, "N": 30, "MIN_PER_CLASS": 2, "SEED": 4,
                                   "OUTPUT": str(tmp_path / "p.gpkg")})["OUTPUT"]
    cells = QgsVectorLayer(f"{labels / 'cells.gpkg'}|layername=cells", "cells", "ogr")
    assert cells.isValid()
    by_name = run("sample_reference", {"POINTS": points, "REFERENCE_VECTOR": cells, "FIELD": "class_name",
                                       "OUTPUT": str(tmp_path / "names.gpkg")})["OUTPUT"]
    features = list(QgsVectorLayer(by_name, "r", "ogr").getFeatures())
    assert len(features) >= 30
    for feature in features:
        assert feature["ref_class"] == feature["map_class"], feature["point_id"]  # names read as class ids
    names = {f["map_name"] for f in features}
    assert names <= {"residential", "commercial", "industrial", "green space", "streets and transportation",
                     "water", "non-developed"}
    result = run("accuracy_assessment", {"MAP": raster, "POINTS": by_name, "REFERENCE_FIELD": "ref_class",
                                         "OUTPUT_HTML": str(tmp_path / "r.html")})
    assert result["OVERALL_ACCURACY"] == pytest.approx(1.0)
