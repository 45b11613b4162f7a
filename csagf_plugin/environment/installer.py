"""Install the plugin's packages with pip into its private folder; all or nothing.

An install is built in `<folder>.staging` (a venv made there, or a hard-linked copy of the installed one; or an
empty --target folder), checked by importing the packages beside QGIS's GDAL in a fresh QGIS Python, and only then
swapped in for the old folder. A pip failure, a failed check, a cancel or a crash leaves the old folder as it was
(the staging folder is removed at once, or when the plugin next loads).
"""

from __future__ import annotations

import datetime
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from . import check
from .location import (
    RECORD_NAME,
    TARGET,
    VENV,
    DependencyFolder,
    activate,
    find_qgis_python,
    subprocess_environment,
)
from .requirements import (
    FULL,
    INFERENCE,
    TORCH_CPU_INDEX,
    Requirement,
    numpy_constraint,
    onnxruntime_requirement,
    profile_requirements,
    wants_cpu_torch_index,
)


class InstallError(Exception):
    """The install did not happen; the message says why and what to do. The old folder is unchanged."""


class InstallProgress(Protocol):
    """What the installer reports to (a Processing feedback, a dialog, a test)."""

    def set_progress(self, percent: float) -> None: ...

    def is_canceled(self) -> bool: ...

    def log(self, line: str) -> None: ...


@dataclass
class InstallPlan:
    """One install: where, with which interpreter and layout, and what pip is asked for."""

    folder: DependencyFolder  # the plugin-private folder
    python: str  # QGIS's Python interpreter
    layout: str  # "venv" or "target" (see location.py)
    profile: str  # "inference" or "full"
    requirements: list[Requirement]  # what pip installs
    constraints: list[str]  # pins pip must respect, numpy's first
    index_urls: list[str] = field(default_factory=list)  # extra package indexes (torch's CPU wheels)
    pip_options: list[str] = field(default_factory=list)  # more pip options (tests: --no-index --find-links)

    def describe(self) -> str:
        """A few lines for the log: what goes where."""
        return (f"Installing the {self.profile} packages into {self.folder.root} ({self.layout} layout, "
                f"Python {self.python})\n  packages: {' '.join(r.pip_argument for r in self.requirements)}\n"
                f"  constraints: {' '.join(self.constraints)}")


@dataclass
class InstallResult:
    """What a finished install did."""

    site_packages: str  # the directory now on sys.path
    versions: dict[str, str]  # distribution -> version as imported by the check
    restart_needed: list[str]  # modules loaded before the install from another copy: QGIS must restart for them


def choose_layout(python: str) -> str:
    """"venv" where QGIS's Python makes venvs with pip (Linux), else "target" (see location.py for why)."""
    if sys.platform in ("win32", "darwin"):
        return TARGET
    probe = subprocess.run([python, "-c", "import venv, ensurepip"], capture_output=True,
                           env=subprocess_environment())
    return VENV if probe.returncode == 0 else TARGET


def plan_install(folder: DependencyFolder, profile: str = INFERENCE, onnxruntime_flavour: str = "auto",
                 python: str | None = None, layout: str | None = None, qgis_version_int: int = 32200) -> InstallPlan:
    """Decide what to install where; raises InstallError when QGIS's Python cannot be found or run pip."""
    python = python or find_qgis_python()
    if python is None:
        raise InstallError(
            f"QGIS's Python interpreter was not found near {sys.base_exec_prefix}. Install the packages by hand "
            f"with QGIS's Python: python{sys.version_info[0]}.{sys.version_info[1]} -m pip install --target "
            f"{folder.root} rasterio onnxruntime")
    layout = layout or folder.layout() or choose_layout(python)
    if layout == TARGET and subprocess.run([python, "-m", "pip", "--version"], capture_output=True,
                                           env=subprocess_environment()).returncode != 0:
        raise InstallError(
            f"{python} has neither venv nor pip. On Debian or Ubuntu: sudo apt install python3-venv (or "
            "python3-pip); on other systems install pip for QGIS's Python, then run the installer again.")
    if folder.record().get("profile") == FULL:
        profile = FULL  # an inference install over a full one keeps torch
    onnxruntime = onnxruntime_requirement(onnxruntime_flavour, installed=check.installed_onnxruntime())
    requirements = profile_requirements(profile, onnxruntime)
    constraints = [numpy_constraint(check.numpy_version(), qgis_version_int)]
    index_urls = [TORCH_CPU_INDEX] if profile == FULL and wants_cpu_torch_index() else []
    return InstallPlan(folder, python, layout, profile, requirements, constraints, index_urls)


