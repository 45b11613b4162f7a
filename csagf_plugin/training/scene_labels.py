"""A scene's labels on its VHR grid, rasterised in bands of tile rows so that memory stays bounded on huge scenes.

A scene of up to BAND_PIXELS pixels is one band: its labels are made for the whole grid at once, as they always
were. A larger one is cut into bands of whole tile rows (each band reaches one tile below its last tile row's
start, so every tile lies inside one band); memory then follows the band, not the scene. The pixels are the same
either way: every band is on the VHR's own pixel lattice (tests compare the two). Only the warnings differ: a
band's warnings are given once each, so a value missing from the mapping may be named once per band with that
band's count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache

import numpy as np
import rasterio
from rasterio.windows import Window

from ..core.progress import Warn
from .labels import ClassMapping, LabelsOutside, is_raster, labels_on_grid

BAND_PIXELS = 16 * 1024 * 1024  # pixels of one band of labels (16 MP: about 120 MB with the temporaries)


@dataclass
class LabelBand:
    """Labels of the pixel rows [row0, row0 + labels.shape[0]) of the scene, for the tiles starting at tile_rows."""

    row0: int  # first pixel row of the band in the VHR grid
    labels: np.ndarray  # uint8 [rows, width] class ids, 0 where unlabelled or outside the VHR's valid mask
    tile_rows: list[int]  # top rows of the tiles cut from this band
    own_rows: int  # rows [row0, row0 + own_rows) that no other band counts (for counting labelled pixels once)


def tile_row_bands(rows: list[int], tile: int, width: int, band_pixels: int) -> list[list[int]]:
    """Tile-row starts grouped into bands of at most band_pixels pixels (at least one tile row per band)."""
    if rows and (rows[-1] + tile) * width <= band_pixels:
        return [rows]
    per_band = max(1, band_pixels // max(width * tile, 1))
    return [rows[k:k + per_band] for k in range(0, len(rows), per_band)]


def scene_label_bands(vhr: rasterio.DatasetReader, scene, rows: list[int], tile: int,
                      mapping_for: Callable[[str | None], ClassMapping | None], warn: Warn) -> Iterator[LabelBand]:
    """The scene's labels band by band: its label source, then its further sources where it has none, masked by the
    VHR's valid pixels. A source with nothing inside the whole scene is refused as before (LabelsOutside)."""
    groups = tile_row_bands(rows, tile, vhr.width, BAND_PIXELS)
    # (path, layer, class field, its own mapping file or None for the run's): the scene's labels, then its further ones
    sources = [(scene.labels, scene.layer, scene.class_field, None),
               *((m.path, m.layer, m.class_field, m.mapping) for m in scene.more_labels)]

    @cache
    def mapping_of(j: int) -> ClassMapping | None:
        """The mapping of source j, read when first needed (as when the scene was made in one piece)."""
        path, _, class_field, mapping_file = sources[j]
        if is_raster(path):
            return None
        return ClassMapping.from_file(mapping_file, class_field) if mapping_file else mapping_for(class_field)

    seen: set[str] = set()

    def warn_once(message: str) -> None:
        if message not in seen:
            seen.add(message)
            warn(message)

    outside = [0] * len(sources)  # bands in which each source had nothing (a further source is asked only for gaps)
    refusals: dict[int, LabelsOutside] = {}
    for k, tile_rows in enumerate(groups):
        row0 = tile_rows[0]
        height = min(tile_rows[-1] + tile, vhr.height) - row0
        window = Window(0, row0, vhr.width, height)
        transform = vhr.window_transform(window)
        labels = None
        for j, (path, layer, class_field, _) in enumerate(sources):
            if labels is not None and not (labels == 0).any():
                break
            try:
                band = labels_on_grid(path, vhr.crs, transform, vhr.width, height, mapping_of(j), layer, class_field,
                                      warn_once)
            except LabelsOutside as exc:
                if len(groups) == 1:
                    raise
                outside[j] += 1
                refusals.setdefault(j, exc)
                band = np.zeros((height, vhr.width), np.uint8)
            if labels is None:
                labels = band
            else:
                gaps = labels == 0
                labels[gaps] = band[gaps]
        labels[vhr.dataset_mask(window=window) == 0] = 0
        end = groups[k + 1][0] if k + 1 < len(groups) else row0 + height  # where the next band's own rows start
        yield LabelBand(row0, labels, tile_rows, end - row0)
    for j, exc in refusals.items():
        if outside[j] == len(groups):  # asked in every band and outside every one: outside the scene, as one call says
            raise exc
