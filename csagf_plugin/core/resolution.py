"""Pixel sizes: a VHR raster's ground pixel size, and VHR resampled on the fly to the pixel size a model expects.

A model learns objects at the size they had in its training pixels: a 0.3 m drone mosaic or 2 m imagery fed as
they are show it houses three times too large or too small.  `resampled_vhr` is a WarpedVRT (rasterio windows are
read through it, nothing is resampled in memory as a whole) on the input's CRS and extent at the model's pixel size;
classify predicts on it and `regrid` puts the map back on the input grid, block by block.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from fractions import Fraction

import rasterio
import rasterio.shutil
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform as warp_transform
from rasterio.windows import Window

RESAMPLE_TOLERANCE = 0.15  # inputs within 15 % of the model's pixel size are used as they are
FAR_FACTOR = 2.0  # a pixel size more than 2x off the model's (used unresampled) gets a warning
SNAP_TOLERANCE = 0.005  # a factor within 0.5 % of a ratio of small integers is snapped to it
REGRID_ROWS = 512  # rows written per step when the map goes back to the input grid


def ground_pixel_size_m(crs: CRS, transform: rasterio.Affine, width: int, height: int) -> float:
    """Ground size in metres of one pixel (x direction) at the raster's centre, for any CRS."""
    cx, cy = transform * (width / 2, height / 2)
    px, _ = transform * (width / 2 + 1, height / 2)
    (lon0, lon1), (lat0, lat1) = warp_transform(crs, "EPSG:4326", [cx, px], [cy, cy])
    lat = math.radians((lat0 + lat1) / 2)
    dx = math.radians(lon1 - lon0) * math.cos(lat) * 6371008.8
    dy = math.radians(lat1 - lat0) * 6371008.8
    return float(math.hypot(dx, dy))


@dataclass
class ResamplePlan:
    """How a VHR raster is resampled to a model's pixel size."""

    input_m: float  # ground pixel size of the input
    target_m: float  # ground pixel size fed to the model
    transform: rasterio.Affine  # grid of the resampled raster (same CRS, same origin)
    width: int
    height: int

    @property
    def factor(self) -> float:
        """Resampled pixel size / input pixel size (> 1: coarser than the input)."""
        return self.target_m / self.input_m

    @property
    def resampling(self) -> Resampling:
        """Average when making pixels coarser (no aliasing), bilinear when making them finer."""
        return Resampling.average if self.factor > 1 else Resampling.bilinear


def plan_resampling(src: rasterio.DatasetReader, target_m: float | None) -> ResamplePlan | None:
    """The resampling to `target_m` metres, or None when the raster is already within the tolerance of it."""
    if not target_m or target_m <= 0:
        return None
    input_m = ground_pixel_size_m(src.crs, src.transform, src.width, src.height)
    if abs(input_m / target_m - 1) <= RESAMPLE_TOLERANCE:
        return None
    factor = target_m / input_m
    simple = Fraction(factor).limit_denominator(8)
    if abs(float(simple) / factor - 1) < SNAP_TOLERANCE:
        factor = float(simple)  # whole-pixel ratios (2, 3/2, ...) keep the two grids' pixel edges aligned
    t = src.transform
    transform = rasterio.Affine(t.a * factor, t.b * factor, t.c, t.d * factor, t.e * factor, t.f)
    # Rounded up, so the resampled grid covers every input pixel (its last row and column may reach past the edge)
    width, height = max(1, math.ceil(src.width / factor - 1e-6)), max(1, math.ceil(src.height / factor - 1e-6))
    return ResamplePlan(input_m, target_m, transform, width, height)


def write_resampled_vrt(src_path: str, plan: ResamplePlan, vrt_path: str) -> str:
    """Write a GDAL warped VRT of `src_path` on the plan's grid (a small XML file; pixels are read lazily)."""
    with rasterio.open(os.path.abspath(src_path)) as src, \
            WarpedVRT(src, crs=src.crs, transform=plan.transform, width=plan.width, height=plan.height,
                      resampling=plan.resampling) as vrt:
        rasterio.shutil.copy(vrt, vrt_path, driver="VRT")
    return vrt_path


def regrid(src_path: str, dst_path: str, like: rasterio.DatasetReader, resampling: Resampling) -> dict[int, int]:
    """Write `src_path` (a classify output) onto the grid of `like`, keeping its colour table, tags and band
    description; returns the pixel count per value for uint8 maps (empty for float rasters)."""
    import numpy as np

    counts = np.zeros(256, dtype=np.int64)
    with rasterio.open(src_path) as src:
        profile = {**src.profile, "driver": "GTiff", "width": like.width, "height": like.height,
                   "transform": like.transform, "crs": like.crs}
        colormap = src.colormap(1) if src.dtypes[0] == "uint8" else None
        with WarpedVRT(src, crs=like.crs, transform=like.transform, width=like.width, height=like.height,
                       resampling=resampling, src_nodata=src.nodata, nodata=src.nodata) as vrt, \
                rasterio.open(dst_path, "w", **profile) as dst:
            for row in range(0, like.height, REGRID_ROWS):
                window = Window(0, row, like.width, min(REGRID_ROWS, like.height - row))
                data = vrt.read(1, window=window)
                dst.write(data, 1, window=window)
                if colormap is not None:
                    counts += np.bincount(data.ravel(), minlength=256)
            if colormap is not None:
                dst.write_colormap(1, colormap)
            dst.update_tags(**src.tags())
            dst.set_band_description(1, src.descriptions[0] or "")
    return {int(i): int(n) for i, n in enumerate(counts) if n}
