"""csagf:classify with WORKERS >= 2 (a Dask LocalCluster): the same map as in one process, in QGIS and qgis_process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def city(tmp_path_factory):
    """A small synthetic scene: VHR in UTM at 0.5 m, NTL in EPSG:4326 at 40 m."""
    from csagf_plugin.benchmark_city import generate_city

    return generate_city(tmp_path_factory.mktemp("city_workers"), size_px=384, seed=7)


def read(path: Path) -> np.ndarray:
    with rasterio.open(path) as src:
        return src.read(1)


def test_two_workers_give_the_map_of_one_process(csagf_provider, city, tmp_path) -> None:
    import processing

    maps = {}
    for workers in (0, 2):
        out = tmp_path / f"zones_{workers}.tif"
        processing.run("csagf:classify", {"VHR": str(city.vhr), "NTL": str(city.ntl), "OUTPUT": str(out),
                                          "DEVICE": 1, "WORKERS": workers, "TILE_SIZE": 128, "OVERLAP": 32})
        maps[workers] = read(out)
    np.testing.assert_array_equal(maps[2], maps[0])
    assert len(np.unique(maps[0])) >= 3
    assert (tmp_path / "zones_2.qml").exists()


def test_workers_start_from_qgis_process(city, tmp_path, qgis_process) -> None:
    """qgis_process's sys.executable is qgis_process.bin: the workers must be started with QGIS's Python."""
    out = tmp_path / "cli_zones.tif"
    done = qgis_process("run", "csagf:classify", "--", f"VHR={city.vhr}", f"NTL={city.ntl}", f"OUTPUT={out}",
                        "WORKERS=2", "TILE_SIZE=128", "OVERLAP=32")
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    single = tmp_path / "single.tif"
    from csagf_plugin.core.classify import ClassifyConfig, classify_scene
    from csagf_plugin.processing.classify import DEFAULT_MODEL

    classify_scene(ClassifyConfig(str(city.vhr), str(city.ntl), DEFAULT_MODEL, str(single), tile_size=128,
                                  overlap=32), warn=None)
    np.testing.assert_array_equal(read(out), read(single))
