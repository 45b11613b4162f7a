"""Random-point accuracy assessment: sampling designs, confusion matrices, area-weighted estimators."""
