"""Every number parameter says its allowed range in its help, so a refused value is never a surprise."""

from __future__ import annotations

import pytest
from qgis.core import QgsProcessingParameterNumber


@pytest.mark.parametrize("algorithm, key, expected", [
    ("train", "BATCH_SIZE", "Range: 1 to 1024."),
    ("train", "EPOCHS", "Range: 1 to 10000."),
    ("train", "VAL_SHARE", "Range: 0.01 to 0.5."),
    ("accuracy_assessment", "CONFIDENCE", "Range: 50 to 99.9."),
    ("classify", "BATCH_SIZE", "Range: 1 to 256."),
    ("random_points", "N", "At least 0."),
])
def test_ranges_are_in_the_help(csagf_provider, algorithm, key, expected):
    help_text = csagf_provider.algorithm(algorithm).parameterDefinition(key).help()
    assert help_text.endswith(expected), help_text


def test_no_number_parameter_lacks_its_range(csagf_provider):
    for algorithm in csagf_provider.algorithms():
        for definition in algorithm.parameterDefinitions():
            if isinstance(definition, QgsProcessingParameterNumber):
                text = definition.help().lower()
                assert "range" in text or "at least" in text or "at most" in text, (algorithm.id(),
                                                                                     definition.name())
