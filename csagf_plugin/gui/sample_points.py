"""The points being labelled, read from a point layer, and the reference fields the labels are written to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from qgis.core import QgsFeatureRequest, QgsPointXY, QgsVectorDataProvider, QgsVectorLayer

from ..processing.fields import make_field
from ..processing.legend import is_null
from ..processing.random_points import MAP_CLASS, POINT_ID


@dataclass
class SamplePoint:
    """One point of the layer being labelled."""

    fid: int  # feature id in the point layer
    point_id: int  # the point_id attribute (or the feature id when the layer has none)
    point: QgsPointXY  # location in the point layer's CRS
    map_class: int | None  # map_class attribute, when present


def read_sample_points(layer: QgsVectorLayer, label_field: str, keep: Callable[[object], bool] | None = None,
                       ) -> tuple[list[SamplePoint], dict[int, int | None]]:
    """The layer's points in point_id order (those `keep` accepts) and each one's label in `label_field`."""
    fields = layer.fields()
    has_id = fields.indexOf(POINT_ID) >= 0
    has_map = fields.indexOf(MAP_CLASS) >= 0
    points: list[SamplePoint] = []
    labels: dict[int, int | None] = {}
    for feature in layer.getFeatures(QgsFeatureRequest()):
        if not feature.hasGeometry() or (keep is not None and not keep(feature)):
            continue
        point_id = feature[POINT_ID] if has_id else None
        map_class = feature[MAP_CLASS] if has_map else None
        points.append(SamplePoint(
            fid=feature.id(),
            point_id=int(feature.id()) if is_null(point_id) else int(point_id),
            point=QgsPointXY(feature.geometry().vertexAt(0)),
            map_class=None if is_null(map_class) else int(map_class)))
        reference = feature[label_field]
        labels[feature.id()] = None if is_null(reference) else int(reference)
    points.sort(key=lambda p: (p.point_id, p.fid))
    return points, labels


def add_integer_fields(layer: QgsVectorLayer, names: list[str]) -> str | None:
    """Add the integer fields of `names` the layer's file lacks; None when done, else what the user must do."""
    missing = [f for f in dict.fromkeys(names) if layer.fields().indexOf(f) < 0]
    if not missing:
        return None
    provider = layer.dataProvider()
    if not provider.capabilities() & QgsVectorDataProvider.AddAttributes:
        return (f"{layer.name()} has no {', '.join(missing)} field and its format cannot add one: save it as a "
                "GeoPackage first.")
    provider.addAttributes([make_field(f, "int") for f in missing])
    layer.updateFields()
    absent = [f for f in missing if layer.fields().indexOf(f) < 0]
    return f"Could not add {', '.join(absent)} to {layer.name()}." if absent else None
