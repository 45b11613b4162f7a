"""The accuracy-labelling dock: step through sample points, label each by visual interpretation, get the report.

Each label is written straight to the point layer's data provider (its file), so closing QGIS loses nothing.
The maths lives in core; points come from csagf:random_points and the report from csagf:accuracy_assessment.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Callable

from qgis.core import (
    QgsCoordinateTransform,
    QgsFeatureRequest,
    QgsGeometry,
    QgsMapLayerProxyModel,
    QgsMarkerSymbol,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsRuleBasedRenderer,
    QgsVectorDataProvider,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import (
    QgsCollapsibleGroupBox,
    QgsFileWidget,
    QgsMapLayerComboBox,
    QgsRubberBand,
    QgsScaleWidget,
    QgsVertexMarker,
)
from qgis.PyQt.QtCore import Qt, QUrl
from qgis.PyQt.QtGui import QColor, QDesktopServices, QKeySequence
from qgis.PyQt.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDockWidget,
    QDoubleSpinBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QShortcut,
    QSizePolicy,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ..core.model_card import FunctionalClass
from ..processing.fields import make_field
from ..processing.legend import class_names, is_null, map_legend
from ..processing.random_points import DESIGN_LABELS, MAP_CLASS, POINT_ID, REF_CLASS
from .accuracy_panels import REF_CLASS_2, REF_FINAL, InterpreterBox, SamplePlanBox
from .blind_labelling import BlindLabelling, default_map_layer, is_class_map
from .status_line import StatusLine

MARKER_COLOR = QColor("#00e5ff")
DEFAULT_SCALE = 1000.0


@dataclass
class SamplePoint:
    """One point of the layer being labelled."""

    fid: int  # feature id in the point layer
    point_id: int  # the point_id attribute (or the feature id when the layer has none)
    point: QgsPointXY  # location in the point layer's CRS
    map_class: int | None  # map_class attribute, when present


def _text_color(background: str) -> str:
    """Black or white, whichever reads better on the background colour."""
    color = QColor(background)
    luminance = 0.299 * color.red() + 0.587 * color.green() + 0.114 * color.blue()
    return "#000000" if luminance > 140 else "#ffffff"


def style_sample_points(layer: QgsVectorLayer) -> None:
    """Draw unlabelled points as hollow yellow rings and labelled ones as filled cyan dots."""
    root = QgsRuleBasedRenderer.Rule(None)
    rules = (
        ({"name": "circle", "color": "0,0,0,0", "outline_color": "#ffd400", "outline_width": "0.6", "size": "3.2"},
         f'"{REF_CLASS}" IS NULL', "not labelled"),
        ({"name": "circle", "color": MARKER_COLOR.name(), "outline_color": "#000000", "outline_width": "0.3",
          "size": "2.4"}, f'"{REF_CLASS}" IS NOT NULL', "labelled"),
    )
    for properties, expression, label in rules:
        root.appendChild(QgsRuleBasedRenderer.Rule(QgsMarkerSymbol.createSimple(properties), 0, 0, expression, label))
    layer.setRenderer(QgsRuleBasedRenderer(root))
    layer.triggerRepaint()


def _unique_path(path: str) -> str:
    """`path`, or path with _2, _3 ... before the extension when it exists already."""
    stem, ext = os.path.splitext(path)
    candidate, k = path, 2
    while os.path.exists(candidate):
        candidate, k = f"{stem}_{k}{ext}", k + 1
    return candidate


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
        self.marker: QgsVertexMarker | None = None
        self.pixel_band: QgsRubberBand | None = None
        self._class_shortcuts: list[QShortcut] = []
        # Two interpreters (accuracy_panels.InterpreterBox): the field labels go to, the points stepped through,
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

        create = QgsCollapsibleGroupBox("Create sample points (csagf:random_points)", body)
        create.setCollapsed(True)
        form = QFormLayout(create)
        self.design_combo = QComboBox(create)
        self.design_combo.addItems(DESIGN_LABELS)
        self.design_combo.setCurrentIndex(1)
        form.addRow("Design", self.design_combo)
        self.n_spin = QSpinBox(create)
        self.n_spin.setRange(1, 100000)
        self.n_spin.setValue(100)
        form.addRow("Points", self.n_spin)
        self.min_per_class_spin = QSpinBox(create)
        self.min_per_class_spin.setRange(0, 10000)
        form.addRow("Minimum per class", self.min_per_class_spin)
        self.distance_spin = QDoubleSpinBox(create)
        self.distance_spin.setRange(0.0, 1e7)
        self.distance_spin.setSuffix(" map units")
        form.addRow("Minimum distance", self.distance_spin)
        self.seed_spin = QSpinBox(create)
        self.seed_spin.setRange(0, 2 ** 31 - 1)
        self.seed_spin.setValue(1)
        form.addRow("Seed", self.seed_spin)
        self.points_file = QgsFileWidget(create)
        self.points_file.setStorageMode(QgsFileWidget.SaveFile)
        self.points_file.setFilter("GeoPackage (*.gpkg)")
        self.points_file.setToolTip("Where the points are saved; empty: beside the map, <map>_points.gpkg.")
        form.addRow("Save to", self.points_file)
        self.plan_box = SamplePlanBox(self, create)
        form.addRow(self.plan_box)
        self.create_button = QPushButton("Create points", create)
        self.create_button.clicked.connect(lambda: self.create_points())
        form.addRow(self.create_button)
        self.create_box = create
        layout.addWidget(create)
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

        self.class_box = QGroupBox("Reference class (keys 1-9)", body)
        self.class_grid = QGridLayout(self.class_box)
        self.class_grid.setColumnStretch(0, 1)
        self.class_grid.setColumnStretch(1, 1)
        self.class_buttons: dict[int, QPushButton] = {}
        layout.addWidget(self.class_box)

        steps = QHBoxLayout()
        self.back_button = QPushButton("< Back", body)
        self._shortcut(QKeySequence(Qt.Key.Key_Backspace), self.back_button)
        self.back_button.setToolTip("Previous point (Backspace)")
        self.back_button.clicked.connect(self.back)
        self.skip_button = QPushButton("Skip >", body)
        self._shortcut(QKeySequence(Qt.Key.Key_S), self.skip_button)
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

    def _shortcut(self, key: QKeySequence, button: QPushButton) -> QShortcut:
        """A key that clicks `button` while the focus is in the dock (so QGIS's own keys stay untouched)."""
        shortcut = QShortcut(key, self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(button.animateClick)
        return shortcut

    def _rebuild_class_buttons(self) -> None:
        for shortcut in self._class_shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._class_shortcuts = []
        for button in self.class_buttons.values():
            self.class_grid.removeWidget(button)
            button.deleteLater()
        self.class_buttons = {}
        for k, cls in enumerate(self.legend):
            button = QPushButton(f"{cls.id}  {cls.name}", self.class_box)
            button.setCheckable(True)
            # equal columns, long names elided
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            button.setToolTip(f"{cls.name} (class {cls.id})")
            button.setStyleSheet(
                f"QPushButton {{ background-color: {cls.color}; color: {_text_color(cls.color)}; padding: 5px; "
                "text-align: left; border: 1px solid #555; border-radius: 3px; }"
                "QPushButton:checked { border: 3px solid #000; font-weight: bold; }")
            if k < 9:
                self._class_shortcuts.append(self._shortcut(QKeySequence(str(k + 1)), button))
            button.clicked.connect(lambda _checked=False, class_id=cls.id: self.label_current(class_id))
            self.class_grid.addWidget(button, k // 2, k % 2)
            self.class_buttons[cls.id] = button

    # ----- layers -------------------------------------------------------------------------------------------------
    def map_layer(self) -> QgsRasterLayer | None:
        """The map being assessed."""
        layer = self.map_combo.currentLayer()
        return layer if isinstance(layer, QgsRasterLayer) else None

    def _map_changed(self, layer) -> None:
        self.legend = map_legend(layer) if isinstance(layer, QgsRasterLayer) else []
        self._rebuild_class_buttons()
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
        if not self._ensure_ref_field(layer):
            self._show_current()
            return
        self.layer = layer
        fields = layer.fields()
        has_id = fields.indexOf(POINT_ID) >= 0
        has_map = fields.indexOf(MAP_CLASS) >= 0
        for feature in layer.getFeatures(QgsFeatureRequest()):
            if not feature.hasGeometry() or (self.point_filter is not None and not self.point_filter(feature)):
                continue
            point = QgsPointXY(feature.geometry().vertexAt(0))
            point_id = feature[POINT_ID] if has_id else None
            map_class = feature[MAP_CLASS] if has_map else None
            self.points.append(SamplePoint(
                fid=feature.id(),
                point_id=int(feature.id()) if is_null(point_id) else int(point_id),
                point=point,
                map_class=None if is_null(map_class) else int(map_class)))
            reference = feature[self.label_field]
            self.labels[feature.id()] = None if is_null(reference) else int(reference)
        self.points.sort(key=lambda p: (p.point_id, p.fid))
        if not self.points:
            self.set_status("The point layer has no points: create points first.")
        unlabelled = [k for k, p in enumerate(self.points) if self.labels.get(p.fid) is None]
        self.go_to(unlabelled[0] if unlabelled else 0)
        self._update_blind()

    def _ensure_ref_field(self, layer: QgsVectorLayer) -> bool:
        """Add integer ref_class (and the label field) to the layer's file when missing; False when impossible."""
        missing = [f for f in dict.fromkeys((REF_CLASS, self.label_field)) if layer.fields().indexOf(f) < 0]
        if not missing:
            return True
        provider = layer.dataProvider()
        if not provider.capabilities() & QgsVectorDataProvider.AddAttributes:
            self.set_status(f"{layer.name()} has no {', '.join(missing)} field and its format cannot add one: save "
                            "it as a GeoPackage first.")
            return False
        provider.addAttributes([make_field(f, "int") for f in missing])
        layer.updateFields()
        return all(layer.fields().indexOf(f) >= 0 for f in missing)

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
        for button in self.class_buttons.values():
            button.setEnabled(point is not None)
        for button in (self.back_button, self.skip_button, self.clear_button):
            button.setEnabled(point is not None)
        self.report_button.setEnabled(self.layer is not None and self.map_layer() is not None)
        self.progress_bar.setMaximum(max(len(self.points), 1))
        self.progress_bar.setValue(self.labelled_count())
        self._update_status()
        if point is None or self.layer is None:
            self._clear_marker()
            return
        reference = self.labels.get(point.fid)
        for class_id, button in self.class_buttons.items():
            button.setChecked(class_id == reference)
        self._zoom_to(point)

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

    def _zoom_to(self, point: SamplePoint) -> None:
        project = QgsProject.instance()
        canvas_crs = self.canvas.mapSettings().destinationCrs()
        to_canvas = QgsCoordinateTransform(self.layer.crs(), canvas_crs, project)
        centre = to_canvas.transform(point.point)
        # Centre on a box of 2 map units first: zoomScale scales the current extent, which may still be empty
        # (and the canvas clamps much smaller boxes).
        self.canvas.setExtent(QgsRectangle(centre.x() - 1.0, centre.y() - 1.0, centre.x() + 1.0, centre.y() + 1.0))
        self.canvas.zoomScale(self.scale_widget.scale() or DEFAULT_SCALE)
        if self.marker is None:
            self.marker = QgsVertexMarker(self.canvas)
            self.marker.setIconType(QgsVertexMarker.ICON_CROSS)
            self.marker.setColor(MARKER_COLOR)
            self.marker.setPenWidth(2)
            self.marker.setIconSize(24)
        self.marker.setCenter(centre)
        self.marker.show()
        self._outline_map_pixel(point)
        self.canvas.refresh()

    def _outline_map_pixel(self, point: SamplePoint) -> None:
        """Draw the outline of the map pixel under the point: the area the label is about."""
        map_layer = self.map_layer()
        if self.pixel_band is None:
            self.pixel_band = QgsRubberBand(self.canvas, QgsWkbTypes.PolygonGeometry)
            self.pixel_band.setStrokeColor(MARKER_COLOR)
            self.pixel_band.setFillColor(QColor(0, 0, 0, 0))
            self.pixel_band.setWidth(2)
        self.pixel_band.reset(QgsWkbTypes.PolygonGeometry)
        if map_layer is None:
            return
        to_map = QgsCoordinateTransform(self.layer.crs(), map_layer.crs(), QgsProject.instance())
        xy = to_map.transform(point.point)
        extent = map_layer.extent()
        dx, dy = map_layer.rasterUnitsPerPixelX(), map_layer.rasterUnitsPerPixelY()
        if not extent.contains(xy) or dx <= 0 or dy <= 0:
            return
        left = extent.xMinimum() + math.floor((xy.x() - extent.xMinimum()) / dx) * dx
        top = extent.yMaximum() - math.floor((extent.yMaximum() - xy.y()) / dy) * dy
        pixel = QgsGeometry.fromRect(QgsRectangle(left, top - dy, left + dx, top))
        self.pixel_band.setToGeometry(pixel, map_layer.crs())

    def _clear_marker(self) -> None:
        if self.marker is not None:
            self.marker.hide()
        if self.pixel_band is not None:
            self.pixel_band.reset(QgsWkbTypes.PolygonGeometry)

    def close_session(self) -> None:
        """Remove the marker and the pixel outline from the canvas (labels are already saved)."""
        for item in (self.marker, self.pixel_band):
            if item is not None:
                self.canvas.scene().removeItem(item)
        self.marker = self.pixel_band = None
        self.blind.restore()

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self.current() is not None and self.marker is not None:
            self.marker.show()
        self._update_blind()

    def closeEvent(self, event) -> None:  # noqa: N802
        self._clear_marker()
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
        """Run csagf:random_points on the map with the form's design, add the layer and start labelling it."""
        map_layer = self.map_layer()
        if map_layer is None:
            self.set_status("Pick the map first.")
            return None
        path = output_path or self.points_file.filePath()
        if not path:
            source = map_layer.source().split("|")[0]
            folder = os.path.dirname(source)
            if not os.access(folder or ".", os.W_OK):  # e.g. a map on read-only shared data
                folder = QgsProject.instance().homePath() or os.path.expanduser("~")
            stem = os.path.join(folder, os.path.splitext(os.path.basename(source))[0])
            path = _unique_path(f"{stem}_points.gpkg")
        parameters = {
            "MAP": map_layer,
            "DESIGN": self.design_combo.currentIndex(),
            "N": self.n_spin.value(),
            "MIN_PER_CLASS": self.min_per_class_spin.value(),
            "MIN_DISTANCE": self.distance_spin.value(),
            "SEED": self.seed_spin.value(),
            "N_PER_CLASS": self.plan_box.per_class if self.design_combo.currentIndex() == 1 else "",
            "OUTPUT": path,
        }
        result = self._run_algorithm("csagf:random_points", parameters, "Points were not created")
        if result is None:
            return None
        layer = QgsVectorLayer(result["OUTPUT"], f"{map_layer.name()} sample points", "ogr")
        style_sample_points(layer)
        QgsProject.instance().addMapLayer(layer)
        self.points_combo.setLayer(layer)
        self.set_point_layer(layer)
        self.set_status(f"{len(self.points)} points saved in {result['OUTPUT']}.")
        return layer

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
