"""QML of the class table, the style file beside a map, and the preview picture."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

from csagf_plugin.core.classify import ClassifyConfig, classify_scene
from csagf_plugin.core.errors import InputError
from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES, FunctionalClass
from csagf_plugin.core.style import category_names, preview_png, qml_for_classes, write_style_for_raster


def test_qml_is_a_paletted_renderer_with_one_entry_per_class() -> None:
    text = qml_for_classes(FUNCTIONAL_CLASSES)
    root = ET.fromstring(text.split("\n", 1)[1])  # skip the DOCTYPE line
    assert root.tag == "qgis" and root.get("version", "").startswith("3.22")
    renderer = root.find("pipe/rasterrenderer")
    assert renderer is not None and renderer.get("type") == "paletted" and renderer.get("band") == "1"
    entries = renderer.findall("colorPalette/paletteEntry")
    assert [(e.get("value"), e.get("label"), e.get("color"), e.get("alpha")) for e in entries] == [
        (str(c.id), c.name, c.color, "255") for c in FUNCTIONAL_CLASSES]
    assert entries[0].attrib == {"value": "1", "color": "#e8a33d", "label": "Residential", "alpha": "255"}


def test_qml_escapes_names_and_refuses_bad_colours() -> None:
    text = qml_for_classes([FunctionalClass(3, 'Shops & "offices" <mixed>', "#ABCDEF")])
    entry = ET.fromstring(text.split("\n", 1)[1]).find("pipe/rasterrenderer/colorPalette/paletteEntry")
    assert entry.get("label") == 'Shops & "offices" <mixed>' and entry.get("color") == "#abcdef"
    with pytest.raises(InputError, match="'red' in the class table is not '#rrggbb'"):
        qml_for_classes([FunctionalClass(1, "Residential", "red")])


def test_category_names_leave_gaps_empty() -> None:
    names = category_names([FunctionalClass(1, "A", "#000000"), FunctionalClass(3, "C", "#ffffff")])
    assert names == ["No data", "A", "", "C"]


def test_style_file_is_written_where_qgis_looks_for_it(tmp_path: Path) -> None:
    qml = write_style_for_raster(tmp_path / "zones.tif", FUNCTIONAL_CLASSES)
    assert qml == str(tmp_path / "zones.qml")
    assert Path(qml).read_text(encoding="utf-8") == qml_for_classes(FUNCTIONAL_CLASSES)


def test_preview_png_shows_image_map_and_legend(scene: dict[str, Path], tiny_model: Path) -> None:
    from matplotlib.image import imread

    result = classify_scene(ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(tiny_model),
                                           str(scene["folder"] / "zones.tif"), threads=1), warn=None)
    png = preview_png(scene["vhr"], result.output_path, scene["folder"] / "preview.png", max_pixels=100, dpi=50)
    picture = imread(png)
    assert picture.shape[:2] == (270, 600)  # figure of 12 x 5.4 inches at 50 dpi
    # Every class present in the map appears in the picture in its colour (map panel or legend).
    rgb = (picture[..., :3] * 255).round().astype(int)
    for c in result.classes:
        r, g, b = (int(c.color[i:i + 2], 16) for i in (1, 3, 5))
        assert np.any(np.all(np.abs(rgb - (r, g, b)) <= 2, axis=-1)), f"{c.name} colour missing"


def test_qgis_loads_the_style_beside_a_map_as_a_legend(scene: dict[str, Path], tiny_model: Path) -> None:
    """The QML is only worth writing if QGIS reads it: paletted renderer, class names and colours in the legend."""
    qgis_core = pytest.importorskip("qgis.core")
    result = classify_scene(ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(tiny_model),
                                           str(scene["folder"] / "zones.tif"), threads=1), warn=None)
    write_style_for_raster(result.output_path, result.classes)
    if qgis_core.QgsApplication.instance() is None:
        pytest.skip("no QgsApplication (pytest-qgis not active)")
    layer = qgis_core.QgsRasterLayer(result.output_path, "zones")
    assert layer.isValid()
    _, loaded = layer.loadDefaultStyle()  # QGIS's own lookup of <map>.qml
    renderer = layer.renderer()
    assert loaded and renderer.type() == "paletted" and renderer.band() == 1
    assert [(int(c.value), c.label, c.color.name()) for c in renderer.classes()] == [
        (c.id, c.name, c.color) for c in result.classes]
