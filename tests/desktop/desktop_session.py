"""Run inside a real QGIS desktop (qgis --code): install the plugin from its ZIP, its packages, then classify.

Not a test module itself: tests/desktop/test_desktop_install.py starts QGIS with this file and reads the JSON it
writes to $CSAGF_DESKTOP_RESULT. Every step records what it saw; an exception is recorded and QGIS quits anyway.
"""

import importlib.util
import json
import os
import sys
import time
import traceback

from qgis.core import QgsApplication, QgsProcessingFeedback
from qgis.PyQt.QtCore import QTimer

result = {"steps": []}
expected_dialog = []  # set while the session itself opens a dialog, so the watchdog does not count it
config = json.loads(os.environ["CSAGF_DESKTOP_CONFIG"])


class Recorder(QgsProcessingFeedback):
    """Keeps the progress values and the console lines of a Processing run."""

    def __init__(self):
        super().__init__()
        self.percents = []
        self.lines = []
        self.progressChanged.connect(self.percents.append)

    def pushConsoleInfo(self, info):  # noqa: N802
        self.lines.append(info)

    def pushInfo(self, info):  # noqa: N802
        self.lines.append(info)


def save():
    with open(os.environ["CSAGF_DESKTOP_RESULT"], "w", encoding="utf-8") as handle:
        json.dump(result, handle, indent=1, default=str)


def step(name, **values):
    """Record one step; the file is rewritten at once, so a hung QGIS still shows how far it came."""
    result["steps"].append(name)
    result[name] = values
    save()


def csagf_menu(iface):
    """The entries of Raster > CSAGF."""
    for action in iface.rasterMenu().actions():
        if action.menu() is not None and action.text().replace("&", "") == "CSAGF":
            return [entry.text() for entry in action.menu().actions()]
    return []


def open_installer_from_menu(iface):
    """Raster > CSAGF > Install dependencies…: the Processing dialog opens (modal); its title, then it is closed."""
    from qgis.PyQt.QtWidgets import QApplication, QDialog

    titles = []

    def close():
        dialog = next((w for w in QApplication.topLevelWidgets() if isinstance(w, QDialog) and w.isVisible()
                       and w.windowTitle().startswith("Install dependencies")), None)
        if dialog is None:
            QTimer.singleShot(200, close)
            return
        titles.append(dialog.windowTitle())
        dialog.reject()

    for action in iface.rasterMenu().actions():
        if action.menu() is not None and action.text().replace("&", "") == "CSAGF":
            entry = next(a for a in action.menu().actions() if a.text().startswith("Install dependencies"))
            expected_dialog.append(True)
            QTimer.singleShot(500, close)
            entry.trigger()  # returns when the dialog is closed
            expected_dialog.clear()
    return titles[0] if titles else None


def session():
    from qgis.utils import iface

    step("before", rasterio_found=importlib.util.find_spec("rasterio") is not None,
         onnxruntime_found=importlib.util.find_spec("onnxruntime") is not None,
         venv_on_path=[p for p in sys.path if ".venv" in p], executable=sys.executable,
         profile=QgsApplication.qgisSettingsDirPath())

    import pyplugin_installer
    import qgis.utils

    step("installing_plugin")
    pyplugin_installer.instance().installFromZipFile(config["zip"])
    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("csagf")
    step("plugin", loaded="csagf" in qgis.utils.active_plugins,
         plugin_file=sys.modules["csagf"].__file__ if "csagf" in sys.modules else None,
         algorithms=sorted(a.name() for a in provider.algorithms()) if provider else [],
         menu=csagf_menu(iface))

    opened = open_installer_from_menu(iface)
    step("menu_dialog", title=opened)

    import processing

    feedback = Recorder()
    start = time.perf_counter()
    out = processing.run("csagf:install_dependencies", {"PROFILE": 0}, feedback=feedback)
    step("install", seconds=round(time.perf_counter() - start, 1), outputs=out, percents=feedback.percents,
         lines=feedback.lines[-30:], rasterio_found=importlib.util.find_spec("rasterio") is not None)

    feedback = Recorder()
    start = time.perf_counter()
    out = processing.run("csagf:classify", {"VHR": config["vhr"], "NTL": config["ntl"], "OUTPUT": config["output"]},
                         feedback=feedback)
    import onnxruntime
    import rasterio

    step("classify", seconds=round(time.perf_counter() - start, 1), outputs=out, lines=feedback.lines[-10:],
         rasterio_file=rasterio.__file__, onnxruntime_file=onnxruntime.__file__)
    out = processing.run("csagf:check_environment", {})
    step("check_environment", report=out["REPORT"])
    iface.mainWindow().grab().save(config["screenshot"])


def main():
    try:
        session()
    except Exception:
        result["error"] = traceback.format_exc()
    result["done"] = True
    save()
    QTimer.singleShot(0, QgsApplication.instance().exit)


def watch():
    """Every 10 s: note a modal window (a dialog waiting for a click would hang the session) and grab the screen."""
    from qgis.PyQt.QtWidgets import QApplication

    modal = QApplication.activeModalWidget()
    if modal is not None and not expected_dialog:
        text = getattr(modal, "text", lambda: "")()
        result.setdefault("modal", []).append(f"{type(modal).__name__} {modal.windowTitle()!r}: {text}")
        save()
    QApplication.primaryScreen().grabWindow(0).save(config["screenshot"].replace(".png", "_watch.png"))


watchdog = QTimer()
watchdog.timeout.connect(watch)
watchdog.start(10000)
QTimer.singleShot(500, main)
