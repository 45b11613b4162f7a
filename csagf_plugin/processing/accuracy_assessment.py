"""csagf:accuracy_assessment: area-weighted accuracy and class areas of a map from labelled random points."""

from __future__ import annotations

import math
from typing import Any

from qgis.core import (
    QgsFeatureRequest,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingOutputString,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsProcessingUtils,
)

from .base import CsagfAlgorithm, FeedbackProgress, require_points
from .legend import class_id_of, class_names, is_null, map_legend
from .outputs import source_file, write_report
from .random_points import DESIGN_FIELD, POINT_ID, REF_CLASS, STRATUM, STRATUM_PIXELS

# Options of the DESIGN, ESTIMATOR and VARIANCE enums, in the order of the keys beside them.
DESIGN_KEYS = ["", "simple_random", "stratified_random", "systematic", "stratified_random:other"]
DESIGN_LABELS = ["From the points (recorded by csagf:random_points)", "Simple random", "Stratified random by map class",
                 "Systematic", "Stratified random by other strata (Stehman 2014)"]
ESTIMATOR_KEYS = ["auto", "post_stratified", "simple_random", "stratified"]
ESTIMATOR_LABELS = ["The estimator of the design", "Post-stratified by map class (simple random, systematic)",
                    "Simple random: the sample itself (simple random, systematic)", "Stratified (Olofsson / Stehman)"]
VARIANCE_KEYS = ["cochran1977_5a40", "conditional"]
VARIANCE_LABELS = ["Unconditional: Cochran (1977) eq. 5A.40", "Conditional on the points per map class"]


