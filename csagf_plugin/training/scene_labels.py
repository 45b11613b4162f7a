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
    own_rows: int  # rows of the band that no earlier band covered (for counting labelled pixels once)


def tile_row_bands(rows: list[int], tile: int, height: int, width: int, band_pixels: int) -> list[list[int]]:
    """Tile-row starts grouped into bands of at most band_pixels pixels (at least one tile row per band)."""
    per_band = max(1, band_pixels // max(width * tile, 1))
    if rows and (rows[-1] + tile) * width <= band_pixels:
        return [rows]
    return [rows[k:k + per_band] for k in range(0, len(rows), per_band)]


def scene_label_bands(vhr: rasterio.DatasetReader, scene, rows: list[int], tile: int,
                      mapping_for: Callable[[str | None], ClassMapping | None], warn: Warn,
                      band_pixels: int | None = None) -> Iterator[LabelBand]:
    """The scene's labels band by band: its label source, then its further sources where it has none, masked by the
    VHR's valid pixels. A source with nothing inside the whole scene is refused as before (LabelsOutside)."""
    groups = tile_row_bands(rows, tile, vhr.height, vhr.width, band_pixels or BAND_PIXELS)
    sources = [(scene.labels, None if is_raster(scene.labels) else mapping_for(scene.class_field), scene.layer,
                scene.class_field)]
    for more in scene.more_labels:
        more_mapping = (None if is_raster(more.path) else
                        ClassMapping.from_file(more.mapping, more.class_field) if more.mapping
                        else mapping_for(more.class_field))
        sources.append((more.path, more_mapping, more.layer, more.class_field))
    seen: set[str] = set()

    def warn_once(message: str) -> None:
        if message not in seen:
            seen.add(message)
            warn(message)

    misses: dict[int, LabelsOutside] = {}  # source index -> its refusal in a band
    found: set[int] = set()  # sources with something inside some band
    calls = [0] * len(sources)  # bands each source was asked for (a further source only where gaps are left)
    covered = 0  # pixel rows covered by earlier bands
    for k, tile_rows in enumerate(groups):
        row0 = tile_rows[0]
        height = min(tile_rows[-1] + tile, vhr.height) - row0
        window = Window(0, row0, vhr.width, height)
        transform = vhr.window_transform(window)
        labels = None
        for j, (path, mapping, layer, class_field) in enumerate(sources):
            if labels is not None and not (labels == 0).any():
                break
            calls[j] += 1
            try:
                band = labels_on_grid(path, vhr.crs, transform, vhr.width, height, mapping, layer, class_field,
                                      warn_once)
            except LabelsOutside as exc:
                if len(groups) == 1:
                    raise
                misses.setdefault(j, exc)
                band = np.zeros((height, vhr.width), np.uint8)
            else:
                found.add(j)
            if labels is None:
                labels = band
            else:
                gaps = labels == 0
                labels[gaps] = band[gaps]
        labels[vhr.dataset_mask(window=window) == 0] = 0
        end = groups[k + 1][0] if k + 1 < len(groups) else row0 + height
        yield LabelBand(row0, labels, tile_rows, max(0, end - max(row0, covered)))
        covered = max(covered, end)
    for j, exc in misses.items():
        if j not in found and calls[j] == len(groups):  # outside every band: outside the scene, as one call says
            raise exc
