"""Each bad input gives an InputError (or ModelCardError) naming the file and the fix; nothing is written."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from rasterio.transform import from_origin

from csagf_plugin.core.classify import ClassifyConfig, classify_scene
from csagf_plugin.core.errors import CsagfError, InputError, ModelCardError

from tiny_models import UTM51, VHR_ORIGIN, WGS84, smooth_texture, tiny_card, write_raster


def snapshot(folder: Path) -> dict[str, str]:
    """File name -> SHA-256 of everything in a folder (inputs must stay untouched, no output may appear)."""
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


def far_away_ntl(scene: dict[str, Path]) -> dict[str, object]:
    path = write_raster(scene["folder"] / "far_ntl.tif", np.ones((1, 8, 8), np.float32), WGS84,
                        from_origin(10.0, 50.0, 0.01, 0.01))
    return {"ntl_path": str(path)}


def vhr_without_crs(scene: dict[str, Path]) -> dict[str, object]:
    path = write_raster(scene["folder"] / "no_crs.tif", smooth_texture(64, 64, 3, 1), None,
                        from_origin(*VHR_ORIGIN, 1.0, 1.0))
    return {"vhr_path": str(path)}


def two_band_vhr(scene: dict[str, Path]) -> dict[str, object]:
    path = write_raster(scene["folder"] / "two_bands.tif", smooth_texture(64, 64, 2, 1), UTM51,
                        from_origin(*VHR_ORIGIN, 1.0, 1.0))
    return {"vhr_path": str(path)}


def text_file_as_vhr(scene: dict[str, Path]) -> dict[str, object]:
    path = scene["folder"] / "notes.tif"
    path.write_text("this is not a raster")
    return {"vhr_path": str(path)}


def missing_vhr(scene: dict[str, Path]) -> dict[str, object]:
    return {"vhr_path": str(scene["folder"] / "missing.tif")}


def output_is_vhr(scene: dict[str, Path]) -> dict[str, object]:
    return {"output_path": str(scene["vhr"])}


def confidence_is_ntl(scene: dict[str, Path]) -> dict[str, object]:
    return {"confidence_path": str(scene["ntl"])}


def output_given_twice(scene: dict[str, Path]) -> dict[str, object]:
    return {"confidence_path": str(scene["folder"] / "zones.tif")}


def bad_overlap(scene: dict[str, Path]) -> dict[str, object]:
    return {"overlap": 40}


@pytest.mark.parametrize("make, error, message, names_file", [
    (far_away_ntl, InputError, "does not overlap the VHR raster", "far_ntl.tif"),
    (vhr_without_crs, InputError, "has no coordinate reference system", "no_crs.tif"),
    (two_band_vhr, InputError, "has 2 bands but model tiny_test expects 3", "two_bands.tif"),
    (text_file_as_vhr, InputError, "cannot be read as a raster", "notes.tif"),
    (missing_vhr, InputError, "does not exist", "missing.tif"),
    (output_is_vhr, InputError, "is the VHR raster", "vhr.tif"),
    (confidence_is_ntl, InputError, "is the NTL raster", "ntl.tif"),
    (output_given_twice, InputError, "is given twice", "zones.tif"),
    (bad_overlap, InputError, "pick an overlap between 0 and 32", None),
])
def test_bad_input_is_refused_and_nothing_is_written(scene: dict[str, Path], tiny_model: Path, make: Callable,
                                                     error: type[CsagfError], message: str,
                                                     names_file: str | None) -> None:
    changes = make(scene)
    before = snapshot(scene["folder"])
    config = ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(tiny_model),
                            str(scene["folder"] / "zones.tif"), threads=1)
    for key, value in changes.items():
        setattr(config, key, value)
    with pytest.raises(error, match=message) as caught:
        classify_scene(config, warn=None)
    if names_file:
        assert names_file in str(caught.value)
    assert snapshot(scene["folder"]) == before


def test_model_without_card_is_refused_before_writing(scene: dict[str, Path],
                                                      model_factory: Callable[..., Path]) -> None:
    model = model_factory(None)
    before = snapshot(scene["folder"])
    with pytest.raises(ModelCardError, match=f"{model}.*Export the model"):
        classify_scene(ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(model),
                                      str(scene["folder"] / "zones.tif")), warn=None)
    assert snapshot(scene["folder"]) == before


def test_tile_size_other_than_a_fixed_graphs_is_refused(scene: dict[str, Path],
                                                        model_factory: Callable[..., Path]) -> None:
    model = model_factory(tiny_card(), static_shape=(1, 64))
    with pytest.raises(InputError, match="only accepts tiles of 64 pixels"):
        classify_scene(ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(model),
                                      str(scene["folder"] / "zones.tif"), tile_size=128), warn=None)


def test_model_needing_ntl_without_ntl_is_refused(scene: dict[str, Path], tiny_model: Path) -> None:
    with pytest.raises(InputError, match="uses night light: give an NTL raster"):
        classify_scene(ClassifyConfig(str(scene["vhr"]), None, str(tiny_model), str(scene["folder"] / "z.tif")),
                       warn=None)
