"""The sampling design travels with the points: csagf:random_points records it, csagf:accuracy_assessment picks the
estimator from it (or from its parameters), two interpreters, and csagf:sample_size. Round trips via qgis_process."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from accuracy_scene import map_array, reference_array, write_classes, write_points
from qgis.core import QgsVectorLayer

from csagf_plugin.processing.fields import make_field

pytestmark = pytest.mark.usefixtures("csagf_provider")


@pytest.fixture
def map_path(tmp_path):
    """The 40 x 40 test map: classes 1-4 in quadrants (360, 360, 400, 400 pixels), class 0 on the top two rows."""
    return str(write_classes(tmp_path / "map.tif", map_array()))


def run(algorithm: str, parameters: dict) -> dict:
    import processing

    return processing.run(f"csagf:{algorithm}", parameters)


def test_random_points_record_the_design_in_fields_and_metadata(map_path, tmp_path):
    out = run("random_points", {"MAP": map_path, "DESIGN": 1, "N": 20, "ALLOCATION": 1, "SEED": 5,
                                "OUTPUT": str(tmp_path / "p.gpkg")})["OUTPUT"]
    layer = QgsVectorLayer(out, "p", "ogr")
    features = list(layer.getFeatures())
    assert {f["design"] for f in features} == {"stratified_random:map_classes"}
    assert all(f["stratum"] == f["map_class"] for f in features)
    sizes = {1: 360, 2: 360, 3: 400, 4: 400}
    assert all(f["stratum_pixels"] == sizes[f["map_class"]] for f in features)
    record = json.loads(layer.metadata().keywords()["csagf_sampling_design"][0])
    assert record["design"] == "stratified_random" and record["strata"] == "map_classes"
    assert record["allocation"] == "equal" and record["seed"] == 5
    assert record["population"] == {"1": 360.0, "2": 360.0, "3": 400.0, "4": 400.0}
    assert record["requested"] == {"1": 5, "2": 5, "3": 5, "4": 5}
    assert "stratified random by map class" in layer.metadata().abstract()


@pytest.mark.parametrize("design, options, estimator, variance", [
    (0, ["N=20"], "post_stratified", "cochran1977_5a40"),
    (1, ["N=20", "ALLOCATION=1"], "olofsson2014", "stratified"),
    (2, ["N=20", "LAYOUT=1"], "post_stratified", "cochran1977_5a40"),
])
def test_round_trip_through_qgis_process(map_path, tmp_path, qgis_process, design, options, estimator, variance):
    """random_points -> sample_reference -> accuracy_assessment, each a qgis_process run, for each design."""
    reference = write_classes(tmp_path / "reference.tif", reference_array(), names=None)
    points, labelled, report = tmp_path / "p.gpkg", tmp_path / "l.gpkg", tmp_path / "r.json"
    steps = [
        ["csagf:random_points", f"MAP={map_path}", f"DESIGN={design}", "SEED=3", *options, f"OUTPUT={points}"],
        ["csagf:sample_reference", f"POINTS={points}", f"REFERENCE={reference}", f"OUTPUT={labelled}"],
        ["csagf:accuracy_assessment", f"MAP={map_path}", f"POINTS={labelled}", "REFERENCE_FIELD=ref_class",
         f"OUTPUT_HTML={tmp_path / 'r.html'}", f"OUTPUT_JSON={report}"],
    ]
    for algorithm, *parameters in steps:
        done = qgis_process("run", algorithm, "--", *parameters)
        assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["estimator"] == estimator and data["variance"] == variance
    assert data["design"]["design"] == ["simple_random", "stratified_random", "systematic"][design]
    assert data["design"]["seed"] == 3  # read from the layer metadata, which survived sample_reference
    if design == 2:
        assert data["design"]["systematic"] == "unaligned"
    assert data["n_used"] == data["n_points"] > 0


def test_design_and_estimator_set_by_parameters(map_path, tmp_path):
    """Points made elsewhere (no design recorded): assumed stratified, or the design the parameter names."""
    truth = reference_array()
    cells = [(5, 5), (10, 12), (15, 3), (5, 22), (12, 25), (6, 33), (15, 38), (25, 5), (30, 10), (35, 15),
             (25, 25), (30, 30), (38, 38)]
    points = str(write_points(tmp_path / "p.gpkg", cells, ref_class=[int(truth[r, c]) for r, c in cells]))
    common = {"MAP": map_path, "POINTS": points, "REFERENCE_FIELD": "ref_class",
              "OUTPUT_HTML": str(tmp_path / "r.html"), "OUTPUT_JSON": str(tmp_path / "r.json")}

    def assess(**extra) -> dict:
        result = run("accuracy_assessment", {**common, **extra})
        data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
        assert result["ESTIMATOR_USED"] == f"{data['estimator']}/{data['variance']}"
        return data

    assumed = assess()
    assert assumed["estimator"] == "olofsson2014" and assumed["design"]["source"] == "assumed"
    assert any("assumed stratified random by map class" in w for w in assumed["warnings"])
    srs = assess(DESIGN=1)
    assert (srs["estimator"], srs["variance"]) == ("post_stratified", "cochran1977_5a40")
    conditional = assess(DESIGN=1, VARIANCE=1)
    assert conditional["variance"] == "conditional"
    assert conditional["overall_accuracy"]["se"] == pytest.approx(assumed["overall_accuracy"]["se"])
    plain = assess(DESIGN=3, ESTIMATOR=2)
    assert plain["estimator"] == "simple_random"
    assert plain["overall_accuracy"]["value"] == pytest.approx(11 / 13)  # 2 of the 13 points are wrong


def test_two_interpreters(map_path, tmp_path):
    cells = [(5, 5), (6, 6), (5, 30), (6, 31), (25, 5), (26, 6), (30, 30), (31, 31)]
    points_path = write_points(tmp_path / "p.gpkg", cells, ref_class=[1, 1, 2, 2, 3, 3, 4, 4])
    layer = QgsVectorLayer(str(points_path), "p", "ogr")
    layer.dataProvider().addAttributes([make_field("ref_class_2", "int"), make_field("ref_final", "int")])
    layer.updateFields()
    second = layer.fields().indexOf("ref_class_2")
    final = layer.fields().indexOf("ref_final")
    labels = {1: 1, 2: 2, 3: 2, 4: 1, 5: 3, 6: 3, 7: 4, 8: 3}  # disagrees on points 2, 4 and 8
    settled = {2: 1, 4: 2}  # point 8 stays unsettled
    layer.dataProvider().changeAttributeValues({
        f.id(): {second: labels[f["point_id"]], final: settled.get(f["point_id"])} for f in layer.getFeatures()})
    result = run("accuracy_assessment", {"MAP": map_path, "POINTS": str(points_path), "REFERENCE_FIELD": "ref_class",
                                         "SECOND_REFERENCE_FIELD": "ref_class_2", "FINAL_REFERENCE_FIELD": "ref_final",
                                         "OUTPUT_HTML": str(tmp_path / "r.html"),
                                         "OUTPUT_JSON": str(tmp_path / "r.json")})
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert result["INTERPRETER_AGREEMENT"] == pytest.approx(5 / 8)
    assert [d["point_id"] for d in data["interpreters"]["disagreements"]] == [2, 4, 8]
    assert data["excluded"] == {"interpreters_disagree": 1}
    assert data["n_used"] == 7
    assert "Two interpreters" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_sample_size_plan_feeds_random_points(map_path, tmp_path):
    """Equal W-ish map (360, 360, 400, 400 of 1520); UA 0.9 everywhere except class 2 (0.6 from the validation
    CSV); a minimum of 10 per class for OA with SE 0.05."""
    validation = tmp_path / "val.csv"
    validation.write_text("class_id,class_name,iou,precision,recall\n2,b,0.5,0.6,0.7\n,all,0.5,,\n",
                          encoding="utf-8")
    plan = run("sample_size", {"MAP": map_path, "TARGET_SE": 0.05, "EXPECTED_UA": "1:0.9,3:0.9,4:0.9",
                               "VALIDATION": str(validation), "ALLOCATION": 2, "MIN_PER_CLASS": 10,
                               "OUTPUT_JSON": str(tmp_path / "plan.json")})
    data = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert data["expected_users_accuracy"] == {"1": 0.9, "2": 0.6, "3": 0.9, "4": 0.9}
    assert plan["EXPECTED_SE"] <= 0.05 and plan["N"] == sum(int(v.split(":")[1]) for v in
                                                              plan["N_PER_CLASS"].split(","))
    assert all(int(v.split(":")[1]) >= 10 for v in plan["N_PER_CLASS"].split(","))
    points = run("random_points", {"MAP": map_path, "DESIGN": 1, "N_PER_CLASS": plan["N_PER_CLASS"], "SEED": 1,
                                   "OUTPUT": str(tmp_path / "p.gpkg")})["OUTPUT"]
    counts = Counter(f["map_class"] for f in QgsVectorLayer(points, "p", "ogr").getFeatures())
    assert ",".join(f"{c}:{counts[c]}" for c in sorted(counts)) == plan["N_PER_CLASS"]


def test_sample_size_from_the_bundled_model_card(map_path, tmp_path):
    """The bundled sample model's card keeps IoU and OA only: its val_oa stands for every class."""
    from pathlib import Path

    model = Path(__file__).resolve().parents[2] / "models" / "csagfnet_sample.onnx"
    if not model.is_file():
        pytest.skip("no bundled sample model")
    from csagf_plugin.core.model import load_model

    val_oa = load_model(str(model), "cpu").card.metrics["val_oa"]
    run("sample_size", {"MAP": map_path, "MODEL": str(model), "TARGET_SE": 0.05, "ALLOCATION": 3,
                        "OUTPUT_JSON": str(tmp_path / "plan.json")})
    data = json.loads((tmp_path / "plan.json").read_text(encoding="utf-8"))
    assert data["expected_users_accuracy"] == {str(c): pytest.approx(val_oa) for c in (1, 2, 3, 4)}
    assert data["allocation"] == "neyman"


def test_points_drawn_on_another_map_are_flagged(map_path, tmp_path):
    """The class areas recorded with the points differ from the map assessed: the log says so."""
    import processing
    from qgis.core import QgsProcessingFeedback

    class Warnings(QgsProcessingFeedback):
        def __init__(self) -> None:
            super().__init__()
            self.messages: list[str] = []

        def pushWarning(self, warning: str) -> None:  # noqa: N802
            self.messages.append(warning)

    points = run("random_points", {"MAP": map_path, "DESIGN": 1, "N": 12, "SEED": 2,
                                   "OUTPUT": str(tmp_path / "p.gpkg")})["OUTPUT"]
    other = str(write_classes(tmp_path / "other.tif", reference_array()))
    feedback = Warnings()
    processing.run("csagf:accuracy_assessment", {"MAP": other, "POINTS": points, "REFERENCE_FIELD": "map_class",
                                                 "OUTPUT_HTML": str(tmp_path / "r.html")}, feedback=feedback)
    assert any("class areas differ from those recorded" in m for m in feedback.messages)
