"""Raster access shared by inference and training: opening with clear errors, and NTL warped onto a VHR grid.

`ntl_on_grid` is the single function that puts night light on the VHR geometry: training and inference both
call it, so a model sees the same NTL in both.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.transform import array_bounds
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds

from .errors import InputError

GDAL_CACHE_BYTES = 16 * 1024 * 1024  # GDAL block cache while reading scenes window by window: bounds memory


@contextmanager
def open_raster(path: str | os.PathLike, role: str) -> Iterator[rasterio.DatasetReader]:
    """Open a georeferenced raster for reading; `role` ("VHR", "NTL", ...) names it in error messages."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"{role} raster {path} does not exist: check the path.")
    try:
        src = rasterio.open(path)
    except RasterioIOError as exc:
        raise InputError(f"{role} raster {path} cannot be read as a raster ({exc}). "
                         "Pick a GeoTIFF or another GDAL-readable raster.") from exc
    try:
        if src.crs is None:
            raise InputError(f"{role} raster {path} has no coordinate reference system. "
                             "Assign one (QGIS: Raster > Projections > Assign Projection) and run again.")
        yield src
    finally:
        src.close()


def bounds_in(src: rasterio.DatasetReader, crs: CRS) -> tuple[float, float, float, float]:
    """Bounds of `src` expressed in `crs`."""
    if src.crs == crs:
        return tuple(src.bounds)
    return transform_bounds(src.crs, crs, *src.bounds, densify_pts=21)


def check_overlap(vhr: rasterio.DatasetReader, other: rasterio.DatasetReader, other_role: str = "NTL") -> None:
    """Raise InputError when `other` does not overlap the VHR raster at all."""
    left, bottom, right, top = bounds_in(other, vhr.crs)
    v = vhr.bounds
    if left >= v.right or right <= v.left or bottom >= v.top or top <= v.bottom:
        raise InputError(
            f"{other_role} raster {other.name} does not overlap the VHR raster {vhr.name}: VHR bounds "
            f"({v.left:.6g}, {v.bottom:.6g}, {v.right:.6g}, {v.top:.6g}), {other_role} bounds in the VHR's CRS "
            f"({left:.6g}, {bottom:.6g}, {right:.6g}, {top:.6g}). Pick rasters that cover the same place.")


def ntl_on_grid(ntl: rasterio.DatasetReader, crs: CRS, transform: rasterio.Affine, width: int, height: int,
                bands: list[int] | None = None) -> np.ndarray:
    """Read NTL radiance warped (bilinear) onto the grid (crs, transform, width, height) as float32 [B, H, W].

    Pixels outside the NTL raster or on its nodata are NaN; the caller fills them as the model card says.
    Only the part of the NTL raster under the grid is read.
    """
    bands = bands or list(range(1, ntl.count + 1))
    with WarpedVRT(ntl, crs=crs, transform=transform, width=width, height=height,
                   resampling=Resampling.bilinear, dtype="float32", nodata=np.nan,
                   src_nodata=ntl.nodata if ntl.nodata is not None else None) as vrt:
        out = vrt.read(bands, out_dtype="float32")
    return out


def grid_bounds(transform: rasterio.Affine, width: int, height: int) -> tuple[float, float, float, float]:
    """(left, bottom, right, top) of a grid."""
    west, south, east, north = array_bounds(height, width, transform)
    return west, south, east, north


def pixel_area(src: rasterio.DatasetReader) -> float:
    """Area of one pixel in square CRS units (rotated grids included)."""
    t = src.transform
    return abs(t.a * t.e - t.b * t.d)


def area_unit(src: rasterio.DatasetReader) -> tuple[str, list[str]]:
    """Unit of pixel areas in the raster's CRS ("m²", "ft²", "degree²"), with warnings where they are not ground
    areas."""
    crs = src.crs
    if crs.is_geographic:
        return "degree²", [f"map {src.name} is in a geographic CRS: areas are in square degrees. Reproject the "
                           "map to a projected (ideally equal-area) CRS to get areas in m²."]
    warnings = []
    if crs.to_epsg() == 3857:
        warnings.append(f"map {src.name} is in Web Mercator (EPSG:3857): its square metres exceed ground area by "
                        "1/cos²(latitude). Reproject to an equal-area CRS for true areas; proportions are unaffected.")
    units = (crs.linear_units or "unknown").lower()
    short = {"metre": "m", "meter": "m", "metres": "m", "meters": "m", "foot": "ft", "us survey foot": "ftUS"}
    return f"{short.get(units, units)}²", warnings