def install(plan: InstallPlan, progress: InstallProgress) -> InstallResult:
    """Run `plan`; the new folder replaces the old one only when pip and the import check succeeded."""
    folder = plan.folder
    folder.root.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.staging
    shutil.rmtree(staging, ignore_errors=True)
    with open(folder.log_path, "a", encoding="utf-8") as log_file:
        log = _Log(progress, log_file)
        log.line(f"==== {datetime.datetime.now().isoformat(timespec='seconds')}\n{plan.describe()}")
        try:
            site_dir = _build(plan, staging, log)
            versions = _verify(plan, site_dir, log)
            (staging / RECORD_NAME).write_text(json.dumps({
                "layout": plan.layout, "profile": plan.profile, "python": plan.python,
                "python_version": f"{sys.version_info[0]}.{sys.version_info[1]}", "versions": versions,
                "constraints": plan.constraints}, indent=1), encoding="utf-8")
            _swap(folder, staging)
        except BaseException as exc:
            shutil.rmtree(staging, ignore_errors=True)
            log.line(f"Install failed, {folder.root} is unchanged: {exc}")
            if isinstance(exc, InstallError):
                raise
            if isinstance(exc, OSError):
                raise InstallError(f"Install failed: {exc}. Details: {folder.log_path}") from exc
            raise
        progress.set_progress(100.0)
        path = activate(folder)
        restart = _restart_needed(plan.requirements, versions)
        log.line(f"Installed: {', '.join(f'{k} {v}' for k, v in versions.items())}; on sys.path: {path}")
        if restart:
            log.line(f"Restart QGIS to use the new copies of {', '.join(restart)} (loaded before the install).")
        return InstallResult(path or str(folder.site_packages()), versions, restart)


class _Log:
    """Writes install output to the progress and to the log file."""

    def __init__(self, progress: InstallProgress, log_file: IO[str]) -> None:
        self.progress = progress
        self.file = log_file

    def line(self, text: str) -> None:
        self.file.write(text.rstrip("\n") + "\n")
        self.file.flush()
        self.progress.log(text.rstrip("\n"))


