"""Which requirements this Python has, found without importing them (a broken package must not take QGIS down)."""

from __future__ import annotations

import importlib.metadata
import importlib.util
from dataclasses import dataclass

from .requirements import ONNXRUNTIME_CPU, ONNXRUNTIME_GPU, Requirement


@dataclass(frozen=True)
class PackageStatus:
    """One requirement as found in this Python."""

    requirement: Requirement
    version: str | None  # installed distribution version, None when absent
    importable: bool  # the module is found on sys.path
    satisfied: bool  # importable and the version meets the requirement's specifier

    def describe(self) -> str:
        """"rasterio 1.4.4" or "rasterio: missing" or "rasterio 1.2.0 (needs >=1.3,<1.5)"."""
        name = self.requirement.name
        if self.version is None or not self.importable:
            return f"{name}: missing ({self.requirement.purpose})"
        if not self.satisfied:
            return f"{name} {self.version} (needs {self.requirement.spec})"
        return f"{name} {self.version}"


def distribution_version(name: str) -> str | None:
    """The installed version of distribution `name`, None when it is not installed."""
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def version_satisfies(version: str, spec: str) -> bool:
    """Does `version` meet the specifier `spec` (">=1.3,<1.5")? With no `packaging` available, any version does."""
    if not spec:
        return True
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion
    except ImportError:
        try:
            from pip._vendor.packaging.specifiers import InvalidSpecifier, SpecifierSet
            from pip._vendor.packaging.version import InvalidVersion
        except ImportError:
            return True
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return True


def package_status(requirement: Requirement) -> PackageStatus:
    """Find `requirement` in this Python."""
    version = distribution_version(requirement.name)
    try:
        importable = importlib.util.find_spec(requirement.module) is not None
    except (ImportError, ValueError):
        importable = False
    satisfied = version is not None and importable and version_satisfies(version, requirement.spec)
    return PackageStatus(requirement, version, importable, satisfied)


def missing(requirements: list[Requirement]) -> list[PackageStatus]:
    """The requirements that are absent or too old or too new."""
    return [status for status in map(package_status, requirements) if not status.satisfied]


def installed_onnxruntime() -> str | None:
    """"onnxruntime-gpu" or "onnxruntime" when one is installed (the GPU one first), else None."""
    for name in (ONNXRUNTIME_GPU, ONNXRUNTIME_CPU):
        if distribution_version(name) is not None:
            return name
    return None


def numpy_version() -> str | None:
    """The numpy that QGIS's GDAL bindings use in this Python, without importing it."""
    return distribution_version("numpy")


def missing_module_message(module: str | None) -> str:
    """What to tell a user whose algorithm stopped on `import <module>`."""
    what = module or "A package the plugin needs"
    return (f"{what} is not installed in QGIS's Python. Run Raster > CSAGF > Install dependencies "
            "(or the Processing algorithm csagf:install_dependencies), then run this algorithm again; "
            "training needs the full install.")
