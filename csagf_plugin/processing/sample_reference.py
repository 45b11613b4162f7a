"""csagf:sample_reference: fill the points' ref_class from a reference raster or polygon layer."""

from __future__ import annotations

import math
from typing import Any

from qgis.core import (
    QgsCoordinateTransform,
    QgsFeature,
    QgsFeatureRequest,
    QgsFeatureSink,
    QgsField,
    QgsProcessing,
    QgsProcessingException,
    QgsProcessingParameterFeatureSink,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterField,
    QgsProcessingParameterRasterLayer,
    QgsPointXY,
    QgsSpatialIndex,
)
from qgis.PyQt.QtCore import QVariant

from .base import CsagfAlgorithm, FeedbackProgress
from .legend import class_id_of
from .random_points import REF_CLASS

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
        raster = self.parameterAsRasterLayer(parameters, self.REFERENCE, context)
        polygons = self.parameterAsSource(parameters, self.REFERENCE_VECTOR, context)
        if raster is not None:
            lookup = self._raster_lookup(raster, points.sourceCrs(), context)
        elif polygons is not None:
            field = self.parameterAsString(parameters, self.FIELD, context)
            if not field or polygons.fields().indexOf(field) < 0:
                raise QgsProcessingException("Reference polygons need a class field: pick the field that holds the "
                                             "class ids or names (FIELD).")
            lookup = self._polygon_lookup(polygons, field, points.sourceCrs(), context)
        else:
            raise QgsProcessingException("No reference given: pick a reference raster (REFERENCE) or reference "
                                         "polygons (REFERENCE_VECTOR) with their class field (FIELD).")

        fields = points.fields()
        if fields.indexOf(REF_CLASS) < 0:
            fields.append(QgsField(REF_CLASS, QVariant.Int))
        ref_index = fields.indexOf(REF_CLASS)
        sink, dest_id = self.parameterAsSink(parameters, self.OUTPUT, context, fields, points.wkbType(),
                                             points.sourceCrs())
        if sink is None:
            raise QgsProcessingException(self.invalidSinkError(parameters, self.OUTPUT))
        total = max(points.featureCount(), 1)
        filled = unknown = 0
        for i, feature in enumerate(points.getFeatures()):
            if feedback.isCanceled():
                break
            reference = lookup(feature) if feature.hasGeometry() else None
            attributes = feature.attributes() + [None] * (len(fields) - len(feature.attributes()))
            attributes[ref_index] = reference
            out = QgsFeature(fields)
            out.setGeometry(feature.geometry())
            out.setAttributes(attributes)
            sink.addFeature(out, QgsFeatureSink.FastInsert)
            if reference is None:
                unknown += 1
            else:
                filled += 1
            feedback.setProgress(100.0 * (i + 1) / total)
        feedback.pushInfo(f"ref_class filled for {filled} points.")
        if unknown:
            feedback.pushWarning(f"{unknown} points have no reference class (outside the reference, on no data, on "
                                 "class 0 or with a class that cannot be read): ref_class left empty.")
        return {self.OUTPUT: dest_id}

    @staticmethod
    def _raster_lookup(raster, points_crs, context):
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
            return class_id if class_id else None

        return lookup

    @staticmethod
    def _polygon_lookup(polygons, field: str, points_crs, context):
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
                    return class_id if class_id else None
            return None

        return lookup
