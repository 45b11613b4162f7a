"""Write the benchmark city: VHR, labels (window by window, bounded memory) and NTL GeoTIFFs plus a JSON card."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import transform as transform_points
from rasterio.windows import Window

from ..core.errors import Canceled, InputError
from ..core.model_card import FUNCTIONAL_CLASSES
from ..core.progress import Progress, SilentProgress
from ..core.style import category_names_aux_xml, colormap
from .daytime import render_window
from .layout import CityLayout
from .night import NTL_CRS, ntl_grid, render_ntl

GENERATOR_VERSION = 1
VHR_CRS = CRS.from_epsg(32649)  # WGS 84 / UTM zone 49N: Guangzhou, the paper's city
SCENE_CENTRE_LONLAT = (113.33, 23.12)  # the scene is centred here (a plausible place, the city itself is invented)
WINDOW_PX = 512  # render and write this many pixels square at a time (also the GeoTIFF tile size)
NTL_NODATA = -9999.0


@dataclass(frozen=True)
class CityPaths:
    """The files of one generated benchmark city."""

    vhr: Path  # RGB uint8 GeoTIFF in UTM
    ntl: Path  # float32 radiance GeoTIFF in EPSG:4326
    labels: Path  # uint8 class ids 1..7 on the VHR grid, with a colour table and category names
    card: Path  # JSON: parameters, misregistration, PSF, class shares; says the scene is synthetic


@dataclass(frozen=True)
class CityGeometry:
    """The VHR grid of a city: where it is and how big."""

    size_px: int  # scene edge in VHR pixels
    pixel_m: float  # VHR pixel size (m)
    left: float  # UTM easting of the left edge (m)
    top: float  # UTM northing of the top edge (m)

    @property
    def size_m(self) -> float:
        """Scene edge on the ground (m)."""
        return self.size_px * self.pixel_m

    @property
    def transform(self) -> Affine:
        """Affine transform of the VHR grid."""
        return Affine(self.pixel_m, 0.0, self.left, 0.0, -self.pixel_m, self.top)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(left, bottom, right, top) in the VHR CRS."""
        return self.left, self.top - self.size_m, self.left + self.size_m, self.top


def city_geometry(size_px: int, pixel_m: float) -> CityGeometry:
    """The VHR grid of a square scene centred on SCENE_CENTRE_LONLAT, snapped to whole metres."""
    east, north = transform_points(NTL_CRS, VHR_CRS, [SCENE_CENTRE_LONLAT[0]], [SCENE_CENTRE_LONLAT[1]])
    half = size_px * pixel_m / 2
    return CityGeometry(size_px, pixel_m, float(np.round(east[0] - half)), float(np.round(north[0] + half)))


def _check(size_px: int, vhr_pixel_m: float, ntl_pixel_m: float, misregistration_ntl_px: float) -> None:
    """Raise InputError, saying the usable range, for parameters the generator cannot honour."""
    if size_px < 64:
        raise InputError(f"Benchmark city size {size_px} px is too small: use at least 64 px (2048 is the default).")
    if not 0.05 <= vhr_pixel_m <= 5.0:
        raise InputError(f"VHR pixel size {vhr_pixel_m} m is out of range: use 0.05 to 5 m (0.5 is the default).")
    if ntl_pixel_m < 4 * vhr_pixel_m:
        raise InputError(f"NTL pixel size {ntl_pixel_m} m must be at least 4 VHR pixels ({4 * vhr_pixel_m} m): "
                         "night light is the coarse modality (40 m like SDGSAT-1, 500 m like VIIRS).")
    if not 0.0 <= misregistration_ntl_px <= 5.0:
        raise InputError(f"NTL misregistration {misregistration_ntl_px} px is out of range: use 0 to 5 NTL pixels.")


def _tile_options(size: int) -> dict:
    """GeoTIFF creation options: 512 px tiles (the largest power of two up to the size for small scenes), deflate."""
    block = min(WINDOW_PX, 1 << int(math.log2(size)))
    return {"driver": "GTiff", "tiled": True, "blockxsize": block, "blockysize": block, "compress": "deflate",
            "BIGTIFF": "IF_SAFER"}


