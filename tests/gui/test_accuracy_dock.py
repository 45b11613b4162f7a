"""The accuracy-labelling dock in a real QGIS GUI (Xvfb): create points, label, go back, skip, report."""

from __future__ import annotations

from pathlib import Path

import pytest
from qgis.core import QgsProject, QgsRasterLayer, QgsVectorLayer
from qgis.PyQt.QtCore import Qt

from tests.processing.accuracy_scene import NAMES, map_array, write_classes

pytestmark = pytest.mark.usefixtures("csagf_provider")


def saved_labels(path: str) -> dict[int, int | None]:
    """point_id -> ref_class as read from the file by a fresh layer (what survives closing QGIS)."""
    layer = QgsVectorLayer(path, "reopened", "ogr")
    assert layer.isValid()
    out = {}
    for feature in layer.getFeatures():
        value = feature["ref_class"]
        out[feature["point_id"]] = None if value is None or (hasattr(value, "isNull") and value.isNull()) else value
    return out


@pytest.fixture
def map_layer(tmp_path):
    """The test map, styled by its colour table, in the project."""
    layer = QgsRasterLayer(str(write_classes(tmp_path / "map.tif", map_array())), "functional zones")
    assert layer.isValid()
    QgsProject.instance().addMapLayer(layer)
    yield layer
    QgsProject.instance().removeAllMapLayers()


def test_label_points_then_report(map_layer, tmp_path, qgis_iface, qgis_canvas, qgis_parent, qtbot, artifacts_dir):
    from csagf_plugin.gui.accuracy_dock import AccuracyDock

    qgis_canvas.setDestinationCrs(map_layer.crs())
    dock = AccuracyDock(qgis_iface, parent=qgis_parent)
    opened = []
    qgis_parent.setCentralWidget(qgis_canvas)
    qgis_parent.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    qgis_parent.resize(1300, 800)
    qgis_parent.show()
    qtbot.waitExposed(qgis_parent)
    dock.open_report = opened.append
    dock.map_combo.setLayer(map_layer)
    # class buttons carry the names of the map's legend (GDAL category names here)
    assert [b.text() for b in dock.class_box.buttons.values()] == [f"{k}  {v}" for k, v in NAMES.items()]

    dock.create_box.n_spin.setValue(8)
    dock.create_box.design_combo.setCurrentIndex(1)  # stratified
    dock.create_box.seed_spin.setValue(5)
    points_path = str(tmp_path / "points.gpkg")
    dock.create_box.points_file.setFilePath(points_path)
    dock.create_box.setCollapsed(False)
    qtbot.waitUntil(lambda: dock.create_box.create_button.isVisible() and dock.create_box.create_button.height() > 10)
    qtbot.mouseClick(dock.create_box.create_button, Qt.MouseButton.LeftButton)
    assert dock.layer is not None and len(dock.points) == 8, dock.status.text()
    dock.create_box.setCollapsed(True)
    assert dock.index == 0 and dock.progress_bar.text() == "0 of 8 labelled"
    qgis_canvas.setLayers([dock.layer, map_layer])

    # label the first point, skip the second, label the third, go back and label the second
    first = dock.points[0]
    qtbot.mouseClick(dock.class_box.buttons[first.map_class], Qt.MouseButton.LeftButton)
    assert dock.index == 1
    qtbot.mouseClick(dock.skip_button, Qt.MouseButton.LeftButton)
    assert dock.index == 2
    qtbot.mouseClick(dock.class_box.buttons[1], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dock.back_button, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dock.back_button, Qt.MouseButton.LeftButton)
    assert dock.index == 1 and not any(b.isChecked() for b in dock.class_box.buttons.values())
    qtbot.mouseClick(dock.class_box.buttons[4], Qt.MouseButton.LeftButton)
    saved = saved_labels(points_path)
    assert saved[dock.points[0].point_id] == first.map_class
    assert saved[dock.points[1].point_id] == 4
    assert saved[dock.points[2].point_id] == 1
    assert sum(v is not None for v in saved.values()) == 3
    assert dock.progress_bar.text() == "3 of 8 labelled"

    # the keyboard: Backspace goes back, "3" picks the third class of the legend, while the dock has the focus
    qgis_parent.activateWindow()
    dock.back_button.setFocus()
    qtbot.waitUntil(lambda: qgis_parent.isActiveWindow() and dock.back_button.hasFocus())
    qtbot.keyClick(dock.back_button, Qt.Key.Key_Backspace)
    qtbot.waitUntil(lambda: dock.index == 1)
    qtbot.keyClick(dock.back_button, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: saved_labels(points_path)[dock.points[1].point_id] == 3)

    # label the rest as the map says
    for k, point in enumerate(dock.points):
        if dock.labels[point.fid] is None:
            dock.go_to(k)
            assert dock.label_current(point.map_class)
    assert dock.labelled_count() == 8

    # the marker sits on the current point and the canvas is at the chosen scale
    assert dock.marker is not None and dock.marker.isVisible()
    assert abs(qgis_canvas.scale() - dock.scale_widget.scale()) / dock.scale_widget.scale() < 0.01
    assert qgis_canvas.extent().contains(dock.points[dock.index].point)

    dock.go_to(3)
    qgis_canvas.refreshAllLayers()
    qtbot.wait(300)
    qgis_canvas.waitWhileRendering()
    qtbot.wait(100)

    report = dock.compute_report(output_dir=str(tmp_path))
    assert report and Path(report).is_file() and opened == [report]
    assert "overall accuracy" in Path(report).read_text(encoding="utf-8").lower()
    assert Path(report).with_suffix(".json").is_file()
    qtbot.wait(50)
    qgis_parent.grab().save(str(artifacts_dir / "accuracy_dock_window.png"))
    dock.grab().save(str(artifacts_dir / "accuracy_dock.png"))

    dock.close_session()
    qgis_parent.removeDockWidget(dock)
    dock.deleteLater()
    qgis_parent.hide()


