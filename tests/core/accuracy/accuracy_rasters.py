"""Small seeded classified rasters for the accuracy tests (written into a test's tmp_path, never committed).

Not named conftest.py on purpose: tests elsewhere import the root conftest as `conftest`, and a second
conftest module in this folder would shadow it. Test modules import the `class_map` fixture from here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

NODATA = 255
PIXEL = 10.0  # metres
ORIGIN = (500000.0, 3440000.0)  # UTM 51N, near Shanghai


def write_map(path: Path, classes: np.ndarray, nodata: int | None = NODATA, crs: str = "EPSG:32651",
              pixel: float = PIXEL, tiled: bool = False) -> Path:
    """Write a single-band uint8 classified map."""
    height, width = classes.shape
    profile = dict(driver="GTiff", width=width, height=height, count=1, dtype="uint8", crs=crs,
                   transform=from_origin(ORIGIN[0], ORIGIN[1], pixel, pixel), nodata=nodata)
    if tiled:
        profile.update(tiled=True, blockxsize=16, blockysize=16)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(classes.astype(np.uint8), 1)
    return path


def make_classes(height: int = 60, width: int = 80, seed: int = 0) -> np.ndarray:
    """Classes 1-4 in bands of unequal size, a rare class 5 blob, class 0 and nodata patches."""
    rng = np.random.default_rng(seed)
    classes = np.ones((height, width), dtype=np.uint8)
    classes[:, width // 2:] = 2
    classes[height // 2:, :] = 3
    classes[height // 2:, 3 * width // 4:] = 4
    classes[5:9, 5:10] = 5  # 20 pixels
    classes[0:4, :] = 0  # unclassified strip
    classes[rng.random((height, width)) < 0.05] = NODATA
    return classes


@pytest.fixture
def class_map(tmp_path: Path) -> tuple[Path, np.ndarray]:
    """A 60 x 80 classified map (tiled 16 x 16 so windows cut through blocks) and its array."""
    classes = make_classes()
    return write_map(tmp_path / "map.tif", classes, tiled=True), classes
