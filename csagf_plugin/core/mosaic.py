"""Outputs assembled from parts: a VRT over aligned pieces, maps of several scenes put on one grid, and Cloud
Optimized GeoTIFFs written atomically.

Every function streams: GDAL reads the pieces window by window (a VRT is only XML pointing at them), and maps
are warped onto the mosaic grid strip by strip, so memory stays flat whatever the mosaic's size.
"""

from __future__ import annotations

import math
import os
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.transform import from_origin
from rasterio.warp import reproject
from rasterio.windows import Window

from .errors import InputError
from .raster import bounds_in

STRIP_ROWS = 1024  # rows of the mosaic warped at once
COG_BLOCK = 512  # COG tile edge


@dataclass(frozen=True)
class Piece:
    """One aligned piece of a VRT: a raster file and where its pixels go in the whole."""

    path: str  # raster file (same CRS, pixel size, band count and type as the others)
    x: int  # column of its first pixel in the whole
    y: int  # row of its first pixel in the whole
    width: int  # its width in pixels
    height: int  # its height in pixels


def write_vrt(path: str, pieces: Sequence[Piece], width: int, height: int) -> str:
    """Write a VRT of `width` x `height` pixels made of aligned pieces; grid, band style and tags come from the first.

    Paths are written relative to the VRT when the pieces lie beside it, so the folder can be moved.
    """
    if not pieces:
        raise InputError(f"No pieces to assemble into {path}.")
    with rasterio.open(pieces[0].path) as first:
        t = first.transform * first.transform.translation(-pieces[0].x, -pieces[0].y)  # the whole's origin
        root = ET.Element("VRTDataset", rasterXSize=str(width), rasterYSize=str(height))
        ET.SubElement(root, "SRS").text = first.crs.to_wkt()
        ET.SubElement(root, "GeoTransform").text = ", ".join(repr(v) for v in t.to_gdal())
        _metadata(root, first.tags())
        for b in range(1, first.count + 1):
            band = ET.SubElement(root, "VRTRasterBand", dataType=_gdal_type(first.dtypes[b - 1]), band=str(b))
            if first.nodata is not None:
                ET.SubElement(band, "NoDataValue").text = "nan" if math.isnan(first.nodata) else repr(first.nodata)
            if first.descriptions[b - 1]:
                ET.SubElement(band, "Description").text = first.descriptions[b - 1]
            _metadata(band, first.tags(b))
            try:
                table = first.colormap(b)
            except ValueError:  # no colour table
                table = None
            if table:
                ET.SubElement(band, "ColorInterp").text = "Palette"
                colors = ET.SubElement(band, "ColorTable")
                for i in range(max(table) + 1):
                    r, g, bl, a = table.get(i, (0, 0, 0, 0))
                    ET.SubElement(colors, "Entry", c1=str(r), c2=str(g), c3=str(bl), c4=str(a))
            folder = os.path.dirname(os.path.abspath(path))
            for piece in pieces:
                source = ET.SubElement(band, "SimpleSource")
                piece_path = os.path.abspath(piece.path)
                relative = os.path.dirname(piece_path) == folder
                ET.SubElement(source, "SourceFilename", relativeToVRT="1" if relative else "0").text = (
                    os.path.basename(piece_path) if relative else piece_path)
                ET.SubElement(source, "SourceBand").text = str(b)
                size = {"xSize": str(piece.width), "ySize": str(piece.height)}
                ET.SubElement(source, "SrcRect", xOff="0", yOff="0", **size)
                ET.SubElement(source, "DstRect", xOff=str(piece.x), yOff=str(piece.y), **size)
    ET.ElementTree(root).write(path, encoding="utf-8")
    return path


def write_cog(source: str, final: str, categorical: bool) -> str:
    """Copy a raster (a VRT, a GeoTIFF) into a Cloud Optimized GeoTIFF at `final`, renamed into place at the end.

    Overviews of a categorical map (class ids) are sampled with NEAREST, others averaged.
    """
    import rasterio.shutil

    temp = partial_path(final)
    try:
        with rasterio.Env(GDAL_CACHEMAX=64 * 1024 * 1024):
            rasterio.shutil.copy(source, temp, driver="COG", COMPRESS="DEFLATE", BLOCKSIZE=COG_BLOCK,
                                 BIGTIFF="IF_SAFER", PREDICTOR="NO" if categorical else "YES",
                                 OVERVIEW_RESAMPLING="NEAREST" if categorical else "AVERAGE")
        os.replace(temp, final)
    finally:
        for leftover in (temp, temp + ".aux.xml"):
            if os.path.exists(leftover):
                os.remove(leftover)
    return final


