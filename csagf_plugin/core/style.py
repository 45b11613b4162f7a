"""Class table -> QGIS style (paletted renderer QML), GDAL colour table and category names, and a preview picture."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from typing import Sequence

import numpy as np

from .errors import InputError
from .model_card import FUNCTIONAL_CLASSES, FunctionalClass

QGIS_VERSION = "3.22.0"
NODATA_LABEL = "No data"
CLASSES_TAG = "CSAGF_CLASSES"  # GeoTIFF tag where classify writes [[id, name, colour], ...]


def hex_to_rgb(color: str) -> tuple[int, int, int]:
    """'#rrggbb' -> (r, g, b) ints; raises InputError naming the bad colour."""
    text = color.strip().lstrip("#")
    if len(text) != 6:
        raise InputError(f"Colour '{color}' in the class table is not '#rrggbb': fix the model card.")
    try:
        return int(text[0:2], 16), int(text[2:4], 16), int(text[4:6], 16)
    except ValueError as exc:
        raise InputError(f"Colour '{color}' in the class table is not '#rrggbb': fix the model card.") from exc


def colormap(classes: Sequence[FunctionalClass]) -> dict[int, tuple[int, int, int, int]]:
    """GDAL colour table {class id: (r, g, b, a)}; id 0 (no data) is transparent."""
    table = {0: (0, 0, 0, 0)}
    for c in classes:
        table[int(c.id)] = hex_to_rgb(c.color) + (255,)
    return table


def category_names(classes: Sequence[FunctionalClass]) -> list[str]:
    """GDAL category names indexed by class id (index 0 = no data, gaps left empty)."""
    names = [""] * (max([c.id for c in classes], default=0) + 1)
    names[0] = NODATA_LABEL
    for c in classes:
        names[c.id] = c.name
    return names


def qml_for_classes(classes: Sequence[FunctionalClass]) -> str:
    """QGIS (3.22 format) style: a paletted renderer on band 1 with one legend entry per class, 0 transparent."""
    qgis = ET.Element("qgis", version=QGIS_VERSION, styleCategories="AllStyleCategories")
    pipe = ET.SubElement(qgis, "pipe")
    provider = ET.SubElement(pipe, "provider")
    ET.SubElement(provider, "resampling", enabled="false", maxOversampling="2",
                  zoomedInResamplingMethod="nearestNeighbour", zoomedOutResamplingMethod="nearestNeighbour")
    renderer = ET.SubElement(pipe, "rasterrenderer", type="paletted", band="1", opacity="1", alphaBand="-1",
                             nodataColor="")
    ET.SubElement(renderer, "rasterTransparency")
    min_max = ET.SubElement(renderer, "minMaxOrigin")
    for tag, text in (("limits", "None"), ("extent", "WholeRaster"), ("statAccuracy", "Estimated"),
                      ("cumulativeCutLower", "0.02"), ("cumulativeCutUpper", "0.98"), ("stdDevFactor", "2")):
        ET.SubElement(min_max, tag).text = text
    palette = ET.SubElement(renderer, "colorPalette")
    for c in sorted(classes, key=lambda c: c.id):
        r, g, b = hex_to_rgb(c.color)
        ET.SubElement(palette, "paletteEntry", value=str(c.id), color=f"#{r:02x}{g:02x}{b:02x}", label=c.name,
                      alpha="255")
    ET.SubElement(pipe, "brightnesscontrast", brightness="0", contrast="0", gamma="1")
    ET.SubElement(pipe, "huesaturation", saturation="0", grayscaleMode="0", colorizeOn="0", colorizeRed="255",
                  colorizeGreen="128", colorizeBlue="128", colorizeStrength="100", invertColors="0")
    ET.SubElement(pipe, "rasterresampler", maxOversampling="2")
    ET.SubElement(qgis, "blendMode").text = "0"
    ET.indent(qgis)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(qgis, encoding="unicode") + "\n"


def write_qml(path: str | os.PathLike, classes: Sequence[FunctionalClass]) -> str:
    """Write the QML of `classes` to `path`; return the path."""
    from .safe_output import atomic_output

    path = os.fspath(path)
    with atomic_output(path, "style") as temp, open(temp, "w", encoding="utf-8") as f:
        f.write(qml_for_classes(classes))
    return path


def write_style_for_raster(raster_path: str | os.PathLike, classes: Sequence[FunctionalClass]) -> str:
    """Write <raster without extension>.qml beside a map, the style QGIS loads by default; return its path."""
    return write_qml(os.path.splitext(os.fspath(raster_path))[0] + ".qml", classes)


def category_names_aux_xml(classes: Sequence[FunctionalClass]) -> str:
    """GDAL PAM (.aux.xml) text giving band 1 its category names, which GeoTIFF itself cannot store."""
    pam = ET.Element("PAMDataset")
    band = ET.SubElement(pam, "PAMRasterBand", band="1")
    names = ET.SubElement(band, "CategoryNames")
    for name in category_names(classes):
        ET.SubElement(names, "Category").text = name
    ET.indent(pam)
    return ET.tostring(pam, encoding="unicode") + "\n"


def classes_of_map(map_path: str | os.PathLike) -> list[FunctionalClass]:
    """The class table written into a map by classify (tag CSAGF_CLASSES), else the paper's seven classes."""
    from .raster import open_raster

    with open_raster(map_path, "Map") as src:
        text = src.tags().get(CLASSES_TAG)
    if not text:
        return list(FUNCTIONAL_CLASSES)
    try:
        return [FunctionalClass(int(cid), str(name), str(color)) for cid, name, color in json.loads(text)]
    except (ValueError, TypeError) as exc:
        raise InputError(f"Map {os.fspath(map_path)} has an unreadable {CLASSES_TAG} tag ({exc}): "
                         "classify the scene again.") from exc


