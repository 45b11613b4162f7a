"""Label rasters on a VHR grid: from a raster of class ids, or from polygons and an editable mapping table.

A mapping is an ordered list of rules (key, value, class id): a feature takes the class of the first rule whose key
holds that value ("*" matches any non-empty value).  For an ordinary layer the key is the class field; for an
OpenStreetMap extract (GDAL's OSM driver) keys are OSM tag keys, read from the layer's columns and `other_tags`.
Pixels that no rule maps stay 0, which losses and metrics ignore.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.vrt import WarpedVRT

from ..core.errors import InputError
from ..core.model_card import FUNCTIONAL_CLASSES
from ..core.progress import Warn, ignore_warning
from ..core.raster import bounds_in, grid_bounds, open_raster

DEFAULT_OSM_MAPPING = Path(__file__).resolve().parents[2] / "resources" / "class_mappings" / "osm_default.csv"
VALID_CLASS_IDS = frozenset(c.id for c in FUNCTIONAL_CLASSES)
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".img", ".jp2", ".png")
_OTHER_TAGS = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')


@dataclass(frozen=True)
class MappingRule:
    """One row of a mapping table."""

    key: str  # field name or OSM tag key
    value: str  # field value or OSM tag value; "*" matches any non-empty value
    class_id: int  # functional class id 1..7 (0 maps the value to "ignore" on purpose)


@dataclass
class ClassMapping:
    """An ordered table from field values (or OSM key=value tags) to functional class ids; the first match wins."""

    rules: list[MappingRule] = field(default_factory=list)
    source: str = "mapping"  # where the table came from, for messages

    @property
    def keys(self) -> list[str]:
        """The field names / tag keys the rules look at, in first-use order."""
        return list(dict.fromkeys(r.key for r in self.rules))

    def classify(self, tags: dict[str, str]) -> int | None:
        """Class id of a feature with these tags; None when no rule matches."""
        for rule in self.rules:
            value = tags.get(rule.key)
            if value is None or value == "":
                continue
            if rule.value == "*" or rule.value == value:
                return rule.class_id
        return None

    @classmethod
    def from_file(cls, path: str | os.PathLike, class_field: str | None = None) -> "ClassMapping":
        """Read a CSV (key,value,class_id or value,class_id) or JSON mapping; `class_field` fills a missing key."""
        path = Path(path)
        if not path.is_file():
            raise InputError(f"Class mapping {path} does not exist: give a CSV or JSON mapping file, or none for "
                             f"the default OpenStreetMap mapping ({DEFAULT_OSM_MAPPING.name}).")
        try:
            if path.suffix.lower() == ".json":
                rules = _rules_from_json(json.loads(path.read_text(encoding="utf-8")), class_field)
            else:
                rules = _rules_from_csv(path.read_text(encoding="utf-8-sig"), class_field)
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"Class mapping {path} cannot be read ({exc}). Use a CSV with the header "
                             "key,value,class_id (or value,class_id plus a class field), or JSON "
                             '{"rules": [{"key": ..., "value": ..., "class_id": ...}]}.') from exc
        bad = sorted({r.class_id for r in rules} - VALID_CLASS_IDS - {0})
        if bad:
            raise InputError(f"Class mapping {path} uses class ids {bad}; valid ids are 1..7 "
                             f"({', '.join(f'{c.id}={c.name}' for c in FUNCTIONAL_CLASSES)}) and 0 for ignore.")
        if not rules:
            raise InputError(f"Class mapping {path} holds no rules.")
        return cls(rules, str(path))

    @classmethod
    def default_osm(cls) -> "ClassMapping":
        """The shipped OpenStreetMap tag mapping (resources/class_mappings/osm_default.csv)."""
        return cls.from_file(DEFAULT_OSM_MAPPING)


def _need_key(class_field: str | None, where: str) -> str:
    if not class_field:
        raise ValueError(f"{where} has no key column: name the class field it applies to")
    return class_field


def _rules_from_csv(text: str, class_field: str | None) -> list[MappingRule]:
    numbered = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.startswith("#")]
    _check_quotes(numbered)
    reader = csv.DictReader((line for _, line in numbered), strict=True)
    columns = [c.strip() for c in (reader.fieldnames or [])]
    if "value" not in columns or "class_id" not in columns:
        raise ValueError(f"header is {columns}, needs value and class_id")
    rules = []
    for row in reader:
        line = numbered[min(reader.line_num, len(numbered)) - 1][0]
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        key = row.get("key") or _need_key(class_field, "the CSV")
        try:
            class_id = int(row["class_id"])
        except ValueError:
            raise ValueError(f"line {line}: class_id '{row['class_id']}' is not a whole number") from None
        rules.append(MappingRule(key, row["value"], class_id))
    return rules


def _check_quotes(numbered: list[tuple[int, str]]) -> None:
    """Raise ValueError naming the line of a quote that is never closed (csv would swallow the rest of the file)."""
    opened = None
    for number, line in numbered:
        if line.count('"') % 2:
            opened = None if opened else number
    if opened:
        raise ValueError(f'line {opened} opens a quote (") that is never closed')


def _rules_from_json(data: object, class_field: str | None) -> list[MappingRule]:
    if isinstance(data, dict) and "rules" in data:
        return [MappingRule(str(r.get("key") or _need_key(class_field, "a rule")), str(r["value"]),
                            int(r["class_id"])) for r in data["rules"]]
    if isinstance(data, dict) and all(isinstance(v, dict) for v in data.values()):
        return [MappingRule(str(k), str(v), int(c)) for k, table in data.items() for v, c in table.items()]
    if isinstance(data, dict):
        key = _need_key(class_field, "the flat JSON mapping")
        return [MappingRule(key, str(v), int(c)) for v, c in data.items()]
    raise ValueError("expected a JSON object")


def parse_other_tags(text: str | None) -> dict[str, str]:
    """Tags of GDAL's OSM `other_tags` column ("k"=>"v","k2"=>"v2") as a dict."""
    if not text:
        return {}
    return {k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _OTHER_TAGS.findall(text)}


