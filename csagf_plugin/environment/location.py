"""Where the plugin's own packages live, which Python interpreter QGIS runs, and putting the folder on sys.path.

The folder is `<QGIS profile>/csagf-dependencies/python<X.Y>`: private to the plugin (QGIS's and the system's
site-packages are never written to, so Debian's "externally-managed-environment" refusal does not apply and an
OSGeo4W or macOS bundle is not modified), and keyed to the Python version, since compiled wheels (rasterio,
onnxruntime, torch) only load in the Python they were built for; after a QGIS upgrade to a new Python the
installer fills a new folder.

Two layouts, chosen by what QGIS's Python offers:
- "venv" (Linux): a virtual environment made with `--system-site-packages`, so pip sees QGIS's numpy, GDAL and
  friends as installed and adds only what is missing. Debian's python3 has venv and ensurepip with python3-venv,
  which scripts/setup.sh installs and QGIS users usually have.
- "target" (Windows OSGeo4W, the macOS QGIS.app, a Linux without venv): `pip install --target <folder>` with the
  pip that ships in QGIS's Python. OSGeo4W's python.exe runs with PYTHONHOME set by QGIS's environment, under which
  a venv's python would not find its own site-packages; the macOS bundle's framework Python is relocatable and a
  venv of it points into the app bundle, which an update replaces.
Either way the plugin only appends the folder to sys.path (after QGIS's own paths, so QGIS's numpy always wins).
"""

from __future__ import annotations

import importlib
import json
import os
import shutil
import site
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

FOLDER_NAME = "csagf-dependencies"
RECORD_NAME = "csagf-install.json"  # written into the folder by a finished install
VENV = "venv"
TARGET = "target"


