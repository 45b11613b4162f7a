"""csagf:sample_reference: fill the points' ref_class from a reference raster or polygon layer."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from qgis.core import (
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsPointXY,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterRasterLayer,
    QgsSpatialIndex,
)

from ..core.errors import Canceled
from ..core.model_card import FUNCTIONAL_CLASSES
from .base import CsagfAlgorithm, FeedbackProgress, require_points
from .fields import make_field
from .legend import class_id_of, is_null
from .outputs import AtomicSink, source_file
from .random_points import MAP_CLASS, REF_CLASS


class SampleReferenceAlgorithm(CsagfAlgorithm):
    """Copy the reference class under each point into its ref_class field."""

    POINTS = "POINTS"
    REFERENCE = "REFERENCE"
    REFERENCE_VECTOR = "REFERENCE_VECTOR"
    FIELD = "FIELD"
    OUTPUT = "OUTPUT"

    def name(self) -> str:
        return "sample_reference"

    def displayName(self) -> str:  # noqa: N802
        return "Sample reference classes at points"

    def shortHelpString(self) -> str:  # noqa: N802
        return ("Fills the ref_class field of sample points from a reference map, for evaluating a map against a "
                "known one: a reference raster of class ids, or a polygon layer with a class field (class ids or "
                "the functional class names). Points and reference may be in different CRS. Points outside the "
                "reference, on its no data or on class 0 get an empty ref_class and are counted in the log.")

    def initAlgorithm(self, config=None) -> None:  # noqa: N802
        self._add(QgsProcessingParameterFeatureSource(self.POINTS, "Sample points",
                                                      [QgsProcessing.TypeVectorPoint]),
                  "Points to label, e.g. the output of csagf:random_points.")
        self._add(QgsProcessingParameterRasterLayer(self.REFERENCE, "Reference raster", optional=True),
                  "A raster of reference class ids (band 1; 0 and no data mean unknown).")
        self._add(QgsProcessingParameterFeatureSource(self.REFERENCE_VECTOR, "Reference polygons",
                                                      [QgsProcessing.TypeVectorPolygon], optional=True),
                  "Polygons with a reference class field; used when no reference raster is given.")
        self._add(QgsProcessingParameterField(self.FIELD, "Class field of the reference polygons", optional=True,
                                              parentLayerParameterName=self.REFERENCE_VECTOR),
                  "Field holding class ids (1-7) or functional class names.")
        self._add(QgsProcessingParameterFeatureSink(self.OUTPUT, "Points with reference classes",
                                                    QgsProcessing.TypeVectorPoint),
                  "The input points with ref_class filled.")

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        points = self.parameterAsSource(parameters, self.POINTS, context)
        if points is None:
            raise QgsProcessingException(self.invalidSourceError(parameters, self.POINTS))
        require_points(points, "sample points")
        raster = self.parameterAsRasterLayer(parameters, self.REFERENCE, context)
        polygons = self.parameterAsSource(parameters, self.REFERENCE_VECTOR, context)
        known = {c.id for c in FUNCTIONAL_CLASSES} | self._map_classes(points)
        unmatched: Counter[str] = Counter()
        if raster is not None:
            from ..core.value_checks import check_class_map  # rasterio: imported when run (see provider test)

            check_class_map(raster.source(), "reference")
            lookup = self._raster_lookup(raster, points.sourceCrs(), context, known, unmatched)
        elif polygons is not None:
            field = self.parameterAsString(parameters, self.FIELD, context)
            if not field or polygons.fields().indexOf(field) < 0:
                raise QgsProcessingException("Reference polygons need a class field: pick the field that holds the "
                                             "class ids or names (FIELD).")
            lookup = self._polygon_lookup(polygons, field, points.sourceCrs(), context, known, unmatched)
        else:
            raise QgsProcessingException("No reference given: pick a reference raster (REFERENCE) or reference "
                                         "polygons (REFERENCE_VECTOR) with their class field (FIELD).")

        fields = points.fields()
        if fields.indexOf(REF_CLASS) < 0:
            fields.append(make_field(REF_CLASS, "int"))
        ref_index = fields.indexOf(REF_CLASS)
        inputs = {"sample points": source_file(self, parameters, self.POINTS, context),
                  "reference raster": raster.source() if raster is not None else None,
                  "reference polygons": source_file(self, parameters, self.REFERENCE_VECTOR, context)}
        sink = AtomicSink(self, parameters, self.OUTPUT, context, fields, points.wkbType(), points.sourceCrs(),
                          inputs, "points with reference classes", progress.warn)
        total = max(points.featureCount(), 1)
        filled = unknown = 0
        try:
            for i, feature in enumerate(points.getFeatures()):
                if feedback.isCanceled():
                    raise Canceled("Sampling the reference was canceled: no output was written.")
                reference = lookup(feature) if feature.hasGeometry() else None
                attributes = feature.attributes() + [None] * (len(fields) - len(feature.attributes()))
                attributes[ref_index] = reference
                out = QgsFeature(fields)
                out.setGeometry(feature.geometry())
                out.setAttributes(attributes)
                sink.sink.addFeature(out, QgsFeatureSink.FastInsert)
                if reference is None:
                    unknown += 1
                else:
                    filled += 1
                feedback.setProgress(100.0 * (i + 1) / total)
            dest_id = sink.finish()
        except BaseException:
            sink.abort()
            raise
        feedback.pushInfo(f"ref_class filled for {filled} points.")
        self._keep_design(parameters, context, dest_id, feedback)
        if unmatched:
            listed = ", ".join(f"'{value}' ({n})" for value, n in unmatched.most_common(20))
            feedback.pushWarning(f"{sum(unmatched.values())} points have a reference value that matches no class "
                                 f"(class ids {sorted(known)} or the functional class names): {listed}. Their "
                                 "ref_class is left empty: map these values to classes, or fix the field.")
        if unknown:
            feedback.pushWarning(f"{unknown} points have no reference class (outside the reference, on no data, on "
                                 "class 0 or with a class that cannot be read): ref_class left empty.")
        return {self.OUTPUT: dest_id}

    @staticmethod
    def _map_classes(points) -> set[int]:
        """Class ids in the points' map_class field (classes of the map, which the reference may use too)."""
        index = points.fields().indexOf(MAP_CLASS)
        if index < 0:
            return set()
        return {int(v) for v in points.uniqueValues(index) if not is_null(v) and str(v).lstrip("-").isdigit()}

    def _keep_design(self, parameters: dict, context, dest_id: str, feedback) -> None:
        """Copy the sampling design of the input points' metadata (csagf:random_points') to the output."""
        from .sampling_design import read_design, write_design

        design = read_design(self.parameterAsVectorLayer(parameters, self.POINTS, context))
        problem = write_design(dest_id, design, context) if design is not None else None
        if problem:
            feedback.pushWarning(problem)

    @staticmethod
    def _raster_lookup(raster, points_crs, context, known: set[int], unmatched: Counter):
        """A function feature -> class id under it in band 1 of the reference raster (None where unknown)."""
        provider = raster.dataProvider()
        transform = QgsCoordinateTransform(points_crs, raster.crs(), context.transformContext())
        extent = raster.extent()
        nodata = provider.sourceNoDataValue(1) if provider.sourceHasNoDataValue(1) else None

        def lookup(feature: QgsFeature) -> int | None:
            point = transform.transform(QgsPointXY(feature.geometry().vertexAt(0)))
            if not extent.contains(point):
                return None
            value, ok = provider.sample(point, 1)
            if not ok or math.isnan(value) or (nodata is not None and value == nodata):
                return None
            class_id = class_id_of(value)
            if class_id and class_id not in known:
                unmatched[f"{value:g}"] += 1
                return None
            return class_id if class_id else None

        return lookup

    @staticmethod
    def _polygon_lookup(polygons, field: str, points_crs, context, known: set[int], unmatched: Counter):
        """A function feature -> class id of the reference polygon containing it (None where unknown)."""
        request = QgsFeatureRequest().setDestinationCrs(points_crs, context.transformContext())
        request.setSubsetOfAttributes([field], polygons.fields())
        index = QgsSpatialIndex()
        shapes: dict[int, tuple[Any, Any]] = {}
        for feature in polygons.getFeatures(request):
            if feature.hasGeometry():
                index.addFeature(feature)
                shapes[feature.id()] = (feature.geometry(), feature[field])

        def lookup(feature: QgsFeature) -> int | None:
            geometry = feature.geometry()
            for fid in index.intersects(geometry.boundingBox()):
                shape, value = shapes[fid]
                if shape.intersects(geometry):  # a point on a shared edge takes the first polygon found
                    class_id = class_id_of(value)
                    if (class_id is None and not is_null(value) and str(value).strip()) or (
                            class_id and class_id not in known):
                        unmatched[str(value)] += 1
                        return None
                    return class_id if class_id else None
            return None

        return lookup
