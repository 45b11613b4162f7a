"""Write an accuracy assessment as a JSON file (every number), CSV tables and an HTML report with a heat map."""

from __future__ import annotations

import base64
import csv
import html
import json
import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from ..model_card import FUNCTIONAL_CLASSES, FunctionalClass
from .estimators import ESTIMATOR_TEXT, VARIANCE_TEXT, AccuracyAssessment, Estimate
from .results import CLIP_RULE

NO_COLOUR = "#cccccc"  # legend colour of a class that the class list does not name


@dataclass
class ReportFiles:
    """Paths of the files `assessment_report` wrote."""

    html: str  # the report to open in a browser
    json: str  # every number of the assessment
    heat_map: str  # PNG of the confusion matrix (also embedded in the HTML)
    csv: dict[str, str] = field(default_factory=dict)  # table name -> CSV path

    def all_paths(self) -> list[str]:
        """Every file written."""
        return [self.html, self.json, self.heat_map, *self.csv.values()]


def _legend(assessment: AccuracyAssessment,
            classes: Sequence[FunctionalClass] | None) -> tuple[list[str], list[str]]:
    """Name and colour of every class of the assessment; classes the list does not name get "class N"."""
    known = {c.id: c for c in (FUNCTIONAL_CLASSES if classes is None else classes)}
    names = [known[c].name if c in known else f"class {c}" for c in assessment.classes]
    colours = [known[c].color if c in known else NO_COLOUR for c in assessment.classes]
    return names, colours


