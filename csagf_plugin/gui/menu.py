"""The "CSAGF > Assess accuracy by random points" entry of the Raster menu, which opens the labelling dock."""

from __future__ import annotations

import os

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QAction

MENU = "CSAGF"
ACTION_TEXT = "Assess accuracy by random points"
ICON = os.path.join(os.path.dirname(__file__), "..", "..", "resources", "icon.svg")


def show_accuracy_dock(iface, action: QAction):
    """Open (or bring back) the accuracy-labelling dock of this action; returns the dock."""
    from .accuracy_dock import AccuracyDock

    dock = getattr(action, "csagf_dock", None)
    if dock is None:
        dock = AccuracyDock(iface, parent=iface.mainWindow())
        action.csagf_dock = dock
        iface.addDockWidget(Qt.RightDockWidgetArea, dock)
    dock.show()
    dock.raise_()
    return dock


def add_menu_entry(iface) -> QAction:
    """Add the menu entry to QGIS's Raster menu under CSAGF and return its action."""
    action = QAction(QIcon(ICON), ACTION_TEXT, iface.mainWindow())
    action.setObjectName("csagfAssessAccuracy")
    action.setToolTip("Label random points by visual interpretation and estimate the map's accuracy and class areas")
    action.triggered.connect(lambda _checked=False: show_accuracy_dock(iface, action))
    iface.addPluginToRasterMenu(MENU, action)
    return action


def remove_menu_entry(iface, action: QAction) -> None:
    """Remove the menu entry and close its dock (labels are already saved in the point layer)."""
    dock = getattr(action, "csagf_dock", None)
    if dock is not None:
        dock.close_session()
        iface.removeDockWidget(dock)
        dock.deleteLater()
        action.csagf_dock = None
    iface.removePluginRasterMenu(MENU, action)
    action.deleteLater()
