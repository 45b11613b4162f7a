"""Small seeded rasters and polygons for the training tests: two VHR scenes, a coarse NTL raster, labels.

Classes sit in 32 px cells; each class has its own VHR colour and NTL brightness, so a tiny network can learn
something within an epoch or two. Scenes are in UTM 50N (1 m pixels), NTL in EPSG:4326 (about 110 m pixels).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin
from rasterio.warp import transform_bounds

UTM = CRS.from_epsg(32650)
CELL = 32
# VHR colour of each class id 0..7 (0 unused) and NTL radiance of each class.
PALETTE = np.array([[0, 0, 0], [200, 150, 90], [220, 60, 50], [140, 90, 170], [60, 170, 80], [150, 150, 150],
                    [40, 120, 190], [230, 215, 160]], dtype=np.float32)


@dataclass
class Scene:
    """One generated scene."""

    vhr: Path
    labels: Path
    label_map: np.ndarray  # uint8 [H, W]
    transform: rasterio.Affine


@dataclass
class SyntheticData:
    """Everything the fixture wrote."""

    folder: Path
    scenes: list[Scene]
    ntl: Path  # covers both scenes
    ntl_partial: Path  # covers only the western half of scene 0
    polygons: Path  # GPKG in EPSG:4326 with a `landuse` field over scene 0
    mapping_csv: Path  # landuse value -> class


def write_scene(folder: Path, name: str, left: float, top: float, width: int, height: int, seed: int) -> Scene:
    """A VHR raster (RGB uint8) and a label raster (class ids in 32 px cells) on a 1 m UTM grid."""
    rng = np.random.default_rng(seed)
    cells = rng.integers(1, 8, size=(height // CELL, width // CELL)).astype(np.uint8)
    labels = np.kron(cells, np.ones((CELL, CELL), dtype=np.uint8))
    labels[:4, :] = 0  # an unlabelled strip
    vhr = PALETTE[labels].transpose(2, 0, 1) + rng.normal(0, 12, size=(3, height, width))
    vhr = np.clip(vhr, 0, 255).astype(np.uint8)
    transform = from_origin(left, top, 1.0, 1.0)
    profile = {"driver": "GTiff", "width": width, "height": height, "crs": UTM, "transform": transform}
    vhr_path, label_path = folder / f"{name}_vhr.tif", folder / f"{name}_labels.tif"
    with rasterio.open(vhr_path, "w", count=3, dtype="uint8", **profile) as dst:
        dst.write(vhr)
    with rasterio.open(label_path, "w", count=1, dtype="uint8", nodata=0, **profile) as dst:
        dst.write(labels, 1)
    return Scene(vhr_path, label_path, labels, transform)


def write_ntl(path: Path, bounds_utm: tuple[float, float, float, float], seed: int) -> Path:
    """A float32 EPSG:4326 radiance raster around the given UTM bounds, nodata -1."""
    west, south, east, north = transform_bounds(UTM, "EPSG:4326", *bounds_utm)
    res = 0.001
    width, height = int(np.ceil((east - west) / res)) + 2, int(np.ceil((north - south) / res)) + 2
    rng = np.random.default_rng(seed)
    data = rng.gamma(2.0, 10.0, size=(1, height, width)).astype(np.float32)
    with rasterio.open(path, "w", driver="GTiff", width=width, height=height, count=1, dtype="float32",
                       crs="EPSG:4326", transform=from_origin(west - res, north + res, res, res), nodata=-1) as dst:
        dst.write(data)
    return path


def write_polygons(path: Path, scene: Scene) -> Path:
    """Label cells of a scene as polygons in EPSG:4326 with a text `landuse` field (one value unmapped)."""
    from osgeo import gdal, ogr, osr

    gdal.UseExceptions()
    names = {1: "residential", 2: "commercial", 3: "industrial", 4: "park", 5: "road", 6: "water", 7: "mystery"}
    utm = osr.SpatialReference()
    utm.ImportFromEPSG(32650)
    wgs = osr.SpatialReference()
    wgs.ImportFromEPSG(4326)
    for srs in (utm, wgs):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_wgs = osr.CoordinateTransformation(utm, wgs)
    ds = ogr.GetDriverByName("GPKG").CreateDataSource(str(path))
    layer = ds.CreateLayer("zones", wgs, ogr.wkbPolygon)
    layer.CreateField(ogr.FieldDefn("landuse", ogr.OFTString))
    h, w = scene.label_map.shape
    for r in range(0, h, CELL):
        for c in range(0, w, CELL):
            cls = int(scene.label_map[r + CELL - 1, c])
            x0, y0 = scene.transform * (c, r)
            x1, y1 = scene.transform * (c + CELL, r + CELL)
            ring = ogr.Geometry(ogr.wkbLinearRing)
            for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)):
                ring.AddPoint_2D(x, y)
            poly = ogr.Geometry(ogr.wkbPolygon)
            poly.AddGeometry(ring)
            poly.Transform(to_wgs)
            feat = ogr.Feature(layer.GetLayerDefn())
            feat.SetField("landuse", names[cls])
            feat.SetGeometry(poly)
            layer.CreateFeature(feat)
    ds = None
    return path


@pytest.fixture(scope="session")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> SyntheticData:
    """Two 128 x 256 px scenes 1 km apart, NTL over both (and one over half a scene), polygons and a mapping."""
    folder = tmp_path_factory.mktemp("training_data")
    scenes = [write_scene(folder, "a", 400000.0, 2500000.0, 256, 128, seed=1),
              write_scene(folder, "b", 401000.0, 2500000.0, 256, 128, seed=2)]
    ntl = write_ntl(folder / "ntl.tif", (400000.0, 2499872.0, 401256.0, 2500000.0), seed=3)
    partial = write_ntl(folder / "ntl_partial.tif", (400000.0, 2499872.0, 400100.0, 2500000.0), seed=4)
    polygons = write_polygons(folder / "zones.gpkg", scenes[0])
    mapping = folder / "mapping.csv"
    mapping.write_text("value,class_id\nresidential,1\ncommercial,2\nindustrial,3\npark,4\nroad,5\nwater,6\n")
    return SyntheticData(folder, scenes, ntl, partial, polygons, mapping)


@pytest.fixture(autouse=True)
def _one_thread():
    """Keep torch on one thread: the CI machine has two cores shared by several jobs."""
    try:
        import torch
    except ImportError:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
