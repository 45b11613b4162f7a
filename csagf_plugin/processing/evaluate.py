"""csagf:evaluate: a classified raster against a reference raster or polygon layer."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterMapLayer,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from .base import CsagfAlgorithm, FeedbackProgress
from .training_inputs import layer_path


class EvaluateAlgorithm(CsagfAlgorithm):
    """Confusion matrix, per-class IoU, precision, recall, F1, mIoU, macro F1 and OA of a map."""

    CLASSIFIED = "CLASSIFIED"
    REFERENCE = "REFERENCE"
    CLASS_FIELD = "CLASS_FIELD"
    MAPPING = "MAPPING"
    NAME = "NAME"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    CSV = "CSV"
    JSON = "JSON"
    PNG = "PNG"
    MIOU = "MIOU"
    MACRO_F1 = "MACRO_F1"
    OA = "OA"

    def name(self) -> str:
        return "evaluate"

    def displayName(self) -> str:  # noqa: N802
        return "Evaluate a functional-zone map against reference labels"

    def shortHelpString(self) -> str:  # noqa: N802
        return ("Compares a classified raster (class ids 1-7, 0 = no data) with a reference raster or polygon layer "
                "on the map's grid, pixel by pixel: confusion matrix, per-class IoU, precision, recall and F1, "
                "mIoU, macro F1 and overall accuracy. Writes CSV, JSON and a confusion-matrix PNG.")

    def initAlgorithm(self, config=None) -> None:  # noqa: N802
        self._add(QgsProcessingParameterRasterLayer(self.CLASSIFIED, "Functional-zone map"),
                  "A map of class ids, e.g. the output of 'Classify urban functional zones'.")
        self._add(QgsProcessingParameterMapLayer(self.REFERENCE, "Reference (raster or polygons)"),
                  "A raster of class ids, or polygons with a land-use field rasterised onto the map's grid.")
        self._add(QgsProcessingParameterField(self.CLASS_FIELD, "Class field of the polygons", optional=True,
                                              parentLayerParameterName=self.REFERENCE),
                  "Field holding the class id or the value the mapping translates.")
        self._add(QgsProcessingParameterFile(self.MAPPING, "Class mapping (CSV or JSON)", optional=True,
                                             fileFilter="Mappings (*.csv *.json)"),
                  "Table from reference values to classes 1-7; empty: class ids, or the OSM mapping for OSM layers.")
        self._add(QgsProcessingParameterString(self.NAME, "Base name of the output files", defaultValue="evaluation"),
                  "Files are <name>.csv, <name>.json, <name>_confusion.csv and <name>_confusion.png.",
                  advanced=True)
        self._add(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, "Output folder"),
                  "Where the tables and the picture are written.")
        self.addOutput(QgsProcessingOutputFile(self.CSV, "Per-class scores (CSV)"))
        self.addOutput(QgsProcessingOutputFile(self.JSON, "All numbers (JSON)"))
        self.addOutput(QgsProcessingOutputFile(self.PNG, "Confusion matrix (PNG)"))
        for key, label in ((self.MIOU, "mIoU"), (self.MACRO_F1, "Macro F1"), (self.OA, "Overall accuracy")):
            self.addOutput(QgsProcessingOutputNumber(key, label))

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        from ..training.evaluate import EvaluateConfig, evaluate

        reference, reference_layer = layer_path(self.parameterAsLayer(parameters, self.REFERENCE, context))
        config = EvaluateConfig(
            classified=self.parameterAsRasterLayer(parameters, self.CLASSIFIED, context).source(),
            reference=reference,
            output_dir=self.parameterAsString(parameters, self.OUTPUT_FOLDER, context),
            reference_layer=reference_layer,
            class_field=self.parameterAsString(parameters, self.CLASS_FIELD, context) or None,
            mapping=self.parameterAsFile(parameters, self.MAPPING, context) or None,
            name=self.parameterAsString(parameters, self.NAME, context) or "evaluation",
        )
        result = evaluate(config, progress, progress.warn)
        summary = result.metrics.summary()
        feedback.pushInfo(f"mIoU {summary['miou']:.3f}, macro F1 {summary['macro_f1']:.3f}, OA {summary['oa']:.3f}")
        return {self.OUTPUT_FOLDER: config.output_dir, self.CSV: result.csv, self.JSON: result.json,
                self.PNG: result.png, self.MIOU: summary["miou"], self.MACRO_F1: summary["macro_f1"],
                self.OA: summary["oa"]}
