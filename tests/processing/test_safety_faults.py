"""Faults become one clear line with the cause kept, and leave nothing behind: read-only folder, disk full,
truncated GeoTIFF, a text file named .tif, a non-checkpoint resume file, a truncated tile store, an output folder
that is a file, a mapping CSV with an unterminated quote; and the value,class_id mapping with a class field."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import rasterio
from qgis.core import QgsProcessingException
from safety_scene import city, polygons, snapshot, temp_files

pytestmark = pytest.mark.usefixtures("csagf_provider")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    paths = city(folder / "city")
    return {"folder": folder, "vhr": paths.vhr, "ntl": paths.ntl, "labels": paths.labels}


@pytest.fixture
def mounted(tmp_path):
    """mount(options) -> a fresh tmpfs folder mounted with these options; skipped where mounting is not allowed."""
    mounts = []

    def mount(options: str) -> Path:
        point = tmp_path / f"mount{len(mounts)}"
        point.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(point)], capture_output=True)
        if done.returncode:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.decode().strip()})")
        mounts.append(point)
        return point

    yield mount
    for point in mounts:
        subprocess.run(["umount", str(point)], check=False)


def classify(scene, **parameters) -> dict:
    import processing

    return processing.run("csagf:classify", {"VHR": str(scene["vhr"]), "NTL": str(scene["ntl"]), **parameters})


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "csagf_plugin.training", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=300)


def test_read_only_output_folder(scene, mounted):
    folder = mounted("ro,size=1m")
    with pytest.raises(QgsProcessingException, match=f"cannot be written in {folder}: the folder is read-only"):
        classify(scene, OUTPUT=str(folder / "zones.tif"))


def test_disk_full_says_so_and_leaves_no_partial_file(scene, mounted):
    folder = mounted("size=24k")
    before = snapshot(scene["folder"])
    with pytest.raises(QgsProcessingException, match=f"No space left on device .* {folder}"):
        classify(scene, OUTPUT=str(folder / "zones.tif"), CONFIDENCE=str(folder / "confidence.tif"))
    assert list(folder.iterdir()) == []
    assert snapshot(scene["folder"]) == before


def test_truncated_geotiff_is_named(scene, tmp_path):
    with rasterio.open(scene["vhr"]) as src:
        profile = src.profile
    profile.update(width=1024, height=1024, tiled=True, blockxsize=256, blockysize=256, compress="deflate")
    whole = tmp_path / "whole.tif"
    with rasterio.open(whole, "w", **profile) as dst:
        dst.write(np.random.default_rng(1).integers(0, 256, (3, 1024, 1024), dtype=np.uint8))
    truncated = tmp_path / "truncated.tif"
    truncated.write_bytes(whole.read_bytes()[:int(whole.stat().st_size * 0.6)])
    with pytest.raises(QgsProcessingException, match="truncated.tif cannot be read: the file is truncated or "
                                                     r"corrupt \(.*IReadBlock failed"):
        classify(scene, VHR=str(truncated), OUTPUT=str(tmp_path / "zones.tif"))
    assert not (tmp_path / "zones.tif").exists() and not temp_files(tmp_path)


def test_text_file_named_tif_is_not_reported_as_missing(scene, tmp_path):
    notes = tmp_path / "notes.tif"
    notes.write_text("field notes, not a raster\n")
    with pytest.raises(QgsProcessingException, match="notes.tif exists but cannot be read \\(it is a text file"):
        classify(scene, VHR=str(notes), OUTPUT=str(tmp_path / "zones.tif"))


def test_output_folder_that_is_a_file(scene, tmp_path):
    import processing

    taken = tmp_path / "report"
    taken.write_text("an existing file")
    with pytest.raises(QgsProcessingException, match="is an existing file, not a folder"):
        processing.run("csagf:evaluate", {"CLASSIFIED": str(scene["labels"]), "REFERENCE": str(scene["labels"]),
                                          "OUTPUT_FOLDER": str(taken)})
    assert taken.read_text() == "an existing file"


def test_mapping_csv_with_an_unterminated_quote_names_the_line(scene, tmp_path):
    import processing

    mapping = tmp_path / "mapping.csv"
    mapping.write_text('value,class_id\nresidential,1\n"retail,2\nindustrial,3\n')
    with pytest.raises(QgsProcessingException, match='line 3 opens a quote \\("\\) that is never closed'):
        processing.run("csagf:evaluate", {"CLASSIFIED": str(scene["labels"]), "REFERENCE": str(scene["labels"]),
                                          "MAPPING": str(mapping), "CLASS_FIELD": "fclass",
                                          "OUTPUT_FOLDER": str(tmp_path / "eval")})
    assert not (tmp_path / "eval").exists()


def test_value_class_id_mapping_with_a_class_field_prepares_tiles(scene, tmp_path):
    import processing

    labels = polygons(tmp_path / "landuse.gpkg", scene["vhr"], ["residential", "park", "retail", "water"])
    mapping = tmp_path / "mapping.csv"
    mapping.write_text("value,class_id\nresidential,1\nretail,2\npark,4\nwater,6\n")
    result = processing.run("csagf:prepare_training_data", {
        "VHR": [str(scene["vhr"])], "LABELS": f"{labels}|layername=zones", "CLASS_FIELD": "fclass",
        "MAPPING": str(mapping), "NTL": str(scene["ntl"]), "TILE_SIZE": 128, "OUTPUT": str(tmp_path / "t.npz")})
    assert result["NUM_TILES"] == 4
    with np.load(tmp_path / "t.npz") as store:
        assert set(np.unique(store["labels"])) == {1, 2, 4, 6}


@pytest.fixture(scope="module")
def tile_store(scene):
    from csagf_plugin.training.tiles import PrepareConfig, SceneSource, prepare_tiles

    path = scene["folder"] / "tiles.npz"
    prepare_tiles(PrepareConfig([SceneSource(str(scene["vhr"]), str(scene["labels"]))], str(scene["ntl"]),
                                tile_size=64, output=str(path)))
    return path


def test_resume_from_a_file_that_is_no_checkpoint(tile_store, tmp_path):
    notes = tmp_path / "notes.pt"
    notes.write_text("not a checkpoint\n")
    run = tmp_path / "run"
    done = cli("train", "--tiles", str(tile_store), "--resume", str(notes), "--epochs", "1", "--device", "cpu",
               "--block-size", "64", "--output-dir", str(run))
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "notes.pt cannot be read as a CSAGF checkpoint" in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert not run.exists()  # a failed run leaves no (empty) output folder


def test_truncated_tile_store(tile_store, tmp_path):
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(tile_store.read_bytes()[:tile_store.stat().st_size // 2])
    run = tmp_path / "run"
    done = cli("train", "--tiles", str(truncated), "--epochs", "1", "--device", "cpu", "--output-dir", str(run))
    assert done.returncode == 2
    assert done.stderr.count("truncated.npz is not a CSAGF tile store") == 1, done.stderr[-2000:]
    assert "Traceback" not in done.stderr and not run.exists()
