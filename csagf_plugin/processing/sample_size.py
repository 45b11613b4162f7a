"""csagf:sample_size: how many random points an accuracy assessment needs, and how to share them between classes."""

from __future__ import annotations

import json
from typing import Any

from qgis.core import (
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

from .base import CsagfAlgorithm, FeedbackProgress
from .legend import class_names, map_legend
from .random_points import parse_class_values

DESIGN_KEYS = ["stratified_random", "simple_random"]
DESIGN_LABELS = ["Stratified random by map class (Olofsson et al. 2014 eq. 13)",
                 "Simple random or systematic (Cochran 1977)"]
ALLOCATION_KEYS = ["proportional", "equal", "minimum", "neyman"]
ALLOCATION_LABELS = ["Proportional to mapped area", "Equal per class", "Minimum per class, the rest proportional",
                     "Neyman (area x sqrt(U(1 - U)))"]
TARGET_LABELS = ["Standard error of the overall accuracy", "Standard error of one class's user's accuracy"]


class SampleSizeAlgorithm(CsagfAlgorithm):
    """Plan the number of sample points and their allocation from a target standard error."""

    MAP = "MAP"
    DESIGN = "DESIGN"
    TARGET = "TARGET"
    TARGET_CLASS = "TARGET_CLASS"
    TARGET_SE = "TARGET_SE"
    EXPECTED_UA = "EXPECTED_UA"
    VALIDATION = "VALIDATION"
    MODEL = "MODEL"
    DEFAULT_UA = "DEFAULT_UA"
    ALLOCATION = "ALLOCATION"
    MIN_PER_CLASS = "MIN_PER_CLASS"
    OUTPUT_JSON = "OUTPUT_JSON"
    N = "N"
    N_PER_CLASS = "N_PER_CLASS"
    EXPECTED_SE = "EXPECTED_SE"

    def name(self) -> str:
        return "sample_size"

    def displayName(self) -> str:  # noqa: N802
        return "Sample size for accuracy assessment"

    def shortHelpString(self) -> str:  # noqa: N802
        return ("Plans a random-point accuracy assessment before drawing the points: from a target standard error "
                "of the overall accuracy (or of one class's user's accuracy) and the user's accuracy expected per "
                "class (typed, or read from csagf:evaluate's validation files), the total number of points "
                "(Olofsson et al. 2014 eq. 13 for stratified random sampling; Cochran 1977 for simple random) and "
                "their allocation (proportional, equal, a minimum per class, Neyman). The points per class can be "
                "passed to csagf:random_points as N_PER_CLASS.")

    def initAlgorithm(self, config=None) -> None:  # noqa: N802
        self._add(QgsProcessingParameterRasterLayer(self.MAP, "Functional-zone map"),
                  "The classified raster to assess; its pixel counts give the area share W_i of each class.")
        self._add(QgsProcessingParameterEnum(self.DESIGN, "Sampling design", options=DESIGN_LABELS, defaultValue=0),
                  "Stratified by map class gives every class its points; simple random gives rare classes few.")
        self._add(QgsProcessingParameterEnum(self.TARGET, "Target", options=TARGET_LABELS, defaultValue=0),
                  "What the standard error is for.")
        self._add(QgsProcessingParameterNumber(self.TARGET_SE, "Target standard error",
                                               QgsProcessingParameterNumber.Double, 0.01, False, 0.0001, 0.5),
                  "E.g. 0.01: a 95 % interval of about ± 0.02 (Olofsson et al. 2014 use 0.01 for OA).")
        self._add(QgsProcessingParameterNumber(self.TARGET_CLASS, "Class of the target (user's accuracy)",
                                               QgsProcessingParameterNumber.Integer, 1, True, 1),
                  "The class id whose user's accuracy the target standard error is for.")
        self._add(QgsProcessingParameterString(self.EXPECTED_UA, "Expected user's accuracies (e.g. 1:0.9,2:0.7)",
                                               optional=True),
                  "Class id:accuracy pairs. Classes not listed take the validation file's value, else the default.")
        self._add(QgsProcessingParameterFile(self.VALIDATION, "Validation metrics or confusion matrix (CSV)",
                                             optional=True, fileFilter="CSV files (*.csv)"),
                  "csagf:evaluate's <name>.csv (its precision is the user's accuracy) or <name>_confusion.csv "
                  "(rows reference, columns prediction), e.g. the model's validation on held-out tiles.")
        self._add(QgsProcessingParameterFile(self.MODEL, "Model whose card gives the expected accuracies (.onnx)",
                                             optional=True, fileFilter="ONNX models (*.onnx)"),
                  "The model that made the map: its card's validation precision per class, or else its validation "
                  "overall accuracy for every class, for the classes neither typed nor in the validation CSV.")
        self._add(QgsProcessingParameterNumber(self.DEFAULT_UA, "Expected user's accuracy of other classes",
                                               QgsProcessingParameterNumber.Double, 0.8, False, 0.0, 1.0),
                  "Used for every class without a typed or validated value.")
        self._add(QgsProcessingParameterEnum(self.ALLOCATION, "Allocation (stratified)", options=ALLOCATION_LABELS,
                                             defaultValue=2),
                  "Minimum per class (the default, as Olofsson et al. 2014 advise for rare classes) raises small "
                  "classes to the minimum and shares the rest by area; Neyman minimises the OA standard error.")
        self._add(QgsProcessingParameterNumber(self.MIN_PER_CLASS, "Minimum points per class",
                                               QgsProcessingParameterNumber.Integer, 50, False, 0),
                  "For the minimum-per-class allocation (Olofsson et al. 2014 suggest 50-100).")
        self._add(QgsProcessingParameterFileDestination(self.OUTPUT_JSON, "Plan (JSON)", "JSON files (*.json)",
                                                        optional=True, createByDefault=False),
                  "Every number of the plan.")
        self.addOutput(QgsProcessingOutputNumber(self.N, "Total points"))
        self.addOutput(QgsProcessingOutputString(self.N_PER_CLASS, "Points per class (for csagf:random_points)"))
        self.addOutput(QgsProcessingOutputNumber(self.EXPECTED_SE, "Expected standard error of the target"))

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        from dataclasses import asdict

        from ..core.accuracy.map_summary import summarise_map
        from ..core.accuracy.sample_size import plan_sample_size, read_expected_users_accuracy, users_accuracy_from_card

        layer = self.parameterAsRasterLayer(parameters, self.MAP, context)
        summary = summarise_map(layer.source(), progress=progress)
        if not summary.class_pixels:
            raise QgsProcessingException("The map has no classified pixel: pick a classified map.")
        typed = parse_class_values(self.parameterAsString(parameters, self.EXPECTED_UA, context) or "",
                                   "Expected user's accuracies", float, "1:0.9,2:0.7", "accuracy")
        validation_path = self.parameterAsFile(parameters, self.VALIDATION, context)
        validated = read_expected_users_accuracy(validation_path) if validation_path else {}
        names = class_names(map_legend(layer))
        model_path = self.parameterAsFile(parameters, self.MODEL, context)
        from_card: dict[int, float] = {}
        if model_path:
            from ..core.model import load_model

            card = load_model(model_path, "cpu").card
            from_card, note = users_accuracy_from_card(card.metrics, {c.id: c.name for c in card.classes})
            feedback.pushInfo(f"Model card of {model_path}: {note}.")
        default = self.parameterAsDouble(parameters, self.DEFAULT_UA, context)
        expected = {c: typed.get(c, validated.get(c, from_card.get(c, default))) for c in summary.class_pixels}
        for c in summary.class_pixels:
            source = ("typed" if c in typed else "validation" if c in validated else "model card" if c in from_card
                      else "default")
            feedback.pushInfo(f"{names.get(c, c)}: W = {summary.class_pixels[c] / summary.classified_pixels:.4f}, "
                              f"expected user's accuracy {expected[c]:.3f} ({source})")
        target_class = None
        if self.parameterAsEnum(parameters, self.TARGET, context) == 1:
            target_class = self.parameterAsInt(parameters, self.TARGET_CLASS, context)
        plan = plan_sample_size(expected, summary.class_pixels,
                                self.parameterAsDouble(parameters, self.TARGET_SE, context),
                                design=DESIGN_KEYS[self.parameterAsEnum(parameters, self.DESIGN, context)],
                                allocation=ALLOCATION_KEYS[self.parameterAsEnum(parameters, self.ALLOCATION, context)],
                                minimum=self.parameterAsInt(parameters, self.MIN_PER_CLASS, context),
                                target_class=target_class, population=float(summary.classified_pixels))
        for note in plan.notes:
            feedback.pushWarning(note)
        expected_se = (plan.expected_se_overall if target_class is None
                       else plan.expected_se_users[target_class])
        feedback.pushInfo(f"{plan.n} points ({plan.design.replace('_', ' ')}"
                          + (f", {plan.allocation} allocation" if plan.allocation else "")
                          + f"): {plan.per_class_text()}; expected standard error {expected_se:.4f} "
                          f"(Olofsson eq. 13 / Cochran n for OA: {plan.n_olofsson_eq13}).")
        outputs: dict[str, Any] = {self.N: plan.n, self.N_PER_CLASS: plan.per_class_text(),
                                   self.EXPECTED_SE: expected_se}
        json_path = self.parameterAsFileOutput(parameters, self.OUTPUT_JSON, context)
        if json_path:
            with open(json_path, "w", encoding="utf-8") as f:
                json.dump({k: ({str(c): v for c, v in value.items()} if isinstance(value, dict) else value)
                           for k, value in asdict(plan).items()}, f, indent=2)
            outputs[self.OUTPUT_JSON] = json_path
        return outputs