def is_raster(path: str | os.PathLike) -> bool:
    """True when the label source is a raster (by extension, else by GDAL's raster drivers)."""
    if str(path).lower().endswith(RASTER_SUFFIXES):
        return True
    if str(path).lower().endswith((".gpkg", ".shp", ".pbf", ".osm", ".geojson", ".json", ".gml", ".kml", ".sqlite")):
        return False
    try:
        with rasterio.open(path):
            return True
    except rasterio.errors.RasterioIOError:
        return False


class LabelsOutside(InputError):
    """The label source has nothing inside the grid asked for (the whole VHR raster, or one band of it)."""


def labels_from_raster(path: str | os.PathLike, crs: CRS, transform: rasterio.Affine, width: int, height: int,
                       warn: Warn = ignore_warning) -> np.ndarray:
    """Class ids of a label raster resampled (nearest) onto the grid, uint8 [H, W]; nodata and unknown ids -> 0."""
    with open_raster(path, "Label") as src:
        left, bottom, right, top = grid_bounds(transform, width, height)
        _check_bounds_overlap(src, crs, (left, bottom, right, top), str(path))
        with WarpedVRT(src, crs=crs, transform=transform, width=width, height=height,
                       resampling=Resampling.nearest, nodata=0, src_nodata=src.nodata) as vrt:
            raw = vrt.read(1)
    bad = np.unique(raw[(raw != 0) & ~np.isin(raw, list(VALID_CLASS_IDS))])
    if bad.size:
        warn(f"Label raster {path} holds values {bad.tolist()[:20]} that are not class ids 1..7; "
             "those pixels are ignored (0).")
    labels = np.where(np.isin(raw, list(VALID_CLASS_IDS)), raw, 0).astype(np.uint8)
    return labels


