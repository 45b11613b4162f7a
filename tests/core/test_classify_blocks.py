"""classify_scene over blocks of the grid (what a Dask worker runs) and with I/O overlapping inference."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import rasterio
from tiny_models import tiny_card

from csagf_plugin.core.classify import ClassifyConfig, classify_scene, scene_grid
from csagf_plugin.core.errors import InputError
from csagf_plugin.core.model import load_model
from csagf_plugin.core.tiling import TileBlock


def outputs(config: ClassifyConfig) -> dict[str, np.ndarray]:
    """Band 1 of every output of a config."""
    arrays = {}
    for key, path in (("map", config.output_path), ("confidence", config.confidence_path),
                      ("gate", config.gate_path)):
        if path:
            with rasterio.open(path) as src:
                arrays[key] = src.read(1)
    return arrays


@pytest.fixture(scope="module")
def smooth_model(model_factory: Callable[..., Path]) -> Path:
    """A 3 x 3 convolution: tile edges change the logits, so the blend across tiles matters."""
    weights = np.random.default_rng(7).normal(0, 1, size=(7, 4, 3, 3)).astype(np.float32)
    return model_factory(tiny_card(), weights=weights, kernel=3)


def test_blocks_assemble_to_the_bits_of_the_whole_scene(scene: dict[str, Path], smooth_model: Path) -> None:
    folder = scene["folder"]
    whole = ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(smooth_model), str(folder / "zones.tif"),
                           confidence_path=str(folder / "conf.tif"), gate_path=str(folder / "gate.tif"),
                           threads=1, batch_size=3)
    result = classify_scene(whole, warn=None)
    expected = outputs(whole)
    model = load_model(smooth_model, "cpu", 1)
    grid = scene_grid(whole, model)
    assert len(grid.blocks(2)) >= 4  # blocks in both directions, so halos on both sides are exercised
    assembled = {key: np.full_like(array, 255 if key == "map" else -1) for key, array in expected.items()}
    pixels: dict[int, int] = {}
    with rasterio.open(whole.output_path) as src:
        transform = src.transform
    for i, block in enumerate(grid.blocks(2)):
        part = replace(whole, block=block, output_path=str(folder / f"b{i}.tif"),
                       confidence_path=str(folder / f"b{i}_c.tif"), gate_path=str(folder / f"b{i}_g.tif"))
        got = classify_scene(part, warn=None, model=model)
        x, y, w, h = block.pixels(grid)
        with rasterio.open(part.output_path) as src:
            assert src.transform == transform * transform.translation(x, y) and src.shape == (h, w)
        for key, array in outputs(part).items():
            assembled[key][y:y + h, x:x + w] = array
        for cid, n in got.class_pixels.items():
            pixels[cid] = pixels.get(cid, 0) + n
    for key, array in expected.items():
        np.testing.assert_array_equal(assembled[key].view(np.uint8), array.view(np.uint8), err_msg=key)
    assert pixels == result.class_pixels


def test_overlapped_io_gives_the_same_maps(scene: dict[str, Path], smooth_model: Path) -> None:
    folder = scene["folder"]
    maps = []
    for overlap_io in (False, True):
        config = ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(smooth_model),
                                str(folder / f"zones_{overlap_io}.tif"), gate_path=str(folder / f"g_{overlap_io}.tif"),
                                threads=1, batch_size=2, overlap_io=overlap_io)
        result = classify_scene(config, warn=None)
        assert result.timings.infer_s > 0 and result.timings.read_s > 0
        maps.append(outputs(config))
    for key in maps[0]:
        np.testing.assert_array_equal(maps[0][key].view(np.uint8), maps[1][key].view(np.uint8), err_msg=key)


def test_block_outside_the_grid_is_refused(scene: dict[str, Path], smooth_model: Path) -> None:
    config = ClassifyConfig(str(scene["vhr"]), str(scene["ntl"]), str(smooth_model),
                            str(scene["folder"] / "zones.tif"), block=TileBlock(range(9), range(1)))
    with pytest.raises(InputError, match="not inside the scene's grid"):
        classify_scene(config, warn=None)
