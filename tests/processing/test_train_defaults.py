"""csagf:train's dialog as a user first sees it: a lasting output folder, defaults for this machine, clear inputs."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.usefixtures("csagf_provider")


def test_train_defaults(csagf_provider):
    from csagf_plugin.processing.train import MODELS_HOME, sized_for_this_machine

    algorithm = csagf_provider.algorithm("train").create()
    folder = algorithm.parameterDefinition("OUTPUT_FOLDER").defaultValue()
    assert Path(folder).parent == Path(MODELS_HOME) and not folder.startswith(tempfile.gettempdir())
    epochs, batch = sized_for_this_machine()
    assert algorithm.parameterDefinition("EPOCHS").defaultValue() == epochs
    assert algorithm.parameterDefinition("BATCH_SIZE").defaultValue() == batch
    assert (epochs, batch) in ((100, 48), (20, 8))
    for key in ("VHR", "LABELS", "NTL"):
        assert "unless a tile store is given" in algorithm.parameterDefinition(key).description()
