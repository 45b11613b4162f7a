"""The accuracy dock's reference-class buttons: one per class of the map's legend, in its colours, keys 1-9."""

from __future__ import annotations

from collections.abc import Callable

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QColor, QKeySequence
from qgis.PyQt.QtWidgets import QGridLayout, QGroupBox, QPushButton, QShortcut, QSizePolicy, QWidget

from ..core.model_card import FunctionalClass


def text_color(background: str) -> str:
    """Black or white, whichever reads better on the background colour."""
    color = QColor(background)
    luminance = 0.299 * color.red() + 0.587 * color.green() + 0.114 * color.blue()
    return "#000000" if luminance > 140 else "#ffffff"


def click_shortcut(owner: QWidget, key: QKeySequence, button: QPushButton) -> QShortcut:
    """A key that clicks `button` while the focus is in `owner` (so QGIS's own keys stay untouched)."""
    shortcut = QShortcut(key, owner)
    shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    shortcut.activated.connect(button.animateClick)
    return shortcut


class ClassButtons(QGroupBox):
    """A checkable button per legend class, two columns; clicking one (or its key) calls on_click(class id)."""

    def __init__(self, owner: QWidget, on_click: Callable[[int], object], parent: QWidget | None = None) -> None:
        super().__init__("Reference class (keys 1-9)", parent)
        self.owner = owner  # the widget whose focus makes the keys 1-9 work
        self.on_click = on_click
        self.grid = QGridLayout(self)
        self.grid.setColumnStretch(0, 1)
        self.grid.setColumnStretch(1, 1)
        self.buttons: dict[int, QPushButton] = {}
        self._shortcuts: list[QShortcut] = []

    def set_legend(self, legend: list[FunctionalClass]) -> None:
        """Replace the buttons by those of `legend`."""
        for shortcut in self._shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._shortcuts = []
        for button in self.buttons.values():
            self.grid.removeWidget(button)
            button.deleteLater()
        self.buttons = {}
        for k, cls in enumerate(legend):
            button = QPushButton(f"{cls.id}  {cls.name}", self)
            button.setCheckable(True)
            # equal columns, long names elided
            button.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            button.setToolTip(f"{cls.name} (class {cls.id})")
            button.setStyleSheet(
                f"QPushButton {{ background-color: {cls.color}; color: {text_color(cls.color)}; padding: 5px; "
                "text-align: left; border: 1px solid #555; border-radius: 3px; }"
                "QPushButton:checked { border: 3px solid #000; font-weight: bold; }")
            if k < 9:
                self._shortcuts.append(click_shortcut(self.owner, QKeySequence(str(k + 1)), button))
            button.clicked.connect(lambda _checked=False, class_id=cls.id: self.on_click(class_id))
            self.grid.addWidget(button, k // 2, k % 2)
            self.buttons[cls.id] = button
