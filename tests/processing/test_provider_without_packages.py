"""QGIS's own Python without rasterio, onnxruntime or torch (a new user's): the provider still loads all algorithms,
and running one says in one line what to install, instead of the plugin failing to load."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from csagf_plugin.environment.location import find_qgis_python

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import importlib.util, json, sys
sys.path[:0] = [sys.argv[1], "/usr/share/qgis/python/plugins"]
missing = [m for m in ("rasterio", "onnxruntime", "torch") if importlib.util.find_spec(m) is None]
from qgis.core import QgsApplication, QgsProcessingException
app = QgsApplication([], False)
app.initQgis()
from processing.core.Processing import Processing
Processing.initialize()
from csagf_plugin.processing.provider import CsagfProvider
provider = CsagfProvider()
QgsApplication.processingRegistry().addProvider(provider)
import processing
try:
    processing.run("csagf:classify", {"VHR": sys.argv[2], "NTL": sys.argv[2], "OUTPUT": sys.argv[3]})
    error = None
except QgsProcessingException as exc:
    error = str(exc)
print("RESULT " + json.dumps({"missing": missing, "algorithms": sorted(a.name() for a in provider.algorithms()),
                              "error": error}))
"""


def test_provider_loads_in_a_qgis_python_without_the_packages(tmp_path):
    python = find_qgis_python()
    if python is None:
        pytest.skip("QGIS's Python interpreter not found")
    raster = tmp_path / "tiny.tif"
    from osgeo import gdal

    gdal.GetDriverByName("GTiff").Create(str(raster), 8, 8, 3).FlushCache()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PYTHONNOUSERSITE"] = "1"
    run = subprocess.run([python, "-c", SCRIPT, str(REPO), str(raster), str(tmp_path / "out.tif")],
                         capture_output=True, text=True, timeout=120, env=env)
    lines = [line for line in run.stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, run.stdout[-2000:] + run.stderr[-3000:]
    result = json.loads(lines[0].split(" ", 1)[1])
    if "rasterio" not in result["missing"]:
        pytest.skip(f"{python} has rasterio: this checks a Python without it")
    assert {"classify", "random_points", "sample_reference", "accuracy_assessment", "train",
            "install_dependencies", "check_environment"} <= set(result["algorithms"])
    assert result["error"] and "Install dependencies" in result["error"], result["error"]
    assert "Traceback" not in result["error"]
