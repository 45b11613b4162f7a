"""Network training, export and evaluation (torch); imports are lazy so QGIS starts fast."""
