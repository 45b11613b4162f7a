"""Two panels of the accuracy dock: plan the sample size (csagf:sample_size) and work with two interpreters.

The dock owns the stepping and the labelling; these panels only tell it which field to label (`label_field`),
which points to step through (`point_filter`) and what to add to the point's line (`extra_status`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qgis.core import QgsFeatureRequest
from qgis.gui import QgsCollapsibleGroupBox
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

from ..processing.legend import class_id_of, class_names, is_null
from ..processing.random_points import POINT_ID, REF_CLASS

if TYPE_CHECKING:
    from .accuracy_dock import AccuracyDock

REF_CLASS_2 = "ref_class_2"  # the second interpreter's labels
REF_FINAL = "ref_final"  # the settled label where the two interpreters disagree
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
        stratified = self.dock.design_combo.currentIndex() == 1
        result = self.dock._run_algorithm("csagf:sample_size", {
            "MAP": map_layer, "DESIGN": 0 if stratified else 1, "TARGET_SE": self.target_se.value(),
            "EXPECTED_UA": self.expected.text(), "ALLOCATION": PLAN_ALLOCATION_INDEX[self.allocation.currentIndex()],
            "MIN_PER_CLASS": self.minimum.value()}, "No plan")
        if result is None:
            return None
        self.per_class = result["N_PER_CLASS"] if stratified else ""
        self.dock.n_spin.setValue(int(result["N"]))
        self.result.setText(f"{int(result['N'])} points, expected SE {result['EXPECTED_SE']:.4f}"
                            + (f"; per class {self.per_class}" if self.per_class else " (simple random: expected "
                               f"per class {result['N_PER_CLASS']})"))
        return result


class InterpreterBox(QgsCollapsibleGroupBox):
    """Label as interpreter 1 or 2, see how far they agree, and step through their disagreements to settle them."""

    def __init__(self, dock: "AccuracyDock", parent: QWidget | None = None) -> None:
        super().__init__("Two interpreters", parent)
        self.dock = dock
        self.setCollapsed(True)
        self.reviewing = False
        form = QFormLayout(self)
        self.who = QComboBox(self)
        self.who.addItems([f"Interpreter 1 ({REF_CLASS})", f"Interpreter 2 ({REF_CLASS_2})"])
        self.who.setToolTip("Each interpreter labels every point without seeing the other's labels.")
        self.who.currentIndexChanged.connect(lambda _i: self.label_as(REF_CLASS_2 if _i == 1 else REF_CLASS))
        form.addRow("Label as", self.who)
        self.review_button = QPushButton("Review disagreements", self)
        self.review_button.setCheckable(True)
        self.review_button.setToolTip(f"Step through the points the two interpreters labelled differently; the class "
                                      f"chosen is written to {REF_FINAL}.")
        self.review_button.toggled.connect(self.review)
        form.addRow(self.review_button)
        self.summary = QLabel("", self)
        self.summary.setWordWrap(True)
        form.addRow(self.summary)

    def label_as(self, field: str) -> None:
        """Write the labels to `field` from now on (all points)."""
        self.dock.label_field = field
        self.dock.point_filter = None
        self.dock.extra_status = None
        self.dock.set_point_layer(self.dock.layer)
        self.refresh()

    def _values(self) -> tuple[list[int], list, list, list]:
        """point ids and the two interpreters' and the final labels of the dock's layer."""
        layer = self.dock.layer
        names = class_names(self.dock.legend)
        fields = layer.fields().names()
        ids, first, second, final = [], [], [], []
        for feature in layer.getFeatures(QgsFeatureRequest()):
            ids.append(int(feature[POINT_ID]) if POINT_ID in fields and not is_null(feature[POINT_ID])
                       else int(feature.id()))
            for field, values in ((REF_CLASS, first), (REF_CLASS_2, second), (REF_FINAL, final)):
                values.append(class_id_of(feature[field], names) if field in fields else None)
        return ids, first, second, final

    def refresh(self) -> str:
        """Recount the agreement of the dock's layer and show it."""
        from ..core.accuracy.interpreters import interpreter_agreement

        layer = self.dock.layer
        if layer is None or REF_CLASS_2 not in layer.fields().names():
            self.summary.setText("Only one interpreter so far." if layer is not None else "")
            return self.summary.text()
        ids, first, second, final = self._values()
        a = interpreter_agreement(first, second, ids, final)
        share = "n/a" if a.n_both == 0 else f"{a.agreement:.3f}"
        kappa = "n/a" if a.n_both == 0 or a.kappa != a.kappa else f"{a.kappa:.3f}"
        self.summary.setText(f"Both labelled {a.n_both} points: agreement {share}, Cohen's kappa {kappa}; "
                             f"{len(a.disagreements)} disagreements, {a.unsettled} not settled.")
        return self.summary.text()

    def review(self, on: bool) -> None:
        """Step through the disagreements only, labelling ref_final; off: back to labelling all points."""
        self.reviewing = on
        if not on:
            self.review_button.setText("Review disagreements")
            self.label_as(REF_CLASS_2 if self.who.currentIndex() == 1 else REF_CLASS)
            return
        layer = self.dock.layer
        if layer is None or REF_CLASS_2 not in layer.fields().names():
            self.dock.set_status(f"No second interpreter yet: label the points as interpreter 2 ({REF_CLASS_2}).")
            self.review_button.setChecked(False)
            return
        names = class_names(self.dock.legend)
        labels: dict[int, tuple] = {}

        def disagree(feature) -> bool:
            a, b = (class_id_of(feature[f], names) for f in (REF_CLASS, REF_CLASS_2))
            labels[feature.id()] = (a, b)
            return a is not None and b is not None and a != b

        self.dock.label_field = REF_FINAL
        self.dock.point_filter = disagree
        self.dock.extra_status = lambda point: (
            f"; interpreter 1 says {names.get(labels[point.fid][0], labels[point.fid][0])}, interpreter 2 says "
            f"{names.get(labels[point.fid][1], labels[point.fid][1])}")
        self.dock.set_point_layer(layer)
        self.review_button.setText("Stop the review")
        self.dock.set_status(f"{len(self.dock.points)} disagreements to settle: pick the final class of each.")
        self.refresh()
