"""The thin QGIS Processing layer: the provider and one algorithm per file."""