def preview_png(vhr_path: str | os.PathLike, map_path: str | os.PathLike, png_path: str | os.PathLike,
                classes: Sequence[FunctionalClass] | None = None, max_pixels: int = 1000,
                title: str | None = None, dpi: int = 100) -> str:
    """Draw the VHR image beside the functional-zone map with a legend into a PNG; return its path.

    Both rasters are read decimated to at most `max_pixels` on their long side, so a large scene stays cheap.
    `classes` None takes the class table written into the map by classify.
    """
    if classes is None:
        classes = classes_of_map(map_path)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    from .raster import open_raster

    with open_raster(vhr_path, "VHR") as src:
        shape = _decimated_shape(src.height, src.width, max_pixels)
        bands = [1, 2, 3] if src.count >= 3 else [1]
        image = src.read(bands, out_shape=(len(bands),) + shape).astype(np.float32)
        alpha = src.read(4, out_shape=shape) if src.count == 4 else None
    with open_raster(map_path, "Map") as src:
        zones = src.read(1, out_shape=_decimated_shape(src.height, src.width, max_pixels))
    rgb = _stretch(image)
    if rgb.shape[0] == 1:
        rgb = np.repeat(rgb, 3, axis=0)
    rgb = np.moveaxis(rgb, 0, -1)
    if alpha is not None:
        rgb[alpha == 0] = 1.0
    table = colormap(classes)
    lut = np.ones((256, 4), dtype=np.float32)
    lut[:, 3] = 0.0
    for cid, (r, g, b, a) in table.items():
        lut[cid] = (r / 255, g / 255, b / 255, a / 255)
    colored = lut[zones]

    fig = Figure(figsize=(12, 5.4), dpi=dpi)
    FigureCanvasAgg(fig)
    ax_img, ax_map = fig.subplots(1, 2)
    ax_img.imshow(rgb, interpolation="nearest")
    ax_img.set_title("VHR image")
    ax_map.imshow(colored, interpolation="nearest")
    ax_map.set_title("Functional zones")
    for ax in (ax_img, ax_map):
        ax.set_xticks([])
        ax.set_yticks([])
    handles = [Patch(facecolor=c.color, edgecolor="black", linewidth=0.3, label=c.name) for c in classes]
    fig.legend(handles=handles, loc="lower center", ncol=min(4, max(1, len(handles))), frameon=False)
    if title:
        fig.suptitle(title)
    fig.subplots_adjust(left=0.02, right=0.98, top=0.9, bottom=0.16, wspace=0.05)
    png_path = os.fspath(png_path)
    fig.savefig(png_path)
    return png_path


def _decimated_shape(height: int, width: int, max_pixels: int) -> tuple[int, int]:
    """(h, w) no larger than max_pixels on the long side, keeping the aspect ratio."""
    factor = max(1.0, max(height, width) / float(max_pixels))
    return max(1, round(height / factor)), max(1, round(width / factor))


def _stretch(image: np.ndarray) -> np.ndarray:
    """2-98 % percentile stretch of [B, H, W] to 0..1 over all bands together (keeps colours balanced)."""
    finite = image[np.isfinite(image)]
    if finite.size == 0:
        return np.zeros_like(image)
    lo, hi = np.percentile(finite, [2, 98])
    if hi <= lo:
        hi = lo + 1.0
    return np.clip((image - lo) / (hi - lo), 0.0, 1.0)
