"""Labels from rasters and mapped polygons (OSM included), and training tiles with NTL from ntl_on_grid."""

from __future__ import annotations

import json

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from csagf_plugin.core.errors import InputError
from csagf_plugin.core.raster import ntl_on_grid
from csagf_plugin.training.labels import ClassMapping, labels_for_vhr, labels_on_grid, parse_other_tags
from csagf_plugin.training.tiles import PrepareConfig, SceneSource, TileStore, prepare_tiles, window_starts


def test_mapping_files_csv_flat_json_and_rules(tmp_path) -> None:
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"R": 1, "C": 2}))
    nested = tmp_path / "nested.json"
    nested.write_text(json.dumps({"landuse": {"residential": 1}, "leisure": {"park": 4}}))
    m = ClassMapping.from_file(flat, class_field="code")
    assert m.classify({"code": "C"}) == 2 and m.classify({"code": "X"}) is None
    m = ClassMapping.from_file(nested)
    assert m.classify({"landuse": "grass", "leisure": "park"}) == 4
    with pytest.raises(InputError, match="class field"):
        ClassMapping.from_file(flat)
    bad = tmp_path / "bad.csv"
    bad.write_text("key,value,class_id\nlanduse,residential,9\n")
    with pytest.raises(InputError, match="class ids \\[9\\]"):
        ClassMapping.from_file(bad)


def test_default_osm_mapping_and_other_tags() -> None:
    m = ClassMapping.default_osm()
    assert m.classify({"landuse": "residential"}) == 1
    assert m.classify({"landuse": "retail"}) == 2
    assert m.classify({"landuse": "industrial"}) == 3
    assert m.classify({"leisure": "park", "landuse": "grass"}) == 4
    assert m.classify({"area:highway": "footway"}) == 5
    assert m.classify({"natural": "water"}) == 6
    assert m.classify({"landuse": "brownfield"}) == 7
    assert m.classify({"building": "yes"}) is None
    tags = parse_other_tags('"waterway"=>"riverbank","name:fi"=>"Joki \\"iso\\""')
    assert tags == {"waterway": "riverbank", "name:fi": 'Joki "iso"'}
    assert m.classify(tags) == 6


def test_polygons_rasterised_like_the_label_raster(synthetic) -> None:
    scene = synthetic.scenes[0]
    warnings: list[str] = []
    mapping = ClassMapping.from_file(synthetic.mapping_csv, class_field="landuse")
    labels = labels_for_vhr(scene.vhr, synthetic.polygons, mapping, class_field="landuse", warn=warnings.append)
    expected = scene.label_map.copy()
    expected[:4] = scene.label_map[4]  # the polygons cover the unlabelled strip of the raster too
    expected[expected == 7] = 0  # "mystery" is not in the mapping
    interior = np.ones_like(expected, dtype=bool)
    for k in range(0, 256, 32):  # cell edges may go either way after the round trip through EPSG:4326
        interior[:, max(k - 1, 0):k + 1] = False
        interior[max(k - 1, 0):k + 1, :] = False
    np.testing.assert_array_equal(labels[interior], expected[interior])
    assert len(warnings) == 1 and "landuse=mystery" in warnings[0]


def test_missing_class_field_names_the_fields(synthetic) -> None:
    with pytest.raises(InputError, match="no field 'lu'.*landuse"):
        labels_for_vhr(synthetic.scenes[0].vhr, synthetic.polygons, None, class_field="lu")


def test_labels_not_overlapping_the_vhr_are_refused(synthetic) -> None:
    far = from_origin(300000.0, 2400000.0, 1.0, 1.0)
    crs = CRS.from_epsg(32650)
    with pytest.raises(InputError, match="do not overlap"):
        labels_on_grid(synthetic.scenes[0].labels, crs, far, 64, 64)
    with pytest.raises(InputError, match="do not overlap"):
        labels_on_grid(synthetic.polygons, crs, far, 64, 64, ClassMapping.from_file(synthetic.mapping_csv, "landuse"),
                       class_field="landuse")


@pytest.mark.real_data
def test_karhula_osm_labels_are_mostly_residential(shared_data) -> None:
    pbf = shared_data / "osm_landuse" / "karhula_kotka.osm.pbf"
    if not pbf.exists():
        pytest.skip(f"{pbf} is absent")
    crs = CRS.from_epsg(32635)
    left, bottom, right, top = transform_bounds("EPSG:4326", crs, 26.93, 60.52, 26.97, 60.54)
    width, height = int(right - left), int(top - bottom)
    warnings: list[str] = []
    labels = labels_on_grid(pbf, crs, from_origin(left, top, 1.0, 1.0), width, height, warn=warnings.append)
    counts = np.bincount(labels.ravel(), minlength=8)
    shares = counts[1:] / counts[1:].sum()
    assert counts[1:].sum() > 0.3 * labels.size  # a good part of the area carries a land-use tag
    assert shares.argmax() == 0 and shares[0] > 0.4  # residential first (162 ha of 4.9 km2)
    assert shares[2] > 0.02  # industrial (24 ha)
    assert shares[6] > 0.05  # farmland -> non-developed
    assert shares[3] > 0.02  # wood, park, cemetery -> green


