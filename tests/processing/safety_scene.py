"""Small inputs for the safety tests: a synthetic city, rasters with odd values, polygons, and a folder snapshot."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import rasterio

TEMP_MARK = ".csagf-partial-"


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under a folder, hidden ones included: inputs must stay byte-identical
    and no output, partial file or temporary file may appear."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def temp_files(folder: Path) -> list[Path]:
    """Temporary files (or folders) of the plugin under a folder."""
    return [p for p in folder.rglob("*") if TEMP_MARK in p.name]


def city(folder: Path, size_px: int = 256, seed: int = 3):
    """The synthetic city (VHR uint8 at 0.5 m in UTM, NTL in EPSG:4326, labels)."""
    from csagf_plugin.benchmark_city import generate_city

    return generate_city(folder, size_px=size_px, seed=seed)


def write_like(path: Path, template: Path, data: np.ndarray, **profile) -> Path:
    """A GeoTIFF on the template's grid holding `data` [B, H, W] (dtype and nodata from `data` and `profile`)."""
    with rasterio.open(template) as src:
        meta = src.profile
    meta.update({"count": data.shape[0], "dtype": str(data.dtype), "nodata": None, **profile})
    meta.pop("photometric", None)
    with rasterio.open(path, "w", **meta) as dst:
        dst.write(data)
    return path


def read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read()


def polygons(path: Path, template: Path, values: list[str], field: str = "fclass") -> Path:
    """A GeoPackage of vertical strips over the template raster, one per value, with the values in `field`."""
    from osgeo import ogr, osr

    with rasterio.open(template) as src:
        left, bottom, right, top = src.bounds
        wkt = src.crs.to_wkt()
    driver = ogr.GetDriverByName("GPKG")
    ds = driver.CreateDataSource(str(path))
    srs = osr.SpatialReference()
    srs.ImportFromWkt(wkt)
    layer = ds.CreateLayer("zones", srs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn(field, ogr.OFTString))
    width = (right - left) / len(values)
    for i, value in enumerate(values):
        x0, x1 = left + i * width, left + (i + 1) * width
        ring = ogr.Geometry(ogr.wkbLinearRing)
        for x, y in ((x0, bottom), (x1, bottom), (x1, top), (x0, top), (x0, bottom)):
            ring.AddPoint_2D(x, y)
        polygon = ogr.Geometry(ogr.wkbPolygon)
        polygon.AddGeometry(ring)
        feature = ogr.Feature(layer.GetLayerDefn())
        feature.SetField(field, value)
        feature.SetGeometry(polygon)
        layer.CreateFeature(feature)
    ds = None
    return path
