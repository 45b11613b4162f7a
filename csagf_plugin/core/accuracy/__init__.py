"""Random-point accuracy assessment: sampling designs, sample-size planning, estimators by design, reports.

Typical use (what the QGIS tools call)::

    points = sample_points(map_path, "stratified_random", n=300, min_per_class=30, min_distance=50, seed=1)
    ...  # label points.x / points.y with reference classes
    result = assess_map(map_path, x, y, ref_class, points_crs_wkt, design=points.sampling_design)
    files = assessment_report(result, output_dir)

Modules: design (how a sample was drawn), map_summary (what is read from the map), sampling and systematic
(drawing points), sample_size (planning and allocation), confusion (sample counts), results (estimates with
intervals), stratified, simple_random (estimators), estimators (choice by design), interpreters (two
interpreters), report. They import numpy and rasterio only (matplotlib when a report is written).
"""

from .confusion import (
    SampleAccuracy,
    cohen_kappa,
    confusion_matrix,
    f1_scores,
    overall_accuracy,
    producers_accuracy,
    sample_accuracy,
    users_accuracy,
)
from .design import SamplingDesign
from .estimators import (
    AccuracyAssessment,
    ClassAccuracy,
    Estimate,
    assess_map,
    assess_points,
    choose_estimator,
    normal_quantile,
    olofsson_estimates,
    post_stratified_estimates,
    simple_random_estimates,
    stehman_estimates,
)
from .interpreters import InterpreterAgreement, final_reference, interpreter_agreement
from .report import ReportFiles, assessment_report
from .sample_size import (
    SampleSizePlan,
    allocate,
    allocation_counts,
    cochran_sample_size,
    plan_sample_size,
    sample_size_for_oa,
)
from .sampling import (
    DESIGNS,
    MapSummary,
    SamplePoints,
    class_pixel_counts,
    classes_at_points,
    mapped_area,
    sample_points,
    simple_random,
    stratified_random,
    summarise_map,
)
from .systematic import systematic

__all__ = [
    "DESIGNS",
    "AccuracyAssessment",
    "ClassAccuracy",
    "Estimate",
    "InterpreterAgreement",
    "MapSummary",
    "ReportFiles",
    "SampleAccuracy",
    "SamplePoints",
    "SampleSizePlan",
    "SamplingDesign",
    "allocate",
    "allocation_counts",
    "assess_map",
    "assess_points",
    "assessment_report",
    "choose_estimator",
    "class_pixel_counts",
    "classes_at_points",
    "cochran_sample_size",
    "cohen_kappa",
    "confusion_matrix",
    "f1_scores",
    "final_reference",
    "interpreter_agreement",
    "mapped_area",
    "normal_quantile",
    "olofsson_estimates",
    "overall_accuracy",
    "plan_sample_size",
    "post_stratified_estimates",
    "producers_accuracy",
    "sample_accuracy",
    "sample_points",
    "sample_size_for_oa",
    "simple_random",
    "simple_random_estimates",
    "stehman_estimates",
    "stratified_random",
    "summarise_map",
    "systematic",
    "users_accuracy",
]
