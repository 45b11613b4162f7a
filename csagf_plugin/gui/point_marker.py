"""What the accuracy dock draws on the map canvas: a cross on the point being labelled, the outline of the map
pixel under it (the area the label is about), and the style of the sample-point layer."""

from __future__ import annotations

import math

from qgis.core import (
    QgsCoordinateReferenceSystem,
    QgsCoordinateTransform,
    QgsGeometry,
    QgsMarkerSymbol,
    QgsPointXY,
    QgsProject,
    QgsRasterLayer,
    QgsRectangle,
    QgsRuleBasedRenderer,
    QgsVectorLayer,
    QgsWkbTypes,
)
from qgis.gui import QgsRubberBand, QgsVertexMarker
from qgis.PyQt.QtGui import QColor

from ..processing.random_points import REF_CLASS

MARKER_COLOR = QColor("#00e5ff")
DEFAULT_SCALE = 1000.0


def style_sample_points(layer: QgsVectorLayer) -> None:
    """Draw unlabelled points as hollow yellow rings and labelled ones as filled cyan dots."""
    root = QgsRuleBasedRenderer.Rule(None)
    rules = (
        ({"name": "circle", "color": "0,0,0,0", "outline_color": "#ffd400", "outline_width": "0.6", "size": "3.2"},
         f'"{REF_CLASS}" IS NULL', "not labelled"),
        ({"name": "circle", "color": MARKER_COLOR.name(), "outline_color": "#000000", "outline_width": "0.3",
          "size": "2.4"}, f'"{REF_CLASS}" IS NOT NULL', "labelled"),
    )
    for properties, expression, label in rules:
        root.appendChild(QgsRuleBasedRenderer.Rule(QgsMarkerSymbol.createSimple(properties), 0, 0, expression, label))
    layer.setRenderer(QgsRuleBasedRenderer(root))
    layer.triggerRepaint()


class PointMarker:
    """The cross and the pixel outline of the point on screen; created on first use, removed by `remove`."""

    def __init__(self, canvas) -> None:
        self.canvas = canvas
        self.marker: QgsVertexMarker | None = None
        self.pixel_band: QgsRubberBand | None = None

    def show_point(self, point: QgsPointXY, point_crs: QgsCoordinateReferenceSystem,
                   map_layer: QgsRasterLayer | None, scale: float) -> None:
        """Centre the canvas on `point` at `scale` (DEFAULT_SCALE when 0), mark it and outline its map pixel."""
        project = QgsProject.instance()
        to_canvas = QgsCoordinateTransform(point_crs, self.canvas.mapSettings().destinationCrs(), project)
        centre = to_canvas.transform(point)
        # Centre on a box of 2 map units first: zoomScale scales the current extent, which may still be empty
        # (and the canvas clamps much smaller boxes).
        self.canvas.setExtent(QgsRectangle(centre.x() - 1.0, centre.y() - 1.0, centre.x() + 1.0, centre.y() + 1.0))
        self.canvas.zoomScale(scale or DEFAULT_SCALE)
        if self.marker is None:
            self.marker = QgsVertexMarker(self.canvas)
            self.marker.setIconType(QgsVertexMarker.ICON_CROSS)
            self.marker.setColor(MARKER_COLOR)
            self.marker.setPenWidth(2)
            self.marker.setIconSize(24)
        self.marker.setCenter(centre)
        self.marker.show()
        self._outline_map_pixel(point, point_crs, map_layer)
        self.canvas.refresh()

    def _outline_map_pixel(self, point: QgsPointXY, point_crs: QgsCoordinateReferenceSystem,
                           map_layer: QgsRasterLayer | None) -> None:
        if self.pixel_band is None:
            self.pixel_band = QgsRubberBand(self.canvas, QgsWkbTypes.PolygonGeometry)
            self.pixel_band.setStrokeColor(MARKER_COLOR)
            self.pixel_band.setFillColor(QColor(0, 0, 0, 0))
            self.pixel_band.setWidth(2)
        self.pixel_band.reset(QgsWkbTypes.PolygonGeometry)
        if map_layer is None:
            return
        xy = QgsCoordinateTransform(point_crs, map_layer.crs(), QgsProject.instance()).transform(point)
        extent = map_layer.extent()
        dx, dy = map_layer.rasterUnitsPerPixelX(), map_layer.rasterUnitsPerPixelY()
        if not extent.contains(xy) or dx <= 0 or dy <= 0:
            return
        left = extent.xMinimum() + math.floor((xy.x() - extent.xMinimum()) / dx) * dx
        top = extent.yMaximum() - math.floor((extent.yMaximum() - xy.y()) / dy) * dy
        pixel = QgsGeometry.fromRect(QgsRectangle(left, top - dy, left + dx, top))
        self.pixel_band.setToGeometry(pixel, map_layer.crs())

    def show(self) -> None:
        """Show the cross again (after the dock was hidden)."""
        if self.marker is not None:
            self.marker.show()

    def hide(self) -> None:
        """Hide the cross and the outline, keeping them for the next point."""
        if self.marker is not None:
            self.marker.hide()
        if self.pixel_band is not None:
            self.pixel_band.reset(QgsWkbTypes.PolygonGeometry)

    def remove(self) -> None:
        """Take the cross and the outline off the canvas for good."""
        for item in (self.marker, self.pixel_band):
            if item is not None:
                self.canvas.scene().removeItem(item)
        self.marker = self.pixel_band = None
