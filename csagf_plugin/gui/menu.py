"""The Raster > CSAGF menu: the accuracy-labelling dock, the dependency installer and the environment check.

Also the first-run offer: a message bar with an Install button when rasterio or onnxruntime is missing.
"""

from __future__ import annotations

import os

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtGui import QIcon
from qgis.PyQt.QtWidgets import QPushButton

try:  # Qt6 (QGIS 4) has QAction in QtGui, Qt5 in QtWidgets
    from qgis.PyQt.QtGui import QAction
except ImportError:
    from qgis.PyQt.QtWidgets import QAction

MENU = "CSAGF"
ACTION_TEXT = "Assess accuracy by random points"
INSTALL_TEXT = "Install dependencies…"
CHECK_TEXT = "Check environment (versions, GPU)…"
ICON = os.path.join(os.path.dirname(__file__), "..", "..", "resources", "icon.svg")


def show_accuracy_dock(iface, action: QAction):
    """Open (or bring back) the accuracy-labelling dock of this action; returns the dock."""
    from .accuracy_dock import AccuracyDock

    dock = getattr(action, "csagf_dock", None)
    if dock is None:
        dock = AccuracyDock(iface, parent=iface.mainWindow())
        action.csagf_dock = dock
        iface.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
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


def open_algorithm_dialog(algorithm_id: str) -> None:
    """The Processing dialog of `algorithm_id`: parameters, progress bar, log and result."""
    import processing

    processing.execAlgorithmDialog(algorithm_id, {})


def _algorithm_action(iface, text: str, name: str, algorithm_id: str, tip: str) -> QAction:
    action = QAction(QIcon(ICON), text, iface.mainWindow())
    action.setObjectName(name)
    action.setToolTip(tip)
    action.triggered.connect(lambda _checked=False: open_algorithm_dialog(algorithm_id))
    iface.addPluginToRasterMenu(MENU, action)
    return action


def add_menu_entries(iface) -> list[QAction]:
    """Every entry of Raster > CSAGF: the accuracy dock, the installer and the environment check."""
    return [
        add_menu_entry(iface),
        _algorithm_action(iface, INSTALL_TEXT, "csagfInstallDependencies", "csagf:install_dependencies",
                          "Install rasterio, onnxruntime (and torch for training) for the CSAGF algorithms"),
        _algorithm_action(iface, CHECK_TEXT, "csagfCheckEnvironment", "csagf:check_environment",
                          "Versions, onnxruntime providers, whether the GPU is used, one model tile timed"),
    ]


def remove_menu_entries(iface, actions: list[QAction]) -> None:
    """Remove what add_menu_entries added."""
    remove_menu_entry(iface, actions[0])
    for action in actions[1:]:
        iface.removePluginRasterMenu(MENU, action)
        action.deleteLater()


def offer_install_if_missing(iface) -> list[str]:
    """When inference packages are missing, a message bar offers the installer; returns the missing names."""
    from ..environment.check import installed_onnxruntime, missing
    from ..environment.requirements import INFERENCE, onnxruntime_requirement, profile_requirements

    requirements = profile_requirements(INFERENCE, onnxruntime_requirement("auto", installed=installed_onnxruntime()))
    absent = [status.requirement.name for status in missing(requirements)]
    if not absent:
        return []
    bar = iface.messageBar()
    message = bar.createMessage("CSAGF", f"needs {', '.join(absent)} to classify; install them for this QGIS "
                                         "profile (QGIS itself is not changed).")
    button = QPushButton("Install…", message)
    button.setObjectName("csagfOfferInstall")

    from qgis.core import Qgis, QgsApplication

    tasks = QgsApplication.taskManager()

    def withdraw_if_installed() -> None:
        """The offer goes once the packages are there (an install from this button, the menu or the toolbox)."""
        if missing(requirements):
            return
        try:
            tasks.allTasksFinished.disconnect(withdraw_if_installed)
            bar.popWidget(message)
        except (RuntimeError, TypeError):  # already gone (closed by the user)
            pass

    def install() -> None:
        open_algorithm_dialog("csagf:install_dependencies")
        withdraw_if_installed()  # the dialog is modal: the install is over here

    button.clicked.connect(lambda _checked=False: install())
    message.layout().addWidget(button)
    tasks.allTasksFinished.connect(withdraw_if_installed)  # Processing dialogs run algorithms as tasks
    bar.pushWidget(message, Qgis.Warning)
    return absent
