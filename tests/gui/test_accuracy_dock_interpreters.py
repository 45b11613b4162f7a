"""The accuracy dock's planning and two-interpreter panels under Xvfb: plan, create, label twice, settle, report."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer

from tests.processing.accuracy_scene import map_array, write_classes

pytestmark = pytest.mark.usefixtures("csagf_provider")


@pytest.fixture
def map_layer(tmp_path):
    layer = QgsRasterLayer(str(write_classes(tmp_path / "map.tif", map_array())), "functional zones")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    yield layer
    QgsProject.instance().removeAllMapLayers()


def test_plan_label_twice_settle_and_report(map_layer, tmp_path, qgis_iface, qgis_parent):
    from csagf_plugin.gui.accuracy_dock import AccuracyDock
    from csagf_plugin.gui.interpreters_panel import REF_CLASS_2, REF_FINAL

    dock = AccuracyDock(qgis_iface, parent=qgis_parent)
    dock.open_report = lambda path: None
    dock.map_combo.setLayer(map_layer)
    dock.create_box.design_combo.setCurrentIndex(1)  # stratified by map class

    # plan: OA with SE 0.1, expected UA 0.8 everywhere, at least 3 points per class
    dock.create_box.plan_box.target_se.setValue(0.1)
    dock.create_box.plan_box.minimum.setValue(3)
    plan = dock.create_box.plan_box.plan()
    assert plan is not None, dock.status.text()
    assert dock.create_box.n_spin.value() == plan["N"] and dock.create_box.plan_box.per_class == plan["N_PER_CLASS"]
    planned = {int(k): int(v) for k, v in (item.split(":") for item in plan["N_PER_CLASS"].split(","))}
    assert min(planned.values()) >= 3

    points_path = str(tmp_path / "points.gpkg")
    layer = dock.create_points(points_path)
    assert layer is not None, dock.status.text()
    assert Counter(p.map_class for p in dock.points) == planned  # the plan's points per class

    for k, point in enumerate(dock.points):  # interpreter 1 agrees with the map
        dock.go_to(k)
        assert dock.label_current(point.map_class)
    dock.interpreter_box.who.setCurrentIndex(1)  # interpreter 2, blind to interpreter 1
    assert dock.label_field == REF_CLASS_2 and dock.labelled_count() == 0
    assert dock.point_label.text().endswith("not labelled")  # interpreter 1's label is not shown
    for k, point in enumerate(dock.points):  # disagrees on the first two points
        dock.go_to(k)
        assert dock.label_current(point.map_class % 4 + 1 if k < 2 else point.map_class)
    text = dock.interpreter_box.refresh()
    assert "2 disagreements, 2 not settled" in text

    dock.interpreter_box.review_button.setChecked(True)  # step through the disagreements only
    assert dock.label_field == REF_FINAL and len(dock.points) == 2
    assert "interpreter 1 says" in dock.point_label.text()
    dock.go_to(0)
    assert dock.label_current(dock.points[0].map_class)  # settle the first one
    assert "1 not settled" in dock.interpreter_box.refresh()
    dock.interpreter_box.review_button.setChecked(False)
    assert len(dock.points) == sum(planned.values())

    report = dock.compute_report(output_dir=str(tmp_path))
    assert report, dock.status.text()
    data = json.loads(Path(report).with_suffix(".json").read_text(encoding="utf-8"))
    assert data["interpreters"]["unsettled"] == 1 and data["excluded"] == {"interpreters_disagree": 1}
    assert data["estimator"] == "olofsson2014" and data["design"]["allocation"] == "fixed"
    fields = QgsVectorLayer(points_path, "p", "ogr").fields().names()
    assert {"ref_class", REF_CLASS_2, REF_FINAL, "design", "stratum", "stratum_pixels"} <= set(fields)
    dock.close_session()
    dock.deleteLater()
