"""Finds, checks and installs the plugin's Python dependencies; standard library and QGIS only, never core.

This package runs before numpy's partners (rasterio, onnxruntime, torch) exist in QGIS's Python, so nothing in it
imports them at module level, and core never imports it (STYLE.md: the dependency check lives apart from core).

- `requirements`: what each install profile (inference, full) needs, and the numpy pin that keeps QGIS's GDAL working.
- `location`: the plugin-private folder in the QGIS profile, QGIS's own Python interpreter, and `activate`, which
  puts the folder on sys.path when the plugin loads.
- `check`: which requirements are importable in this process, without importing them.
- `installer`: pip into a staging copy of that folder, verified, then swapped in (a failed install leaves the old
  folder as it was).
- `doctor`: versions, onnxruntime providers and why CUDA does not load, for csagf:check_environment.
"""
