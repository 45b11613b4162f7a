"""The accuracy dock's sample panel: create the sample points (csagf:random_points), with the sample size planned
first if wanted (csagf:sample_size), and start labelling them."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from qgis.core import QgsProject, QgsVectorLayer
from qgis.gui import QgsCollapsibleGroupBox, QgsFileWidget
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from ..processing.random_points import DESIGN_LABELS
from .point_marker import style_sample_points

if TYPE_CHECKING:
    from .accuracy_dock import AccuracyDock

STRATIFIED = 1  # index of the stratified design in DESIGN_LABELS (csagf:random_points' DESIGN)

PLAN_ALLOCATIONS = ["Minimum per class, the rest proportional", "Proportional to mapped area", "Equal per class",
                    "Neyman (area x sqrt(U(1 - U)))"]
PLAN_ALLOCATION_INDEX = [2, 0, 1, 3]  # csagf:sample_size's ALLOCATION index of each entry above


class SamplePlanBox(QgsCollapsibleGroupBox):
    """Target standard error and expected accuracies -> csagf:sample_size -> points per class for the create step."""

    def __init__(self, dock: "AccuracyDock", parent: QWidget | None = None) -> None:
        super().__init__("Plan the sample size (csagf:sample_size)", parent)
        self.dock = dock
        self.setCollapsed(True)
        self.per_class = ""  # "1:50,2:30" of the last plan, "" when none
        form = QFormLayout(self)
        self.target_se = QDoubleSpinBox(self)
        self.target_se.setDecimals(3)
        self.target_se.setRange(0.001, 0.2)
        self.target_se.setSingleStep(0.005)
        self.target_se.setValue(0.02)
        self.target_se.setToolTip("Standard error of the overall accuracy to aim at (0.02: about ± 0.04 at 95 %).")
        form.addRow("Target SE of OA", self.target_se)
        self.expected = QLineEdit(self)
        self.expected.setPlaceholderText("1:0.9,2:0.7 (others: 0.8)")
        self.expected.setToolTip("Expected user's accuracy per class, class id:accuracy pairs.")
        form.addRow("Expected accuracies", self.expected)
        self.allocation = QComboBox(self)
        self.allocation.addItems(PLAN_ALLOCATIONS)
        form.addRow("Allocation", self.allocation)
        self.minimum = QSpinBox(self)
        self.minimum.setRange(0, 10000)
        self.minimum.setValue(20)
        form.addRow("Minimum per class", self.minimum)
        self.plan_button = QPushButton("Plan", self)
        self.plan_button.clicked.connect(lambda: self.plan())
        form.addRow(self.plan_button)
        self.result = QLabel("", self)
        self.result.setWordWrap(True)
        form.addRow(self.result)

    def plan(self) -> dict | None:
        """Run csagf:sample_size on the dock's map; fill the dock's number of points and keep the points per class."""
        map_layer = self.dock.map_layer()
        if map_layer is None:
            self.dock.set_status("Pick the map first.")
            return None
        stratified = self.dock.create_box.design_combo.currentIndex() == STRATIFIED
        result = self.dock._run_algorithm("csagf:sample_size", {
            "MAP": map_layer, "DESIGN": 0 if stratified else 1, "TARGET_SE": self.target_se.value(),
            "EXPECTED_UA": self.expected.text(), "ALLOCATION": PLAN_ALLOCATION_INDEX[self.allocation.currentIndex()],
            "MIN_PER_CLASS": self.minimum.value()}, "No plan")
        if result is None:
            return None
        self.per_class = result["N_PER_CLASS"] if stratified else ""
        self.dock.create_box.n_spin.setValue(int(result["N"]))
        self.result.setText(f"{int(result['N'])} points, expected SE {result['EXPECTED_SE']:.4f}"
                            + (f"; per class {self.per_class}" if self.per_class else " (simple random: expected "
                               f"per class {result['N_PER_CLASS']})"))
        return result


def unique_path(path: str) -> str:
    """`path`, or path with _2, _3 ... before the extension when it exists already."""
    stem, ext = os.path.splitext(path)
    candidate, k = path, 2
    while os.path.exists(candidate):
        candidate, k = f"{stem}_{k}{ext}", k + 1
    return candidate


class CreatePointsBox(QgsCollapsibleGroupBox):
    """The design of the sample (csagf:random_points' parameters), its planned size, and the Create button."""

    def __init__(self, dock: "AccuracyDock", parent: QWidget | None = None) -> None:
        super().__init__("Create sample points (csagf:random_points)", parent)
        self.dock = dock
        self.setCollapsed(True)
        form = QFormLayout(self)
        self.design_combo = QComboBox(self)
        self.design_combo.addItems(DESIGN_LABELS)
        self.design_combo.setCurrentIndex(STRATIFIED)
        form.addRow("Design", self.design_combo)
        self.n_spin = QSpinBox(self)
        self.n_spin.setRange(1, 100000)
        self.n_spin.setValue(100)
        form.addRow("Points", self.n_spin)
        self.min_per_class_spin = QSpinBox(self)
        self.min_per_class_spin.setRange(0, 10000)
        form.addRow("Minimum per class", self.min_per_class_spin)
        self.distance_spin = QDoubleSpinBox(self)
        self.distance_spin.setRange(0.0, 1e7)
        self.distance_spin.setSuffix(" map units")
        form.addRow("Minimum distance", self.distance_spin)
        self.seed_spin = QSpinBox(self)
        self.seed_spin.setRange(0, 2 ** 31 - 1)
        self.seed_spin.setValue(1)
        form.addRow("Seed", self.seed_spin)
        self.points_file = QgsFileWidget(self)
        self.points_file.setStorageMode(QgsFileWidget.SaveFile)
        self.points_file.setFilter("GeoPackage (*.gpkg)")
        self.points_file.setToolTip("Where the points are saved; empty: beside the map, <map>_points.gpkg.")
        form.addRow("Save to", self.points_file)
        self.plan_box = SamplePlanBox(dock, self)
        form.addRow(self.plan_box)
        self.create_button = QPushButton("Create points", self)
        self.create_button.clicked.connect(lambda: self.create_points())
        form.addRow(self.create_button)

    def default_path(self, map_source: str) -> str:
        """Beside the map (or in the project's folder when the map's is read-only), <map>_points.gpkg, not taken."""
        folder = os.path.dirname(map_source)
        if not os.access(folder or ".", os.W_OK):  # e.g. a map on read-only shared data
            folder = QgsProject.instance().homePath() or os.path.expanduser("~")
        stem = os.path.join(folder, os.path.splitext(os.path.basename(map_source))[0])
        return unique_path(f"{stem}_points.gpkg")

    def create_points(self, output_path: str | None = None) -> QgsVectorLayer | None:
        """Run csagf:random_points on the dock's map with this design, add the layer and start labelling it."""
        dock = self.dock
        map_layer = dock.map_layer()
        if map_layer is None:
            dock.set_status("Pick the map first.")
            return None
        path = output_path or self.points_file.filePath() or self.default_path(map_layer.source().split("|")[0])
        stratified = self.design_combo.currentIndex() == STRATIFIED
        parameters = {
            "MAP": map_layer,
            "DESIGN": self.design_combo.currentIndex(),
            "N": self.n_spin.value(),
            "MIN_PER_CLASS": self.min_per_class_spin.value(),
            "MIN_DISTANCE": self.distance_spin.value(),
            "SEED": self.seed_spin.value(),
            "N_PER_CLASS": self.plan_box.per_class if stratified else "",
            "OUTPUT": path,
        }
        result = dock._run_algorithm("csagf:random_points", parameters, "Points were not created")
        if result is None:
            return None
        layer = QgsVectorLayer(result["OUTPUT"], f"{map_layer.name()} sample points", "ogr")
        style_sample_points(layer)
        QgsProject.instance().addMapLayer(layer)
        dock.points_combo.setLayer(layer)
        dock.set_point_layer(layer)
        dock.set_status(f"{len(dock.points)} points saved in {result['OUTPUT']}.")
        return layer