@dataclass(frozen=True)
class DependencyFolder:
    """The plugin-private package folder for one Python version, and its staging and log paths."""

    root: Path  # <profile>/csagf-dependencies/python3.11

    @property
    def staging(self) -> Path:
        """Where an install is built before it replaces `root` (removed when the install fails)."""
        return self.root.with_name(self.root.name + ".staging")

    @property
    def previous(self) -> Path:
        """Where `root` waits while the staging folder takes its place."""
        return self.root.with_name(self.root.name + ".previous")

    @property
    def log_path(self) -> Path:
        """The install log, kept beside the folder so a failed install leaves it too."""
        return self.root.with_name(self.root.name + "-install.log")

    def record(self) -> dict:
        """What the last finished install wrote (layout, profile, packages); {} when there was none."""
        try:
            return json.loads((self.root / RECORD_NAME).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def layout(self) -> str | None:
        """"venv" or "target" for an installed folder, None when nothing is installed."""
        if (self.root / "pyvenv.cfg").is_file():
            return VENV
        return self.record().get("layout") or (TARGET if self.root.is_dir() else None)

    def site_packages(self, base: Path | None = None, layout: str | None = None) -> Path:
        """The directory that goes on sys.path, for the folder at `base` (default: root)."""
        base = base or self.root
        if (layout or self.layout()) != VENV:
            return base
        if sys.platform == "win32":
            return base / "Lib" / "site-packages"
        return base / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "site-packages"


def dependency_folder(profile_dir: str | os.PathLike, version: tuple[int, int] | None = None) -> DependencyFolder:
    """The folder for QGIS's Python version inside the QGIS profile folder `profile_dir`."""
    major, minor = version or sys.version_info[:2]
    return DependencyFolder(Path(profile_dir) / FOLDER_NAME / f"python{major}.{minor}")


def qgis_profile_dir() -> str:
    """The active QGIS profile folder (e.g. ~/.local/share/QGIS/QGIS3/profiles/default)."""
    from qgis.core import QgsApplication

    return QgsApplication.qgisSettingsDirPath()


def activate(folder: DependencyFolder) -> str | None:
    """Append the folder's site-packages to sys.path (with its .pth files); returns it, or None when absent.

    Called when the plugin loads and after an install, so algorithms import rasterio and onnxruntime without a
    restart. Appending, not prepending: QGIS's own numpy and GDAL stay first.
    """
    for leftover in (folder.staging, folder.previous):  # an install killed with QGIS, or a file Windows kept open
        if leftover.exists():
            shutil.rmtree(leftover, ignore_errors=True)
    site_dir = folder.site_packages()
    if not site_dir.is_dir():
        return None
    path = str(site_dir)
    if path not in sys.path:
        site.addsitedir(path)
    importlib.invalidate_caches()
    return path


def interpreter_candidates() -> list[str]:
    """Places where QGIS's own Python interpreter is, best first, for the platforms QGIS ships on.

    Inside QGIS, sys.executable is the QGIS program (qgis, qgis-bin.exe, QGIS.app/Contents/MacOS/QGIS), not Python.
    - Linux distributions: /usr/bin/python3.X, i.e. <base_exec_prefix>/bin/python3.X.
    - Windows OSGeo4W and the standalone installer: <OSGeo4W>/apps/Python3XY/python.exe = <base_exec_prefix>/python.exe.
    - macOS QGIS.app: the bundled framework's <base_exec_prefix>/bin/python3.X (QGIS.app/Contents/Frameworks/...),
      and QGIS.app/Contents/MacOS/bin/python3 in older bundles.
    """
    version = f"{sys.version_info[0]}.{sys.version_info[1]}"
    prefix = Path(sys.base_exec_prefix)
    names = [getattr(sys, "_base_executable", ""), sys.executable]
    if sys.platform == "win32":
        names += [str(prefix / "python.exe"), str(prefix / "python3.exe")]
    else:
        names += [str(prefix / "bin" / f"python{version}"), str(prefix / "bin" / "python3")]
        if sys.platform == "darwin":
            names.append(str(Path(sys.executable).parent / "bin" / "python3"))
    names.append(shutil.which(f"python{version}") or "")
    out: list[str] = []
    for name in names:
        if name and os.path.basename(name).lower().startswith("python") and name not in out and os.path.isfile(name):
            out.append(name)
    return out


def find_qgis_python() -> str | None:
    """The first candidate interpreter that really is QGIS's Python (same version and same base prefix)."""
    probe = "import sys; print(sys.version_info[0], sys.version_info[1], sys.base_exec_prefix)"
    for candidate in interpreter_candidates():
        try:
            out = subprocess.run([candidate, "-c", probe], capture_output=True, check=False, text=True, timeout=60,
                                 env=subprocess_environment()).stdout.split(maxsplit=2)
        except (OSError, subprocess.SubprocessError):
            continue
        if len(out) == 3 and (int(out[0]), int(out[1])) == sys.version_info[:2] and \
                os.path.normcase(os.path.realpath(out[2].strip())) == \
                os.path.normcase(os.path.realpath(sys.base_exec_prefix)):
            return candidate
    return None


def subprocess_environment() -> dict[str, str]:
    """QGIS's environment for pip and Python subprocesses, minus what would send them to another environment.

    PYTHONPATH (a developer's venv, another plugin's folders) and VIRTUAL_ENV would make pip see or write another
    environment; pip's own target/prefix/user settings would redirect the install. PYTHONHOME stays on Windows,
    where OSGeo4W's python.exe needs it.
    """
    env = dict(os.environ)
    drop = ["PYTHONPATH", "VIRTUAL_ENV", "PIP_TARGET", "PIP_PREFIX", "PIP_USER", "PIP_REQUIRE_VIRTUALENV",
            "PYTHONSTARTUP"]
    if sys.platform != "win32":
        drop.append("PYTHONHOME")
    for key in drop:
        env.pop(key, None)
    env["PYTHONNOUSERSITE"] = "1"  # ~/.local packages must not satisfy (or shadow) what the folder provides
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env
