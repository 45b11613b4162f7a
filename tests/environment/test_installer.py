"""The dependency installer: pip into a staging folder, checked, swapped in; a failure leaves the old folder alone.

Offline: pip installs a wheel written here (--no-index), through QGIS's real Python interpreter.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from csagf_plugin.environment import check
from csagf_plugin.environment.installer import InstallError, InstallPlan, install
from csagf_plugin.environment.location import (
    RECORD_NAME,
    TARGET,
    VENV,
    activate,
    dependency_folder,
    find_qgis_python,
    subprocess_environment,
)
from csagf_plugin.environment.requirements import Requirement

PACKAGE = Requirement("csagf-probe", "csagf_probe", ">=1.0", "a test package")


def write_wheel(folder: Path, version: str = "1.0") -> Path:
    """A minimal pure-Python wheel of `csagf-probe` that pip installs without any index."""
    dist_info = f"csagf_probe-{version}.dist-info"
    files = {
        "csagf_probe/__init__.py": f'__version__ = "{version}"\n',
        f"{dist_info}/METADATA": f"Metadata-Version: 2.1\nName: csagf-probe\nVersion: {version}\n",
        f"{dist_info}/WHEEL": "Wheel-Version: 1.0\nGenerator: csagf-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{name},sha256={digest},{len(text.encode())}")
    record.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = "\n".join(record) + "\n"
    path = folder / f"csagf_probe-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return path


class Recorder:
    """An InstallProgress that keeps what it was told; cancels when asked to."""

    def __init__(self, cancel_after_lines: int | None = None) -> None:
        self.percents: list[float] = []
        self.lines: list[str] = []
        self.cancel_after_lines = cancel_after_lines

    def set_progress(self, percent: float) -> None:
        self.percents.append(percent)

    def is_canceled(self) -> bool:
        return self.cancel_after_lines is not None and len(self.lines) >= self.cancel_after_lines

    def log(self, line: str) -> None:
        self.lines.append(line)


@pytest.fixture(scope="module")
def qgis_python() -> str:
    python = find_qgis_python()
    assert python is not None, "QGIS's Python (the base interpreter of this venv) was not found"
    return python


def skip_without_pip(python: str, layout: str) -> None:
    """The target layout runs QGIS's own pip, which Debian 13's python3 lacks unless python3-pip is installed
    (plan_install then says so and the venv layout is used)."""
    if layout == TARGET and subprocess.run([python, "-m", "pip", "--version"], capture_output=True,
                                           env=subprocess_environment()).returncode:
        pytest.skip(f"{python} has no pip (the target layout needs it)")


@pytest.fixture
def wheels(tmp_path) -> Path:
    folder = tmp_path / "wheels"
    folder.mkdir()
    write_wheel(folder, "1.0")
    return folder


@pytest.fixture
def clean_sys_path():
    before = list(sys.path)
    yield
    sys.path[:] = before
    sys.modules.pop("csagf_probe", None)


def plan(tmp_path, python, layout, wheels, requirement=PACKAGE):
    return InstallPlan(folder=dependency_folder(tmp_path / "profile"), python=python, layout=layout,
                       profile="inference", requirements=[requirement],
                       constraints=[f"numpy=={check.numpy_version()}"],
                       pip_options=["--no-index", "--find-links", str(wheels)])


def test_finds_the_base_interpreter_of_this_python(qgis_python):
    assert Path(qgis_python).name.startswith("python")
    assert Path(qgis_python).resolve().parent == Path(sys.base_exec_prefix, "bin").resolve()


@pytest.mark.parametrize("layout", [TARGET, VENV])
def test_install_puts_the_package_on_sys_path(tmp_path, qgis_python, wheels, layout, clean_sys_path):
    skip_without_pip(qgis_python, layout)
    the_plan = plan(tmp_path, qgis_python, layout, wheels)
    progress = Recorder()
    result = install(the_plan, progress)
    folder = the_plan.folder
    assert result.versions["csagf-probe"] == "1.0"
    assert result.versions["numpy"] == check.numpy_version()  # QGIS's numpy untouched
    assert folder.root.is_dir() and not folder.staging.exists() and not folder.previous.exists()
    assert folder.record()["layout"] == layout and (folder.root / RECORD_NAME).is_file()
    assert folder.layout() == layout
    assert result.site_packages in sys.path and sys.path.index(result.site_packages) > 0
    assert sorted(progress.percents) == progress.percents and progress.percents[-1] == 100.0
    import csagf_probe

    assert Path(csagf_probe.__file__).resolve().is_relative_to(folder.root.resolve())
    assert check.package_status(PACKAGE).satisfied
    assert "csagf-probe" in folder.log_path.read_text(encoding="utf-8")


@pytest.mark.parametrize("layout", [TARGET, VENV])
def test_failed_install_leaves_the_installed_folder_as_it_was(tmp_path, qgis_python, wheels, layout,
                                                                clean_sys_path):
    skip_without_pip(qgis_python, layout)
    install(plan(tmp_path, qgis_python, layout, wheels), Recorder())
    folder = dependency_folder(tmp_path / "profile")
    before = sorted(str(p.relative_to(folder.root)) for p in folder.root.rglob("*"))
    missing = Requirement("csagf-probe", "csagf_probe", ">=9", "a release that does not exist")
    with pytest.raises(InstallError, match="nothing was changed"):
        install(plan(tmp_path, qgis_python, layout, wheels, missing), Recorder())
    assert sorted(str(p.relative_to(folder.root)) for p in folder.root.rglob("*")) == before
    assert not folder.staging.exists()
    assert "Install failed" in folder.log_path.read_text(encoding="utf-8")


def test_an_install_whose_import_check_fails_is_rolled_back(tmp_path, qgis_python, wheels, clean_sys_path):
    skip_without_pip(qgis_python, TARGET)
    wrong_module = Requirement("csagf-probe", "csagf_probe_is_not_its_name", "", "a package that does not import")
    with pytest.raises(InstallError, match="failed"):
        install(plan(tmp_path, qgis_python, TARGET, wheels, wrong_module), Recorder())
    folder = dependency_folder(tmp_path / "profile")
    assert not folder.root.exists() and not folder.staging.exists()
    assert activate(folder) is None


def test_cancel_stops_pip_and_changes_nothing(tmp_path, qgis_python, wheels, clean_sys_path):
    skip_without_pip(qgis_python, TARGET)
    with pytest.raises(InstallError, match="Canceled"):
        install(plan(tmp_path, qgis_python, TARGET, wheels), Recorder(cancel_after_lines=3))
    folder = dependency_folder(tmp_path / "profile")
    assert not folder.root.exists() and not folder.staging.exists()


def test_leftovers_of_a_killed_install_go_when_the_plugin_loads(tmp_path):
    folder = dependency_folder(tmp_path / "profile")
    (folder.staging / "half").mkdir(parents=True)
    folder.root.mkdir()
    assert activate(folder) == str(folder.root)  # a target folder goes on sys.path as it is
    assert not folder.staging.exists()
    sys.path.remove(str(folder.root))
