"""`python -m csagf_plugin`: classify one file, a mosaic of scenes in two CRS, one output per input, Dask, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_points

sys.path.insert(0, str(Path(__file__).resolve().parent / "core"))

from tiny_models import (
    NTL_CENTRE,
    NTL_PIXEL_DEG,
    UTM51,
    VHR_ORIGIN,
    WGS84,
    build_onnx,
    ntl_linear,
    smooth_texture,
    tiny_card,
    write_raster,
)

from csagf_plugin.__main__ import main
from csagf_plugin.core.classify import ClassifyConfig, classify_scene

REPO = Path(__file__).resolve().parents[1]
UTM50 = CRS.from_epsg(32650)


@pytest.fixture()
def scenes(tmp_path: Path) -> dict[str, Path]:
    """Two adjoining 1 m scenes, the first in UTM 51N, the second east of it in UTM 50N; NTL in EPSG:4326."""
    first = write_raster(tmp_path / "a.tif", smooth_texture(150, 200, 3, seed=1), UTM51,
                         from_origin(*VHR_ORIGIN, 1.0, 1.0))
    (x50,), (y50,) = warp_points(UTM51, UTM50, [VHR_ORIGIN[0] + 200.0], [VHR_ORIGIN[1]])
    second = write_raster(tmp_path / "b.tif", smooth_texture(150, 120, 3, seed=2), UTM50,
                          from_origin(x50, y50, 1.0, 1.0))
    half = 16
    lons = NTL_CENTRE[0] + (np.arange(-half, half) + 0.5) * NTL_PIXEL_DEG
    lats = NTL_CENTRE[1] - (np.arange(-half, half) + 0.5) * NTL_PIXEL_DEG
    ntl = write_raster(tmp_path / "ntl.tif", ntl_linear(lons[None, :], lats[:, None]).astype(np.float32)[None],
                       WGS84, from_origin(NTL_CENTRE[0] - half * NTL_PIXEL_DEG, NTL_CENTRE[1] + half * NTL_PIXEL_DEG,
                                          NTL_PIXEL_DEG, NTL_PIXEL_DEG))
    model = build_onnx(tmp_path / "model.onnx", tiny_card())
    return {"a": first, "b": second, "ntl": ntl, "model": model, "folder": tmp_path}


def reference_map(scenes: dict[str, Path], vhr: Path) -> np.ndarray:
    """What classify_scene writes for one scene."""
    out = scenes["folder"] / f"reference_{vhr.stem}.tif"
    classify_scene(ClassifyConfig(str(vhr), str(scenes["ntl"]), str(scenes["model"]), str(out)), warn=None)
    with rasterio.open(out) as src:
        return src.read(1)


def run(scenes: dict[str, Path], *extra: str, vhr: tuple[str, ...] = ("a",)) -> int:
    return main(["classify", "--vhr", *[str(scenes[v]) for v in vhr], "--ntl", str(scenes["ntl"]),
                 "--model", str(scenes["model"]), *extra])


def test_one_scene_gives_a_cog_with_the_engines_map(scenes: dict[str, Path]) -> None:
    out = scenes["folder"] / "zones.tif"
    assert run(scenes, "--out", str(out), "--confidence") == 0
    with rasterio.open(out) as src:
        assert src.tags(ns="IMAGE_STRUCTURE")["LAYOUT"] == "COG"
        np.testing.assert_array_equal(src.read(1), reference_map(scenes, scenes["a"]))
        assert src.colormap(1)[1][:3] == (0xe8, 0xa3, 0x3d)
    assert (scenes["folder"] / "zones_confidence.tif").exists() and (scenes["folder"] / "zones.qml").exists()
    assert "Residential" in (scenes["folder"] / "zones.tif.aux.xml").read_text()
    assert not list(scenes["folder"].glob(".*"))


def test_scenes_in_two_crs_make_one_mosaic_on_the_first_ones_grid(scenes: dict[str, Path]) -> None:
    out = scenes["folder"] / "mosaic.tif"
    assert run(scenes, "--out", str(out), vhr=("a", "b")) == 0
    with rasterio.open(out) as src, rasterio.open(scenes["a"]) as a:
        assert src.crs == UTM51 and src.res == a.res
        assert src.bounds.left == a.bounds.left and src.bounds.top == a.bounds.top
        assert src.width >= 200 + 115  # the second scene lies east of the first
        mosaic = src.read(1)
    np.testing.assert_array_equal(mosaic[:150, :200], reference_map(scenes, scenes["a"]))
    east = mosaic[10:140, 205:310]
    assert (east > 0).mean() > 0.95 and len(np.unique(east)) >= 3  # the second scene's classes, rotated in
    assert not list(scenes["folder"].glob(".*"))


def test_per_input_writes_one_map_per_scene_named_after_it(scenes: dict[str, Path]) -> None:
    folder = scenes["folder"] / "maps"
    assert run(scenes, "--out", str(folder), "--per-input", "--gate", vhr=("a", "b")) == 0
    assert sorted(p.name for p in folder.glob("*.tif")) == ["a_gate.tif", "a_zones.tif", "b_gate.tif", "b_zones.tif"]
    with rasterio.open(folder / "b_zones.tif") as src:
        assert src.crs == UTM50
        np.testing.assert_array_equal(src.read(1), reference_map(scenes, scenes["b"]))


def test_a_folder_of_scenes_is_read_as_its_rasters(scenes: dict[str, Path], tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "a.tif").write_bytes(scenes["a"].read_bytes())
    (inputs / "notes.txt").write_text("not a raster")
    scenes = {**scenes, "inputs": inputs}
    assert run(scenes, "--out", str(tmp_path / "maps"), "--per-input", vhr=("inputs",)) == 0
    assert [p.name for p in (tmp_path / "maps").glob("*.tif")] == ["a_zones.tif"]


def test_dask_local_cluster_gives_the_engines_map(scenes: dict[str, Path]) -> None:
    pytest.importorskip("distributed")
    out = scenes["folder"] / "dask.tif"
    assert run(scenes, "--out", str(out), "--scheduler", "auto", "--workers", "2", "--block-tiles", "2") == 0
    with rasterio.open(out) as src:
        np.testing.assert_array_equal(src.read(1), reference_map(scenes, scenes["a"]))


def test_errors_are_one_line_with_status_2(scenes: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    code = main(["classify", "--vhr", str(scenes["a"]), "--model", str(scenes["model"]),
                 "--out", str(scenes["folder"] / "z.tif")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: Model") and "give an NTL raster" in err[-1]
    assert run(scenes, "--out", str(scenes["folder"] / "z.tif"), "--scheduler", "localhost:1") == 2
    assert "neither 'auto' nor an address" in capsys.readouterr().err


def test_training_verbs_are_the_training_command_line() -> None:
    done = subprocess.run([sys.executable, "-m", "csagf_plugin", "evaluate", "--classified", "missing.tif",
                           "--reference", "missing.gpkg", "--output-dir", "."], cwd=REPO, capture_output=True,
                          text=True, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin"}, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error:") and "missing.tif" in done.stderr


def test_quantise_verb_writes_an_int8_model_classify_can_use(scenes: dict[str, Path]) -> None:
    pytest.importorskip("onnxruntime.quantization")
    int8 = scenes["folder"] / "int8.onnx"
    assert main(["quantise", "--model", str(scenes["model"]), "--out", str(int8), "--vhr", str(scenes["a"]),
                 "--ntl", str(scenes["ntl"]), "--count", "4", "--method", "minmax"]) == 0
    out = scenes["folder"] / "int8_zones.tif"
    assert main(["classify", "--vhr", str(scenes["a"]), "--ntl", str(scenes["ntl"]), "--model", str(int8),
                 "--out", str(out)]) == 0
    with rasterio.open(out) as src:
        assert (src.read(1) == reference_map(scenes, scenes["a"])).mean() > 0.9


def test_pixel_size_and_vhr_scale_reach_the_engine(scenes: dict[str, Path], capsys: pytest.CaptureFixture) -> None:
    out = scenes["folder"] / "coarse.tif"
    assert run(scenes, "--out", str(out), "--pixel-size", "2", "--vhr-scale", "255") == 0
    assert "resampled from 1.00 m" in capsys.readouterr().err
    with rasterio.open(out) as src, rasterio.open(scenes["a"]) as a:
        assert src.shape == a.shape and src.transform == a.transform  # predicted at 2 m, written on the VHR grid
    assert run(scenes, "--out", str(out), "--vhr-scale", "bright") == 2
    assert "VHR scale 'bright'" in capsys.readouterr().err


def test_quantise_fp16_needs_no_calibration(scenes: dict[str, Path]) -> None:
    half = scenes["folder"] / "fp16.onnx"
    assert main(["quantise", "--fp16", "--model", str(scenes["model"]), "--out", str(half)]) == 0
    out = scenes["folder"] / "fp16_zones.tif"
    assert main(["classify", "--vhr", str(scenes["a"]), "--ntl", str(scenes["ntl"]), "--model", str(half),
                 "--out", str(out)]) == 0
    with rasterio.open(out) as src:
        assert (src.read(1) == reference_map(scenes, scenes["a"])).mean() > 0.99


def test_a_vrt_of_aligned_pieces_classifies_as_the_whole_scene(scenes: dict[str, Path]) -> None:
    from csagf_plugin.core.mosaic import Piece, write_vrt

    folder = scenes["folder"]
    with rasterio.open(scenes["a"]) as src:
        data, transform, crs = src.read(), src.transform, src.crs
    pieces = []
    for name, x0, x1 in (("left", 0, 90), ("right", 90, 200)):  # the cut falls inside a tile's overlap
        path = write_raster(folder / f"{name}.tif", data[:, :, x0:x1].copy(), crs, transform * transform.translation(
            x0, 0))
        pieces.append(Piece(str(path), x0, 0, x1 - x0, 150))
    vrt = write_vrt(str(folder / "pieces.vrt"), pieces, 200, 150)
    out = folder / "from_vrt.tif"
    assert main(["classify", "--vhr", vrt, "--ntl", str(scenes["ntl"]), "--model", str(scenes["model"]),
                 "--out", str(out)]) == 0
    with rasterio.open(out) as src:
        np.testing.assert_array_equal(src.read(1), reference_map(scenes, scenes["a"]))
