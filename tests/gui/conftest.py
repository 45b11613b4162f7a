"""GUI tests need the CSAGF provider too: reuse the processing tests' session fixture."""

from tests.processing.conftest import csagf_provider  # noqa: F401 (a fixture, found by name)
