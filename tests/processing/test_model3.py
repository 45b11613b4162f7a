"""resources/models/classify_and_assess.model3: loads as a valid model and runs end to end through qgis_process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from qgis.core import QgsProcessingModelAlgorithm, QgsVectorLayer

REPO = Path(__file__).resolve().parents[2]
MODEL3 = REPO / "resources" / "models" / "classify_and_assess.model3"
BUNDLED = REPO / "models" / "csagfnet_sample.onnx"

pytestmark = pytest.mark.usefixtures("csagf_provider")


def test_model_loads_with_its_four_steps():
    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODEL3))
    ok, problems = model.validate()
    assert ok, problems
    steps = {child.childId(): child.algorithmId() for child in model.childAlgorithms().values()}
    assert steps == {"classify": "csagf:classify", "random_points": "csagf:random_points",
                     "sample_reference": "csagf:sample_reference",
                     "accuracy_assessment": "csagf:accuracy_assessment"}
    inputs = {p.name() for p in model.parameterDefinitions() if not p.isDestination()}
    assert inputs == {"vhr", "ntl", "reference", "model", "n_points", "min_per_class", "seed", "confidence"}
    # the dialog asks in workflow order (what to classify, with what, then the points and the reference)
    assert [p.name() for p in model.parameterDefinitions() if not p.isDestination()] == [
        "vhr", "ntl", "model", "n_points", "min_per_class", "seed", "reference", "confidence"]
    assert model.dependsOnChildAlgorithms("accuracy_assessment") == {"classify", "random_points",
                                                                     "sample_reference"}
    assert str(REPO) not in MODEL3.read_text(encoding="utf-8")  # no machine-specific paths inside


def test_model_runs_through_qgis_process(tmp_path, qgis_process):
    benchmark_city = pytest.importorskip("csagf_plugin.benchmark_city")
    tiny_models = pytest.importorskip("tests.core.tiny_models")
    city = benchmark_city.generate_city(tmp_path / "city", size_px=256, seed=3)
    # The model's default (empty input) is the bundled sample model; a tiny ONNX model stands in until it exists.
    model_arg = [] if BUNDLED.is_file() else [
        f"model={tiny_models.build_onnx(tmp_path / 'tiny.onnx', tiny_models.tiny_card())}"]
    out = {"classify:map": tmp_path / "map.tif", "sample_reference:points": tmp_path / "points.gpkg",
           "accuracy_assessment:report": tmp_path / "report.html",
           "accuracy_assessment:numbers": tmp_path / "report.json",
           "accuracy_assessment:tables": tmp_path / "tables"}
    done = qgis_process("run", str(MODEL3), "--", f"vhr={city.vhr}", f"ntl={city.ntl}", f"reference={city.labels}",
                        *model_arg, "n_points=60", "min_per_class=3", "seed=2", "confidence=95",
                        *(f"{k}={v}" for k, v in out.items()))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Executed 4 algorithms" in done.stdout
    points = QgsVectorLayer(str(out["sample_reference:points"]), "points", "ogr")
    assert points.isValid() and points.featureCount() >= 60
    assert all(f["ref_class"] in range(1, 8) for f in points.getFeatures())  # the labels cover the whole map
    data = json.loads(out["accuracy_assessment:numbers"].read_text(encoding="utf-8"))
    assert data["n_points"] == points.featureCount() == data["n_used"]
    assert sum(map(sum, data["counts"])) == data["n_used"]
    assert "data:image/png;base64," in out["accuracy_assessment:report"].read_text(encoding="utf-8")
    assert (out["accuracy_assessment:tables"] / "accuracy_per_class.csv").is_file()


def test_model_opens_in_the_model_builder(qtbot, qgis_iface, artifacts_dir, monkeypatch):
    from processing.modeler.ModelerDialog import ModelerDialog
    from qgis.PyQt.QtCore import QSize

    # pytest-qgis's stub iface wants an argument that QGIS's own iconSize() does not
    monkeypatch.setattr(qgis_iface, "iconSize", lambda dockedToolbar=False: QSize(24, 24))

    model = QgsProcessingModelAlgorithm()
    assert model.fromFile(str(MODEL3))
    dialog = ModelerDialog.create(model)
    qtbot.addWidget(dialog)
    dialog.resize(1400, 900)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert dialog.model().childAlgorithms().keys() == model.childAlgorithms().keys()
    dialog.view().fitInView(dialog.view().scene().itemsBoundingRect(), 1)  # Qt.AspectRatioMode.KeepAspectRatio
    qtbot.wait(100)
    dialog.grab().save(str(artifacts_dir / "model_builder_classify_and_assess.png"))
    dialog.setDirty(False)
    dialog.close()
