"""What every estimator returns: estimates with standard errors and intervals, per class and overall.

`Estimate` keeps the normal-approximation interval value +- z * se uncut (full precision, as the JSON stores it);
`Estimate.clipped` cuts an interval of a proportion to [0, 1] (of an area to [0, total area]) for the report:
a proportion cannot leave [0, 1], and an interval that does is the normal approximation failing near the edge,
not information. The rule is stated in the report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from ..errors import InputError
from .confusion import SampleAccuracy, sample_accuracy

CLIP_RULE = ("Confidence intervals are value ± z·SE (normal approximation); in the report and the CSV tables the "
             "limits of proportions and accuracies are cut to [0, 1] and those of areas to [0, total area]. "
             "The JSON keeps the uncut limits at full precision.")


@dataclass(frozen=True)
class Estimate:
    """An estimated quantity with its standard error and confidence interval (NaN where undefined)."""

    value: float  # the estimate
    se: float  # standard error; NaN when it cannot be estimated
    ci_low: float  # lower confidence limit, value - z * se
    ci_high: float  # upper confidence limit, value + z * se

    @property
    def half_width(self) -> float:
        """Half the width of the confidence interval (the "±" figure)."""
        return (self.ci_high - self.ci_low) / 2.0

    def clipped(self, low: float = 0.0, high: float = 1.0) -> tuple[float, float]:
        """The interval cut to [low, high] (NaN limits stay NaN): what the report shows."""
        return (max(self.ci_low, low) if math.isfinite(self.ci_low) else self.ci_low,
                min(self.ci_high, high) if math.isfinite(self.ci_high) else self.ci_high)

    @classmethod
    def from_se(cls, value: float, se: float, z: float) -> "Estimate":
        """Build the symmetric normal-approximation interval value ± z * se."""
        value, se = float(value), float(se)
        return cls(value, se, value - z * se, value + z * se)


def normal_quantile(confidence: float) -> float:
    """z such that a normal interval ± z * se covers `confidence` (1.96 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise InputError(f"confidence level {confidence} must lie strictly between 0 and 1 (e.g. 0.95).")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


@dataclass
class ClassAccuracy:
    """Area-weighted results for one class."""

    class_id: int  # class id in the map and in the reference labels
    mapped_pixels: float  # pixels of the map in this class (NaN when not known)
    mapped_area: float  # mapped_pixels * pixel area
    n_map: int  # sample points mapped as this class
    n_reference: int  # sample points whose reference class is this class
    users_accuracy: Estimate  # share of the area mapped as the class that truly is the class
    producers_accuracy: Estimate  # share of the true area of the class that the map shows as the class
    f1: float  # harmonic mean of the estimated user's and producer's accuracies
    area_proportion: Estimate  # estimated share of the total area that truly is the class
    area: Estimate  # estimated true area of the class, area_proportion * total area


@dataclass
class AccuracyAssessment:
    """Everything an accuracy assessment by random points estimates, ready for a report."""

    estimator: str  # OLOFSSON, STEHMAN, SIMPLE_RANDOM_ESTIMATOR or POST_STRATIFIED (see estimators.ESTIMATORS)
    classes: list[int]  # class ids, the order of every matrix and per-class list
    counts: np.ndarray  # int64 [K, K] sample points, rows map class, columns reference class
    proportions: np.ndarray  # float [K, K] estimated share of the total area in each (map, reference) cell
    overall_accuracy: Estimate  # estimated share of the area that is correctly mapped
    per_class: list[ClassAccuracy]  # one per class, in `classes` order
    sample: SampleAccuracy  # unweighted measures counted on the points (kappa, F1, ...)
    confidence: float  # confidence level of every interval
    pixel_area: float  # area of one map pixel, in area_unit
    total_area: float  # area of the population (sum of the strata), in area_unit
    area_unit: str  # unit of every area ("m²", "pixels", ...)
    strata: dict[int, tuple[float, int]]  # stratum -> (pixels, sample points)
    n_points: int  # points given, before exclusions
    excluded: dict[str, int] = field(default_factory=dict)  # reason -> points left out
    warnings: list[str] = field(default_factory=list)  # what the user should know: undefined SEs, gaps
    variance: str = ""  # variance formula: "stratified", "simple_random", "conditional" or "cochran1977_5a40"
    design: dict[str, Any] = field(default_factory=dict)  # SamplingDesign.to_dict() of the sample assessed
    interpreters: dict[str, Any] = field(default_factory=dict)  # InterpreterAgreement.to_dict() with 2 references

    @property
    def n_used(self) -> int:
        """Points that entered the estimates."""
        return int(self.counts.sum())

    def class_result(self, class_id: int) -> ClassAccuracy:
        """The per-class result of `class_id`; InputError when it is not a class of the assessment."""
        for result in self.per_class:
            if result.class_id == class_id:
                return result
        raise InputError(f"class {class_id} is not in this assessment (classes: {self.classes}).")

    def to_dict(self) -> dict[str, Any]:
        """Every number as plain JSON-ready Python (NaN becomes None)."""
        data = asdict(self)
        data["counts"] = self.counts.tolist()
        data["proportions"] = self.proportions.tolist()
        data["strata"] = {str(k): {"pixels": v[0], "points": v[1]} for k, v in self.strata.items()}
        data["n_used"] = self.n_used
        data["sample"]["mean_f1"] = self.sample.mean_f1
        data["interval_rule"] = CLIP_RULE
        return _json_ready(data)


def _json_ready(value: Any) -> Any:
    """Replace NaN/inf by None and numpy scalars by Python ones, recursively."""
    if isinstance(value, dict):
        return {str(k): _json_ready(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_ready(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def per_class_pixels(mapped_pixels: Mapping[int, float] | Sequence[float], classes: Sequence[int]) -> np.ndarray:
    """Mapped pixels aligned with `classes` (a mapping may omit classes the map does not show)."""
    if isinstance(mapped_pixels, Mapping):
        extra = {int(c): v for c, v in mapped_pixels.items() if int(c) not in set(classes) and v > 0}
        if extra:
            raise InputError(f"map classes {sorted(extra)} have pixels but are not among the classes {list(classes)}: "
                             "list every class of the map.")
        values = [float(mapped_pixels.get(c, 0.0)) for c in classes]
    else:
        values = [float(v) for v in mapped_pixels]
        if len(values) != len(classes):
            raise InputError(f"{len(values)} mapped areas for {len(classes)} classes: give one per class.")
    pixels = np.asarray(values, dtype=np.float64)
    if (pixels < 0).any() or not np.isfinite(pixels).all():
        raise InputError(f"mapped pixel counts must be finite and >= 0, got {values}.")
    if pixels.sum() <= 0:
        raise InputError("the map has no pixel in any class: check the map raster and its nodata value.")
    return pixels


def stratum_warnings(labels: Sequence[int], pixels: np.ndarray, points: np.ndarray, kind: str) -> list[str]:
    """Warnings for strata with no point (estimates biased) or one point (standard errors undefined)."""
    warnings = []
    total = pixels.sum()
    for label, size, count in zip(labels, pixels, points):
        if size > 0 and count == 0:
            warnings.append(f"{kind} {label} ({100 * size / total:.3g} % of the area) has no sample point: its "
                            "area is missing from every estimate, which are therefore biased. Add points in it.")
        elif size > 0 and count == 1:
            warnings.append(f"{kind} {label} has only 1 sample point: the standard errors that depend on it are "
                            "undefined (NaN). Label at least 2 points in it.")
    return warnings


def assemble(estimator: str, classes: list[int], counts: np.ndarray, p: np.ndarray, overall: float,
              var_overall: float, users: np.ndarray, var_users: np.ndarray, producers: np.ndarray,
              var_producers: np.ndarray, p_ref: np.ndarray, var_props: np.ndarray, mapped_pixels: np.ndarray,
              pixel_area: float, area_unit: str, confidence: float, z: float,
              strata: dict[int, tuple[float, int]], warnings: list[str], variance: str) -> AccuracyAssessment:
    """Pack point estimates and variances into an AccuracyAssessment with intervals."""
    total_pixels = float(sum(size for size, _ in strata.values()))
    total_area = total_pixels * pixel_area
    n_map = counts.sum(axis=1)
    n_ref = counts.sum(axis=0)
    per_class = []
    for i, c in enumerate(classes):
        se_prop = math.sqrt(var_props[i]) if np.isfinite(var_props[i]) else float("nan")
        u, pa = float(users[i]), float(producers[i])
        f1 = 2 * u * pa / (u + pa) if np.isfinite(u) and np.isfinite(pa) and u + pa > 0 else float("nan")
        per_class.append(ClassAccuracy(
            class_id=c,
            mapped_pixels=float(mapped_pixels[i]),
            mapped_area=float(mapped_pixels[i]) * pixel_area,
            n_map=int(n_map[i]),
            n_reference=int(n_ref[i]),
            users_accuracy=Estimate.from_se(u, sqrt_or_nan(var_users[i]), z),
            producers_accuracy=Estimate.from_se(pa, sqrt_or_nan(var_producers[i]), z),
            f1=f1,
            area_proportion=Estimate.from_se(float(p_ref[i]), se_prop, z),
            area=Estimate.from_se(float(p_ref[i]) * total_area, se_prop * total_area, z),
        ))
        if n_map[i] == 0 and mapped_pixels[i] == 0:
            warnings.append(f"reference class {c} is not a class of the map: its user's accuracy is undefined "
                            "and its producer's accuracy is 0.")
    return AccuracyAssessment(
        estimator=estimator, classes=classes, counts=counts, proportions=p,
        overall_accuracy=Estimate.from_se(overall, sqrt_or_nan(var_overall), z), per_class=per_class,
        sample=sample_accuracy(counts, classes), confidence=confidence, pixel_area=float(pixel_area),
        total_area=total_area, area_unit=area_unit, strata=strata, n_points=int(counts.sum()), warnings=warnings,
        variance=variance)


def sqrt_or_nan(variance: float) -> float:
    """Square root that keeps NaN (undefined variance) as NaN."""
    variance = float(variance)
    return math.sqrt(max(variance, 0.0)) if math.isfinite(variance) else float("nan")
