"""The accuracy dock as a person uses it on a laptop: it fits 1366 x 768, errors read as one line, labelling is
blind (the classified map leaves the canvas while points are labelled) and the map box starts on a class map."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from qgis.core import QgsProject, QgsRasterLayer
from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QAbstractScrollArea

from tests.processing.accuracy_scene import CRS, ORIGIN, PIXEL, SIZE, map_array, write_classes

pytestmark = pytest.mark.usefixtures("csagf_provider")

TRACEBACK_ERROR = """Unable to execute algorithm
Traceback (most recent call last):
  File "/home/user/.local/share/QGIS/QGIS3/profiles/default/python/plugins/csagf/csagf_plugin/core/raster.py", line 14
    import rasterio
ModuleNotFoundError: No module named 'rasterio'"""


@pytest.fixture
def layers(tmp_path):
    """An RGB image (added last, so it is the active layer) and the class map, both in the project."""
    rgb = tmp_path / "vhr.tif"
    transform = rasterio.transform.from_origin(ORIGIN[0], ORIGIN[1], PIXEL, PIXEL)
    with rasterio.open(rgb, "w", driver="GTiff", width=SIZE, height=SIZE, count=3, dtype="uint8", crs=CRS,
                       transform=transform) as out:
        out.write(np.random.default_rng(0).integers(0, 255, (3, SIZE, SIZE), dtype=np.uint8))
    class_map = QgsRasterLayer(str(write_classes(tmp_path / "map.tif", map_array())), "functional zones")
    image = QgsRasterLayer(str(rgb), "VHR image")
    assert class_map.isValid() and image.isValid()
    QgsProject.instance().addMapLayers([image, class_map])
    yield image, class_map
    QgsProject.instance().removeAllMapLayers()


def test_dock_fits_a_laptop_screen_with_every_panel_open(layers, qgis_iface, qgis_canvas, qgis_parent, qtbot,
                                                         artifacts_dir, tmp_path):
    from csagf_plugin.gui.accuracy_dock import AccuracyDock

    image, class_map = layers
    dock = AccuracyDock(qgis_iface, parent=qgis_parent)
    qgis_parent.setCentralWidget(qgis_canvas)
    qgis_parent.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    qgis_parent.resize(1366, 768)
    qgis_parent.show()
    qtbot.waitExposed(qgis_parent)
    qgis_canvas.setDestinationCrs(class_map.crs())
    qgis_canvas.setLayers([image])
    assert dock.map_layer() is class_map  # the class map, not the RGB image
    dock.create_box.n_spin.setValue(6)
    assert dock.create_points(output_path=str(tmp_path / "points.gpkg")) is not None, dock.status.text()
    for box in (dock.create_box, dock.create_box.plan_box, dock.interpreter_box):
        if hasattr(box, "setCollapsed"):
            box.setCollapsed(False)
    dock.status.show_error("Points were not created", TRACEBACK_ERROR)
    qtbot.wait(200)
    assert qgis_parent.height() == 768 and dock.height() <= 768  # the window was not pushed taller
    # QGIS's menus, toolbars and status bar take ~200 px: the dock must make do with what is left
    assert dock.minimumSizeHint().height() < 768 // 2
    scroll = dock.widget()
    assert isinstance(scroll, QAbstractScrollArea)
    assert scroll.verticalScrollBar().maximum() > 0  # everything open is taller than the screen: it scrolls
    qgis_canvas.refreshAllLayers()
    qgis_canvas.waitWhileRendering()
    qgis_parent.grab().save(str(artifacts_dir / "accuracy_dock_1366x768.png"))
    scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
    dock.status.details_button.click()
    qtbot.wait(100)
    assert dock.status.details.isVisible()
    qgis_parent.grab().save(str(artifacts_dir / "accuracy_dock_1366x768_bottom.png"))
    dock.close_session()
    qgis_parent.removeDockWidget(dock)
    dock.deleteLater()
    qgis_parent.hide()


def test_errors_are_one_line_with_the_details_behind_a_button(qgis_iface, qgis_parent):
    from csagf_plugin.gui.accuracy_dock import AccuracyDock

    dock = AccuracyDock(qgis_iface, parent=qgis_parent)
    dock.status.show_error("Points were not created", TRACEBACK_ERROR)
    line = dock.status.text()
    assert "\n" not in line and "Traceback" not in line and "Unable to execute" not in line
    assert line.startswith("Points were not created: rasterio is not installed") and "Install dependencies" in line
    assert dock.status.details_button.isVisibleTo(dock) and not dock.status.details.isVisibleTo(dock)
    dock.status.details_button.click()
    assert dock.status.details.isVisibleTo(dock) and "Traceback" in dock.status.details.toPlainText()
    dock.status.show_error("No report", "Unable to execute algorithm\nThe point layer has no ref_class values: "
                                        "label some points first.")
    assert dock.status.text() == "No report: The point layer has no ref_class values: label some points first."
    dock.set_status("3 points saved.")
    assert dock.status.text() == "3 points saved." and not dock.status.details_button.isVisibleTo(dock)
    dock.deleteLater()


def test_labelling_hides_the_class_map_and_closing_brings_it_back(layers, qgis_iface, qgis_canvas, qgis_parent,
                                                                  tmp_path, qtbot):
    from csagf_plugin.gui.accuracy_dock import AccuracyDock

    image, class_map = layers
    tree = QgsProject.instance().layerTreeRoot()
    qgis_canvas.setLayers([class_map, image])
    dock = AccuracyDock(qgis_iface, parent=qgis_parent)
    qgis_parent.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    qgis_parent.show()
    qtbot.waitExposed(qgis_parent)
    dock.create_box.n_spin.setValue(4)
    assert dock.create_points(output_path=str(tmp_path / "points.gpkg")) is not None, dock.status.text()
    assert not tree.findLayer(class_map.id()).itemVisibilityChecked()
    assert class_map not in qgis_canvas.layers() and image in qgis_canvas.layers()
    dock.show_map_class.setChecked(True)  # the user gives up blindness: the map comes back
    assert tree.findLayer(class_map.id()).itemVisibilityChecked() and class_map in qgis_canvas.layers()
    dock.show_map_class.setChecked(False)
    assert class_map not in qgis_canvas.layers()
    dock.close_session()
    assert tree.findLayer(class_map.id()).itemVisibilityChecked()
    assert [layer.id() for layer in qgis_canvas.layers()][:2] == [class_map.id(), image.id()]
    qgis_parent.removeDockWidget(dock)
    dock.deleteLater()
    qgis_parent.hide()
