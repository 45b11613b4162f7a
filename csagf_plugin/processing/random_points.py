"""csagf:random_points: random points on a functional-zone map, by a sampling design, ready to be labelled."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsFields,
    QgsGeometry,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterDistance,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
    QgsWkbTypes,
)

from .base import CsagfAlgorithm, FeedbackProgress
from .fields import make_field
from .legend import class_names, map_legend
from .outputs import AtomicSink

# Labels in the order of core.accuracy.design.DESIGNS, ALLOCATION_KEYS and SYSTEMATIC_KINDS (enums pass indices).
DESIGN_LABELS = ["Simple random", "Stratified random by map class", "Systematic (regular grid, random start)"]
ALLOCATION_KEYS = ["proportional", "equal", "minimum", "neyman"]
ALLOCATION_LABELS = ["Proportional to mapped area", "Equal per class",
                     "Minimum per class, the rest proportional", "Neyman (needs expected user's accuracies)"]
LAYOUT_LABELS = ["Aligned (the same offset in every cell)", "Unaligned (a random offset in every cell)"]

# The attribute table every labelling step relies on (the dialog and csagf:accuracy_assessment read these names).
POINT_ID = "point_id"
MAP_CLASS = "map_class"
MAP_NAME = "map_name"
REF_CLASS = "ref_class"
DESIGN_FIELD = "design"  # the sampling design, e.g. "stratified_random:map_classes" (core.accuracy.design)
STRATUM = "stratum"  # the point's stratum: its map class when stratified by map class, -1 when unstratified
STRATUM_PIXELS = "stratum_pixels"  # the size of that stratum in pixels


def point_fields() -> QgsFields:
    """Fields of a sample-point layer: point_id, map_class, map_name, ref_class (empty until labelled), and the
    design fields (design, stratum, stratum_pixels) that let the assessment pick its estimator."""
    fields = QgsFields()
    fields.append(make_field(POINT_ID, "int"))
    fields.append(make_field(MAP_CLASS, "int"))
    fields.append(make_field(MAP_NAME, "string", 80))
    fields.append(make_field(REF_CLASS, "int"))
    fields.append(make_field(DESIGN_FIELD, "string", 40))
    fields.append(make_field(STRATUM, "int"))
    fields.append(make_field(STRATUM_PIXELS, "double"))
    return fields


def parse_class_values(text: str, what: str = "Points per class", cast=int, example: str = "1:50,2:30,3:30",
                       unit: str = "count") -> dict:
    """Parse "1:50, 2:30" (class id:value pairs, commas or semicolons) into {1: 50, 2: 30}."""
    values: dict = {}
    for item in text.replace(";", ",").split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition(":")
        try:
            if not sep:
                raise ValueError
            values[int(key)] = cast(value)
        except ValueError:
            raise QgsProcessingException(
                f"{what} '{text}' cannot be read at '{item.strip()}': write class id:{unit} pairs separated "
                f"by commas, e.g. {example}.") from None
    return values


def parse_counts_per_class(text: str) -> dict[int, int]:
    """Parse "1:50, 2:30" (class id:count pairs) into {1: 50, 2: 30}."""
    return parse_class_values(text)


class RandomPointsAlgorithm(CsagfAlgorithm):
    """Draw sample points on a classified map for a random-point accuracy assessment."""

    MAP = "MAP"
    DESIGN = "DESIGN"
    N = "N"
    N_PER_CLASS = "N_PER_CLASS"
    ALLOCATION = "ALLOCATION"
    MIN_PER_CLASS = "MIN_PER_CLASS"
    MIN_DISTANCE = "MIN_DISTANCE"
    SEED = "SEED"
    LAYOUT = "LAYOUT"
    EXPECTED_UA = "EXPECTED_UA"
    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "random_points"

    def displayName(self) -> str:  # noqa: N802
        return "Random points for accuracy assessment"

    def shortHelpString(self) -> str:  # noqa: N802
        return ("Draws sample points at pixel centres of a functional-zone map, by simple random, stratified random "
                "(by map class) or systematic design, as good practice asks (Olofsson et al. 2014). Class 0 and "
                "no-data pixels are never drawn. The output has the fields point_id, map_class, map_name and an empty "
                "ref_class to fill by visual interpretation (Raster > CSAGF > Assess accuracy by random points) or "
                "from a reference map (csagf:sample_reference); then run csagf:accuracy_assessment.")

    def initAlgorithm(self, config=None) -> None:  # noqa: N802
        self._add(QgsProcessingParameterRasterLayer(self.MAP, "Functional-zone map"),
                  "A classified raster (class ids in band 1, 0 = no data), e.g. the output of csagf:classify.")
        self._add(QgsProcessingParameterEnum(self.DESIGN, "Sampling design", options=DESIGN_LABELS, defaultValue=1),
                  "Stratified random by map class is the usual choice: it gives rare classes enough points.")
        self._add(QgsProcessingParameterNumber(self.N, "Number of points", QgsProcessingParameterNumber.Integer,
                                               100, False, 0),
                  "Total number of points. With a stratified design it is split between classes by the allocation; "
                  "ignored when points per class are given.")
        self._add(QgsProcessingParameterString(self.N_PER_CLASS, "Points per class (stratified, e.g. 1:50,2:30)",
                                               optional=True),
                  "Fixed number of points per map class as class id:count pairs. When given, it replaces the total "
                  "and the allocation.")
        self._add(QgsProcessingParameterEnum(self.ALLOCATION, "Allocation (stratified)", options=ALLOCATION_LABELS,
                                             defaultValue=0),
                  "How a stratified design splits the total between classes.", advanced=True)
        self._add(QgsProcessingParameterNumber(self.MIN_PER_CLASS, "Minimum points per class (stratified)",
                                               QgsProcessingParameterNumber.Integer, 0, False, 0),
                  "Raise each class to at least this many points (Olofsson et al. 2014 suggest 50-100 for rare "
                  "classes when the budget allows).", advanced=True)
        self._add(QgsProcessingParameterDistance(self.MIN_DISTANCE, "Minimum distance between points",
                                                 0.0, self.MAP, False, 0.0),
                  "Points closer than this to an earlier point are redrawn (map units of the map raster).",
                  advanced=True)
        self._add(QgsProcessingParameterNumber(self.SEED, "Random seed", QgsProcessingParameterNumber.Integer,
                                               1, False, 0),
                  "The same seed and inputs give the same points.", advanced=True)
        self._add(QgsProcessingParameterEnum(self.LAYOUT, "Systematic grid", options=LAYOUT_LABELS, defaultValue=0,
                                             optional=True),
                  "Aligned: a regular grid with a random start. Unaligned: one point at a random place in every grid "
                  "cell. Either way every pixel has the same chance; the number of points is the number of cells "
                  "whose point falls on the map, close to the number asked (the log says why it differs).",
                  advanced=True)
        self._add(QgsProcessingParameterString(self.EXPECTED_UA, "Expected user's accuracies (Neyman allocation)",
                                               optional=True),
                  "Class id:accuracy pairs, e.g. 1:0.9,2:0.7,3:0.8: the Neyman allocation gives each class points in "
                  "proportion to its area times sqrt(U(1 - U)). csagf:sample_size plans n from them.", advanced=True)
        self._add(QgsProcessingParameterFeatureSink(self.OUTPUT, "Sample points", QgsProcessing.TypeVectorPoint),
                  "Points in the map's CRS with point_id, map_class, map_name, an empty ref_class and the design "
                  "fields (design, stratum, stratum_pixels); the layer metadata records the whole design (allocation, "
                  "seed, stratum sizes) for csagf:accuracy_assessment.")

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        from ..core.accuracy.design import SYSTEMATIC_KINDS, field_value
        from ..core.accuracy.sampling import DESIGNS, STRATIFIED_RANDOM, sample_points
        from ..core.value_checks import check_class_map  # rasterio: imported when run (see provider test)
        from .sampling_design import write_design

        layer = self.parameterAsRasterLayer(parameters, self.MAP, context)
        check_class_map(layer.source(), "map")
        design = DESIGNS[self.parameterAsEnum(parameters, self.DESIGN, context)]
        per_class = parse_counts_per_class(self.parameterAsString(parameters, self.N_PER_CLASS, context) or "")
        if per_class and design != STRATIFIED_RANDOM:
            feedback.pushWarning("Points per class only apply to a stratified design; the "
                                 f"{design.replace('_', ' ')} design uses the total number of points.")
            per_class = {}
        n = self.parameterAsInt(parameters, self.N, context)
        if n <= 0 and not per_class:
            raise QgsProcessingException("Number of points is 0: give a number of points above 0 (or points per "
                                         "class with a stratified design).")
        points = sample_points(
            layer.source(),
            design=design,
            n=None if per_class else n,
            n_per_class=per_class or None,
            allocation=ALLOCATION_KEYS[self.parameterAsEnum(parameters, self.ALLOCATION, context)],
            min_per_class=self.parameterAsInt(parameters, self.MIN_PER_CLASS, context),
            min_distance=self.parameterAsDouble(parameters, self.MIN_DISTANCE, context),
            seed=self.parameterAsInt(parameters, self.SEED, context),
            progress=progress,
            layout=SYSTEMATIC_KINDS[self.parameterAsEnum(parameters, self.LAYOUT, context)],
            user_accuracies=parse_class_values(self.parameterAsString(parameters, self.EXPECTED_UA, context) or "",
                                               "Expected user's accuracies", float, "1:0.9,2:0.7",
                                               "accuracy") or None,
        )
        design_record = points.sampling_design
        design_text = field_value(design_record)
        strata = points.stratum_of_points()
        names = class_names(map_legend(layer))
        out = AtomicSink(self, parameters, self.OUTPUT, context, point_fields(), QgsWkbTypes.Point, layer.crs(),
                         {"map raster": layer.source()}, "sample points", progress.warn)
        count = len(points.x)
        try:
            for i in range(count):
                feature = QgsFeature()
                feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(float(points.x[i]), float(points.y[i]))))
                map_class = int(points.map_class[i])
                stratum = int(strata[i])
                feature.setAttributes([i + 1, map_class, names.get(map_class, f"Class {map_class}"), None,
                                       design_text, stratum, float(points.population.get(stratum, float("nan")))])
                out.sink.addFeature(feature, QgsFeatureSink.FastInsert)
            dest_id = out.finish()
        except BaseException:
            out.abort()
            raise
        problem = write_design(dest_id, design_record, context)
        if problem:
            feedback.pushWarning(problem)
        for warning in points.warnings:
            feedback.pushWarning(warning)
        feedback.pushInfo(f"{count} points drawn ({design_record.describe()}): "
                          + ", ".join(f"{names.get(c, c)} {k}" for c, k in points.counts().items()) + ".")
        return {self.OUTPUT: dest_id}
