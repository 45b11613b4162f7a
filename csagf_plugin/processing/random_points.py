"""csagf:random_points: random points on a functional-zone map, by a sampling design, ready to be labelled."""

from __future__ import annotations

from typing import Any

from qgis.core import (
    QgsFeature,
    QgsFeatureSink,
    QgsField,
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
from qgis.PyQt.QtCore import QVariant

from ..core.value_checks import check_class_map
from .base import CsagfAlgorithm, FeedbackProgress
from .legend import class_names, map_legend
from .outputs import AtomicSink

# Labels in the order of core.accuracy.sampling.DESIGNS and ALLOCATIONS (the enums pass indices into those).
DESIGN_LABELS = ["Simple random", "Stratified random by map class", "Systematic (regular grid, random start)"]
ALLOCATION_LABELS = ["Proportional to mapped area", "Equal per class"]

# The attribute table every labelling step relies on (the dialog and csagf:accuracy_assessment read these names).
POINT_ID = "point_id"
MAP_CLASS = "map_class"
MAP_NAME = "map_name"
REF_CLASS = "ref_class"


def point_fields() -> QgsFields:
    """Fields of a sample-point layer: point_id, map_class, map_name, ref_class (empty until labelled)."""
    fields = QgsFields()
    fields.append(QgsField(POINT_ID, QVariant.Int))
    fields.append(QgsField(MAP_CLASS, QVariant.Int))
    fields.append(QgsField(MAP_NAME, QVariant.String, len=80))
    fields.append(QgsField(REF_CLASS, QVariant.Int))
    return fields


def parse_counts_per_class(text: str) -> dict[int, int]:
    """Parse "1:50, 2:30" (class id:count pairs, commas or semicolons) into {1: 50, 2: 30}."""
    counts: dict[int, int] = {}
    for item in text.replace(";", ",").split(","):
        if not item.strip():
            continue
        key, sep, value = item.partition(":")
        try:
            if not sep:
                raise ValueError
            counts[int(key)] = int(value)
        except ValueError:
            raise QgsProcessingException(
                f"Points per class '{text}' cannot be read at '{item.strip()}': write class id:count pairs separated "
                "by commas, e.g. 1:50,2:30,3:30.") from None
    return counts


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
        self._add(QgsProcessingParameterFeatureSink(self.OUTPUT, "Sample points", QgsProcessing.TypeVectorPoint),
                  "Points in the map's CRS with point_id, map_class, map_name and an empty ref_class.")

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        from ..core.accuracy.sampling import ALLOCATIONS, DESIGNS, STRATIFIED_RANDOM, sample_points

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
            allocation=ALLOCATIONS[self.parameterAsEnum(parameters, self.ALLOCATION, context)],
            min_per_class=self.parameterAsInt(parameters, self.MIN_PER_CLASS, context),
            min_distance=self.parameterAsDouble(parameters, self.MIN_DISTANCE, context),
            seed=self.parameterAsInt(parameters, self.SEED, context),
            progress=progress,
        )
        names = class_names(map_legend(layer))
        out = AtomicSink(self, parameters, self.OUTPUT, context, point_fields(), QgsWkbTypes.Point, layer.crs(),
                         {"map raster": layer.source()}, "sample points", progress.warn)
        count = len(points.x)
        try:
            for i in range(count):
                feature = QgsFeature()
                feature.setGeometry(QgsGeometry.fromPointXY(QgsPointXY(float(points.x[i]), float(points.y[i]))))
                map_class = int(points.map_class[i])
                feature.setAttributes([i + 1, map_class, names.get(map_class, f"Class {map_class}"), None])
                out.sink.addFeature(feature, QgsFeatureSink.FastInsert)
            dest_id = out.finish()
        except BaseException:
            out.abort()
            raise
        for warning in points.warnings:
            feedback.pushWarning(warning)
        feedback.pushInfo(f"{count} points drawn ({design.replace('_', ' ')} design, seed {points.seed}): "
                          + ", ".join(f"{names.get(c, c)} {k}" for c, k in points.counts().items()) + ".")
        return {self.OUTPUT: dest_id}
