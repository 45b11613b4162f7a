"""The accuracy-labelling dock: step through sample points, label each by visual interpretation, get the report.

Each label is written straight to the point layer's data provider (its file), so closing QGIS loses nothing.
The maths lives in core; points come from csagf:random_points and the report from csagf:accuracy_assessment.
"""

from __future__ import annotations

import os
from typing import Callable

from qgis.core import (
    QgsMapLayerProxyModel,
    QgsProject,
    QgsRasterLayer,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import (
    QgsMapLayerComboBox,
    QgsScaleWidget,
)
from qgis.PyQt.QtCore import Qt, QUrl
from qgis.PyQt.QtGui import QDesktopServices, QKeySequence
from qgis.PyQt.QtWidgets import (
    QApplication,
    QCheckBox,
    QDockWidget,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ..core.model_card import FunctionalClass
from ..processing.legend import class_names, map_legend
from ..processing.random_points import MAP_CLASS, REF_CLASS
from .blind_labelling import BlindLabelling, default_map_layer, is_class_map
from .class_buttons import ClassButtons, click_shortcut
from .interpreters_panel import REF_CLASS_2, REF_FINAL, InterpreterBox
from .point_marker import DEFAULT_SCALE, PointMarker
from .sample_panel import CreatePointsBox
from .sample_points import SamplePoint, add_integer_fields, read_sample_points
from .status_line import StatusLine


class AccuracyDock(QDockWidget):
    """Dock of the random-point accuracy assessment: pick layers, label points one by one, compute the report."""

    def __init__(self, iface, parent: QWidget | None = None) -> None:
        super().__init__("CSAGF: assess accuracy by random points", parent)
        self.setObjectName("CsagfAccuracyDock")
        self.iface = iface
        self.canvas = iface.mapCanvas()
        self.points: list[SamplePoint] = []
        self.labels: dict[int, int | None] = {}  # fid -> ref_class as saved in the layer
        self.index = -1
        self.legend: list[FunctionalClass] = []
        self.layer: QgsVectorLayer | None = None
        self.report_path: str | None = None
        # How a finished report is shown; tests replace it to avoid launching a browser.
        self.open_report: Callable[[str], object] = lambda path: QDesktopServices.openUrl(QUrl.fromLocalFile(path))
        self.pointer = PointMarker(self.canvas)
        # Two interpreters (interpreters_panel.InterpreterBox): the field labels go to, the points stepped through,
        # and what the point's line adds (both interpreters' labels while settling disagreements).
        self.label_field = REF_CLASS
        self.point_filter: Callable[[object], bool] | None = None
        self.extra_status: Callable[[SamplePoint], str] | None = None
        self.blind = BlindLabelling(self.canvas)
        self._build()
        default = default_map_layer(QgsProject.instance())  # a class map, not the active RGB image
        if default is not None and not is_class_map(self.map_combo.currentLayer()):
            self.map_combo.setLayer(default)
        self.map_combo.layerChanged.connect(self._map_changed)
        self.points_combo.layerChanged.connect(self._points_changed)
        self._map_changed(self.map_combo.currentLayer())
        self._points_changed(self.points_combo.currentLayer())

    # ----- layout -------------------------------------------------------------------------------------------------
    def _build(self) -> None:
        body = QWidget(self)
        layout = QVBoxLayout(body)

        layers = QFormLayout()
        self.map_combo = QgsMapLayerComboBox(body)
        self.map_combo.setFilters(QgsMapLayerProxyModel.RasterLayer)
        self.map_combo.setToolTip("The functional-zone map to assess (class ids in band 1).")
        layers.addRow("Map", self.map_combo)
        self.points_combo = QgsMapLayerComboBox(body)
        self.points_combo.setFilters(QgsMapLayerProxyModel.PointLayer)
        self.points_combo.setAllowEmptyLayer(True)
        self.points_combo.setToolTip("Sample points with a ref_class field (csagf:random_points makes them).")
        layers.addRow("Points", self.points_combo)
        layout.addLayout(layers)

        self.create_box = CreatePointsBox(self, body)
        layout.addWidget(self.create_box)
        self.interpreter_box = InterpreterBox(self, body)
        layout.addWidget(self.interpreter_box)

        view = QHBoxLayout()
        view.addWidget(QLabel("Zoom to scale", body))
        self.scale_widget = QgsScaleWidget(body)
        self.scale_widget.setScale(DEFAULT_SCALE)
        self.scale_widget.scaleChanged.connect(lambda _scale: self._show_current())
        view.addWidget(self.scale_widget, 1)
        layout.addLayout(view)
        self.show_map_class = QCheckBox("Show the map and its class (labelling is no longer blind)", body)
        self.show_map_class.setToolTip("Unticked, the map is hidden from the canvas while you label, so the labels "
                                       "do not copy it; it comes back when the dock closes.")
        self.show_map_class.toggled.connect(lambda _on: (self._update_status(), self._update_blind()))
        layout.addWidget(self.show_map_class)

        self.point_label = QLabel("No point layer", body)
        self.point_label.setWordWrap(True)
        font = self.point_label.font()
        font.setBold(True)
        self.point_label.setFont(font)
        layout.addWidget(self.point_label)

        self.class_box = ClassButtons(self, self.label_current, body)
        layout.addWidget(self.class_box)

        steps = QHBoxLayout()
        self.back_button = QPushButton("< Back", body)
        click_shortcut(self, QKeySequence(Qt.Key.Key_Backspace), self.back_button)
        self.back_button.setToolTip("Previous point (Backspace)")
        self.back_button.clicked.connect(self.back)
        self.skip_button = QPushButton("Skip >", body)
        click_shortcut(self, QKeySequence(Qt.Key.Key_S), self.skip_button)
        self.skip_button.setToolTip("Next point, leaving this one as it is (S)")
        self.skip_button.clicked.connect(self.skip)
        self.clear_button = QPushButton("Clear label", body)
        self.clear_button.setToolTip("Remove this point's reference class")
        self.clear_button.clicked.connect(lambda: self.label_current(None))
        steps.addWidget(self.back_button)
        steps.addWidget(self.clear_button)
        steps.addWidget(self.skip_button)
        layout.addLayout(steps)

        self.progress_bar = QProgressBar(body)
        self.progress_bar.setFormat("%v of %m labelled")
        layout.addWidget(self.progress_bar)

        self.report_button = QPushButton("Compute accuracy report", body)
        self.report_button.setToolTip("Run csagf:accuracy_assessment on the labelled points and open the report")
        self.report_button.clicked.connect(lambda: self.compute_report())
        layout.addWidget(self.report_button)
        self.status = StatusLine(body)
        layout.addWidget(self.status)
        layout.addStretch(1)
        scroll = QScrollArea(self)  # scrolls instead of growing: fits a 1366 x 768 screen with every panel open
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # fields shrink, names elide
        scroll.setWidget(body)
        self.setWidget(scroll)

    # ----- layers -------------------------------------------------------------------------------------------------
    def map_layer(self) -> QgsRasterLayer | None:
        """The map being assessed."""
        layer = self.map_combo.currentLayer()
        return layer if isinstance(layer, QgsRasterLayer) else None

    def _map_changed(self, layer) -> None:
        self.legend = map_legend(layer) if isinstance(layer, QgsRasterLayer) else []
        self.class_box.set_legend(self.legend)
        self._show_current()
        self._update_blind()

    def _points_changed(self, layer) -> None:
        self.set_point_layer(layer if isinstance(layer, QgsVectorLayer) else None)

    def set_layers(self, map_layer: QgsRasterLayer, point_layer: QgsVectorLayer | None) -> None:
        """Select the map and the point layer (both must be in the project)."""
        self.map_combo.setLayer(map_layer)
        self.points_combo.blockSignals(True)  # load the points once, below, even when not in the project
        self.points_combo.setLayer(point_layer)
        self.points_combo.blockSignals(False)
        self.set_point_layer(point_layer)

    def set_point_layer(self, layer: QgsVectorLayer | None) -> None:
        """Load the points of `layer` (adding a ref_class field if needed) and go to the first unlabelled one."""
        self.layer = None
        self.points, self.labels, self.index = [], {}, -1
        if layer is None or layer.geometryType() != QgsWkbTypes.PointGeometry:
            self._show_current()
            return
        problem = add_integer_fields(layer, [REF_CLASS, self.label_field])
        if problem is not None:
            self.set_status(problem)
            self._show_current()
            return
        self.layer = layer
        self.points, self.labels = read_sample_points(layer, self.label_field, self.point_filter)
        if not self.points:
            self.set_status("The point layer has no points: create points first.")
        unlabelled = [k for k, p in enumerate(self.points) if self.labels.get(p.fid) is None]
        self.go_to(unlabelled[0] if unlabelled else 0)
        self._update_blind()

    @property
    def marker(self):
        """The cross on the point being labelled (None before the first point is shown)."""
        return self.pointer.marker

    # ----- stepping and labelling ---------------------------------------------------------------------------------
    def current(self) -> SamplePoint | None:
        """The point on screen."""
        return self.points[self.index] if 0 <= self.index < len(self.points) else None

    def go_to(self, index: int) -> None:
        """Show point number `index` (0-based, clamped to the layer)."""
        self.index = min(max(index, 0), len(self.points) - 1) if self.points else -1
        self._show_current()

    def back(self) -> None:
        """Go to the previous point."""
        self.go_to(self.index - 1)

    def skip(self) -> None:
        """Go to the next point without labelling this one."""
        self.go_to(self.index + 1)

    def label_current(self, class_id: int | None) -> bool:
        """Save `class_id` (None clears it) as the current point's ref_class in the layer's file, then move on."""
        point = self.current()
        if point is None or self.layer is None:
            return False
        if self.layer.isEditable():
            self.set_status(f"{self.layer.name()} is in edit mode: save and stop editing it so labels can be "
                            "written to its file.")
            return False
        index = self.layer.fields().indexOf(self.label_field)
        if not self.layer.dataProvider().changeAttributeValues({point.fid: {index: class_id}}):
            self.set_status(f"Could not write {self.label_field} to {self.layer.source()}: "
                            f"{'; '.join(self.layer.dataProvider().errors()) or 'is the file read-only?'}")
            return False
        self.labels[point.fid] = class_id
        self.layer.triggerRepaint()
        if class_id is not None and self.labelled_count() == len(self.points):
            self.set_status(f"All {len(self.points)} points are labelled: compute the accuracy report.")
        if class_id is not None and self.index < len(self.points) - 1:
            self.go_to(self.index + 1)
        else:
            self._show_current()
        return True

    def labelled_count(self) -> int:
        """Points with a reference class."""
        return sum(1 for p in self.points if self.labels.get(p.fid) is not None)

    def _show_current(self) -> None:
        point = self.current()
        for button in self.class_box.buttons.values():
            button.setEnabled(point is not None)
        for button in (self.back_button, self.skip_button, self.clear_button):
            button.setEnabled(point is not None)
        self.report_button.setEnabled(self.layer is not None and self.map_layer() is not None)
        self.progress_bar.setMaximum(max(len(self.points), 1))
        self.progress_bar.setValue(self.labelled_count())
        self._update_status()
        if point is None or self.layer is None:
            self.pointer.hide()
            return
        reference = self.labels.get(point.fid)
        for class_id, button in self.class_box.buttons.items():
            button.setChecked(class_id == reference)
        self.pointer.show_point(point.point, self.layer.crs(), self.map_layer(), self.scale_widget.scale())

    def _update_status(self) -> None:
        point = self.current()
        if point is None:
            self.point_label.setText("No point to label: pick or create a point layer.")
            return
        names = class_names(self.legend)
        reference = self.labels.get(point.fid)
        text = f"Point {self.index + 1} of {len(self.points)} (point_id {point.point_id}): "
        text += f"labelled {names.get(reference, reference)}" if reference is not None else "not labelled"
        if self.show_map_class.isChecked() and point.map_class is not None:
            text += f"; map says {names.get(point.map_class, point.map_class)}"
        if self.extra_status is not None:
            text += self.extra_status(point)
        self.point_label.setText(text)

    def close_session(self) -> None:
        """Remove the marker and the pixel outline from the canvas (labels are already saved)."""
        self.pointer.remove()
        self.blind.restore()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self.current() is not None:
            self.pointer.show()
        self._update_blind()

    def closeEvent(self, event) -> None:  # noqa: N802
        self.pointer.hide()
        self.blind.restore()
        super().closeEvent(event)

    def set_status(self, text: str) -> None:
        """Show a message under the buttons."""
        self.status.show_message(text)

    def _update_blind(self) -> None:
        """Hide the map from the canvas while its points are labelled blind; show it again otherwise."""
        if self.points and self.isVisible() and not self.show_map_class.isChecked():
            self.blind.hide(self.map_layer())
        else:
            self.blind.restore()

    # ----- processing ---------------------------------------------------------------------------------------------
    def _run_algorithm(self, algorithm: str, parameters: dict, failure: str) -> dict | None:
        """processing.run under a wait cursor; on a QGIS error, say `failure: error` in the status and return None."""
        import processing
        from qgis.core import QgsProcessingException

        QApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            return processing.run(algorithm, parameters)
        except QgsProcessingException as exc:
            self.status.show_error(failure, str(exc))
            return None
        finally:
            QApplication.restoreOverrideCursor()

    def create_points(self, output_path: str | None = None) -> QgsVectorLayer | None:
        """Create sample points with the sample panel's design and start labelling them (sample_panel.py)."""
        return self.create_box.create_points(output_path)

    def compute_report(self, output_dir: str | None = None) -> str | None:
        """Run csagf:accuracy_assessment on the labelled points, open the HTML report and return its path."""
        map_layer = self.map_layer()
        if map_layer is None or self.layer is None:
            self.set_status("Pick the map and the point layer first.")
            return None
        if self.labelled_count() == 0:
            self.set_status("No point is labelled yet: label some points first.")
            return None
        source = self.layer.source().split("|")[0]
        folder = output_dir or os.path.dirname(source)
        stem = os.path.join(folder, os.path.splitext(os.path.basename(source))[0] + "_accuracy")
        parameters = {
            "MAP": map_layer,
            "POINTS": self.layer,
            "MAP_FIELD": MAP_CLASS if self.layer.fields().indexOf(MAP_CLASS) >= 0 else "",
            "REFERENCE_FIELD": REF_CLASS,
            "SECOND_REFERENCE_FIELD": REF_CLASS_2 if self.layer.fields().indexOf(REF_CLASS_2) >= 0 else "",
            "FINAL_REFERENCE_FIELD": REF_FINAL if self.layer.fields().indexOf(REF_FINAL) >= 0 else "",
            "OUTPUT_HTML": stem + ".html",
            "OUTPUT_JSON": stem + ".json",
            "OUTPUT_FOLDER": stem + "_tables",
        }
        result = self._run_algorithm("csagf:accuracy_assessment", parameters, "No report")
        if result is None:
            return None
        self.report_path = result["OUTPUT_HTML"]
        self.set_status(f"Report written: {self.report_path}")
        self.open_report(self.report_path)
        return self.report_path