def _build(plan: InstallPlan, staging: Path, log: _Log) -> Path:
    """Make the staging folder and pip-install into it; returns its site-packages."""
    folder = plan.folder
    if plan.layout == VENV:
        if (folder.root / "pyvenv.cfg").is_file():
            log.line(f"Copying {folder.root} (hard links) to {staging}")
            shutil.copytree(folder.root, staging, symlinks=True, copy_function=_link_or_copy)
        else:
            log.line(f"Creating a virtual environment with QGIS's packages visible: {staging}")
            _run([plan.python, "-m", "venv", "--system-site-packages", str(staging)], log, 0.0, 10.0)
        python = str(staging / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python"))
        pip = [python, "-m", "pip", "install"]
    else:
        staging.mkdir(parents=True)
        pip = [plan.python, "-m", "pip", "install", "--target", str(staging)]
    log.progress.set_progress(10.0)
    constraints = staging.parent / (staging.name + "-constraints.txt")
    constraints.write_text("\n".join(plan.constraints) + "\n", encoding="utf-8")
    try:
        command = pip + ["--progress-bar", "off", "--no-input", "-c", str(constraints)]
        for url in plan.index_urls:
            command += ["--extra-index-url", url]
        command += plan.pip_options + [r.pip_argument for r in plan.requirements]
        _run(command, log, 10.0, 85.0)
    finally:
        constraints.unlink(missing_ok=True)
    return folder.site_packages(staging, plan.layout)


# One import check in a fresh QGIS Python: the folder after QGIS's paths, as the plugin puts it, and QGIS's GDAL
# array bindings imported first, since they are what a wrong numpy breaks.
_VERIFY = r"""
import importlib, importlib.metadata as md, json, site, sys
site.addsitedir(sys.argv[1])
try:
    import osgeo.gdal_array
except ImportError as exc:
    if "osgeo" not in str(exc):
        raise
out = {}
for name, module in json.loads(sys.argv[2]):
    importlib.import_module(module)
    out[name] = md.version(name)
import numpy
out["numpy"] = numpy.__version__
print("CSAGF-VERSIONS " + json.dumps(out))
"""


def _verify(plan: InstallPlan, site_dir: Path, log: _Log) -> dict[str, str]:
    """Import every package from the staging folder in a fresh QGIS Python; returns distribution -> version."""
    log.line("Checking that the packages import beside QGIS's GDAL and numpy")
    modules = json.dumps([[r.name, r.module] for r in plan.requirements])
    output = _run([plan.python, "-c", _VERIFY, str(site_dir), modules], log, 85.0, 99.0)
    for line in output:
        if line.startswith("CSAGF-VERSIONS "):
            versions = json.loads(line.split(" ", 1)[1])
            wanted = plan.constraints[0].removeprefix("numpy==")
            if plan.constraints[0].startswith("numpy==") and versions.get("numpy") != wanted:
                raise InstallError(f"numpy {versions.get('numpy')} would replace QGIS's numpy {wanted}: the "
                                   "install was rolled back. Details: " + str(plan.folder.log_path))
            return versions
    raise InstallError(f"The import check printed no versions. Details: {plan.folder.log_path}")


def _swap(folder: DependencyFolder, staging: Path) -> None:
    """Put the staging folder in place of the installed one; on failure the installed one comes back."""
    shutil.rmtree(folder.previous, ignore_errors=True)
    had_root = folder.root.exists()
    if had_root:
        os.replace(folder.root, folder.previous)
    try:
        os.replace(staging, folder.root)
    except OSError:
        if had_root:
            os.replace(folder.previous, folder.root)
        raise
    # Windows keeps loaded .pyd files open: what cannot be removed now goes when the plugin next loads
    shutil.rmtree(folder.previous, ignore_errors=True)


def _link_or_copy(source: str, destination: str) -> None:
    """Hard-link a file (instant, no space; pip replaces files, it never writes into them), else copy it."""
    try:
        os.link(source, destination)
    except OSError:
        shutil.copy2(source, destination)


_PIP_RESOLVING = re.compile(r"^(Collecting|Requirement already satisfied)")
_PIP_INSTALLING = re.compile(r"^Installing collected packages")


def _run(command: list[str], log: _Log, start: float, end: float) -> list[str]:
    """Run `command`, streaming its output to the log; progress moves from `start` towards `end` as pip works.

    Cancel kills the process. A non-zero exit raises InstallError with the last lines of output.
    """
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1,
                               env=subprocess_environment(), errors="replace",
                               creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0))  # no console on Windows
    lines: queue.Queue[str | None] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for text in process.stdout:
            lines.put(text)
        lines.put(None)

    threading.Thread(target=read, daemon=True).start()
    output: list[str] = []
    steps = 0
    while True:
        if log.progress.is_canceled():
            process.kill()
            process.wait()
            raise InstallError("Canceled: nothing was changed.")
        try:
            text = lines.get(timeout=0.2)
        except queue.Empty:
            continue
        if text is None:
            break
        text = text.rstrip()
        output.append(text)
        log.line(text)
        if _PIP_INSTALLING.match(text):
            log.progress.set_progress(start + 0.8 * (end - start))
        elif _PIP_RESOLVING.match(text):
            steps += 1
            log.progress.set_progress(start + 0.7 * (end - start) * (1 - 0.9 ** steps))
    code = process.wait()
    if code != 0:
        tail = "\n".join(output[-8:])
        raise InstallError(f"{os.path.basename(command[0])} {' '.join(command[1:3])} failed (exit {code}); "
                           f"nothing was changed. Last lines:\n{tail}\nFull log: {log.file.name}")
    log.progress.set_progress(end)
    return output


def _restart_needed(requirements: list[Requirement], versions: dict[str, str]) -> list[str]:
    """Modules this QGIS already imported in another version than the one just installed."""
    out = []
    for requirement in requirements:
        loaded = sys.modules.get(requirement.module)
        version = getattr(loaded, "__version__", None)
        if loaded is not None and version is not None and version != versions.get(requirement.name):
            out.append(requirement.module)
    return sorted(out)
