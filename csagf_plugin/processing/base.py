"""What every CSAGF algorithm shares: the feedback adapter and the one place where core errors become QGIS errors."""

from __future__ import annotations

import os
from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterNumber,
)

from ..core.errors import Canceled, CsagfError
from ..core.safe_output import interruptible

HELP_PAGE = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "resources", "help", "index.html"))


class FeedbackProgress:
    """Adapts QgsProcessingFeedback to core's Progress protocol (STYLE.md habit 2)."""

    def __init__(self, feedback: QgsProcessingFeedback) -> None:
        self.feedback = feedback

    def set_progress(self, percent: float) -> None:
        self.feedback.setProgress(float(percent))

    def is_canceled(self) -> bool:
        return bool(self.feedback.isCanceled())

    def warn(self, message: str) -> None:
        """Report a recoverable problem; the run goes on."""
        self.feedback.pushWarning(message)


class CsagfAlgorithm(QgsProcessingAlgorithm):
    """Base of the plugin's algorithms: subclasses implement `run_algorithm` and never catch core errors themselves.

    The hook is not called `run`: QgsProcessingAlgorithm.run(parameters, context, feedback, configuration,
    catchExceptions) is what processing.run and qgis_process call, and overriding it breaks them.
    """

    # What a SIGTERM or SIGINT (qgis_process, Ctrl+C) leaves, in the one line the run ends with.
    INTERRUPTED = "no output was written and the temporary files were removed"

    def group(self) -> str:
        return ""

    def groupId(self) -> str:  # noqa: N802
        return ""

    def createInstance(self):  # noqa: N802
        return type(self)()

    def icon(self):
        """The plugin's icon, shown beside the algorithm in the toolbox and the modeler."""
        from qgis.PyQt.QtGui import QIcon

        from .provider import ICON

        return QIcon(ICON)

    def helpUrl(self) -> str:  # noqa: N802
        """The algorithm's section of the help page shipped with the plugin (resources/help/index.html)."""
        from qgis.PyQt.QtCore import QUrl

        url = QUrl.fromLocalFile(HELP_PAGE)
        url.setFragment(self.name())
        return url.toString()

    def _add(self, parameter: QgsProcessingParameterDefinition, help_text: str, advanced: bool = False) -> None:
        """Add a parameter with its help text (a number's allowed range appended), flagged advanced for the tuning
        ones."""
        if isinstance(parameter, QgsProcessingParameterNumber) and "range" not in help_text.lower():
            help_text = f"{help_text} {number_range(parameter)}".strip()
        parameter.setHelp(help_text)
        if advanced:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(parameter)

    def checkParameterValues(self, parameters: dict, context):  # noqa: N802
        """QGIS's checks, with "<file> not found" replaced by what is wrong with a file that exists."""
        ok, message = super().checkParameterValues(parameters, context)
        if not ok:
            message = unreadable_input(self, parameters) or message
        return ok, message

    def processAlgorithm(self, parameters: dict, context, feedback) -> dict[str, Any]:  # noqa: N802
        progress = FeedbackProgress(feedback)
        try:
            with interruptible(self.INTERRUPTED):
                return self.run_algorithm(parameters, context, feedback, progress)
        except Canceled as exc:
            # An exception, not an empty result: qgis_process then exits with a non-zero status.
            raise QgsProcessingException(str(exc) or "Canceled: no output was written.") from exc
        except CsagfError as exc:
            raise QgsProcessingException(str(exc)) from exc
        except ModuleNotFoundError as exc:  # rasterio, onnxruntime or torch not installed in QGIS's Python yet
            from ..environment.check import missing_module_message

            raise QgsProcessingException(missing_module_message(exc.name)) from exc

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        """Turn parameters into one core call and return the outputs dict."""
        raise NotImplementedError


def number_range(parameter: QgsProcessingParameterNumber) -> str:
    """The allowed range of a number parameter in words, e.g. "Range: 1 to 256." or "At least 0."."""
    def fmt(value: float) -> str:
        return f"{value:g}" if parameter.dataType() == QgsProcessingParameterNumber.Double else f"{int(value)}"

    low, high = parameter.minimum(), parameter.maximum()
    has_low, has_high = low > -1e300, high < 1e300
    if has_low and has_high:
        return f"Range: {fmt(low)} to {fmt(high)}."
    if has_low:
        return f"At least {fmt(low)}."
    if has_high:
        return f"At most {fmt(high)}."
    return ""


def unreadable_input(alg: QgsProcessingAlgorithm, parameters: dict) -> str | None:
    """A clear message for a raster or vector input given as a path that exists but that GDAL cannot open."""
    from qgis.core import (
        QgsProcessingParameterFeatureSource,
        QgsProcessingParameterMapLayer,
        QgsProcessingParameterMultipleLayers,
        QgsProcessingParameterRasterLayer,
        QgsProcessingParameterVectorLayer,
    )

    kinds = (QgsProcessingParameterRasterLayer, QgsProcessingParameterMapLayer, QgsProcessingParameterFeatureSource,
             QgsProcessingParameterVectorLayer, QgsProcessingParameterMultipleLayers)
    for definition in alg.parameterDefinitions():
        if not isinstance(definition, kinds):
            continue
        values = parameters.get(definition.name())
        for value in values if isinstance(values, (list, tuple)) else [values]:
            path = value.split("|", 1)[0] if isinstance(value, str) else None
            if not path or not os.path.isfile(path):
                continue
            why = _why_unreadable(path)
            if why:
                return (f"{definition.description()} ({definition.name()}): {path} exists but cannot be read "
                        f"({why}). Pick a GeoTIFF or another file GDAL can read.")
    return None


def _why_unreadable(path: str) -> str | None:
    """None when GDAL opens the file as a raster or a vector, else why it cannot."""
    from osgeo import gdal

    if os.path.getsize(path) == 0:
        return "the file is empty"
    gdal.PushErrorHandler("CPLQuietErrorHandler")
    try:
        dataset = gdal.OpenEx(path, gdal.OF_RASTER | gdal.OF_VECTOR)
        reason = gdal.GetLastErrorMsg()
    except RuntimeError as exc:  # GDAL's exception mode is process-wide: either way means "cannot open"
        dataset, reason = None, str(exc)
    finally:
        gdal.PopErrorHandler()
    if dataset is not None:
        return None
    with open(path, "rb") as handle:
        head = handle.read(512)
    if head and all(32 <= b < 127 or b in (9, 10, 13) for b in head):
        return "it is a text file, not a raster or vector data set"
    return reason.strip() or "GDAL recognises no format in it; it may be truncated or corrupt"


def require_points(source, role: str) -> None:
    """Refuse a feature source whose geometries are not points where points are expected (a polygon layer would
    otherwise be read at its first vertex, in silence)."""
    from qgis.core import QgsWkbTypes

    if source is not None and QgsWkbTypes.geometryType(source.wkbType()) != QgsWkbTypes.PointGeometry:
        raise QgsProcessingException(
            f"The {role} layer holds {QgsWkbTypes.displayString(source.wkbType())} geometries, not points: the "
            "classes are read at points. Give the points of csagf:random_points (or make points first, e.g. "
            "Vector geometry > Centroids).")
