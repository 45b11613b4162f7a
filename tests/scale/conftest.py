"""Fixtures of the Dask tests: the inference tests' tiny models and scene (tests/core/tiny_models.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from rasterio.transform import from_origin

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "core"))

from tiny_models import (
    NTL_CENTRE,
    NTL_PIXEL_DEG,
    UTM51,
    VHR_ORIGIN,
    WGS84,
    build_onnx,
    ntl_linear,
    smooth_texture,
    tiny_card,
    write_raster,
)


@pytest.fixture(scope="session")
def smooth_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 3 x 3 convolution with a gate: tile edges change the logits, so blending across blocks matters."""
    weights = np.random.default_rng(7).normal(0, 1, size=(7, 4, 3, 3)).astype(np.float32)
    return build_onnx(tmp_path_factory.mktemp("models") / "smooth.onnx", tiny_card(), weights=weights, kernel=3)


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
