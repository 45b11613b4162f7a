"""Shared test set-up: the repository root and QGIS's own Python plugins on sys.path, and where shared data lies."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
for extra in (str(REPO), "/usr/share/qgis/python/plugins"):
    if extra not in sys.path:
        sys.path.insert(0, extra)

# The test process is a QGIS process (pytest-qgis starts QgsApplication): torch must not load triton in it,
# exactly as inside QGIS itself (see csagf_plugin/processing/torch_in_qgis.py).
from csagf_plugin.processing.torch_in_qgis import hide_triton_from_torch  # noqa: E402

hide_triton_from_torch()

SHARED_DATA = Path(os.environ.get("CSAGF_SHARED_DATA", REPO.parent / "shared" / "data"))
ARTIFACTS = REPO / "test-artifacts"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only real data of ../shared/data; skips the test when it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder {SHARED_DATA} is absent")
    return SHARED_DATA


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """A folder for pictures a person may look at after the run (screenshots, previews)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