def test_reopening_resumes_at_first_unlabelled_point(map_layer, tmp_path, qgis_iface, qgis_parent):
    from csagf_plugin.gui.accuracy_dock import AccuracyDock

    dock = AccuracyDock(qgis_iface, parent=qgis_parent)
    dock.map_combo.setLayer(map_layer)
    dock.create_box.design_combo.setCurrentIndex(0)
    dock.create_box.n_spin.setValue(5)
    layer = dock.create_points()  # no path given: saved beside the map
    path = layer.source().split("|")[0]
    assert Path(path) == tmp_path / "map_points.gpkg"
    dock.label_current(2)
    dock.label_current(3)
    dock.deleteLater()
    again = AccuracyDock(qgis_iface, parent=qgis_parent)
    again.set_layers(map_layer, QgsVectorLayer(path, "points again", "ogr"))
    assert again.index == 2 and again.labelled_count() == 2
    assert "Point 3 of 5" in again.point_label.text()
    again.close_session()
    again.deleteLater()


def test_menu_entry_opens_and_removes_the_dock(qgis_iface):
    from csagf_plugin.gui.menu import ACTION_TEXT, add_menu_entry, remove_menu_entry

    action = add_menu_entry(qgis_iface)
    assert action.text() == ACTION_TEXT
    action.trigger()
    dock = action.csagf_dock
    assert dock is not None and dock.windowTitle().startswith("CSAGF")
    action.trigger()
    assert action.csagf_dock is dock  # one dock per entry
    remove_menu_entry(qgis_iface, action)
    assert action.csagf_dock is None


@pytest.mark.real_data
def test_labelling_on_real_imagery(shared_data, tmp_path, qgis_iface, qgis_canvas, qgis_parent, qtbot,
                                   artifacts_dir):
    """Blind labelling as a user does it: the Pudong VHR tile on the canvas, the map (visual labels) hidden."""
    from csagf_plugin.gui.accuracy_dock import AccuracyDock

    pudong = shared_data / "shanghai_pudong"
    vhr = QgsRasterLayer(str(pudong / "vhr" / "google_5_5.tif"), "VHR google_5_5")
    labels = QgsRasterLayer(str(pudong / "labels_visual" / "google_5_5_labels.tif"), "map google_5_5")
    assert vhr.isValid() and labels.isValid()
    QgsProject.instance().addMapLayers([vhr, labels])
    try:
        dock = AccuracyDock(qgis_iface, parent=qgis_parent)
        dock.map_combo.setLayer(labels)
        # names from the raster's GDAL category names, colours from the default classes (no colour table)
        assert [c.name for c in dock.legend] == ["residential", "commercial", "industrial", "green space",
                                                 "streets and transportation", "water", "non-developed"]
        dock.create_box.n_spin.setValue(12)
        dock.create_box.min_per_class_spin.setValue(1)
        layer = dock.create_points(output_path=str(tmp_path / "pudong_points.gpkg"))
        assert layer is not None and len(dock.points) >= 12, dock.status.text()
        qgis_canvas.setDestinationCrs(vhr.crs())
        qgis_canvas.setLayers([layer, vhr])  # the map stays off the canvas: labelling is blind
        qgis_parent.setCentralWidget(qgis_canvas)
        qgis_parent.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        qgis_parent.resize(1300, 800)
        qgis_parent.show()
        qtbot.waitExposed(qgis_parent)
        dock.scale_widget.setScale(800)
        dock.label_current(dock.points[0].map_class)
        assert saved_labels(layer.source())[dock.points[0].point_id] == dock.points[0].map_class
        qgis_canvas.refreshAllLayers()
        qtbot.wait(300)
        qgis_canvas.waitWhileRendering()
        qtbot.wait(100)
        qgis_parent.grab().save(str(artifacts_dir / "accuracy_dock_real_imagery.png"))
        dock.close_session()
        qgis_parent.removeDockWidget(dock)
        dock.deleteLater()
        qgis_parent.hide()
    finally:
        QgsProject.instance().removeAllMapLayers()


def test_layer_without_ref_class_gets_one_and_edit_mode_is_refused(map_layer, tmp_path, qgis_iface, qgis_parent):
    from qgis.core import QgsFeature, QgsGeometry, QgsPointXY, QgsVectorFileWriter

    from csagf_plugin.gui.accuracy_dock import AccuracyDock

    memory = QgsVectorLayer("Point?crs=EPSG:32650", "bare", "memory")
    feature = QgsFeature()
    feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(500105.0, 2559795.0)))
    memory.dataProvider().addFeatures([feature])
    path = str(tmp_path / "bare.gpkg")
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    QgsVectorFileWriter.writeAsVectorFormatV3(memory, path, QgsProject.instance().transformContext(), options)
    layer = QgsVectorLayer(path, "bare", "ogr")
    QgsProject.instance().addMapLayer(layer)
    dock = AccuracyDock(qgis_iface, parent=qgis_parent)
    dock.set_layers(map_layer, layer)
    assert layer.fields().indexOf("ref_class") >= 0 and len(dock.points) == 1
    layer.startEditing()
    assert not dock.label_current(3)
    assert "edit mode" in dock.status.text()
    layer.rollBack()
    assert dock.label_current(3)
    reopened = QgsVectorLayer(path, "again", "ogr")
    assert [f["ref_class"] for f in reopened.getFeatures()] == [3]
    dock.close_session()
    dock.deleteLater()
