"""Night-time light of the city on a geographic (EPSG:4326) grid: area-averaged emission, sensor blur, misregistration.

NTL is coarse (a 10 km scene is 250 pixels at 40 m), so it is computed in memory: each NTL pixel averages the
emission of a k x k grid of ground points, taken where the pixel *really* looks (its nominal footprint shifted by
the misregistration), then the image is blurred by a Gaussian point-spread function.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import transform as transform_points
from rasterio.warp import transform_bounds

from .layout import CityLayout

METRES_PER_DEGREE = 111_320.0  # length of one degree of latitude (and of longitude at the equator)
NTL_CRS = CRS.from_epsg(4326)


@dataclass(frozen=True)
class NtlGrid:
    """The geographic grid of the NTL raster."""

    transform: Affine  # EPSG:4326 pixel grid
    width: int
    height: int
    pixel_deg: tuple[float, float]  # (longitude, latitude) pixel size in degrees


def ntl_grid(vhr_crs: CRS, vhr_bounds: tuple[float, float, float, float], latitude: float, ntl_pixel_m: float,
             margin_px: int) -> NtlGrid:
    """An EPSG:4326 grid of about `ntl_pixel_m` metres covering the VHR bounds plus `margin_px` pixels on each side."""
    dlat = ntl_pixel_m / METRES_PER_DEGREE
    dlon = ntl_pixel_m / (METRES_PER_DEGREE * np.cos(np.deg2rad(latitude)))
    west, south, east, north = transform_bounds(vhr_crs, NTL_CRS, *vhr_bounds, densify_pts=21)
    col0 = np.floor(west / dlon) - margin_px
    col1 = np.ceil(east / dlon) + margin_px
    row0 = np.floor(south / dlat) - margin_px
    row1 = np.ceil(north / dlat) + margin_px
    transform = Affine(dlon, 0.0, col0 * dlon, 0.0, -dlat, row1 * dlat)
    return NtlGrid(transform, int(col1 - col0), int(row1 - row0), (dlon, dlat))


def _gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """Separable Gaussian blur with edge replication (sigma in pixels)."""
    radius = max(1, int(np.ceil(3 * sigma)))
    offsets = np.arange(-radius, radius + 1)
    kernel = np.exp(-0.5 * (offsets / sigma) ** 2)
    kernel /= kernel.sum()
    out = image.astype(np.float64)
    for axis in (0, 1):
        padded = np.pad(out, [(radius, radius) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
        acc = np.zeros_like(out)
        n = out.shape[axis]
        for weight, off in zip(kernel, offsets):
            sl = [slice(None), slice(None)]
            sl[axis] = slice(radius + off, radius + off + n)
            acc += weight * padded[tuple(sl)]
        out = acc
    return out


def render_ntl(city: CityLayout, grid: NtlGrid, vhr_crs: CRS, vhr_left: float, vhr_top: float,
               shift_px: tuple[float, float], psf_sigma_px: float, seed: int, sample_spacing_m: float = 5.0,
               ) -> np.ndarray:
    """NTL radiance [H, W] float32 on `grid`: emission averaged per pixel at the shifted footprint, then PSF-blurred.

    `shift_px` (columns, rows) is the misregistration: the pixel at (col, row) sees the ground at
    (col + shift_px[0], row + shift_px[1]).  `vhr_left`, `vhr_top` place the scene's origin in `vhr_crs`.
    """
    k = int(np.clip(round(max(grid.pixel_deg[1] * METRES_PER_DEGREE, 1.0) / sample_spacing_m), 2, 64))
    sub = (np.arange(k) + 0.5) / k
    col_pos = (np.arange(grid.width)[:, None] + sub[None, :]).ravel() + shift_px[0]
    radiance = np.zeros((grid.height, grid.width), dtype=np.float64)
    for row in range(grid.height):
        row_pos = row + sub + shift_px[1]
        cc, rr = np.meshgrid(col_pos, row_pos)
        lon, lat = grid.transform * (cc.ravel(), rr.ravel())
        east, north = transform_points(NTL_CRS, vhr_crs, lon, lat)
        x = np.asarray(east) - vhr_left
        y = vhr_top - np.asarray(north)
        emission = city.radiance(city.sample(x, y)).reshape(k, grid.width, k)
        radiance[row] = emission.mean(axis=(0, 2))
    blurred = _gaussian_blur(radiance, psf_sigma_px)
    rng = np.random.default_rng([seed, 40_4040])
    noisy = blurred * np.exp(0.04 * rng.standard_normal(blurred.shape)) + 0.05 * rng.random(blurred.shape)
    return np.clip(noisy, 0.0, None).astype(np.float32)
