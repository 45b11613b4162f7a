"""Resolution-aware inference: VHR resampled to the model's pixel size, the map written on the input grid."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from csagf_plugin.core.classify import ClassifyConfig, classify_scene
from csagf_plugin.core.errors import Canceled, InputError
from csagf_plugin.core.resolution import ground_pixel_size_m, plan_resampling
from csagf_plugin.core.style import colormap

from tiny_models import UTM51, VHR_ORIGIN, smooth_texture, tiny_card, write_raster


def run(vhr: Path, ntl: Path, model: Path, out: Path, warnings: list[str] | None = None, progress=None,
        **changes: object):
    config = ClassifyConfig(str(vhr), str(ntl), str(model), str(out), threads=1, **changes)
    kwargs = {} if progress is None else {"progress": progress}
    return classify_scene(config, warn=(warnings.append if warnings is not None else None), **kwargs)


@pytest.fixture()
def fine_scene(scene: dict[str, Path]) -> dict[str, Path]:
    """The 1 m scene again at 0.5 m: every pixel repeated 2 x 2, so averaging back gives the 1 m pixels exactly."""
    with rasterio.open(scene["vhr"]) as src:
        data = src.read()
    fine = np.repeat(np.repeat(data, 2, axis=1), 2, axis=2)
    scene["fine"] = write_raster(scene["folder"] / "vhr_fine.tif", fine, UTM51, from_origin(*VHR_ORIGIN, 0.5, 0.5))
    return scene


def test_ground_pixel_size_of_utm_raster(scene: dict[str, Path]) -> None:
    with rasterio.open(scene["vhr"]) as src:
        assert ground_pixel_size_m(src.crs, src.transform, src.width, src.height) == pytest.approx(1.0, rel=0.01)
        assert plan_resampling(src, 1.1) is None  # within the tolerance: used as it is
        plan = plan_resampling(src, 2.0)
        assert (plan.width, plan.height) == (100, 75) and plan.factor == pytest.approx(2.0, rel=0.01)


def test_fine_input_is_averaged_to_the_models_pixels_and_mapped_back(fine_scene: dict[str, Path],
                                                                    tiny_model: Path) -> None:
    """The 1 m model on the 0.5 m copy gives exactly its 1 m map, each pixel repeated 2 x 2, on the 0.5 m grid."""
    folder = fine_scene["folder"]
    native = run(fine_scene["vhr"], fine_scene["ntl"], tiny_model, folder / "native.tif", gate_path=str(
        folder / "native_gate.tif"))
    warnings: list[str] = []
    fine = run(fine_scene["fine"], fine_scene["ntl"], tiny_model, folder / "fine.tif", warnings,
               confidence_path=str(folder / "fine_conf.tif"), gate_path=str(folder / "fine_gate.tif"))
    assert any("resampled from 0.50 m to the model's 1.00 m" in w for w in warnings), warnings
    with rasterio.open(native.output_path) as a, rasterio.open(fine.output_path) as b, \
            rasterio.open(fine_scene["fine"]) as src:
        assert (b.crs, b.transform, b.shape) == (src.crs, src.transform, src.shape)
        coarse = a.read(1)
        np.testing.assert_array_equal(b.read(1), np.repeat(np.repeat(coarse, 2, axis=0), 2, axis=1))
        assert b.colormap(1)[1] == colormap(tiny_card().classes)[1]
        assert b.tags()["CSAGF_MODEL"] == "tiny_test"
    assert sum(fine.class_pixels.values()) == 300 * 400 and (fine.width, fine.height) == (400, 300)
    assert fine.pixel_area == pytest.approx(0.25)
    assert Path(str(folder / "fine.tif") + ".aux.xml").exists()  # category names travel with the map
    for path in ("fine_conf.tif", "fine_gate.tif"):
        with rasterio.open(folder / path) as r:
            assert r.shape == (300, 400) and r.dtypes[0] == "float32"
    leftovers = [p.name for p in folder.iterdir() if "partial" in p.name]
    assert not leftovers


def test_pixel_size_zero_uses_the_vhr_as_it_is_and_warns_when_far(fine_scene: dict[str, Path],
                                                                   model_factory: Callable[..., Path]) -> None:
    coarse_model = model_factory(tiny_card(vhr_pixel_size_m=2.5))
    warnings: list[str] = []
    result = run(fine_scene["fine"], fine_scene["ntl"], coarse_model, fine_scene["folder"] / "as_is.tif", warnings,
                 vhr_pixel_size_m=0)
    assert (result.width, result.height) == (400, 300)
    assert any("trained on 2.50 m pixels but predicts on 0.50 m" in w for w in warnings), warnings
    assert not any("resampled" in w for w in warnings)


def test_given_pixel_size_overrides_the_card(fine_scene: dict[str, Path], tiny_model: Path) -> None:
    warnings: list[str] = []
    result = run(fine_scene["fine"], fine_scene["ntl"], tiny_model, fine_scene["folder"] / "given.tif", warnings,
                 vhr_pixel_size_m=0.8)
    assert any("to the model's 0.80 m pixels" in w for w in warnings), warnings
    assert (result.width, result.height) == (400, 300)


def test_negative_pixel_size_is_refused(scene: dict[str, Path], tiny_model: Path) -> None:
    with pytest.raises(InputError, match="negative"):
        run(scene["vhr"], scene["ntl"], tiny_model, scene["folder"] / "neg.tif", vhr_pixel_size_m=-1)
    assert not (scene["folder"] / "neg.tif").exists()


def test_cancel_while_resampled_leaves_nothing(fine_scene: dict[str, Path], tiny_model: Path) -> None:
    class CancelSoon:
        calls = 0

        def set_progress(self, percent: float) -> None:
            pass

        def is_canceled(self) -> bool:
            self.calls += 1
            return self.calls > 2

    folder = fine_scene["folder"]
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(Canceled):
        run(fine_scene["fine"], fine_scene["ntl"], tiny_model, folder / "cancel.tif", progress=CancelSoon())
    assert sorted(p.name for p in folder.iterdir()) == before


def test_uneven_factor_leaves_no_edge_without_class(scene: dict[str, Path], model_factory: Callable[..., Path]) -> None:
    """1 m input, 0.85 m model: the resampled grid is rounded up, so the last row and column get a class too."""
    model = model_factory(tiny_card(vhr_pixel_size_m=0.85))
    result = run(scene["vhr"], scene["ntl"], model, scene["folder"] / "uneven.tif")
    with rasterio.open(result.output_path) as out:
        zones = out.read(1)
    assert zones.shape == (150, 200) and (zones > 0).all()
