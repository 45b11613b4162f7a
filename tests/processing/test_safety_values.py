"""No wrong map in silence: VHR values outside what the model card expects are scaled the documented way or refused,
night light outside a physical range is named, rasters that are not class maps are refused where one is expected,
reference values matching no class are counted, and polygons are refused where points are expected."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from qgis.core import QgsProcessingException, QgsProcessingFeedback
from safety_scene import city, polygons, read, snapshot, write_like

from csagf_plugin.processing.legend import is_null

pytestmark = pytest.mark.usefixtures("csagf_provider")


class Recorder(QgsProcessingFeedback):
    """A feedback that keeps the warnings."""

    def __init__(self) -> None:
        super().__init__()
        self.warnings: list[str] = []

    def pushWarning(self, warning: str) -> None:  # noqa: N802
        self.warnings.append(warning)
        super().pushWarning(warning)


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """A city and the map the bundled model makes of its uint8 VHR."""
    import processing

    folder = tmp_path_factory.mktemp("values")
    paths = city(folder / "city")
    reference = folder / "reference_map.tif"
    processing.run("csagf:classify", {"VHR": str(paths.vhr), "NTL": str(paths.ntl), "OUTPUT": str(reference)})
    return {"folder": folder, "vhr": paths.vhr, "ntl": paths.ntl, "labels": paths.labels,
            "map": read(reference)[0]}


def classify(scene, vhr: Path, out: Path, **parameters) -> tuple[np.ndarray, list[str]]:
    import processing

    feedback = Recorder()
    processing.run("csagf:classify", {"VHR": str(vhr), "NTL": str(parameters.pop("NTL", scene["ntl"])),
                                      "OUTPUT": str(out), **parameters}, feedback=feedback)
    return read(out)[0], feedback.warnings


def test_uint16_reflectance_is_divided_by_10000_not_65535(scene, tmp_path):
    vhr = write_like(tmp_path / "reflectance.tif", scene["vhr"], read(scene["vhr"]).astype(np.uint16) * 39)
    auto, warnings = classify(scene, vhr, tmp_path / "auto.tif")
    assert any("divided by 10000 (VHR scale auto)" in w and "uint16 with values" in w for w in warnings), warnings
    assert np.mean(auto == scene["map"]) > 0.99  # the map of the same image in 8 bits
    card, warnings = classify(scene, vhr, tmp_path / "card.tif", VHR_SCALE=1)  # the model card's 65535
    assert any("but the model was trained on a mean of" in w for w in warnings), warnings
    assert np.bincount(card.ravel()).max() / card.size > 0.99  # what the user got in silence before
    given, _ = classify(scene, vhr, tmp_path / "given.tif", VHR_SCALE=2, VHR_SCALE_VALUE=39 * 255)
    assert np.mean(given == scene["map"]) > 0.99


def test_float_vhr_in_0_to_255_is_scaled_and_beyond_any_scale_refused(scene, tmp_path):
    vhr = write_like(tmp_path / "float255.tif", scene["vhr"], read(scene["vhr"]).astype(np.float32))
    zones, warnings = classify(scene, vhr, tmp_path / "float.tif")
    assert any("divided by 255" in w for w in warnings), warnings
    assert np.mean(zones == scene["map"]) > 0.99
    huge = write_like(tmp_path / "huge.tif", scene["vhr"], read(scene["vhr"]).astype(np.float32) * 1e4)
    before = snapshot(tmp_path)
    with pytest.raises(QgsProcessingException, match="above any divisor the plugin knows"):
        classify(scene, huge, tmp_path / "never.tif")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("fill", [np.nan, 0.0])
def test_all_nodata_vhr_is_refused_not_mapped_as_zeros(scene, tmp_path, fill):
    data = np.full(read(scene["vhr"]).shape, fill, np.float32)
    vhr = write_like(tmp_path / "empty.tif", scene["vhr"], data, nodata=None if np.isnan(fill) else 0.0)
    before = snapshot(tmp_path)
    with pytest.raises(QgsProcessingException, match="has no valid pixel"):
        classify(scene, vhr, tmp_path / "never.tif")
    assert snapshot(tmp_path) == before


def test_night_light_outside_a_physical_range_is_named(scene, tmp_path):
    radiance = read(scene["ntl"]).astype(np.float32)
    radiance[0, 0, :3] = [-5.0, 1e30, -1.0]
    ntl = write_like(tmp_path / "odd_ntl.tif", scene["ntl"], radiance)
    _, warnings = classify(scene, scene["vhr"], tmp_path / "zones.tif", NTL=ntl)
    found = [w for w in warnings if "NTL raster" in w and "holds values from -5 to 1e+30" in w]
    assert found and "negative radiance" in found[0] and "undeclared nodata" in found[0], warnings

    import processing

    feedback = Recorder()  # training would fit the night-light mean of the model card on such values
    processing.run("csagf:prepare_training_data", {"VHR": [str(scene["vhr"])], "LABELS": str(scene["labels"]),
                                                   "NTL": str(ntl), "TILE_SIZE": 128,
                                                   "OUTPUT": str(tmp_path / "tiles.npz")}, feedback=feedback)
    assert any("holds values from -5 to 1e+30" in w for w in feedback.warnings), feedback.warnings


def test_random_points_refuses_an_rgb_image_and_a_continuous_raster(scene, tmp_path):
    import processing

    continuous = write_like(tmp_path / "continuous.tif", scene["ntl"], read(scene["ntl"]).astype(np.float32) + 0.5)
    for raster, message in ((scene["vhr"], "has 3 bands: a class map has one band"),
                            (continuous, "holds non-integer values")):
        with pytest.raises(QgsProcessingException, match=message):
            processing.run("csagf:random_points", {"MAP": str(raster), "N": 5, "OUTPUT": str(tmp_path / "p.geojson")})
    assert not (tmp_path / "p.geojson").exists()


def test_sample_reference_counts_values_that_match_no_class(scene, tmp_path):
    import processing

    points = tmp_path / "points.geojson"
    processing.run("csagf:random_points", {"MAP": str(scene["labels"]), "N": 40, "DESIGN": 0, "OUTPUT": str(points)})
    reference = polygons(tmp_path / "reference.gpkg", scene["labels"], ["Residential", "Parkland", "42", "Water"])
    feedback = Recorder()
    result = processing.run("csagf:sample_reference", {"POINTS": str(points), "REFERENCE_VECTOR": str(reference),
                                                       "FIELD": "fclass", "OUTPUT": str(tmp_path / "ref.geojson")},
                            feedback=feedback)
    from qgis.core import QgsVectorLayer

    layer = QgsVectorLayer(result["OUTPUT"], "ref", "ogr")
    refs = [f["ref_class"] for f in layer.getFeatures()]
    unmatched = sum(1 for r in refs if is_null(r))  # every point lies in a strip: empty = matched no class
    warning = [w for w in feedback.warnings if "matches no class" in w]
    assert warning and "'Parkland' (" in warning[0] and "'42' (" in warning[0], feedback.warnings
    assert f"{unmatched} points have a reference value" in warning[0]
    assert 0 < unmatched < len(refs) and {int(r) for r in refs if not is_null(r)} <= {1, 6}


def test_polygons_where_points_are_expected_are_refused(scene, tmp_path):
    import processing

    zones = polygons(tmp_path / "zones.gpkg", scene["labels"], ["1", "2"])
    before = snapshot(tmp_path)
    with pytest.raises(QgsProcessingException, match="geometries, not points"):
        processing.run("csagf:sample_reference", {"POINTS": f"{zones}|layername=zones",
                                                  "REFERENCE": str(scene["labels"]),
                                                  "OUTPUT": str(tmp_path / "ref.geojson")})
    assert not (tmp_path / "ref.geojson").exists()
    assert set(snapshot(tmp_path)) == set(before)
