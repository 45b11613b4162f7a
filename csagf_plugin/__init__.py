"""CSAGF: urban functional zones from VHR daytime imagery and night-time light, for QGIS."""

__version__ = "0.1.0"
