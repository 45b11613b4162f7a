"""What the installer asks pip for: the numpy pin that keeps QGIS's GDAL working, one onnxruntime, the profiles."""

from __future__ import annotations

import sys

import pytest

from csagf_plugin.environment import check
from csagf_plugin.environment.location import dependency_folder, subprocess_environment
from csagf_plugin.environment.requirements import (
    FULL,
    INFERENCE,
    numpy_constraint,
    onnxruntime_requirement,
    profile_requirements,
)


@pytest.mark.parametrize(("numpy", "qgis", "expected"), [
    ("1.24.2", 32200, "numpy==1.24.2"),  # Debian 12: exactly QGIS's numpy
    ("2.2.4", 34000, "numpy==2.2.4"),  # Debian 13
    (None, 32200, "numpy<2"),  # no numpy visible: the major version QGIS 3.22's GDAL was built with
    (None, 34000, "numpy>=2"),
])
def test_numpy_is_pinned_to_what_qgis_has(numpy, qgis, expected):
    assert numpy_constraint(numpy, qgis) == expected


def test_an_installed_onnxruntime_is_kept_so_the_two_builds_never_meet():
    assert onnxruntime_requirement("auto", installed="onnxruntime", cuda_usable=True).name == "onnxruntime"
    assert onnxruntime_requirement("auto", installed="onnxruntime-gpu", cuda_usable=False).name == "onnxruntime-gpu"
    assert onnxruntime_requirement("gpu", installed="onnxruntime").name == "onnxruntime"
    gpu = onnxruntime_requirement("auto", installed=None, cuda_usable=True)
    assert gpu.name == "onnxruntime-gpu" and gpu.pip_argument == "onnxruntime-gpu[cuda,cudnn]>=1.21"
    assert onnxruntime_requirement("auto", installed=None, cuda_usable=False).name == "onnxruntime"
    assert onnxruntime_requirement("cpu", installed=None, cuda_usable=True).name == "onnxruntime"
    with pytest.raises(ValueError, match="flavour"):
        onnxruntime_requirement("rocm")


def test_profiles():
    ort = onnxruntime_requirement("cpu")
    inference = [r.name for r in profile_requirements(INFERENCE, ort)]
    full = [r.name for r in profile_requirements(FULL, ort)]
    assert inference == ["rasterio", "affine", "onnxruntime"]
    assert full[:3] == inference and {"torch", "torchvision", "segmentation-models-pytorch"} <= set(full)
    assert "numpy" not in full  # numpy is QGIS's, never the plugin's
    with pytest.raises(ValueError, match="profile"):
        profile_requirements("everything", ort)


def test_check_finds_packages_without_importing_them():
    status = check.package_status(profile_requirements(INFERENCE, onnxruntime_requirement("cpu"))[0])
    assert status.requirement.name == "rasterio" and status.version and status.satisfied
    absent = check.package_status(type(status.requirement)("csagf-absent", "csagf_absent", "", "nothing"))
    assert not absent.satisfied and "missing" in absent.describe()
    assert "csagf_absent" not in sys.modules
    assert check.version_satisfies("1.4.4", ">=1.3,<1.5") and not check.version_satisfies("1.2", ">=1.3")


def test_folder_is_keyed_to_the_python_version(tmp_path):
    assert dependency_folder(tmp_path, (3, 13)).root == tmp_path / "csagf-dependencies" / "python3.13"
    assert dependency_folder(tmp_path).root.name == f"python{sys.version_info[0]}.{sys.version_info[1]}"


def test_subprocesses_do_not_see_a_developer_venv(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/somewhere/.venv/lib/python3.11/site-packages")
    monkeypatch.setenv("PIP_TARGET", "/elsewhere")
    env = subprocess_environment()
    assert "PYTHONPATH" not in env and "PIP_TARGET" not in env and env["PYTHONNOUSERSITE"] == "1"


@pytest.mark.parametrize(("platform", "prefix", "executable", "expected"), [
    ("win32", r"C:\OSGeo4W\apps\Python312", r"C:\OSGeo4W\bin\qgis-bin.exe", r"C:\OSGeo4W\apps\Python312/python.exe"),
    ("darwin", "/Applications/QGIS.app/Contents/Frameworks", "/Applications/QGIS.app/Contents/MacOS/QGIS",
     "/Applications/QGIS.app/Contents/Frameworks/bin/python3.12"),
    ("linux", "/usr", "/usr/bin/qgis", "/usr/bin/python3.12"),
])
def test_qgis_python_is_looked_for_where_each_platform_puts_it(monkeypatch, platform, prefix, executable, expected):
    from csagf_plugin.environment import location

    monkeypatch.setattr(location.sys, "platform", platform)
    monkeypatch.setattr(location.sys, "base_exec_prefix", prefix)
    monkeypatch.setattr(location.sys, "executable", executable)
    monkeypatch.setattr(location.sys, "_base_executable", executable, raising=False)
    monkeypatch.setattr(location.sys, "version_info", (3, 12, 0))
    monkeypatch.setattr(location.shutil, "which", lambda name: None)
    monkeypatch.setattr(location.os.path, "isfile", lambda path: True)
    candidates = [c.replace("\\", "/") for c in location.interpreter_candidates()]
    assert expected.replace("\\", "/") in candidates
    assert not any(c.endswith(("qgis-bin.exe", "/QGIS", "/qgis")) for c in candidates)  # QGIS itself is no Python


def test_windows_and_macos_use_a_target_folder(monkeypatch):
    from csagf_plugin.environment import installer

    for platform in ("win32", "darwin"):
        monkeypatch.setattr(installer.sys, "platform", platform)
        assert installer.choose_layout("python") == "target"
