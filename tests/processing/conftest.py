"""Processing set-up for the QGIS tests: the framework initialised and the CSAGF provider registered once."""

from __future__ import annotations

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
