"""Fixtures of the inference engine's tests: tiny ONNX models and a small two-raster scene (see tiny_models.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import numpy as np
import pytest
from rasterio.transform import from_origin

from csagf_plugin.core.model_card import ModelCard
from tiny_models import NTL_CENTRE, NTL_PIXEL_DEG, UTM51, VHR_ORIGIN, WGS84, build_onnx, ntl_linear, \
    smooth_texture, tiny_card, write_raster


@pytest.fixture(scope="session")
def model_factory(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Path]:
    """Build a tiny ONNX model (see build_onnx) in a session temp folder and return its path."""
    folder = tmp_path_factory.mktemp("models")
    counter = iter(range(10_000))

    def make(card: ModelCard | None = None, **kwargs: object) -> Path:
        return build_onnx(folder / f"model_{next(counter)}.onnx", card, **kwargs)

    return make


@pytest.fixture(scope="session")
def tiny_model(model_factory: Callable[..., Path]) -> Path:
    """The 1 x 1 model with gate and the default card (tile 64, overlap 16)."""
    return model_factory(tiny_card())


@pytest.fixture()
def scene(tmp_path: Path) -> dict[str, Path]:
    """A 150 x 200 px RGB uint8 VHR scene at 1 m in UTM 51N and a 50 m NTL plane in EPSG:4326 around it."""
    vhr = write_raster(tmp_path / "vhr.tif", smooth_texture(150, 200, 3, seed=1), UTM51,
                       from_origin(*VHR_ORIGIN, 1.0, 1.0))
    half = 16
    lons = NTL_CENTRE[0] + (np.arange(-half, half) + 0.5) * NTL_PIXEL_DEG
    lats = NTL_CENTRE[1] - (np.arange(-half, half) + 0.5) * NTL_PIXEL_DEG
    radiance = ntl_linear(lons[None, :], lats[:, None]).astype(np.float32)[None]
    ntl = write_raster(tmp_path / "ntl.tif", radiance, WGS84,
                       from_origin(NTL_CENTRE[0] - half * NTL_PIXEL_DEG, NTL_CENTRE[1] + half * NTL_PIXEL_DEG,
                                   NTL_PIXEL_DEG, NTL_PIXEL_DEG))
    return {"vhr": vhr, "ntl": ntl, "folder": tmp_path}
