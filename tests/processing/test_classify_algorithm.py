"""csagf:classify through the real QGIS: processing.run, the styled layer and its legend, qgis_process, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rasterio
from qgis.core import QgsPalettedRasterRenderer, QgsProcessingException, QgsProject

from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A small synthetic scene: VHR in UTM at 0.5 m, NTL in EPSG:4326 at 40 m."""
    from csagf_plugin.benchmark_city import generate_city

    return generate_city(tmp_path_factory.mktemp("city"), size_px=512, seed=7)


def test_classify_loads_a_styled_layer_with_the_legend(csagf_provider, city, tmp_path):
    import processing

    out = tmp_path / "zones.tif"
    gate = tmp_path / "gate.tif"
    results = processing.runAndLoadResults("csagf:classify", {
        "VHR": str(city.vhr), "NTL": str(city.ntl), "OUTPUT": str(out), "GATE": str(gate), "DEVICE": 1})
    assert Path(results["OUTPUT"]) == out and Path(results["GATE"]) == gate
    with rasterio.open(out) as zones, rasterio.open(city.vhr) as vhr:
        assert zones.crs == vhr.crs and zones.transform == vhr.transform and zones.shape == vhr.shape
        assert zones.nodata == 0 and zones.colormap(1)[1][:3] == (0xE8, 0xA3, 0x3D)
        assert set(int(v) for v in zones.read(1).ravel()) <= set(range(1, 8))
    with rasterio.open(gate) as g:
        values = g.read(1)
        assert g.dtypes[0] == "float32" and 0.0 <= values.min() and values.max() <= 1.0

    layers = [layer for layer in QgsProject.instance().mapLayers().values() if layer.source() == str(out)]
    assert len(layers) == 1
    renderer = layers[0].renderer()
    assert isinstance(renderer, QgsPalettedRasterRenderer)
    legend = {c.value: c.label for c in renderer.classes()}
    assert legend == {c.id: c.name for c in FUNCTIONAL_CLASSES}
    assert [t for t, _ in renderer.legendSymbologyItems()][:2] == ["Residential", "Commercial"]
    QgsProject.instance().removeAllMapLayers()


def test_classify_through_qgis_process(city, tmp_path, qgis_process):
    out = tmp_path / "cli_zones.tif"
    done = qgis_process("--json", "run", "csagf:classify", "--", f"VHR={city.vhr}", f"NTL={city.ntl}",
                        f"OUTPUT={out}", f"CONFIDENCE={tmp_path / 'confidence.tif'}", "BATCH_SIZE=2")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    results = json.loads(done.stdout[done.stdout.index("{"):])["results"]
    assert Path(results["OUTPUT"]) == out and out.is_file()
    assert (tmp_path / "cli_zones.qml").read_text().count("paletteEntry") == 7
    with rasterio.open(tmp_path / "confidence.tif") as confidence:
        values = confidence.read(1)
        assert values.min() >= 1 / 7 - 1e-6 and values.max() <= 1.0  # max softmax probability of 7 classes


def test_rasters_that_do_not_overlap_get_a_clear_message(csagf_provider, city, tmp_path):
    import processing

    far_ntl = tmp_path / "far_ntl.tif"
    with rasterio.open(city.ntl) as src:
        profile = src.profile
        data = src.read()
        profile["transform"] = rasterio.Affine.translation(40.0, 0.0) * src.transform  # 40 degrees east
    with rasterio.open(far_ntl, "w", **profile) as dst:
        dst.write(data)
    out = tmp_path / "never.tif"
    with pytest.raises(QgsProcessingException, match="does not overlap"):
        processing.run("csagf:classify", {"VHR": str(city.vhr), "NTL": str(far_ntl), "OUTPUT": str(out)})
    assert not out.exists()


def test_pixel_size_parameter_resamples_and_writes_on_the_vhr_grid(csagf_provider, city, tmp_path):
    """VHR_PIXEL_SIZE=1 m on the 0.5 m city: predicted at 1 m, written on the 0.5 m grid, the log says so."""
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingFeedback

    class Feedback(QgsProcessingFeedback):
        def __init__(self) -> None:
            super().__init__()
            self.lines: list[str] = []

        def pushWarning(self, warning: str) -> None:  # noqa: N802
            self.lines.append(warning)

        def pushInfo(self, info: str) -> None:  # noqa: N802
            self.lines.append(info)

    out = tmp_path / "zones_1m.tif"
    feedback = Feedback()
    processing.run("csagf:classify", {"VHR": str(city.vhr), "NTL": str(city.ntl), "OUTPUT": str(out),
                                      "VHR_PIXEL_SIZE": 1.0, "DEVICE": 1}, context=QgsProcessingContext(),
                   feedback=feedback)
    with rasterio.open(out) as zones, rasterio.open(city.vhr) as vhr:
        assert zones.transform == vhr.transform and zones.shape == vhr.shape
        values = zones.read(1)
    assert set(int(v) for v in values.ravel()) <= set(range(1, 8))
    assert any("to the model's 1.00 m pixels" in line for line in feedback.lines), feedback.lines