def partial_path(final: str) -> str:
    """A fresh hidden file name beside `final`, for writing it before an atomic rename."""
    folder, name = os.path.split(os.path.abspath(final))
    return os.path.join(folder, f".{name}.partial-{uuid.uuid4().hex[:8]}.tif")


@dataclass(frozen=True)
class MosaicGrid:
    """The grid of a mosaic: CRS, top-left corner, pixel size and size."""

    crs: CRS  # CRS of the mosaic
    transform: rasterio.Affine  # north-up transform
    width: int  # pixels
    height: int  # pixels


def mosaic_grid(paths: Sequence[str]) -> MosaicGrid:
    """A north-up grid covering every raster, in the first one's CRS, at its pixel size and on its pixel lattice
    (so the first map is copied pixel for pixel)."""
    with rasterio.open(paths[0]) as first:
        crs = first.crs
        size_x, size_y = abs(first.transform.a), abs(first.transform.e)
        first_left, first_top = first.bounds.left, first.bounds.top
    lefts, bottoms, rights, tops = [], [], [], []
    for path in paths:
        with rasterio.open(path) as src:
            left, bottom, right, top = bounds_in(src, crs)
        lefts.append(left), bottoms.append(bottom), rights.append(right), tops.append(top)
    left = first_left - math.ceil((first_left - min(lefts)) / size_x - 1e-6) * size_x
    top = first_top + math.ceil((max(tops) - first_top) / size_y - 1e-6) * size_y
    width = max(1, math.ceil((max(rights) - left) / size_x - 1e-6))
    height = max(1, math.ceil((top - min(bottoms)) / size_y - 1e-6))
    return MosaicGrid(crs, from_origin(left, top, size_x, size_y), width, height)


def mosaic_maps(paths: Sequence[str], final: str, categorical: bool, grid: MosaicGrid | None = None) -> str:
    """Put single-band maps of several scenes (any CRS) on one grid and write a COG; where they overlap the first
    given wins.  Class ids are resampled with NEAREST, other values bilinearly."""
    grid = grid or mosaic_grid(paths)
    with rasterio.open(paths[0]) as first:
        dtype, nodata = first.dtypes[0], first.nodata
        colors = first.colormap(1) if categorical else None
        tags, description = first.tags(), first.descriptions[0]
    fill = nodata if nodata is not None else 0
    temp = partial_path(final)
    profile = {"driver": "GTiff", "width": grid.width, "height": grid.height, "count": 1, "dtype": dtype,
               "crs": grid.crs, "transform": grid.transform, "nodata": nodata, "tiled": True, "blockxsize": 256,
               "blockysize": 256, "compress": "deflate", "BIGTIFF": "IF_SAFER"}
    resampling = Resampling.nearest if categorical else Resampling.bilinear
    try:
        with rasterio.open(temp, "w", **profile) as dst:
            for y0 in range(0, grid.height, STRIP_ROWS):
                window = Window(0, y0, grid.width, min(STRIP_ROWS, grid.height - y0))
                strip = np.full((int(window.height), grid.width), fill, dtype=dtype)
                transform = rasterio.windows.transform(window, grid.transform)
                for path in reversed(paths):  # later sources are drawn first, so the first one wins
                    with rasterio.open(path) as src:
                        reproject(rasterio.band(src, 1), strip, dst_transform=transform, dst_crs=grid.crs,
                                  dst_nodata=fill, resampling=resampling, init_dest_nodata=False)
                dst.write(strip, 1, window=window)
            if colors:
                dst.write_colormap(1, colors)
            dst.update_tags(**tags)
            if description:
                dst.set_band_description(1, description)
        write_cog(temp, final, categorical)
    finally:
        for leftover in (temp, temp + ".aux.xml"):
            if os.path.exists(leftover):
                os.remove(leftover)
    return final


def _metadata(parent: ET.Element, tags: dict[str, str]) -> None:
    """A VRT <Metadata> element of `tags` (nothing when empty)."""
    if tags:
        md = ET.SubElement(parent, "Metadata")
        for key, value in tags.items():
            ET.SubElement(md, "MDI", key=key).text = value


def _gdal_type(dtype: str) -> str:
    """GDAL's name of a numpy dtype as VRT XML spells it."""
    names = {"uint8": "Byte", "int8": "Int8", "uint16": "UInt16", "int16": "Int16", "uint32": "UInt32",
             "int32": "Int32", "float32": "Float32", "float64": "Float64"}
    if dtype not in names:
        raise InputError(f"Rasters of type {dtype} cannot be assembled into a VRT here.")
    return names[dtype]
