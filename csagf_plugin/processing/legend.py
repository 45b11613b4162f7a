"""The legend of a functional-zone map layer: class ids, names and colours, as the user sees them in QGIS.

Read in this order, per class: the layer's paletted renderer (what the Layers panel shows), then the raster's
GDAL category names and colour table, then the default FUNCTIONAL_CLASSES of the model card. The classes are
those with a name (renderer label or category name); without any name, the default class ids.
"""

from __future__ import annotations

import math
from typing import Any

from qgis.core import QgsPalettedRasterRenderer, QgsRasterLayer

from ..core.model_card import FUNCTIONAL_CLASSES, FunctionalClass

DEFAULT_COLOR = "#bdbdbd"


def _gdal_categories(source: str, band: int) -> tuple[dict[int, str], dict[int, str]]:
    """Category names and colour-table colours of a GDAL raster band (empty dicts when it has none)."""
    try:
        from osgeo import gdal
    except ImportError:
        return {}, {}
    dataset = gdal.Open(source) if source else None
    if dataset is None or band > dataset.RasterCount:
        return {}, {}
    raster_band = dataset.GetRasterBand(band)
    raster_band.GetMetadata()  # GDAL 3.6 GTiff loads the .aux.xml (PAM) category names only after a metadata call
    names = {value: name.strip() for value, name in enumerate(raster_band.GetCategoryNames() or []) if name.strip()}
    colors: dict[int, str] = {}
    table = raster_band.GetColorTable()
    if table is not None:
        for value in range(table.GetCount()):
            red, green, blue = table.GetColorEntry(value)[:3]
            colors[value] = f"#{red:02x}{green:02x}{blue:02x}"
    return names, colors


def _renderer_classes(layer: QgsRasterLayer) -> dict[int, tuple[str, str]]:
    """{value: (label, colour)} of a paletted renderer; labels equal to the bare value count as no label."""
    renderer = layer.renderer()
    if not isinstance(renderer, QgsPalettedRasterRenderer):
        return {}
    classes = {}
    for entry in renderer.classes():
        value = int(entry.value)
        label = entry.label.strip()
        classes[value] = ("" if label == str(value) else label, entry.color.name())
    return classes


def map_legend(layer: QgsRasterLayer, band: int = 1) -> list[FunctionalClass]:
    """Classes of a functional-zone map layer (class 0 left out), sorted by id."""
    defaults = {c.id: c for c in FUNCTIONAL_CLASSES}
    rendered = _renderer_classes(layer)
    names, colors = _gdal_categories(layer.source(), band)
    # A colour table often has 256 entries: the classes are the named ones, else the default ids it colours.
    named = {value for value, (label, _color) in rendered.items() if label} | set(names)
    if named:
        ids = named
    elif rendered:
        ids = (set(rendered) & set(defaults)) or set(rendered)
    else:
        ids = set(defaults)
    legend = []
    for value in sorted(ids - {0}):
        label, color = rendered.get(value, ("", ""))
        default = defaults.get(value)
        name = label or names.get(value) or (default.name if default else f"Class {value}")
        color = color or colors.get(value) or (default.color if default else DEFAULT_COLOR)
        legend.append(FunctionalClass(value, name, color))
    return legend


def class_names(legend: list[FunctionalClass]) -> dict[int, str]:
    """{class id: name} of a legend."""
    return {c.id: c.name for c in legend}


def is_null(value: Any) -> bool:
    """True for a missing attribute value: None or a NULL QVariant."""
    return value is None or (hasattr(value, "isNull") and value.isNull())


def class_id_of(value: Any, names: dict[int, str] | None = None) -> int | None:
    """An attribute as a class id: an integer (or integer text), a class name of `names` (a map's legend) or of
    the FUNCTIONAL_CLASSES, compared without case; None for NULL, NaN and anything else."""
    if is_null(value):
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        by_name = {c.name.casefold(): c.id for c in FUNCTIONAL_CLASSES}
        by_name.update({name.casefold(): class_id for class_id, name in (names or {}).items()})
        return by_name.get(str(value).strip().casefold())
    return int(number) if number.is_integer() else None
