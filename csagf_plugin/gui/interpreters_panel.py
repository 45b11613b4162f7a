"""The accuracy dock's two-interpreters panel: label as interpreter 1 or 2, their agreement, settling disagreements.

The dock owns the stepping and the labelling; this panel only tells it which field to label (`label_field`),
which points to step through (`point_filter`) and what to add to the point's line (`extra_status`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from qgis.core import QgsFeatureRequest
from qgis.gui import QgsCollapsibleGroupBox
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from ..processing.legend import class_id_of, class_names, is_null
from ..processing.random_points import POINT_ID, REF_CLASS

if TYPE_CHECKING:
    from .accuracy_dock import AccuracyDock

REF_CLASS_2 = "ref_class_2"  # the second interpreter's labels
REF_FINAL = "ref_final"  # the settled label where the two interpreters disagree
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