def test_window_starts_cover_the_raster() -> None:
    assert window_starts(256, 64, 64) == [0, 64, 128, 192]
    assert window_starts(200, 64, 64) == [0, 64, 128, 136]
    assert window_starts(50, 64, 64) == []


def test_prepare_tiles_with_ntl_on_grid_and_npz_round_trip(synthetic, tmp_path) -> None:
    scenes = [SceneSource(str(s.vhr), str(s.labels)) for s in synthetic.scenes]
    out = tmp_path / "tiles.npz"
    store = prepare_tiles(PrepareConfig(scenes, str(synthetic.ntl), tile_size=64, stride=32, output=str(out)))
    assert store.vhr.shape[1:] == (3, 64, 64) and store.vhr.dtype == np.uint8
    assert store.ntl.shape[1:] == (1, 64, 64) and store.ntl.dtype == np.float32
    assert store.num_tiles == 2 * 3 * 7  # 3 rows x 7 columns of windows per 128 x 256 scene
    assert store.vhr_pixel_size_m == pytest.approx(1.0, abs=0.01)
    assert 80 < store.ntl_pixel_size_m < 120
    i = store.num_tiles - 1
    r, c = store.origin[i]
    scene = synthetic.scenes[store.scene[i]]
    np.testing.assert_array_equal(store.labels[i], scene.label_map[r:r + 64, c:c + 64])
    with rasterio.open(synthetic.ntl) as ntl, rasterio.open(scene.vhr) as vhr:
        expected = ntl_on_grid(ntl, vhr.crs, vhr.window_transform(Window(c, r, 64, 64)), 64, 64)
    np.testing.assert_array_equal(store.ntl[i], expected)
    loaded = TileStore.load(out)
    np.testing.assert_array_equal(loaded.vhr, store.vhr)
    assert loaded.meta() == store.meta()


def test_ntl_missing_over_part_of_the_area_is_kept_as_nan_and_reported(synthetic) -> None:
    scene = synthetic.scenes[0]
    warnings: list[str] = []
    store = prepare_tiles(PrepareConfig([SceneSource(str(scene.vhr), str(scene.labels))], str(synthetic.ntl_partial),
                                        tile_size=64, stride=64), warn=warnings.append)
    assert np.isnan(store.ntl).any() and np.isfinite(store.ntl).any()
    assert any("no data under" in w and "filled" in w for w in warnings)


def test_fewer_labelled_pixels_than_a_tile_is_a_clear_error(synthetic, tmp_path) -> None:
    scene = synthetic.scenes[0]
    sparse = tmp_path / "sparse_labels.tif"
    with rasterio.open(scene.labels) as src:
        profile = src.profile
        data = np.zeros((src.height, src.width), dtype=np.uint8)
    data[10:20, 10:20] = 1  # 100 labelled pixels, a tile has 4096
    with rasterio.open(sparse, "w", **profile) as dst:
        dst.write(data, 1)
    with pytest.raises(InputError, match="No training tile: 100 labelled pixels"):
        prepare_tiles(PrepareConfig([SceneSource(str(scene.vhr), str(sparse))], str(synthetic.ntl), tile_size=64))


def test_ntl_not_overlapping_is_refused(synthetic) -> None:
    scene = synthetic.scenes[1]
    with pytest.raises(InputError, match="does not overlap"):
        prepare_tiles(PrepareConfig([SceneSource(str(scene.vhr), str(scene.labels))], str(synthetic.ntl_partial),
                                    tile_size=64))


@pytest.mark.real_data
def test_shanghai_cells_polygons_match_the_label_raster(shared_data) -> None:
    folder = shared_data / "shanghai_pudong"
    vhr, raster = folder / "vhr" / "google_0_10.tif", folder / "labels_visual" / "google_0_10_labels.tif"
    if not (vhr.exists() and (folder / "labels_visual" / "cells.gpkg").exists()):
        pytest.skip("Shanghai labels are absent")
    from_polygons = labels_for_vhr(vhr, folder / "labels_visual" / "cells.gpkg", class_field="class_id")
    from_raster = labels_for_vhr(vhr, raster)
    labelled = from_raster > 0
    assert labelled.mean() > 0.5
    assert (from_polygons[labelled] == from_raster[labelled]).mean() > 0.98  # same cells, two label sources