def _check_bounds_overlap(src: rasterio.DatasetReader, crs: CRS, bounds: tuple[float, float, float, float],
                          name: str) -> None:
    left, bottom, right, top = bounds_in(src, crs)
    if left >= bounds[2] or right <= bounds[0] or bottom >= bounds[3] or top <= bounds[1]:
        raise LabelsOutside(f"Labels {name} do not overlap the VHR raster: VHR bounds {_fmt(bounds)}, label bounds in "
                         f"the VHR's CRS {_fmt((left, bottom, right, top))}. Pick labels of the same place.")


def _fmt(bounds: Iterable[float]) -> str:
    return "(" + ", ".join(f"{b:.6g}" for b in bounds) + ")"


def _open_layer(path: str, layer: str | None):  # -> tuple[ogr.DataSource, ogr.Layer]
    from osgeo import ogr

    # GDAL's exception mode is process-wide (and QGIS's), so it is left as the host set it: both None and
    # RuntimeError mean "cannot open".
    try:
        ds = ogr.Open(str(path))
    except RuntimeError as exc:
        raise InputError(f"Label layer {path} cannot be opened as vector data ({exc}).") from exc
    if ds is None:
        raise InputError(f"Label layer {path} cannot be opened as vector data: pick a GeoPackage, Shapefile, "
                         "OSM .pbf or another OGR-readable file.")
    names = [ds.GetLayerByIndex(i).GetName() for i in range(ds.GetLayerCount())]
    if layer is None:
        layer = "multipolygons" if "multipolygons" in names else names[0]
    if layer not in names:
        raise InputError(f"Label layer '{layer}' is not in {path}; its layers are {names}.")
    return ds, ds.GetLayerByName(layer)


