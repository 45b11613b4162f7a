"""What every CSAGF algorithm shares: the feedback adapter and the one place where core errors become QGIS errors."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingFeedback,
    QgsProcessingParameterDefinition,
)

from ..core.errors import Canceled, CsagfError


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

    def group(self) -> str:
        return ""

    def groupId(self) -> str:  # noqa: N802
        return ""

    def createInstance(self):  # noqa: N802
        return type(self)()

    def _add(self, parameter: QgsProcessingParameterDefinition, help_text: str, advanced: bool = False) -> None:
        """Add a parameter with its help text, flagged advanced for the tuning ones."""
        parameter.setHelp(help_text)
        if advanced:
            parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
        self.addParameter(parameter)

    def processAlgorithm(self, parameters: dict, context, feedback) -> dict[str, Any]:  # noqa: N802
        progress = FeedbackProgress(feedback)
        try:
            return self.run_algorithm(parameters, context, feedback, progress)
        except Canceled:
            feedback.reportError("Canceled: no output was written.")
            return {}
        except CsagfError as exc:
            raise QgsProcessingException(str(exc)) from exc

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        """Turn parameters into one core call and return the outputs dict."""
        raise NotImplementedError
