"""A new user's first session: QGIS desktop on the virtual screen, a fresh profile, no project venv on the path.

The plugin is installed from `make package`'s ZIP as Plugins > Install from ZIP does, its inference packages by
csagf:install_dependencies from the package index (pip's cache makes later runs quick), and csagf:classify then
runs in that same QGIS process without a restart.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SESSION = Path(__file__).with_name("desktop_session.py")

pytestmark = pytest.mark.slow


def user_environment(tmp_path: Path) -> dict[str, str]:
    """The environment of a desktop user: no PYTHONPATH, no venv, no plugin path; the virtual screen's DISPLAY."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "QGIS_PLUGINPATH", "QGIS_CUSTOM_CONFIG_PATH", "CSAGF_VENV",
                        "CSAGF_ROOT", "PYTEST_CURRENT_TEST") and not k.startswith("QGIS_")}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if ".venv" not in p)
    env["QT_QPA_PLATFORM"] = "xcb"
    return env


def test_fresh_desktop_installs_plugin_and_packages_then_classifies(tmp_path, artifacts_dir):
    if not os.environ.get("DISPLAY") or shutil.which("qgis") is None:
        pytest.skip("needs the QGIS desktop and a (virtual) screen: run through scripts/test.sh")
    if (REPO / ".git").exists():
        subprocess.run(["make", "-s", "package"], cwd=REPO, check=True, capture_output=True)
    elif not (REPO / "build" / "csagf.zip").is_file():  # a git-archive copy (check_debian13.sh brings the ZIP)
        pytest.skip("no git checkout to package and no build/csagf.zip")
    from csagf_plugin.benchmark_city.generate import generate_city

    scene = generate_city(tmp_path / "scene", size_px=256, seed=3)
    config = {"zip": str(REPO / "build" / "csagf.zip"), "vhr": str(scene.vhr), "ntl": str(scene.ntl),
              "output": str(tmp_path / "zones.tif"), "screenshot": str(artifacts_dir / "desktop_after_classify.png")}
    result_path = tmp_path / "result.json"
    env = user_environment(tmp_path)
    env["CSAGF_DESKTOP_CONFIG"] = json.dumps(config)
    env["CSAGF_DESKTOP_RESULT"] = str(result_path)
    profiles = tmp_path / "profiles"
    try:
        run = subprocess.run(["qgis", "--profiles-path", str(profiles), "--nologo", "--noversioncheck",
                              "--code", str(SESSION)], env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:  # e.g. a modal error dialog: the session file says which step and dialog
        pytest.fail("QGIS hung: " + (result_path.read_text(encoding="utf-8") if result_path.is_file() else ""))
    assert result_path.is_file(), f"QGIS exited ({run.returncode}) without a result:\n{run.stderr[-3000:]}"
    result = json.loads(result_path.read_text(encoding="utf-8"))
    assert result.get("done") and "modal" not in result, result
    assert "error" not in result, result["error"] + json.dumps(result.get("install", {}), indent=1)[:4000]

    before = result["before"]
    assert not before["rasterio_found"] and not before["onnxruntime_found"] and not before["venv_on_path"]
    profile = Path(before["profile"])
    assert profile.is_relative_to(profiles)

    plugin = result["plugin"]
    assert plugin["loaded"] and Path(plugin["plugin_file"]).is_relative_to(profile / "python" / "plugins" / "csagf")
    assert {"classify", "install_dependencies", "check_environment"} <= set(plugin["algorithms"])
    assert any(text.startswith("Install dependencies") for text in plugin["menu"])

    assert result["menu_dialog"]["title"] == "Install dependencies"  # the menu opens the algorithm's dialog

    install = result["install"]
    folder = profile / "csagf-dependencies"
    assert Path(install["outputs"]["FOLDER"]).is_relative_to(folder) and install["rasterio_found"]
    assert install["percents"] and max(install["percents"]) == 100.0
    assert "numpy" in install["outputs"]["VERSIONS"]
    print(f"inference install in the desktop: {install['seconds']} s")  # shown with -s; the figure for the report

    classify = result["classify"]
    assert Path(classify["rasterio_file"]).is_relative_to(folder)
    assert Path(classify["onnxruntime_file"]).is_relative_to(folder)
    assert Path(classify["outputs"]["OUTPUT"]).is_file()
    import numpy as np
    import rasterio

    with rasterio.open(classify["outputs"]["OUTPUT"]) as written:
        classes = np.unique(written.read(1))
    assert set(classes.tolist()) <= set(range(8)) and len(classes) >= 2
    assert "tile on cpu" in result["check_environment"]["report"]
