"""csagf:install_dependencies: pip-installs rasterio and onnxruntime (and torch for training) for the plugin.

Only the standard library, QGIS and csagf_plugin.environment are used here: this algorithm must run when nothing
else the plugin needs is installed.
"""

from __future__ import annotations

from typing import Any

from qgis.core import (
    Qgis,
    QgsProcessingOutputFile,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
)

from ..core.errors import CsagfError
from ..environment.installer import InstallError, install, plan_install
from ..environment.location import dependency_folder, qgis_profile_dir
from ..environment.requirements import ONNXRUNTIME_FLAVOURS, PROFILE_LABELS, PROFILES
from .base import CsagfAlgorithm, FeedbackProgress


class FeedbackInstallProgress:
    """The installer's progress on a Processing feedback: the bar, cancel and pip's lines in the log."""

    def __init__(self, progress: FeedbackProgress) -> None:
        self.progress = progress

    def set_progress(self, percent: float) -> None:
        self.progress.set_progress(percent)

    def is_canceled(self) -> bool:
        return self.progress.is_canceled()

    def log(self, line: str) -> None:
        self.progress.feedback.pushConsoleInfo(line)


class InstallDependenciesAlgorithm(CsagfAlgorithm):
    """Install the plugin's Python packages into a private folder of the QGIS profile."""

    PROFILE = "PROFILE"
    ONNXRUNTIME = "ONNXRUNTIME"
    FOLDER = "FOLDER"
    LOG = "LOG"
    VERSIONS = "VERSIONS"
    RESTART = "RESTART"

    def name(self) -> str:
        return "install_dependencies"

    def displayName(self) -> str:  # noqa: N802
        return "Install dependencies"

    def shortHelpString(self) -> str:  # noqa: N802
        return ("Installs what the CSAGF algorithms need into a folder of your QGIS profile that only this plugin "
                "uses (QGIS's own Python is not changed): rasterio and onnxruntime for classifying and assessing "
                "accuracy; torch and the training packages as well with the full install. numpy stays the one "
                "QGIS's GDAL was built with. The install is checked before it replaces an earlier one, so a failed "
                "or canceled install changes nothing. Needs internet access to the Python Package Index.")

    def initAlgorithm(self, config=None) -> None:  # noqa: N802
        self._add(QgsProcessingParameterEnum(self.PROFILE, "What to install", options=list(PROFILE_LABELS),
                                             defaultValue=0),
                  "Inference only is enough for classify and the accuracy tools; training needs the full install.")
        self._add(QgsProcessingParameterEnum(self.ONNXRUNTIME, "onnxruntime build",
                                             options=["Automatic (GPU build where an NVIDIA driver is present)",
                                                      "CPU", "GPU (NVIDIA CUDA)"], defaultValue=0),
                  "An onnxruntime that is already installed is kept, since the two builds break each other.",
                  advanced=True)
        self.addOutput(QgsProcessingOutputString(self.FOLDER, "Package folder (on sys.path)"))
        self.addOutput(QgsProcessingOutputFile(self.LOG, "Install log"))
        self.addOutput(QgsProcessingOutputString(self.VERSIONS, "Installed versions"))
        self.addOutput(QgsProcessingOutputString(self.RESTART, "Modules that need a QGIS restart"))

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        folder = dependency_folder(qgis_profile_dir())
        profile = PROFILES[self.parameterAsEnum(parameters, self.PROFILE, context)]
        flavour = ONNXRUNTIME_FLAVOURS[self.parameterAsEnum(parameters, self.ONNXRUNTIME, context)]
        try:
            plan = plan_install(folder, profile, flavour, qgis_version_int=Qgis.QGIS_VERSION_INT)
            result = install(plan, FeedbackInstallProgress(progress))
        except InstallError as exc:
            raise CsagfError(str(exc)) from exc
        versions = ", ".join(f"{name} {version}" for name, version in result.versions.items())
        feedback.pushInfo(f"Installed {versions} in {result.site_packages}; the CSAGF algorithms can run now.")
        if result.restart_needed:
            feedback.pushWarning(f"Restart QGIS to use the new {', '.join(result.restart_needed)}: this QGIS "
                                 "already loaded an older copy.")
        return {self.FOLDER: result.site_packages, self.LOG: str(folder.log_path), self.VERSIONS: versions,
                self.RESTART: ", ".join(result.restart_needed)}
