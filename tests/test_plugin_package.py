"""The plugin zip that QGIS's installer takes, and the plugin metadata it reads."""

from __future__ import annotations

import configparser
import subprocess
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_metadata_declares_processing_provider_and_qgis_version():
    metadata = configparser.ConfigParser()
    metadata.read(REPO / "metadata.txt")
    general = metadata["general"]
    assert general["hasProcessingProvider"] == "yes"
    assert general["qgisMinimumVersion"] == "3.22"
    for key in ("name", "description", "about", "version", "author", "email", "repository"):
        assert general[key].strip(), key


def test_package_zip_has_one_plugin_folder(tmp_path):
    subprocess.run(["make", "-s", "package"], cwd=REPO, check=True, capture_output=True)
    with zipfile.ZipFile(REPO / "build" / "csagf.zip") as archive:
        names = archive.namelist()
    assert {name.split("/")[0] for name in names} == {"csagf"}
    for required in ("csagf/metadata.txt", "csagf/__init__.py", "csagf/csagf_plugin/plugin.py",
                     "csagf/csagf_plugin/processing/provider.py", "csagf/resources/icon.svg",
                     "csagf/resources/help/index.html", "csagf/csagf_plugin/environment/installer.py"):
        assert required in names
    assert not any(name.startswith(("csagf/tests/", "csagf/.venv/")) for name in names)


def test_class_factory_returns_plugin_that_registers_provider(qgis_app, qgis_iface):
    import importlib.util
    import sys

    from qgis.core import QgsApplication

    spec = importlib.util.spec_from_file_location("csagf", REPO / "__init__.py",
                                                  submodule_search_locations=[str(REPO)])
    module = importlib.util.module_from_spec(spec)
    sys.modules["csagf"] = module
    spec.loader.exec_module(module)
    plugin = module.classFactory(qgis_iface)
    registry = QgsApplication.processingRegistry()
    before = registry.providerById("csagf")
    if before is not None:
        registry.removeProvider(before)
    plugin.initGui()
    try:
        provider = registry.providerById("csagf")
        assert provider is not None and provider.name() == "CSAGF"
        assert provider.algorithm("classify") is not None
    finally:
        plugin.unload()
    assert registry.providerById("csagf") is None
