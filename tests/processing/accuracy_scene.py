"""Tiny seeded rasters and point layers for the accuracy tools' tests (QGIS and GUI tests share them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES
from csagf_plugin.core.style import colormap

CRS = "EPSG:32650"  # UTM 50N, Guangzhou
ORIGIN = (500000.0, 2560000.0)  # top-left corner, metres
PIXEL = 10.0  # metres
SIZE = 40  # pixels per side
NAMES = {1: "Homes", 2: "Shops", 3: "Factories", 4: "Parks"}  # custom category names: the legend must show them


def map_array() -> np.ndarray:
    """A 40 x 40 map: four 20 x 20 quadrants of classes 1..4, with a 2-pixel class-0 strip along the top."""
    classes = np.zeros((SIZE, SIZE), dtype=np.uint8)
    half = SIZE // 2
    classes[:half, :half] = 1
    classes[:half, half:] = 2
    classes[half:, :half] = 3
    classes[half:, half:] = 4
    classes[:2, :] = 0
    return classes


def reference_array() -> np.ndarray:
    """The map with a known error: the left half of quadrant 2 (shops) is really homes (class 1)."""
    reference = map_array()
    half = SIZE // 2
    reference[2:half, half:half + half // 2] = 1
    return reference


def write_classes(path: Path, classes: np.ndarray, names: dict[int, str] | None = NAMES) -> Path:
    """Write a uint8 class raster with nodata 0, a colour table and (optionally) GDAL category names."""
    profile = dict(driver="GTiff", width=classes.shape[1], height=classes.shape[0], count=1, dtype="uint8",
                   crs=CRS, transform=from_origin(*ORIGIN, PIXEL, PIXEL), nodata=0)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(classes, 1)
        dst.write_colormap(1, colormap(FUNCTIONAL_CLASSES))
    if names:
        from osgeo import gdal

        dataset = gdal.Open(str(path), gdal.GA_Update)
        dataset.GetRasterBand(1).SetCategoryNames([names.get(v, "") for v in range(max(names) + 1)])
        dataset = None
    return path


def pixel_centre(row: int, col: int) -> tuple[float, float]:
    """Map coordinates of a pixel centre of the test grid."""
    return ORIGIN[0] + (col + 0.5) * PIXEL, ORIGIN[1] - (row + 0.5) * PIXEL


def write_points(path: Path, rows_cols: list[tuple[int, int]], crs: str = CRS,
                 ref_class: list[int | None] | None = None) -> Path:
    """A GeoPackage of points at the given pixel centres, with point_id, map_class (from the map) and ref_class."""
    from qgis.core import (
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsFeature,
        QgsGeometry,
        QgsPointXY,
        QgsProject,
        QgsVectorFileWriter,
        QgsVectorLayer,
    )

    from csagf_plugin.processing.fields import make_field

    layer = QgsVectorLayer(f"Point?crs={crs}", "points", "memory")
    provider = layer.dataProvider()
    provider.addAttributes([make_field("point_id", "int"), make_field("map_class", "int"),
                            make_field("ref_class", "int")])
    layer.updateFields()
    transform = QgsCoordinateTransform(QgsCoordinateReferenceSystem(CRS), QgsCoordinateReferenceSystem(crs),
                                       QgsProject.instance())
    classes = map_array()
    features = []
    for i, (row, col) in enumerate(rows_cols):
        feature = QgsFeature(layer.fields())
        inside = 0 <= row < SIZE and 0 <= col < SIZE
        reference = ref_class[i] if ref_class is not None else None
        feature.setAttributes([i + 1, int(classes[row, col]) if inside else None, reference])
        feature.setGeometry(QgsGeometry.fromPointXY(transform.transform(QgsPointXY(*pixel_centre(row, col)))))
        features.append(feature)
    provider.addFeatures(features)
    options = QgsVectorFileWriter.SaveVectorOptions()
    options.driverName = "GPKG"
    error = QgsVectorFileWriter.writeAsVectorFormatV3(layer, str(path), QgsProject.instance().transformContext(),
                                                      options)
    assert error[0] == QgsVectorFileWriter.NoError, error
    return path
