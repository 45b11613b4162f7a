"""classify_on_dask on a 2-worker LocalCluster: the same bits as the single-process engine, resume, cancel."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import rasterio

from csagf_plugin.core.classify import ClassifyConfig, classify_scene
from csagf_plugin.core.errors import Canceled
from csagf_plugin.scale.blocks import classify_on_dask, work_folder
from csagf_plugin.scale.cluster import ClusterConfig

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """A LocalCluster of 2 worker processes x 1 thread, shared by the module's tests."""
    import logging

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, distributed.Client(cluster) as c:
        yield c


def config_for(scene: dict[str, Path], model: Path, name: str) -> ClassifyConfig:
    folder = scene["folder"]
    return ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(model), str(folder / f"{name}.tif"),
                          confidence_path=str(folder / f"{name}_conf.tif"), gate_path=str(folder / f"{name}_gate.tif"),
                          threads=1, batch_size=3)


def bands(config: ClassifyConfig) -> dict[str, np.ndarray]:
    out = {}
    for key, path in (("map", config.output_path), ("confidence", config.confidence_path),
                      ("gate", config.gate_path)):
        with rasterio.open(path) as src:
            out[key] = src.read(1)
            out[key + " grid"] = np.array([src.crs.to_epsg(), *src.transform, *src.shape])
    return out


class CancelAt:
    """A Progress that cancels once progress reaches `percent`."""

    def __init__(self, percent: float) -> None:
        self.percent, self.last = percent, 0.0

    def set_progress(self, percent: float) -> None:
        self.last = percent

    def is_canceled(self) -> bool:
        return self.last >= self.percent


def test_two_workers_give_the_bits_of_one_process(scene: dict[str, Path], smooth_model: Path, client) -> None:
    single = config_for(scene, smooth_model, "single")
    expected = classify_scene(single, warn=None)
    on_dask = config_for(scene, smooth_model, "dask")
    got = classify_on_dask(on_dask, ClusterConfig(block_tiles=2), client=client)
    want = bands(single)
    have = bands(on_dask)
    for key in want:
        np.testing.assert_array_equal(have[key].view(np.uint8), want[key].view(np.uint8), err_msg=key)
    assert got.class_pixels == expected.class_pixels
    assert len(np.unique(want["map"])) >= 3
    with rasterio.open(on_dask.output_path) as src:  # a COG with overviews and the class colours
        assert src.overviews(1) or max(src.shape) < 512
        assert src.colormap(1)[expected.classes[0].id][:3] != (0, 0, 0)
        assert src.tags()["CSAGF_MODEL"] == "tiny_test"
    assert not os.path.exists(work_folder(on_dask.output_path))  # blocks removed once assembled
    assert not list(scene["folder"].glob(".*partial*"))


def test_rerun_skips_finished_blocks(scene: dict[str, Path], smooth_model: Path, client) -> None:
    config = config_for(scene, smooth_model, "resume")
    cluster = ClusterConfig(block_tiles=2, keep_blocks=True)
    first = classify_on_dask(config, cluster, client=client)
    blocks = sorted(Path(work_folder(config.output_path)).glob("block_*_map.tif"))
    assert len(blocks) == 4
    stamps = [p.stat().st_mtime_ns for p in blocks]
    os.remove(blocks[1])  # as if the run had died before this block was committed
    messages: list[str] = []
    again = classify_on_dask(config, cluster, warn=messages.append, client=client)
    assert any("3 of 4 blocks were finished" in m for m in messages)
    assert [p.stat().st_mtime_ns for p in blocks if p != blocks[1]] == stamps[:1] + stamps[2:]
    assert again.class_pixels == first.class_pixels


def test_cancel_leaves_no_mosaic(scene: dict[str, Path], smooth_model: Path, client) -> None:
    config = config_for(scene, smooth_model, "canceled")
    with pytest.raises(Canceled, match="no mosaic was written"):
        classify_on_dask(config, ClusterConfig(block_tiles=1), progress=CancelAt(0.0), client=client)
    assert not any(p.name.startswith("canceled") for p in scene["folder"].iterdir())
    assert not list(scene["folder"].glob(".*partial*"))


def test_a_scene_resampled_to_the_models_pixels_gives_the_bits_of_one_process(
        scene: dict[str, Path], tmp_path_factory: pytest.TempPathFactory, client) -> None:
    from tiny_models import build_onnx, tiny_card

    weights = np.random.default_rng(7).normal(0, 1, size=(7, 4, 3, 3)).astype(np.float32)
    coarse = build_onnx(tmp_path_factory.mktemp("coarse") / "coarse.onnx", tiny_card(vhr_pixel_size_m=0.5),
                        weights=weights, kernel=3)  # the 1 m scene is resampled to 0.5 m: 400 x 300 px, 8 x 6 tiles
    single = config_for(scene, coarse, "single_resampled")
    messages: list[str] = []
    expected = classify_scene(single, warn=messages.append)
    assert any("resampled" in m for m in messages)
    on_dask = config_for(scene, coarse, "dask_resampled")
    got = classify_on_dask(on_dask, ClusterConfig(block_tiles=3), client=client)
    want, have = bands(single), bands(on_dask)
    for key in want:
        np.testing.assert_array_equal(have[key].view(np.uint8), want[key].view(np.uint8), err_msg=key)
    assert got.class_pixels == expected.class_pixels and (got.width, got.height) == (200, 150)


class KillAWorker:
    """A Progress that kills one worker process (SIGKILL, as the OOM killer would) when the first block is done."""

    def __init__(self, pid: int) -> None:
        self.pid, self.killed = pid, False

    def set_progress(self, percent: float) -> None:
        if percent > 0 and not self.killed:
            import signal

            os.kill(self.pid, signal.SIGKILL)
            self.killed = True

    def is_canceled(self) -> bool:
        return False


def test_a_worker_that_dies_has_its_blocks_run_again(scene: dict[str, Path], smooth_model: Path) -> None:
    import logging

    single = config_for(scene, smooth_model, "single_kill")
    classify_scene(single, warn=None)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  silence_logs=logging.CRITICAL) as cluster, distributed.Client(cluster) as c:
        pids = c.run(os.getpid)
        progress = KillAWorker(min(pids.values()))
        on_dask = config_for(scene, smooth_model, "dask_kill")
        classify_on_dask(on_dask, ClusterConfig(block_tiles=1), progress=progress, client=c)
    assert progress.killed
    want, have = bands(single), bands(on_dask)
    for key in want:
        np.testing.assert_array_equal(have[key].view(np.uint8), want[key].view(np.uint8), err_msg=key)