def generate_city(out_dir: str | os.PathLike, size_px: int = 2048, seed: int = 0, vhr_pixel_m: float = 0.5,
                  ntl_pixel_m: float = 40.0, misregistration_ntl_px: float = 1.0,
                  progress: Progress | None = None) -> CityPaths:
    """Generate a SYNTHETIC benchmark city (VHR, NTL, labels) of size_px x size_px VHR pixels into out_dir."""
    _check(size_px, vhr_pixel_m, ntl_pixel_m, misregistration_ntl_px)
    progress = progress or SilentProgress()
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = CityPaths(vhr=out / "vhr.tif", ntl=out / "ntl.tif", labels=out / "labels.tif", card=out / "city.json")
    geo = city_geometry(size_px, vhr_pixel_m)
    rng = np.random.default_rng([seed, 7_0707])
    radius = misregistration_ntl_px * np.sqrt(rng.random())
    angle = rng.uniform(0, 2 * np.pi)
    shift = (float(radius * np.cos(angle)), float(radius * np.sin(angle)))
    psf_sigma = float(rng.uniform(0.8, 1.5))
    margin = int(np.ceil(3 * psf_sigma + misregistration_ntl_px)) + 1  # NTL pixels around the VHR extent
    # The plan reaches past the NTL margin (the diagonal of the rotated frame included); reach only adds outer blocks.
    city = CityLayout(geo.size_m, seed, reach_m=1.45 * (geo.size_m / 2 + (margin + 2) * ntl_pixel_m) + 300.0)

    base = {"width": size_px, "height": size_px, "crs": VHR_CRS, "transform": geo.transform,
            **_tile_options(size_px)}
    counts = np.zeros(8, dtype=np.int64)
    windows = [(r, c) for r in range(0, size_px, WINDOW_PX) for c in range(0, size_px, WINDOW_PX)]
    with rasterio.open(paths.vhr, "w", count=3, dtype="uint8", photometric="RGB", predictor=2, **base) as vhr, \
            rasterio.open(paths.labels, "w", count=1, dtype="uint8", nodata=0, **base) as lab:
        for done, (row, col) in enumerate(windows):
            if progress.is_canceled():
                raise Canceled(f"Benchmark city generation was canceled; {out} holds partial files: delete them.")
            h, w = min(WINDOW_PX, size_px - row), min(WINDOW_PX, size_px - col)
            labels, rgb = render_window(city, row, col, h, w, vhr_pixel_m, seed)
            window = Window(col, row, w, h)
            vhr.write(rgb, window=window)
            lab.write(labels, 1, window=window)
            counts += np.bincount(labels.ravel(), minlength=8)[:8]
            progress.set_progress(90.0 * (done + 1) / len(windows))
        vhr.descriptions = ("red", "green", "blue")
        vhr.update_tags(SYNTHETIC="yes", SOURCE="csagf benchmark city generator", SEED=str(seed))
        lab.write_colormap(1, colormap(FUNCTIONAL_CLASSES))
        lab.descriptions = ("functional_zone",)
        lab.update_tags(SYNTHETIC="yes", SEED=str(seed),
                        **{f"CLASS_{c.id}": c.name for c in FUNCTIONAL_CLASSES})
    # GeoTIFF cannot hold category names: GDAL and QGIS read them from the PAM side-car.
    Path(f"{paths.labels}.aux.xml").write_text(category_names_aux_xml(FUNCTIONAL_CLASSES), encoding="utf-8")

    latitude = SCENE_CENTRE_LONLAT[1]
    grid = ntl_grid(VHR_CRS, geo.bounds, latitude, ntl_pixel_m, margin)
    radiance = render_ntl(city, grid, VHR_CRS, geo.left, geo.top, shift, psf_sigma, seed)
    with rasterio.open(paths.ntl, "w", driver="GTiff", width=grid.width, height=grid.height, count=1,
                       dtype="float32", crs=NTL_CRS, transform=grid.transform, nodata=NTL_NODATA,
                       compress="deflate", predictor=3) as ntl:
        ntl.write(radiance, 1)
        ntl.descriptions = ("radiance",)
        ntl.update_tags(SYNTHETIC="yes", UNITS="nW/cm2/sr", SEED=str(seed),
                        MISREGISTRATION_NTL_PX=f"{shift[0]:.3f},{shift[1]:.3f}", PSF_SIGMA_NTL_PX=f"{psf_sigma:.3f}")
    progress.set_progress(100.0)

    total = max(int(counts.sum()), 1)
    card = {
        "synthetic": True,
        "description": "Synthetic benchmark city for CSAGF (invented layout, rendered imagery; not a real place).",
        "generator": "csagf_plugin.benchmark_city", "generator_version": GENERATOR_VERSION,
        "seed": seed, "size_px": size_px, "vhr_pixel_m": vhr_pixel_m, "ntl_pixel_m": ntl_pixel_m,
        "vhr_crs": VHR_CRS.to_string(), "ntl_crs": NTL_CRS.to_string(), "vhr_bounds": list(geo.bounds),
        "ntl_size_px": [grid.width, grid.height],
        "misregistration_ntl_px": {"max": misregistration_ntl_px, "columns": shift[0], "rows": shift[1]},
        "psf_sigma_ntl_px": psf_sigma,
        "class_shares": {c.name: round(counts[c.id] / total, 4) for c in FUNCTIONAL_CLASSES},
        "seconds": round(time.perf_counter() - started, 2),
    }
    paths.card.write_text(json.dumps(card, indent=2) + "\n")
    return paths
