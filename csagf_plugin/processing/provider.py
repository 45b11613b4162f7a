"""The CSAGF Processing provider: lists its algorithms explicitly."""

from __future__ import annotations

import os

from qgis.core import QgsProcessingProvider
from qgis.PyQt.QtGui import QIcon

ICON = os.path.join(os.path.dirname(__file__), "..", "..", "resources", "icon.svg")


class CsagfProvider(QgsProcessingProvider):
    """Provider id `csagf`, shown as "CSAGF" in the Processing Toolbox."""

    def id(self) -> str:
        return "csagf"

    def name(self) -> str:
        return "CSAGF"

    def longName(self) -> str:  # noqa: N802
        return "CSAGF urban functional zones (VHR + night-time light)"

    def icon(self) -> QIcon:
        return QIcon(ICON)

    def loadAlgorithms(self) -> None:  # noqa: N802
        from .accuracy_assessment import AccuracyAssessmentAlgorithm
        from .check_environment import CheckEnvironmentAlgorithm
        from .classify import ClassifyAlgorithm
        from .evaluate import EvaluateAlgorithm
        from .install_dependencies import InstallDependenciesAlgorithm
        from .prepare_training_data import PrepareTrainingDataAlgorithm
        from .random_points import RandomPointsAlgorithm
        from .sample_reference import SampleReferenceAlgorithm
        from .sample_size import SampleSizeAlgorithm
        from .train import TrainAlgorithm

        for algorithm in (ClassifyAlgorithm(), SampleSizeAlgorithm(), RandomPointsAlgorithm(),
                          SampleReferenceAlgorithm(), AccuracyAssessmentAlgorithm(), PrepareTrainingDataAlgorithm(),
                          TrainAlgorithm(), EvaluateAlgorithm(), InstallDependenciesAlgorithm(),
                          CheckEnvironmentAlgorithm()):
            self.addAlgorithm(algorithm)
