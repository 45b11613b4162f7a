"""The work of the plugin with numpy, rasterio and onnxruntime only: no QGIS, no torch."""