class AccuracyAssessmentAlgorithm(CsagfAlgorithm):
    """Estimate overall, user's and producer's accuracy and the area of each class from labelled points."""

    MAP = "MAP"
    POINTS = "POINTS"
    MAP_FIELD = "MAP_FIELD"
    REFERENCE_FIELD = "REFERENCE_FIELD"
    STRATUM_FIELD = "STRATUM_FIELD"
    STRATA = "STRATA"
    CONFIDENCE = "CONFIDENCE"
    DESIGN = "DESIGN"
    ESTIMATOR = "ESTIMATOR"
    VARIANCE = "VARIANCE"
    SECOND_REFERENCE_FIELD = "SECOND_REFERENCE_FIELD"
    FINAL_REFERENCE_FIELD = "FINAL_REFERENCE_FIELD"
    TITLE = "TITLE"
    OUTPUT_HTML = "OUTPUT_HTML"
    OUTPUT_JSON = "OUTPUT_JSON"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    OVERALL_ACCURACY = "OVERALL_ACCURACY"
    POINTS_USED = "POINTS_USED"
    ESTIMATOR_USED = "ESTIMATOR_USED"
    INTERPRETER_AGREEMENT = "INTERPRETER_AGREEMENT"

    def name(self) -> str:
        return "accuracy_assessment"

    def displayName(self) -> str:  # noqa: N802
        return "Accuracy assessment from random points"

    def shortHelpString(self) -> str:  # noqa: N802
        return ("Builds the confusion matrix of a functional-zone map from points with a reference class (labelled "
                "by visual interpretation or by csagf:sample_reference) and estimates, with confidence intervals, "
                "the overall accuracy, each class's user's and producer's accuracy and its true area, with the "
                "estimator of the sampling design: the design csagf:random_points recorded in the points, or the "
                "one set here. Stratified by map class: Olofsson et al. (2014); by other strata: Stehman (2014); "
                "simple random and systematic: post-stratified by map class (default; variance unconditional, "
                "Cochran 1977 5A.40, or conditional on the points per class) or from the sample alone. With two "
                "interpreters' reference fields it reports their agreement (share, Cohen's kappa, the points they "
                "disagree on) and uses the final field where they were settled. Points outside the map, on class 0 "
                "or no data, without a reference class or with an unsettled disagreement are left out and counted. "
                "Writes an HTML report with a confusion-matrix heat map, a JSON file with every number (design, "
                "estimator and variance named) and CSV tables.")

    def initAlgorithm(self, config=None) -> None:  # noqa: N802
        self._add(QgsProcessingParameterRasterLayer(self.MAP, "Functional-zone map"),
                  "The classified raster being assessed; its pixel counts give the mapped area of each class.")
        self._add(QgsProcessingParameterFeatureSource(self.POINTS, "Labelled points",
                                                      [QgsProcessing.TypeVectorPoint]),
                  "Sample points with a reference class; any CRS (they are reprojected to the map's).")
        self._add(QgsProcessingParameterField(self.REFERENCE_FIELD, "Reference class field", REF_CLASS,
                                              self.POINTS),
                  "Field with each point's true class (class id or class name); empty values are left out.")
        self._add(QgsProcessingParameterField(self.MAP_FIELD, "Map class field (empty: read the map)",
                                              None, self.POINTS, optional=True),
                  "Field with the map class of each point. Leave empty to read the class under each point from the "
                  "map raster, which is the safe choice.", advanced=True)
        self._add(QgsProcessingParameterField(self.STRATUM_FIELD, "Stratum field (strata differ from map classes)",
                                              None, self.POINTS, optional=True),
                  "Field with the stratum of each point when the sample was stratified by something other than this "
                  "map's classes (Stehman 2014). Needs the strata raster for the stratum sizes.", advanced=True)
        self._add(QgsProcessingParameterRasterLayer(self.STRATA, "Strata raster (strata differ from map classes)",
                                                    optional=True),
                  "Raster of the strata the sample was drawn from (e.g. an older map); its pixel counts are the "
                  "stratum sizes. Without a stratum field, each point's stratum is read from it.", advanced=True)
        self._add(QgsProcessingParameterField(self.SECOND_REFERENCE_FIELD, "Second interpreter's reference field",
                                              None, self.POINTS, optional=True),
                  "The class the second interpreter gave each point, labelled independently of the first. Their "
                  "agreement is reported; where they disagree the final field decides.")
        self._add(QgsProcessingParameterField(self.FINAL_REFERENCE_FIELD, "Final reference field (settled)",
                                              None, self.POINTS, optional=True),
                  "The settled class of the points where the interpreters disagree (the dock writes ref_final). "
                  "Disagreements without a final class are left out.")
        self._add(QgsProcessingParameterEnum(self.DESIGN, "Sampling design", options=DESIGN_LABELS, defaultValue=0,
                                             optional=True),
                  "How the points were drawn. Default: the design csagf:random_points recorded in the layer "
                  "(metadata or design field); set it for points made elsewhere. Points without a recorded design "
                  "are taken as stratified by map class.")
        self._add(QgsProcessingParameterEnum(self.ESTIMATOR, "Estimator", options=ESTIMATOR_LABELS, defaultValue=0,
                                             optional=True),
                  "Default: the estimator of the design. Simple random and systematic samples can also be estimated "
                  "from the sample alone (every point weighs the same; the map's areas are not used).",
                  advanced=True)
        self._add(QgsProcessingParameterEnum(self.VARIANCE, "Post-stratified variance", options=VARIANCE_LABELS,
                                             defaultValue=0, optional=True),
                  "For simple random and systematic samples post-stratified by map class. Unconditional (Cochran "
                  "1977, 5A.40, default): the variance over repeated samples of the design used, where the points "
                  "per map class are random. Conditional: as if those counts had been fixed (Olofsson et al. 2014 "
                  "eqs. 5-10 as they stand, this tool's only formula before).", advanced=True)
        self._add(QgsProcessingParameterNumber(self.CONFIDENCE, "Confidence level (%)",
                                               QgsProcessingParameterNumber.Double, 95.0, False, 50.0, 99.9),
                  "Confidence level of every interval (normal approximation).")
        self._add(QgsProcessingParameterString(self.TITLE, "Report title", optional=True),
                  "Title of the HTML report; empty: 'Accuracy assessment of <map>'.", advanced=True)
        self._add(QgsProcessingParameterFileDestination(self.OUTPUT_HTML, "HTML report", "HTML files (*.html)"),
                  "The report: tables of accuracies and areas with confidence intervals and a heat map.")
        self._add(QgsProcessingParameterFileDestination(self.OUTPUT_JSON, "JSON with every number",
                                                        "JSON files (*.json)", optional=True, createByDefault=True),
                  "Every number of the assessment, machine-readable.")
        self._add(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, "Folder for CSV tables and heat map",
                                                          optional=True, createByDefault=True),
                  "accuracy_confusion_counts.csv, accuracy_area_proportions.csv, accuracy_per_class.csv and "
                  "accuracy_confusion.png.")
        self.addOutput(QgsProcessingOutputNumber(self.OVERALL_ACCURACY, "Overall accuracy (area-weighted)"))
        self.addOutput(QgsProcessingOutputNumber(self.POINTS_USED, "Points used"))
        self.addOutput(QgsProcessingOutputString(self.ESTIMATOR_USED, "Estimator and variance used"))
        self.addOutput(QgsProcessingOutputNumber(self.INTERPRETER_AGREEMENT,
                                                 "Share of points the interpreters agree on"))

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        from ..core.accuracy.estimators import assess_points, describe_estimator
        from ..core.accuracy.map_summary import classes_at_points, summarise_map
        from ..core.accuracy.report import assessment_report

        layer = self.parameterAsRasterLayer(parameters, self.MAP, context)
        points = self.parameterAsSource(parameters, self.POINTS, context)
        if points is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.POINTS))
        require_points(points, "labelled points")
        legend = map_legend(layer)
        names = class_names(legend)
        fields = {key: self.parameterAsString(parameters, key, context) or ""
                  for key in (self.REFERENCE_FIELD, self.MAP_FIELD, self.STRATUM_FIELD, self.SECOND_REFERENCE_FIELD,
                              self.FINAL_REFERENCE_FIELD)}
        for key, field in fields.items():
            if field and points.fields().indexOf(field) < 0:
                raise QgsProcessingException(f"The point layer has no field '{field}' ({key}): pick one of "
                                             f"{points.fields().names()}.")
        if not fields[self.REFERENCE_FIELD]:
            raise QgsProcessingException("Pick the field that holds the reference classes (REFERENCE_FIELD).")

        summary = summarise_map(layer.source(), progress=progress)
        read = self._read_points(points, layer.crs(), fields, names, context)
        x, y, reference, map_field, stratum_field, unreadable = read[:6]
        second, final, point_ids, design_values, point_strata, point_sizes = read[6:]
        if not x:
            raise QgsProcessingException("The point layer has no points with a geometry: create points with "
                                         "csagf:random_points, label them, then run the assessment.")
        if unreadable:
            feedback.pushWarning(f"{unreadable} reference values are neither class ids nor class names (the map's "
                                 f"legend: {', '.join(names.values())}; or the functional classes): those points "
                                 "are left out.")
        map_class = [int(c) for c in classes_at_points(layer.source(), x, y)]  # -1 outside the map
        if fields[self.MAP_FIELD]:
            differ = sum(1 for raster, field in zip(map_class, map_field) if raster >= 0 and field != raster)
            if differ:
                feedback.pushWarning(f"{differ} points carry a {fields[self.MAP_FIELD]} that differs from the map "
                                     "under them: was the map changed after the points were drawn?")
            map_class = [field if raster >= 0 else raster for raster, field in zip(map_class, map_field)]

        design = self._design(parameters, context, design_values, point_strata, point_sizes)
        if (design is not None and design.strata == "map_classes" and design.population
                and {int(k): float(v) for k, v in design.population.items()}
                != {int(k): float(v) for k, v in summary.class_pixels.items()}):
            feedback.pushWarning("The map's class areas differ from those recorded when the points were drawn: was "
                                 "the map changed, or are these points from another map? The estimates use the "
                                 "map's areas now.")
        stratum, stratum_pixels = self._strata(parameters, context, x, y, summary.crs_wkt, stratum_field,
                                               bool(fields[self.STRATUM_FIELD]))
        if stratum is None and design is not None and design.strata == "other" and design.population:
            stratum, stratum_pixels = point_strata, design.population  # strata recorded with the points
        assessment = assess_points(
            map_class, reference, summary.class_pixels, summary.pixel_area, summary.area_unit,
            stratum=stratum, stratum_pixels=stratum_pixels,
            confidence=self.parameterAsDouble(parameters, self.CONFIDENCE, context) / 100.0,
            map_nodata=summary.nodata, design=design,
            estimator=ESTIMATOR_KEYS[self.parameterAsEnum(parameters, self.ESTIMATOR, context)],
            variance=VARIANCE_KEYS[self.parameterAsEnum(parameters, self.VARIANCE, context)],
            second_reference=second if fields[self.SECOND_REFERENCE_FIELD] else None,
            final_ref=final if fields[self.FINAL_REFERENCE_FIELD] else None, point_ids=point_ids)
        assessment.warnings = summary.warnings + assessment.warnings

        html_path = self.parameterAsFileOutput(parameters, self.OUTPUT_HTML, context)
        json_path = self.parameterAsFileOutput(parameters, self.OUTPUT_JSON, context)
        folder = (self.parameterAsFileOutput(parameters, self.OUTPUT_FOLDER, context)
                  or QgsProcessingUtils.generateTempFilename("accuracy_tables"))
        title = (self.parameterAsString(parameters, self.TITLE, context)
                 or f"Accuracy assessment of {layer.name()}")
        strata = self.parameterAsRasterLayer(parameters, self.STRATA, context)
        inputs = {"map raster": layer.source(), "labelled points": source_file(self, parameters, self.POINTS, context),
                  "strata raster": strata.source() if strata is not None else None}
        write_report(lambda work: assessment_report(assessment, work, classes=legend, title=title), html_path,
                     json_path, folder, inputs, progress.warn)

        for warning in assessment.warnings:
            feedback.pushWarning(warning)
        oa = assessment.overall_accuracy
        margin = f"{oa.half_width:.3f}" if math.isfinite(oa.half_width) else "n/a (too few points per class)"
        used = describe_estimator(assessment)
        feedback.pushInfo(f"Sampling design: {assessment.design.get('description')}. Estimator: {used}.")
        if assessment.interpreters:
            agreement = assessment.interpreters
            feedback.pushInfo(f"Interpreters agree on {agreement['agreement']:.3f} of {agreement['n_both']} points "
                              f"(kappa {agreement['kappa']:.3f}); {len(agreement['disagreements'])} disagreements, "
                              f"{agreement['unsettled']} not settled.")
        feedback.pushInfo(f"Overall accuracy {oa.value:.3f} ± {margin} from {assessment.n_used} of "
                          f"{assessment.n_points} points; report: {html_path}")
        outputs: dict[str, Any] = {self.OUTPUT_HTML: html_path, self.OUTPUT_FOLDER: folder,
                                   self.OVERALL_ACCURACY: oa.value, self.POINTS_USED: assessment.n_used,
                                   self.ESTIMATOR_USED: f"{assessment.estimator}/{assessment.variance}",
                                   self.INTERPRETER_AGREEMENT: (assessment.interpreters or {}).get("agreement")}
        if json_path:
            outputs[self.OUTPUT_JSON] = json_path
        return outputs

    def _read_points(self, points, map_crs, fields: dict[str, str], names: dict[int, str], context):
        """Coordinates in the map's CRS and the per-point values: reference, map field, stratum field, second and
        final reference, point id, and the design fields of csagf:random_points (design, stratum, stratum_pixels)."""
        request = QgsFeatureRequest().setDestinationCrs(map_crs, context.transformContext())
        x: list[float] = []
        y: list[float] = []
        reference: list[int | None] = []
        map_field: list[int | None] = []
        stratum: list[int | None] = []
        second: list[int | None] = []
        final: list[int | None] = []
        point_ids: list[int] = []
        design_values: list[Any] = []
        point_strata: list[Any] = []
        point_sizes: list[Any] = []
        names_in_layer = set(points.fields().names())

        def value(feature, name: str) -> Any:
            return None if name not in names_in_layer or is_null(feature[name]) else feature[name]

        unreadable = 0
        for feature in points.getFeatures(request):
            if not feature.hasGeometry():
                continue
            point = QgsPointXY(feature.geometry().vertexAt(0))
            x.append(point.x())
            y.append(point.y())
            raw = feature[fields[self.REFERENCE_FIELD]]
            reference.append(class_id_of(raw, names))
            if reference[-1] is None and _is_text(raw):
                unreadable += 1
            map_field.append(class_id_of(feature[fields[self.MAP_FIELD]], names) if fields[self.MAP_FIELD]
                             else None)
            stratum.append(class_id_of(feature[fields[self.STRATUM_FIELD]]) if fields[self.STRATUM_FIELD]
                           else None)
            for key, values in ((self.SECOND_REFERENCE_FIELD, second), (self.FINAL_REFERENCE_FIELD, final)):
                values.append(class_id_of(feature[fields[key]], names) if fields[key] else None)
            point_id = value(feature, POINT_ID)
            point_ids.append(int(point_id) if point_id is not None else int(feature.id()))
            design_values.append(value(feature, DESIGN_FIELD))
            point_strata.append(value(feature, STRATUM))
            point_sizes.append(value(feature, STRATUM_PIXELS))
        return (x, y, reference, map_field, stratum, unreadable, second, final, point_ids, design_values,
                point_strata, point_sizes)

    def _design(self, parameters: dict, context, design_values: list, point_strata: list, point_sizes: list):
        """The sampling design: the parameter's, else the layer metadata's, else the design fields'; None if none."""
        from ..core.accuracy.design import SamplingDesign, from_fields
        from .sampling_design import read_design

        key = DESIGN_KEYS[self.parameterAsEnum(parameters, self.DESIGN, context)]
        recorded = from_fields(design_values, point_strata, point_sizes)
        if key:
            name, _, strata = key.partition(":")
            population = recorded.population if recorded is not None and strata == "other" else {}
            return SamplingDesign(name, strata=strata or ("map_classes" if name == "stratified_random" else "none"),
                                  population=population, source="parameter")
        metadata = read_design(self.parameterAsVectorLayer(parameters, self.POINTS, context))
        if metadata is not None:
            metadata.source = metadata.source or "layer metadata"
            return metadata
        return recorded

    def _strata(self, parameters: dict, context, x: list[float], y: list[float], map_crs_wkt: str,
                stratum_field: list[int | None], has_stratum_field: bool):
        """Per-point strata and stratum sizes (Stehman 2014), or (None, None) when the map classes are the strata."""
        from ..core.accuracy.map_summary import classes_at_points, summarise_map

        strata = self.parameterAsRasterLayer(parameters, self.STRATA, context)
        if strata is None:
            if has_stratum_field:
                raise QgsProcessingException("A stratum field needs the strata raster (STRATA) that gives the size "
                                             "of each stratum; or leave the stratum field empty.")
            return None, None
        sizes = summarise_map(strata.source()).class_pixels
        if has_stratum_field:
            return stratum_field, sizes
        return [int(h) for h in classes_at_points(strata.source(), x, y, map_crs_wkt)], sizes


def _is_text(value: Any) -> bool:
    """True for a non-empty string attribute (a value someone typed, as opposed to NULL)."""
    return isinstance(value, str) and bool(value.strip())
