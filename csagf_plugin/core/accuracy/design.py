"""The sampling design of a set of points: what the estimators must know about how the points were drawn.

`csagf:random_points` writes it into the point layer twice: per point (fields `design`, `stratum`,
`stratum_pixels`, which survive any copy of the table) and once for the layer (`SamplingDesign.to_json()` in the
layer metadata, with the allocation, the seed and the size of every stratum). `csagf:accuracy_assessment` reads it
back (`from_json`, or `from_fields` when only the fields survived) to pick the estimator that matches the design.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import InputError

SIMPLE_RANDOM = "simple_random"
STRATIFIED_RANDOM = "stratified_random"
SYSTEMATIC = "systematic"
DESIGNS = (SIMPLE_RANDOM, STRATIFIED_RANDOM, SYSTEMATIC)

# What the strata of a design are.
NO_STRATA = "none"  # simple random and systematic samples
MAP_CLASS_STRATA = "map_classes"  # stratified by the classes of the map being assessed
OTHER_STRATA = "other"  # stratified by something else (an older map, a region): Stehman (2014)
STRATA_KINDS = (NO_STRATA, MAP_CLASS_STRATA, OTHER_STRATA)

ALIGNED = "aligned"  # systematic: the same offset in every grid cell (a regular grid)
UNALIGNED = "unaligned"  # systematic: a random offset in every grid cell
SYSTEMATIC_KINDS = (ALIGNED, UNALIGNED)

METADATA_VOCABULARY = "csagf_sampling_design"  # keyword vocabulary of the layer metadata holding to_json()
FORMAT = 1  # version of the JSON layout


@dataclass
class SamplingDesign:
    """How a sample was drawn, in the words of the estimators."""

    design: str  # one of DESIGNS
    strata: str = NO_STRATA  # one of STRATA_KINDS
    allocation: str = ""  # stratified: "proportional", "equal", "fixed", "neyman", ... ("" when unstratified)
    seed: int | None = None  # seed that reproduces the sample (None: not known)
    population: dict[int, float] = field(default_factory=dict)  # stratum -> pixels (stratum -1: whole map)
    requested: dict[int, int] = field(default_factory=dict)  # stratum -> points asked for
    systematic: str = ""  # ALIGNED or UNALIGNED for a systematic sample
    grid_step: tuple[int, int] | None = None  # systematic: grid cell in pixels (rows, columns)
    source: str = ""  # "csagf:random_points", "parameter", "fields", "assumed"

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise InputError(f"unknown sampling design '{self.design}': use one of {list(DESIGNS)}.")
        if self.strata not in STRATA_KINDS:
            raise InputError(f"unknown kind of strata '{self.strata}': use one of {list(STRATA_KINDS)}.")
        if self.design == STRATIFIED_RANDOM and self.strata == NO_STRATA:
            self.strata = MAP_CLASS_STRATA
        if self.design != STRATIFIED_RANDOM and self.strata != NO_STRATA:
            raise InputError(f"a {self.design.replace('_', ' ')} sample has no strata, got strata '{self.strata}'.")
        if self.systematic and self.systematic not in SYSTEMATIC_KINDS:
            raise InputError(f"unknown systematic layout '{self.systematic}': use one of {list(SYSTEMATIC_KINDS)}.")

    @property
    def stratified(self) -> bool:
        """True for a stratified random sample (by map class or by other strata)."""
        return self.design == STRATIFIED_RANDOM

    def describe(self) -> str:
        """One line for a report: 'stratified random by map class (proportional allocation, seed 1)'."""
        text = self.design.replace("_", " ")
        if self.design == SYSTEMATIC and self.systematic:
            text = f"{self.systematic} {text}"
        if self.strata == MAP_CLASS_STRATA:
            text += " by map class"
        elif self.strata == OTHER_STRATA:
            text += " by strata other than the map classes"
        details = [f"{self.allocation} allocation"] if self.allocation else []
        if self.seed is not None:
            details.append(f"seed {self.seed}")
        if self.source:
            details.append(f"design from {self.source}")
        return text + (f" ({', '.join(details)})" if details else "")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values (stratum keys as strings)."""
        return {"format": FORMAT, "design": self.design, "strata": self.strata, "allocation": self.allocation,
                "seed": self.seed, "population": {str(k): v for k, v in self.population.items()},
                "requested": {str(k): v for k, v in self.requested.items()}, "systematic": self.systematic,
                "grid_step": list(self.grid_step) if self.grid_step else None, "source": self.source}

    def to_json(self) -> str:
        """The design as one JSON line, as stored in the layer metadata."""
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SamplingDesign:
        """Read `to_json()` text; InputError saying what is wrong otherwise."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise InputError(f"the sampling design in the layer metadata is not JSON ({exc}): recreate the points "
                             "with csagf:random_points or set the design parameter.") from exc
        if not isinstance(data, dict) or "design" not in data:
            raise InputError(f"the sampling design in the layer metadata has no 'design': {text[:200]}")
        step = data.get("grid_step")
        return cls(design=str(data["design"]), strata=str(data.get("strata") or NO_STRATA),
                   allocation=str(data.get("allocation") or ""),
                   seed=None if data.get("seed") is None else int(data["seed"]),
                   population={int(k): float(v) for k, v in (data.get("population") or {}).items()},
                   requested={int(k): int(v) for k, v in (data.get("requested") or {}).items()},
                   systematic=str(data.get("systematic") or ""),
                   grid_step=(int(step[0]), int(step[1])) if step else None,
                   source=str(data.get("source") or ""))


def from_fields(designs: Sequence[Any], strata: Sequence[Any] | None = None,
                stratum_pixels: Sequence[Any] | None = None) -> SamplingDesign | None:
    """The design recorded per point (fields `design`, `stratum`, `stratum_pixels`); None when no point has one.

    Every point must name the same design; the stratum sizes are read from the points that carry them.
    """
    names = sorted({str(d).strip() for d in designs if d is not None and str(d).strip()
                    and str(d).strip().upper() != "NULL"})
    if not names:
        return None
    if len(names) > 1:
        raise InputError(f"the points name several sampling designs {names}: assess each sample on its own, or "
                         "set the design parameter.")
    design, _, kind = names[0].partition(":")  # "stratified_random:other" or "systematic:unaligned"
    population: dict[int, float] = {}
    if strata is not None and stratum_pixels is not None:
        for h, size in zip(strata, stratum_pixels):
            try:
                h_int, size_f = int(h), float(size)
            except (TypeError, ValueError):
                continue
            if math.isfinite(size_f):
                population[h_int] = size_f
    if design == STRATIFIED_RANDOM:
        return SamplingDesign(design, strata=kind or MAP_CLASS_STRATA, population=population, source="fields")
    return SamplingDesign(design, systematic=kind if design == SYSTEMATIC else "", population=population,
                          source="fields")


def field_value(design: SamplingDesign) -> str:
    """The text of the per-point `design` field: 'simple_random', 'stratified_random:map_classes', ..."""
    if design.stratified:
        return f"{design.design}:{design.strata}"
    if design.design == SYSTEMATIC and design.systematic:
        return f"{design.design}:{design.systematic}"
    return design.design


def population_of(design: SamplingDesign, fallback: Mapping[int, float]) -> dict[int, float]:
    """Stratum sizes of the design, or `fallback` (e.g. the map's pixel counts) where it records none."""
    return dict(design.population) if design.population else {int(k): float(v) for k, v in fallback.items()}
