"""The benchmark city generator: deterministic, georeferenced, every class present, night light that tells classes
apart, seamless windows and memory that does not grow with the scene."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.enums import Resampling
from rasterio.warp import transform_bounds

from csagf_plugin.benchmark_city import CityLayout, CityPaths, generate_city
from csagf_plugin.benchmark_city.__main__ import main as cli_main
from csagf_plugin.benchmark_city.daytime import render_window
from csagf_plugin.benchmark_city.layout import SLABS, SURF_BLOCK
from csagf_plugin.core.errors import Canceled, InputError
from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES
from csagf_plugin.core.raster import ntl_on_grid

REPO = Path(__file__).resolve().parents[2]
COMMERCIAL, INDUSTRIAL, RESIDENTIAL, WATER = 2, 3, 1, 6


def _data_digest(paths: CityPaths) -> str:
    """A hash of the pixel values and grids of the three rasters (not of file bytes or timings)."""
    digest = hashlib.sha256()
    for path in (paths.vhr, paths.labels, paths.ntl):
        with rasterio.open(path) as src:
            digest.update(src.read().tobytes())
            digest.update(repr((src.crs.to_epsg(), tuple(src.transform))).encode())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> CityPaths:
    """A 1024 x 1024 px (512 m) city, generated once for the module."""
    return generate_city(tmp_path_factory.mktemp("city"), size_px=1024, seed=0)


def test_same_seed_same_city_other_seed_other_city_any_ntl_resolution(tmp_path: Path) -> None:
    first = generate_city(tmp_path / "a", size_px=256, seed=3)
    again = generate_city(tmp_path / "b", size_px=256, seed=3)
    other = generate_city(tmp_path / "c", size_px=256, seed=4)
    assert _data_digest(first) == _data_digest(again)
    assert _data_digest(first) != _data_digest(other)
    coarse = generate_city(tmp_path / "d", size_px=256, seed=3, ntl_pixel_m=100.0)
    for a, b in ((first.vhr, coarse.vhr), (first.labels, coarse.labels)):
        with rasterio.open(a) as fine_src, rasterio.open(b) as coarse_src:
            assert np.array_equal(fine_src.read(), coarse_src.read()), "the NTL resolution does not change the city"


def test_every_class_is_present_with_plausible_shares(city: CityPaths) -> None:
    with rasterio.open(city.labels) as src:
        labels = src.read(1)
    shares = np.bincount(labels.ravel(), minlength=8) / labels.size
    assert shares[0] == 0.0, "every pixel has a class"
    for cls in FUNCTIONAL_CLASSES:
        assert shares[cls.id] >= 0.01, f"{cls.name} covers only {shares[cls.id]:.2%}"
        assert shares[cls.id] <= 0.45, f"{cls.name} covers {shares[cls.id]:.2%}"
    assert shares[RESIDENTIAL] > shares[COMMERCIAL], "residential is the commonest built use"
    assert 0.08 <= shares[5] <= 0.35, "streets take a city-like share"
    card = json.loads(city.card.read_text())
    assert card["synthetic"] is True
    assert card["class_shares"]["Water"] == pytest.approx(shares[WATER], abs=1e-4)


def test_georeferencing(city: CityPaths) -> None:
    with rasterio.open(city.vhr) as vhr, rasterio.open(city.labels) as lab, rasterio.open(city.ntl) as ntl:
        assert vhr.crs.to_epsg() == 32649 and vhr.crs.is_projected
        assert vhr.res == (0.5, 0.5)
        assert (vhr.count, vhr.dtypes[0], vhr.width, vhr.height) == (3, "uint8", 1024, 1024)
        assert vhr.profile["tiled"] and vhr.profile["compress"] == "deflate"
        assert (lab.crs, lab.transform, lab.shape, lab.dtypes[0]) == (vhr.crs, vhr.transform, vhr.shape, "uint8")
        colormap = lab.colormap(1)
        for cls in FUNCTIONAL_CLASSES:
            assert "#%02x%02x%02x" % colormap[cls.id][:3] == cls.color
        assert ntl.crs.to_epsg() == 4326 and ntl.dtypes[0] == "float32" and ntl.nodata is not None
        lat = (ntl.bounds.top + ntl.bounds.bottom) / 2
        assert ntl.res[1] * 111_320 == pytest.approx(40.0, rel=0.01)
        assert ntl.res[0] * 111_320 * np.cos(np.deg2rad(lat)) == pytest.approx(40.0, rel=0.01)
        west, south, east, north = transform_bounds(vhr.crs, ntl.crs, *vhr.bounds)
        assert ntl.bounds.left < west and ntl.bounds.right > east
        assert ntl.bounds.bottom < south and ntl.bounds.top > north
        assert np.all(ntl.read(1) >= 0.0)
    names = [c.text for c in ET.parse(str(city.labels) + ".aux.xml").iter("Category")]
    assert names[1:8] == [c.name for c in FUNCTIONAL_CLASSES]


def test_night_light_is_bright_over_commerce_and_industry_dark_over_water(city: CityPaths) -> None:
    with rasterio.open(city.labels) as lab, rasterio.open(city.ntl) as ntl:
        shape = (lab.height // 8, lab.width // 8)
        labels = lab.read(1, out_shape=shape, resampling=Resampling.nearest)
        transform = lab.transform * lab.transform.scale(8, 8)
        light = ntl_on_grid(ntl, lab.crs, transform, shape[1], shape[0])[0]
    assert np.isfinite(light).all(), "the NTL raster covers the whole VHR grid"
    busy = np.median(light[(labels == COMMERCIAL) | (labels == INDUSTRIAL)])
    water = np.median(light[labels == WATER])
    residential = np.median(light[labels == RESIDENTIAL])
    assert busy > 2.0 * water
    assert busy > 1.5 * residential, "commerce outshines housing at night even where they look alike by day"


def test_water_and_deep_shadow_look_alike_by_day_but_not_at_night(city: CityPaths) -> None:
    with rasterio.open(city.vhr) as vhr, rasterio.open(city.labels) as lab, rasterio.open(city.ntl) as ntl:
        brightness = vhr.read().astype(np.float32).mean(axis=0)
        labels = lab.read(1)
        light = ntl_on_grid(ntl, lab.crs, lab.transform, lab.width, lab.height)[0]
    water = labels == WATER
    as_dark_as_water = brightness <= np.percentile(brightness[water], 75)
    dark_commerce = as_dark_as_water & (labels == COMMERCIAL)
    assert dark_commerce.sum() > 0.1 * (labels == COMMERCIAL).sum(), "towers cast deep, water-dark shadows"
    assert np.median(light[dark_commerce]) > 3.0 * np.median(light[water])


def test_commercial_and_residential_compounds_share_a_daytime_look_not_a_night_one(city: CityPaths) -> None:
    step = 4
    with rasterio.open(city.vhr) as vhr:
        shape = (vhr.height // step, vhr.width // step)
        rgb = vhr.read(out_shape=(3,) + shape, resampling=Resampling.nearest).astype(np.float32)
    layout = CityLayout(1024 * 0.5, seed=0)
    centres = (np.arange(shape[0]) * step + 0.5) * 0.5
    ground = layout.sample(*np.meshgrid(centres, centres))
    style, label = ground.style.reshape(shape), ground.label.reshape(shape)
    emitted = layout.radiance(ground).reshape(shape)
    slabs = (style == SLABS) & (ground.surface.reshape(shape) == SURF_BLOCK)
    homes, shops = slabs & (label == RESIDENTIAL), slabs & (label == COMMERCIAL)
    assert homes.sum() > 100 and shops.sum() > 100, "both kinds of slab compound are in the scene"
    day_homes, day_shops = rgb[:, homes].mean(axis=1), rgb[:, shops].mean(axis=1)
    assert np.abs(day_homes - day_shops).max() < 0.15 * day_homes.mean()
    assert np.median(emitted[shops]) > 3.0 * np.median(emitted[homes])


def test_misregistration_is_drawn_within_the_bound_and_moves_the_night_light(tmp_path: Path) -> None:
    aligned = generate_city(tmp_path / "aligned", size_px=256, seed=6, misregistration_ntl_px=0.0)
    shifted = generate_city(tmp_path / "shifted", size_px=256, seed=6, misregistration_ntl_px=2.0)
    card0, card2 = json.loads(aligned.card.read_text()), json.loads(shifted.card.read_text())
    assert card0["misregistration_ntl_px"]["columns"] == card0["misregistration_ntl_px"]["rows"] == 0.0
    shift = np.hypot(card2["misregistration_ntl_px"]["columns"], card2["misregistration_ntl_px"]["rows"])
    assert 0.0 < shift <= 2.0
    assert card0["psf_sigma_ntl_px"] == card2["psf_sigma_ntl_px"], "the seed fixes the PSF whatever the shift"
    with rasterio.open(aligned.ntl) as a, rasterio.open(shifted.ntl) as b:
        # The shifted raster has a wider margin but the same pixel lattice: the shift is not in its georeference.
        col, row = ~b.transform * (a.transform.c, a.transform.f)
        assert (col, row) == pytest.approx((round(col), round(row)), abs=1e-6)
        common = b.read(1)[round(row):round(row) + a.height, round(col):round(col) + a.width]
        assert not np.allclose(a.read(1), common, rtol=0.05), "the shift moved the night light"


def test_a_longer_reach_of_the_plan_does_not_change_the_city() -> None:
    near, far = CityLayout(300.0, seed=8), CityLayout(300.0, seed=8, reach_m=5000.0)
    assert len(far.lines_u.pos) > len(near.lines_u.pos)
    x, y = np.meshgrid(np.linspace(-50, 350, 120), np.linspace(-50, 350, 120))
    a, b = near.sample(x, y), far.sample(x, y)
    np.testing.assert_array_equal(a.label, b.label)
    np.testing.assert_array_equal(a.block, b.block)
    np.testing.assert_array_equal(near.radiance(a), far.radiance(b))


def test_windows_join_without_seams() -> None:
    layout = CityLayout(400 * 0.5, seed=5)
    labels, rgb = render_window(layout, 0, 0, 400, 400, 0.5, seed=5)
    part_labels, part_rgb = render_window(layout, 130, 170, 150, 200, 0.5, seed=5)
    assert len(np.unique(part_labels)) >= 3, "the window crosses several classes"
    np.testing.assert_array_equal(part_labels, labels[130:280, 170:370])
    np.testing.assert_array_equal(part_rgb, rgb[:, 130:280, 170:370])


def test_no_class_is_a_flat_colour() -> None:
    layout = CityLayout(512 * 0.5, seed=1)
    labels, rgb = render_window(layout, 0, 0, 512, 512, 0.5, seed=1)
    for cls in np.unique(labels):
        pixels = rgb[:, labels == cls].astype(np.float32)
        assert pixels.std(axis=1).min() > 4.0, f"class {cls} is too flat"


def test_window_memory_is_bounded() -> None:
    """One 512-px window stays far below what a 20,000 px scene would need held at once (1.6 GB)."""
    import tracemalloc

    layout = CityLayout(20_000 * 0.5, seed=2)
    tracemalloc.start()
    render_window(layout, 9_000, 9_000, 512, 512, 0.5, seed=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 150e6, f"one window needed {peak / 1e6:.0f} MB"


def test_writing_memory_does_not_grow_with_the_scene(tmp_path: Path) -> None:
    """Writing a 4096 x 4096 scene (rendering stubbed) must not hold the scene (67 MB of RGB + labels)."""
    script = textwrap.dedent(f"""
        import resource, sys
        import numpy as np
        sys.path.insert(0, {str(REPO)!r})
        from csagf_plugin.benchmark_city import generate as gen
        def flat(city, row, col, h, w, pixel_m, seed):
            return np.ones((h, w), np.uint8), np.full((3, h, w), 90, np.uint8)
        gen.render_window = flat
        gen.render_ntl = lambda city, grid, *args, **kwargs: np.zeros((grid.height, grid.width), np.float32)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        gen.generate_city({str(tmp_path)!r}, size_px=4096)
        print(before, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    before_kb, after_kb = map(int, result.stdout.split()[-2:])
    assert (after_kb - before_kb) * 1024 < 60e6, f"peak grew by {(after_kb - before_kb) / 1024:.0f} MB"


def test_cli_writes_a_city_and_rejects_bad_sizes(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert cli_main([str(tmp_path / "cli"), "--size", "128", "--seed", "2", "--ntl-pixel", "100", "--quiet"]) == 0
    assert all((tmp_path / "cli" / name).exists() for name in ("vhr.tif", "ntl.tif", "labels.tif", "city.json"))
    assert cli_main([str(tmp_path / "bad"), "--size", "10", "--quiet"]) == 2
    assert "at least 64 px" in capsys.readouterr().err
    with pytest.raises(InputError, match="at least 4 VHR pixels"):
        generate_city(tmp_path / "bad2", size_px=128, ntl_pixel_m=1.0)


def test_cancel_stops_generation(tmp_path: Path) -> None:
    class CancelAtOnce:
        def set_progress(self, percent: float) -> None:
            pass

        def is_canceled(self) -> bool:
            return True

    with pytest.raises(Canceled):
        generate_city(tmp_path, size_px=128, progress=CancelAtOnce())


def test_preview_shows_the_three_layers(city: CityPaths, tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from csagf_plugin.benchmark_city.preview import write_preview

    png = tmp_path / "city.png"
    write_preview(city, png, max_px=256)
    from PIL import Image

    with Image.open(png) as picture:
        assert picture.width > 2.5 * picture.height, "three panels side by side"
        assert np.asarray(picture.convert("RGB")).std() > 10.0