def _write_matrix_csv(path: str, names: list[str], matrix: np.ndarray, number: str) -> None:
    """A square table with row and column totals; `number` formats the cells."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["map \\ reference", *names, "total"])
        for name, row in zip(names, matrix):
            writer.writerow([name, *(format(v, number) for v in row), format(row.sum(), number)])
        writer.writerow(["total", *(format(v, number) for v in matrix.sum(axis=0)), format(matrix.sum(), number)])


def _estimate_columns(prefix: str) -> list[str]:
    return [prefix, f"{prefix}_se", f"{prefix}_ci_low", f"{prefix}_ci_high"]


def _estimate_values(e: Estimate, high: float = 1.0) -> list[str]:
    """Value, SE and the interval cut to [0, high] (CLIP_RULE)."""
    low_limit, high_limit = e.clipped(0.0, high)
    return [_num(e.value), _num(e.se), _num(low_limit), _num(high_limit)]


def _num(value: float, digits: int = 6) -> str:
    """A number for a table; empty for NaN."""
    return "" if value is None or not math.isfinite(value) else f"{value:.{digits}g}"


def _write_class_csv(path: str, assessment: AccuracyAssessment, names: list[str]) -> None:
    """Per-class accuracies (area-weighted and sample-count) and areas, one row per class."""
    header = ["class_id", "class_name", "mapped_pixels", f"mapped_area_{assessment.area_unit}", "n_map",
              "n_reference", *_estimate_columns("users_accuracy"), *_estimate_columns("producers_accuracy"), "f1",
              *_estimate_columns("area_proportion"), *_estimate_columns(f"area_{assessment.area_unit}"),
              "sample_users_accuracy", "sample_producers_accuracy", "sample_f1"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for i, (c, name) in enumerate(zip(assessment.per_class, names)):
            writer.writerow([c.class_id, name, _num(c.mapped_pixels, 12), _num(c.mapped_area, 12), c.n_map,
                             c.n_reference, *_estimate_values(c.users_accuracy),
                             *_estimate_values(c.producers_accuracy), _num(c.f1),
                             *_estimate_values(c.area_proportion), *_estimate_values(c.area, assessment.total_area),
                             _num(assessment.sample.users_accuracy[i]), _num(assessment.sample.producers_accuracy[i]),
                             _num(assessment.sample.f1[i])])


def _heat_map(path: str, assessment: AccuracyAssessment, names: list[str], title: str) -> None:
    """PNG of the confusion matrix: colour = share of each map class's points, text = count and area share."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    counts = assessment.counts.astype(np.float64)
    row_share = np.divide(counts, counts.sum(axis=1, keepdims=True), out=np.zeros_like(counts),
                          where=counts.sum(axis=1, keepdims=True) > 0)
    k = len(names)
    size = max(4.0, 1.0 + 0.9 * k)
    fig = Figure(figsize=(size + 1.5, size), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    image = ax.imshow(row_share, cmap="Blues", vmin=0.0, vmax=1.0)
    for i in range(k):
        for j in range(k):
            colour = "white" if row_share[i, j] > 0.6 else "black"
            ax.text(j, i, f"{int(counts[i, j])}\n{100 * assessment.proportions[i, j]:.2g} %", ha="center",
                    va="center", fontsize=8, color=colour)
    ax.set_xticks(range(k), labels=names, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(k), labels=names, fontsize=8)
    ax.set_xlabel("reference class")
    ax.set_ylabel("map class")
    ax.set_title(f"{title}\npoints (area share %); colour: share of the map class's points", fontsize=9)
    fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    fig.tight_layout()
    fig.savefig(path)


def _html_table(header: list[str], rows: list[list[str]], first_is_header: bool = True) -> str:
    """An HTML table; cells are escaped here."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cells = [f"<th>{html.escape(row[0])}</th>" if first_is_header else f"<td>{html.escape(row[0])}</td>"]
        cells += [f"<td>{html.escape(v)}</td>" for v in row[1:]]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def readable_area(value: float, unit: str) -> str:
    """An area in full digits with thousands separators, and in km² or ha beside m² ("1,048,576 m² (1.05 km²)")."""
    if value is None or not math.isfinite(value):
        return "n/a"
    text = f"{value:,.0f} {unit}" if abs(value) >= 100 else f"{value:,.2f} {unit}"
    if unit == "m²" and abs(value) >= 1e6:
        text += f" ({value / 1e6:,.2f} km²)"
    elif unit == "m²" and abs(value) >= 1e4:
        text += f" ({value / 1e4:,.2f} ha)"
    return text


def named_classes(text: str, names_by_id: dict[int, str]) -> str:
    """"map class 3 ..." -> "map class 3 (industrial) ...": warnings name classes as the legend does."""
    def name(match: re.Match) -> str:
        label = names_by_id.get(int(match.group(2)))
        if label is None or match.string[match.end():].startswith(f" ({label})"):  # unknown, or named already
            return match.group(0)
        return f"{match.group(0)} ({label})"

    return re.sub(r"\b(class|stratum) (\d+)\b", name, text)


def _pm(e: Estimate, digits: int = 3, scale: float = 1.0, high: float = 1.0) -> str:
    """"value ± half-width", or "value [low, high]" when the interval is cut to [0, high] (CLIP_RULE);
    "± n/a" when the standard error is undefined."""
    if not math.isfinite(e.value):
        return "n/a"
    value = f"{e.value * scale:,.{digits}f}"
    if not math.isfinite(e.se):
        return f"{value} ± n/a"
    low_limit, high_limit = e.clipped(0.0, high)
    if (low_limit, high_limit) != (e.ci_low, e.ci_high):
        return f"{value} [{low_limit * scale:,.{digits}f}, {high_limit * scale:,.{digits}f}]"
    return f"{value} ± {e.half_width * scale:,.{digits}f}"


def _interpreters_html(a: AccuracyAssessment) -> str:
    """The two interpreters' agreement and their disagreements (empty without a second interpreter)."""
    agreement = a.interpreters
    if not agreement:
        return ""
    rows = [[str(d["point_id"]), str(d["first"]), str(d["second"]),
             "not settled" if d["final"] is None else str(d["final"])] for d in agreement["disagreements"]]
    listing = (_html_table(["point_id", "interpreter 1", "interpreter 2", "final"], rows, first_is_header=False)
               if rows else "<p>No disagreement.</p>")
    share = agreement["agreement"]
    kappa = agreement["kappa"]
    return (f"<h2>Two interpreters</h2><p>Labelled by both: {agreement['n_both']} points "
            f"(first only {agreement['n_first_only']}, second only {agreement['n_second_only']}); agreement "
            f"{_num(share if share is not None else float('nan'), 4) or 'n/a'}, Cohen's kappa "
            f"{_num(kappa if kappa is not None else float('nan'), 4) or 'n/a'}; {agreement['unsettled']} "
            "disagreement(s) not settled (left out of the estimates).</p>" + listing)


def _html(assessment: AccuracyAssessment, names: list[str], colours: list[str], title: str, png_b64: str,
          png_name: str) -> str:
    """The whole HTML report."""
    a = assessment
    level = f"{100 * a.confidence:g} %"
    estimator = ESTIMATOR_TEXT.get(a.estimator, a.estimator)
    variance = VARIANCE_TEXT.get(a.variance, a.variance)
    design = a.design.get("description", a.design.get("design", "not recorded"))
    swatch = [f'<span class="swatch" style="background:{html.escape(c)}"></span>' for c in colours]
    summary = _html_table(["measure", "value"], [
        ["overall accuracy (area-weighted)", _pm(a.overall_accuracy)],
        ["overall accuracy (sample count)", _num(a.sample.overall_accuracy, 4)],
        ["kappa (sample count)", _num(a.sample.kappa, 4)],
        ["points used / given", f"{a.n_used} / {a.n_points}"],
        ["total area", readable_area(a.total_area, a.area_unit)],
        ["confidence level", level],
        ["sampling design", design],
        ["estimator", estimator],
        ["variance", variance],
    ])
    per_class = _html_table(
        ["class", "points (map)", "points (reference)", "user's accuracy ± CI", "producer's accuracy ± CI",
         "F1", f"mapped area ({a.area_unit})", f"estimated area ({a.area_unit}) ± CI", "area share ± CI"],
        [[name, str(c.n_map), str(c.n_reference), _pm(c.users_accuracy), _pm(c.producers_accuracy),
          _num(c.f1, 3) or "n/a", f"{c.mapped_area:,.0f}" if math.isfinite(c.mapped_area) else "n/a",
          _pm(c.area, 0, high=a.total_area), _pm(c.area_proportion, 4)]
         for name, c in zip(names, a.per_class)])
    counts_rows = [[n, *(str(int(v)) for v in row), str(int(row.sum()))] for n, row in zip(names, a.counts)]
    counts_rows.append(["total", *(str(int(v)) for v in a.counts.sum(axis=0)), str(int(a.counts.sum()))])
    counts = _html_table(["map \\ reference", *names, "total"], counts_rows)
    prop_rows = [[n, *(f"{v:.4f}" for v in row), f"{row.sum():.4f}"] for n, row in zip(names, a.proportions)]
    prop_rows.append(["total", *(f"{v:.4f}" for v in a.proportions.sum(axis=0)), f"{a.proportions.sum():.4f}"])
    proportions = _html_table(["map \\ reference", *names, "total"], prop_rows)
    legend = "".join(f"<li>{s} {html.escape(n)} (id {c})</li>" for s, n, c in zip(swatch, names, a.classes))
    excluded = ("".join(f"<li>{v} point(s): {html.escape(k.replace('_', ' '))}</li>" for k, v in a.excluded.items())
                or "<li>none</li>")
    names_by_id = dict(zip((int(c) for c in a.classes), names))
    warnings = ('<ul class="warnings">' + "".join(f"<li>{html.escape(named_classes(w, names_by_id))}</li>"
                                                  for w in a.warnings) + "</ul>") if a.warnings else "<p>None.</p>"
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: sans-serif; margin: 2em; max-width: 70em; }}
table {{ border-collapse: collapse; margin: 0.5em 0 1.5em; }}
th, td {{ border: 1px solid #bbb; padding: 0.25em 0.6em; text-align: right; }}
thead th {{ background: #eee; }} tbody th {{ text-align: left; background: #f7f7f7; }}
.swatch {{ display: inline-block; width: 0.9em; height: 0.9em; border: 1px solid #555; vertical-align: middle; }}
.warnings li {{ color: #a33; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<p>Sampling design: {html.escape(design)}. Estimator: {html.escape(estimator)}; {html.escape(variance)}.
Intervals at {level}. {html.escape(CLIP_RULE)} Rows are map classes, columns reference classes.</p>
{summary}
<h2>Warnings</h2>{warnings}
<h2>Points left out</h2><ul>{excluded}</ul>
<h2>Per class</h2>{per_class}
{_interpreters_html(a)}
<h2>Confusion matrix: sample points</h2>{counts}
<h2>Confusion matrix: estimated area proportions</h2>{proportions}
<h2>Heat map</h2>
<img alt="confusion matrix heat map ({html.escape(png_name)})" src="data:image/png;base64,{png_b64}">
<h2>Legend</h2><ul>{legend}</ul>
</body></html>
"""


def assessment_report(assessment: AccuracyAssessment, output_dir: str | os.PathLike,
                      classes: Sequence[FunctionalClass] | None = None, title: str = "Accuracy assessment",
                      basename: str = "accuracy") -> ReportFiles:
    """Write JSON, CSV tables, a heat-map PNG and an HTML report into `output_dir`; return their paths.

    `classes` gives names and colours by class id (default: the functional classes of the model card).
    """
    if not basename or os.sep in basename or (os.altsep and os.altsep in basename):
        raise InputError(f"basename '{basename}' must be a plain file name prefix, without folders.")
    output_dir = os.fspath(output_dir)
    try:
        os.makedirs(output_dir, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create the report folder {output_dir} ({exc}): pick a writable folder.") from exc
    names, colours = _legend(assessment, classes)

    def path(suffix: str) -> str:
        return os.path.join(output_dir, f"{basename}{suffix}")

    files = ReportFiles(html=path(".html"), json=path(".json"), heat_map=path("_confusion.png"))
    data = assessment.to_dict()
    data["class_names"] = dict(zip([str(c) for c in assessment.classes], names))
    data["title"] = title
    with open(files.json, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=2, ensure_ascii=False, allow_nan=False)

    files.csv["confusion_counts"] = path("_confusion_counts.csv")
    _write_matrix_csv(files.csv["confusion_counts"], names, assessment.counts, "d")
    files.csv["area_proportions"] = path("_area_proportions.csv")
    _write_matrix_csv(files.csv["area_proportions"], names, assessment.proportions, ".8g")
    files.csv["per_class"] = path("_per_class.csv")
    _write_class_csv(files.csv["per_class"], assessment, names)

    _heat_map(files.heat_map, assessment, names, title)
    with open(files.heat_map, "rb") as f:
        png_b64 = base64.b64encode(f.read()).decode("ascii")
    with open(files.html, "w", encoding="utf-8") as f:
        f.write(_html(assessment, names, colours, title, png_b64, os.path.basename(files.heat_map)))
    return files
