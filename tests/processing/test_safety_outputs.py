"""Data loss: no algorithm writes over one of its inputs (another path or a symlink included), no name leaves the
output folder, and a refused run leaves every input byte-identical and no file behind."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from qgis.core import QgsProcessingException
from safety_scene import city, snapshot

pytestmark = pytest.mark.usefixtures("csagf_provider")

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def scene(tmp_path):
    """A city, sample points drawn on its labels and a tile store, all inside tmp_path."""
    import processing

    paths = city(tmp_path / "city")
    points = tmp_path / "points.geojson"  # QGIS rewrites a GeoPackage it merely opens
    processing.run("csagf:random_points", {"MAP": str(paths.labels), "N": 20, "OUTPUT": str(points)})
    return {"folder": tmp_path, "vhr": paths.vhr, "ntl": paths.ntl, "labels": paths.labels, "points": points}


def refused(algorithm: str, parameters: dict, message: str, folder: Path) -> None:
    """The run fails with `message` and the folder (inputs and all) is exactly as before."""
    import processing

    before = snapshot(folder)
    with pytest.raises(QgsProcessingException, match=message):
        processing.run(f"csagf:{algorithm}", parameters)
    assert snapshot(folder) == before


def test_classify_refuses_the_vhr_through_a_symlink(scene):
    link = scene["folder"] / "link.tif"
    link.symlink_to(scene["vhr"])
    refused("classify", {"VHR": str(scene["vhr"]), "NTL": str(scene["ntl"]), "OUTPUT": str(link)},
            "is the VHR raster: writing it would destroy the input", scene["folder"])


def test_classify_refuses_the_ntl_through_another_path(scene):
    other = scene["folder"] / "city" / ".." / "city" / "ntl.tif"
    refused("classify", {"VHR": str(scene["vhr"]), "NTL": str(scene["ntl"]), "OUTPUT": str(scene["vhr"].with_name(
        "zones.tif")), "CONFIDENCE": str(other)}, "is the NTL raster", scene["folder"])


def test_classify_refuses_a_hard_link_of_the_vhr(scene):
    hard = scene["folder"] / "hard.tif"
    os.link(scene["vhr"], hard)
    refused("classify", {"VHR": str(scene["vhr"]), "NTL": str(scene["ntl"]), "OUTPUT": str(hard)},
            "is the VHR raster", scene["folder"])


def test_random_points_refuses_the_map(scene):
    refused("random_points", {"MAP": str(scene["labels"]), "N": 5, "OUTPUT": str(scene["labels"])},
            "is the map raster", scene["folder"])


def test_sample_reference_refuses_the_points(scene):
    refused("sample_reference", {"POINTS": str(scene["points"]), "REFERENCE": str(scene["labels"]),
                                 "OUTPUT": str(scene["points"])}, "is the sample points", scene["folder"])


def test_accuracy_assessment_refuses_the_points_and_the_map(scene):
    base = {"MAP": str(scene["labels"]), "POINTS": str(scene["points"]), "REFERENCE_FIELD": "map_class",
            "OUTPUT_FOLDER": str(scene["folder"] / "tables")}
    refused("accuracy_assessment", {**base, "OUTPUT_HTML": str(scene["points"])}, "is the labelled points",
            scene["folder"])
    refused("accuracy_assessment", {**base, "OUTPUT_HTML": str(scene["folder"] / "report.html"),
                                    "OUTPUT_JSON": str(scene["labels"])}, "is the map raster", scene["folder"])


def test_prepare_refuses_the_labels(scene):
    refused("prepare_training_data", {"VHR": [str(scene["vhr"])], "LABELS": str(scene["labels"]),
                                      "NTL": str(scene["ntl"]), "TILE_SIZE": 128, "OUTPUT": str(scene["labels"])},
            "is the labels 1", scene["folder"])


def test_train_refuses_a_name_that_leaves_the_folder(scene):
    refused("train", {"VHR": [str(scene["vhr"])], "LABELS": str(scene["labels"]), "NTL": str(scene["ntl"]),
                      "EPOCHS": 1, "DEVICE": 1, "NAME": "../escape", "OUTPUT_FOLDER": str(scene["folder"] / "run")},
            "cannot be used in file names", scene["folder"])


def test_evaluate_refuses_a_name_that_leaves_the_folder(scene):
    refused("evaluate", {"CLASSIFIED": str(scene["labels"]), "REFERENCE": str(scene["labels"]),
                         "NAME": "../../labels", "OUTPUT_FOLDER": str(scene["folder"] / "eval")},
            "cannot be used in file names", scene["folder"])


def test_training_cli_refuses_to_write_the_tile_store_over_the_vhr(scene):
    before = snapshot(scene["folder"])
    done = subprocess.run([sys.executable, "-m", "csagf_plugin.training", "prepare", "--vhr", str(scene["vhr"]),
                           "--labels", str(scene["labels"]), "--ntl", str(scene["ntl"]), "--tile-size", "128",
                           "--output", str(scene["vhr"])], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 2
    assert done.stderr.count("is the VHR raster 1: writing it would destroy the input") == 1, done.stderr
    assert snapshot(scene["folder"]) == before
