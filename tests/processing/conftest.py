"""Processing set-up for the QGIS tests: the framework initialised and the CSAGF provider registered once."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from qgis.core import QgsApplication


@pytest.fixture(scope="session")
def csagf_provider(qgis_app, qgis_processing):
    """The CSAGF provider, registered in QGIS's processing registry."""
    from csagf_plugin.processing.provider import CsagfProvider

    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("csagf")
    if provider is None:
        provider = CsagfProvider()
        assert registry.addProvider(provider)
    return provider


@pytest.fixture(scope="session")
def qgis_process():
    """Run scripts/qgis_process.sh (the headless route users take) in the user's QGIS profile.

    pytest-qgis points QGIS at a throw-away profile where the plugin is not enabled, so its variables are dropped.
    """
    repo = Path(__file__).resolve().parents[2]

    def run(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if k not in ("QGIS_CUSTOM_CONFIG_PATH", "QGIS_OPTIONS_PATH")}
        env["QT_QPA_PLATFORM"] = "offscreen"
        return subprocess.run([str(repo / "scripts" / "qgis_process.sh"), *args], capture_output=True, text=True,
                              timeout=timeout, env=env)

    return run