def labels_from_vector(path: str | os.PathLike, mapping: ClassMapping | None, crs: CRS, transform: rasterio.Affine,
                       width: int, height: int, layer: str | None = None, class_field: str | None = None,
                       warn: Warn = ignore_warning) -> np.ndarray:
    """Polygons rasterised onto the grid with the mapping, uint8 [H, W]; small polygons are drawn over large ones.

    Without a mapping, `class_field` must hold class ids 1..7 directly.  Values absent from the mapping become 0,
    with one warning that lists them.
    """
    from osgeo import ogr, osr
    from rasterio.features import rasterize

    path = os.fspath(path)
    if not os.path.exists(path):
        raise InputError(f"Label layer {path} does not exist: check the path.")
    ds, lyr = _open_layer(path, layer)
    defn = lyr.GetLayerDefn()
    fields = [defn.GetFieldDefn(i).GetName() for i in range(defn.GetFieldCount())]
    has_other_tags = "other_tags" in fields
    if mapping is None and not class_field:
        raise InputError(f"Label layer {path}: give a class mapping, or a class field that holds class ids 1..7.")
    if class_field and class_field not in fields:
        raise InputError(f"Label layer {path} has no field '{class_field}'; its fields are {fields}. "
                         "Pick the field that holds the land-use class.")
    if mapping is not None and not has_other_tags and not set(mapping.keys) & set(fields):
        raise InputError(f"Label layer {path} has none of the fields the class mapping {mapping.source} uses "
                         f"({mapping.keys}); its fields are {fields}. Name the class field or edit the mapping.")

    layer_srs = lyr.GetSpatialRef()
    if layer_srs is None:
        raise InputError(f"Label layer {path} has no coordinate reference system: assign one and run again.")
    grid_srs = osr.SpatialReference()
    grid_srs.ImportFromWkt(crs.to_wkt())
    for srs in (layer_srs, grid_srs):
        srs.SetAxisMappingStrategy(osr.OAMS_TRADITIONAL_GIS_ORDER)
    to_grid = osr.CoordinateTransformation(layer_srs, grid_srs)
    to_layer = osr.CoordinateTransformation(grid_srs, layer_srs)
    left, bottom, right, top = grid_bounds(transform, width, height)
    ring = ogr.Geometry(ogr.wkbLinearRing)
    for i in range(21):  # densified grid outline, so the filter is right after reprojection
        t = i / 20
        ring.AddPoint_2D(left + t * (right - left), bottom)
    for i in range(21):
        t = i / 20
        ring.AddPoint_2D(right - t * (right - left), top)
    ring.AddPoint_2D(left, bottom)
    outline = ogr.Geometry(ogr.wkbPolygon)
    outline.AddGeometry(ring)
    outline.Transform(to_layer)
    lyr.SetSpatialFilter(outline)
    lyr.ResetReading()

    shapes: list[tuple[float, dict, int]] = []
    unmapped: Counter[str] = Counter()
    n_features = 0
    for feat in lyr:
        geom = feat.GetGeometryRef()
        if geom is None or geom.IsEmpty():
            continue
        if ogr.GT_Flatten(geom.GetGeometryType()) not in (ogr.wkbPolygon, ogr.wkbMultiPolygon):
            continue
        n_features += 1
        tags = {name: feat.GetFieldAsString(name) for name in fields if feat.IsFieldSet(name)}
        if has_other_tags:
            tags.update(parse_other_tags(tags.pop("other_tags", None)))
        if mapping is None:
            raw = tags.get(class_field or "", "")
            try:
                class_id: int | None = int(float(raw))
            except ValueError:
                class_id = None
            if class_id not in VALID_CLASS_IDS:
                unmapped[f"{class_field}={raw}"] += 1
                continue
        else:
            class_id = mapping.classify(tags)
            if class_id is None:
                for key in mapping.keys:
                    if tags.get(key):
                        unmapped[f"{key}={tags[key]}"] += 1
                continue
        if class_id == 0:
            continue
        g = geom.Clone()
        g.Transform(to_grid)
        if g.GetArea() <= 0:  # degenerate rings (OSM ways closed on themselves) cover no pixel
            continue
        shapes.append((g.GetArea(), json.loads(g.ExportToJson()), int(class_id)))
    if n_features == 0:
        raise LabelsOutside(f"Labels {path} do not overlap the VHR raster: no polygon lies inside the VHR bounds "
                         f"{_fmt((left, bottom, right, top))} (CRS {crs.to_string()}). Pick labels of the same place.")
    if unmapped:
        listed = ", ".join(f"{v} ({n})" for v, n in unmapped.most_common(30))
        warn(f"Label layer {path}: {sum(unmapped.values())} polygons have values absent from the class mapping "
             f"and are ignored: {listed}. Add them to the mapping to use them.")
    del ds
    labels = np.zeros((height, width), dtype=np.uint8)
    if shapes:
        shapes.sort(key=lambda s: -s[0])  # large first, so smaller polygons (a park in a district) stay on top
        rasterize(((g, c) for _, g, c in shapes), out=labels, transform=transform, all_touched=False)
    return labels


def labels_on_grid(source: str | os.PathLike, crs: CRS, transform: rasterio.Affine, width: int, height: int,
                   mapping: ClassMapping | None = None, layer: str | None = None, class_field: str | None = None,
                   warn: Warn = ignore_warning) -> np.ndarray:
    """Labels of a raster or vector source on a grid (uint8 class ids, 0 = ignore); vector uses the OSM default
    mapping when neither a mapping nor a class field is given."""
    if is_raster(source):
        return labels_from_raster(source, crs, transform, width, height, warn)
    if mapping is None and not class_field:
        mapping = ClassMapping.default_osm()
    return labels_from_vector(source, mapping, crs, transform, width, height, layer, class_field, warn)


def labels_for_vhr(vhr_path: str | os.PathLike, source: str | os.PathLike, mapping: ClassMapping | None = None,
                   layer: str | None = None, class_field: str | None = None,
                   warn: Warn = ignore_warning) -> np.ndarray:
    """Labels on the full grid of a VHR raster."""
    with open_raster(vhr_path, "VHR") as vhr:
        return labels_on_grid(source, vhr.crs, vhr.transform, vhr.width, vhr.height, mapping, layer, class_field,
                              warn)
