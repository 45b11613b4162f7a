"""Checks of what a raster holds, so that no wrong map comes out in silence.

The value range is read from a sample of windows spread over the raster (never the whole raster): the VHR scale
is chosen from it (`vhr_scale`), night light outside a physical range is named (`check_ntl_range`), and rasters
that are not class maps are refused where a class map is expected (`check_class_map`).

How the VHR scale is chosen ("auto"): the model card gives the divisor its training VHR was scaled by per data
type (uint8 255, uint16 65535) and the mean of the training VHR after that scaling. The card's divisor is used
when it brings the raster's mean within a factor 2 of the training mean; otherwise the divisor of 1, 255, 2047,
4095, 10000 (reflectance times 10000, the usual convention of uint16 surface reflectance) and 65535 that brings the
mean closest to it (never pushing the 99.9th percentile above 1.5), with a warning naming the values found.
"card" always uses the card's divisor, a number is used as it is; both warn when the values do not fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import rasterio
from rasterio._err import CPLE_BaseError
from rasterio.errors import RasterioError
from rasterio.windows import Window

from .errors import InputError
from .model_card import ModelCard

SAMPLE_WINDOWS = 16  # windows read per raster (a 4 x 4 grid)
SAMPLE_SIZE = 256  # window edge in pixels
# Divisors "auto" picks from: float 0..1, 8, 11 and 12 bit, reflectance x 10000 (uint16 surface reflectance), 16 bit.
AUTO_SCALES = (1.0, 255.0, 2047.0, 4095.0, 10000.0, 65535.0)
NTL_MAX_RADIANCE = 1e5  # above any night-light radiance (VIIRS DNB: at most a few thousand nW/cm²/sr)
CLASS_MAP_MAX_VALUES = 100  # distinct values a class map may hold
VHR_SCALE_MODES = ("auto", "card")


@dataclass
class ValueRange:
    """Valid values found in a sample of a raster's windows."""

    minimum: float  # smallest valid value
    maximum: float  # largest valid value
    mean: float  # mean of the valid values
    low: float  # 0.1th percentile
    high: float  # 99.9th percentile
    valid: int  # valid values sampled (nodata, masked and non-finite values left out)
    sampled: int  # values sampled in all


def sample_windows(width: int, height: int, count: int = SAMPLE_WINDOWS, size: int = SAMPLE_SIZE) -> list[Window]:
    """Up to `count` windows of `size` pixels on a regular grid over the raster (the whole raster when small)."""
    if width * height <= count * size * size:
        return [Window(0, 0, width, height)]
    side = int(np.ceil(np.sqrt(count)))
    w, h = min(size, width), min(size, height)
    xs = np.linspace(0, width - w, side).astype(int)
    ys = np.linspace(0, height - h, side).astype(int)
    return [Window(int(x), int(y), w, h) for y in ys for x in xs]


def sample_range(src: rasterio.DatasetReader, bands: list[int]) -> ValueRange:
    """Value range of the bands over a sample of windows (nodata, masks and NaN left out)."""
    values, sampled = [], 0
    for window in sample_windows(src.width, src.height):
        data = _read(src, bands, window)
        sampled += data.size
        valid = data.compressed()
        valid = valid[np.isfinite(valid)] if valid.dtype.kind == "f" else valid
        if valid.size:
            values.append(valid.astype(np.float64, copy=False))
    if not values:
        return ValueRange(np.nan, np.nan, np.nan, np.nan, np.nan, 0, sampled)
    allv = np.concatenate(values)
    low, high = np.percentile(allv, [0.1, 99.9])
    return ValueRange(float(allv.min()), float(allv.max()), float(allv.mean()), float(low), float(high),
                      int(allv.size), sampled)


def _read(src: rasterio.DatasetReader, bands: list[int], window: Window) -> np.ma.MaskedArray:
    """A masked window of the bands; a file that cannot be read there (truncated, corrupt) gives one InputError."""
    try:
        return src.read(bands, window=window, masked=True)
    except (RasterioError, CPLE_BaseError) as exc:
        detail = [str(e) for e in (exc.__cause__, exc) if e is not None and str(e).strip()][0].splitlines()[0]
        raise InputError(f"Raster {src.name} cannot be read: the file is truncated or corrupt ({detail}). Export "
                         "or download it again.") from exc


def has_valid_pixel(src: rasterio.DatasetReader, bands: list[int]) -> bool:
    """True when any pixel of the bands is valid (read block row by block row, stops at the first)."""
    rows = max(1, src.block_shapes[0][0])
    for y in range(0, src.height, rows):
        data = _read(src, bands, Window(0, y, src.width, min(rows, src.height - y)))
        valid = data.compressed()
        if valid.size and (valid.dtype.kind != "f" or np.isfinite(valid).any()):
            return True
    return False


def _fmt(value: float) -> str:
    return f"{value:.6g}"


