"""Random-point accuracy assessment: sampling designs, confusion matrices, area-weighted estimators, reports.

Typical use (what the QGIS tools call)::

    points = sample_points(map_path, "stratified_random", n=300, min_per_class=30, min_distance=50, seed=1)
    ...  # label points.x / points.y with reference classes
    result = assess_map(map_path, x, y, ref_class, points_crs_wkt)
    files = assessment_report(result, output_dir)

The submodules import numpy and rasterio only (matplotlib when a report is written).
"""

from .confusion import SampleAccuracy, cohen_kappa, confusion_matrix, f1_scores, overall_accuracy, \
    producers_accuracy, sample_accuracy, users_accuracy
from .estimators import AccuracyAssessment, ClassAccuracy, Estimate, assess_map, assess_points, normal_quantile, \
    olofsson_estimates, stehman_estimates
from .report import ReportFiles, assessment_report
from .sampling import DESIGNS, MapSummary, SamplePoints, allocate, class_pixel_counts, classes_at_points, \
    mapped_area, sample_points, sample_size_for_oa, simple_random, stratified_random, summarise_map, systematic

__all__ = [
    "AccuracyAssessment", "ClassAccuracy", "DESIGNS", "Estimate", "MapSummary", "ReportFiles", "SampleAccuracy",
    "SamplePoints", "allocate", "assess_map", "assess_points", "assessment_report", "class_pixel_counts",
    "classes_at_points", "cohen_kappa", "confusion_matrix", "f1_scores", "mapped_area", "normal_quantile",
    "olofsson_estimates", "overall_accuracy", "producers_accuracy", "sample_accuracy", "sample_points",
    "sample_size_for_oa", "simple_random", "stehman_estimates", "stratified_random", "summarise_map", "systematic",
    "users_accuracy",
]