def vhr_scale(src: rasterio.DatasetReader, bands: list[int], card: ModelCard, mode: str | float,
              note: Callable[[str], None]) -> float:
    """The divisor that brings this VHR raster to what the model saw in training, by `mode` ("auto", "card" or a
    number); refuses rasters with no valid pixel and says when the values do not fit the divisor."""
    dtype = src.dtypes[bands[0] - 1]
    card_scale = card.vhr_scale.get(dtype)
    found = sample_range(src, bands)
    name = src.name
    if found.valid == 0 and not has_valid_pixel(src, bands):
        raise InputError(f"VHR raster {name} has no valid pixel (all no data, NaN or masked): classifying it would "
                         "give an empty map. Pick the right raster, or fix its nodata value.")
    target = float(np.mean(card.vhr_mean))  # the training VHR's mean after its scaling
    described = (f"VHR raster {name} is {dtype} with values {_fmt(found.low)} to {_fmt(found.high)} and mean "
                 f"{_fmt(found.mean)} (0.1th to 99.9th percentile of a sample)") if found.valid else f"VHR raster {name}"
    if isinstance(mode, str) and mode not in VHR_SCALE_MODES:
        try:
            mode = float(mode)
        except ValueError:
            raise InputError(f"VHR scale '{mode}' is not usable: give auto, card or a number to divide the VHR "
                             "values by (e.g. 255, 10000).") from None
    if not isinstance(mode, str):
        scale = float(mode)
        if not scale > 0:
            raise InputError(f"VHR scale {mode} must be above 0 (e.g. 255 or 10000), or auto or card.")
    elif mode == "card" or not found.valid or not target > 0:
        scale = float(card_scale or 1.0)
    else:
        scale = _auto_scale(found, card_scale, target, described)
        if scale != (card_scale or 1.0):
            why = ("the model card gives no divisor for this data type" if not card_scale else
                   f"the model card's {card_scale:g} for {dtype} would give a mean of "
                   f"{_fmt(found.mean / card_scale)} where the training VHR had {_fmt(target)}")
            note(f"{described}: divided by {scale:g} (VHR scale auto), which gives the training VHR's mean "
                 f"{_fmt(target)} best, because {why}. Set the VHR scale to a number (e.g. 4095 for 12-bit data) "
                 "or to 'card' if that is wrong.")
            return scale
    if found.valid and target > 0:
        top, mean = found.high / scale, found.mean / scale
        if top > 1.5 or not target / 3 <= mean <= 3 * target:
            note(f"{described}: divided by {scale:g} their mean is {_fmt(mean)} and 99.9 % lie below {_fmt(top)}, "
                 f"but the model was trained on a mean of {_fmt(target)} in 0..1, so the map may be nearly one "
                 "class. Use VHR scale auto, or give the divisor that brings the values there.")
    return scale


def _auto_scale(found: ValueRange, card_scale: float | None, target: float, described: str) -> float:
    """The card's divisor when it brings the sample's mean within a factor 2 of the training mean, else the
    divisor of AUTO_SCALES that brings it closest (among those that do not push the 99.9th percentile over 1.5)."""
    def off(scale: float) -> float:
        return abs(np.log(max(found.mean, 1e-12) / scale / target))

    if card_scale and off(card_scale) <= np.log(2):
        return float(card_scale)
    usable = [s for s in AUTO_SCALES if found.high <= 1.5 * s]
    if not usable:
        known = ", ".join(f"{s:g}" for s in AUTO_SCALES)
        raise InputError(f"{described}: above any divisor the plugin knows ({known}). Give the VHR scale that "
                         "brings the values to 0..1.")
    return float(min(usable, key=off))


def check_ntl_range(src: rasterio.DatasetReader, bands: list[int], card: ModelCard,
                    note: Callable[[str], None]) -> ValueRange:
    """Warn when night light holds values no radiance can have (negative, absurdly large)."""
    found = sample_range(src, bands)
    if not found.valid:
        return found
    problems = []
    if found.minimum < 0:
        problems.append("negative radiance" + (", which the model card's log1p transform clips to 0"
                                                if card.ntl_transform == "log1p" else ", used as it is"))
    if found.maximum > NTL_MAX_RADIANCE:
        problems.append(f"values above {NTL_MAX_RADIANCE:g}, far above any night-light radiance (an undeclared "
                        "nodata value? set the raster's nodata, e.g. gdal_edit -a_nodata)")
    if problems:
        note(f"NTL raster {src.name} holds values from {_fmt(found.minimum)} to {_fmt(found.maximum)} (a sample; "
             f"99.9% below {_fmt(found.high)}): {'; '.join(problems)}. The model expects radiance of 0 or more "
             "as in VIIRS DNB (nW/cm²/sr); check the night-light raster.")
    return found


def check_class_map(path: str, role: str = "map") -> None:
    """Refuse a raster that is not a single-band integer class map (an RGB image, a continuous raster)."""
    from .raster import open_raster

    with open_raster(path, role) as src:
        if src.count != 1:
            raise InputError(f"The {role} raster {path} has {src.count} bands: a class map has one band of class "
                             "ids (e.g. the output of csagf:classify). Pick a classified raster.")
        found = sample_range(src, [1])
        if not found.valid:
            return
        values = np.unique(np.concatenate([_read(src, [1], w).compressed()
                                           for w in sample_windows(src.width, src.height)]))
        if values.dtype.kind == "f":
            values = values[np.isfinite(values)]
            if (values != np.round(values)).any():
                raise InputError(f"The {role} raster {path} holds non-integer values ({_fmt(found.minimum)} to "
                                 f"{_fmt(found.maximum)}): it is a continuous raster, not a class map. Pick a "
                                 "classified raster of class ids.")
        if values.size > CLASS_MAP_MAX_VALUES:
            raise InputError(f"The {role} raster {path} holds {values.size} different values in a sample "
                             f"({_fmt(found.minimum)} to {_fmt(found.maximum)}): it looks like an image or a "
                             f"continuous raster, not a class map (at most {CLASS_MAP_MAX_VALUES} class ids). Pick "
                             "a classified raster.")
