"""A side-by-side picture of a generated city (VHR | labels | NTL warped onto the VHR grid), for docs and checks."""

from __future__ import annotations

import os

import numpy as np
import rasterio

from ..core.model_card import FUNCTIONAL_CLASSES
from ..core.raster import ntl_on_grid
from .generate import CityPaths


def write_preview(paths: CityPaths, png: str | os.PathLike, max_px: int = 1024) -> None:
    """Write a PNG of the city at most `max_px` wide per panel (matplotlib is imported here, only when asked)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    with rasterio.open(paths.vhr) as vhr, rasterio.open(paths.labels) as lab, rasterio.open(paths.ntl) as ntl:
        step = max(1, int(np.ceil(vhr.width / max_px)))
        shape = (vhr.height // step, vhr.width // step)
        rgb = vhr.read(out_shape=(3,) + shape).transpose(1, 2, 0)
        labels = lab.read(1, out_shape=shape, resampling=rasterio.enums.Resampling.nearest)
        transform = vhr.transform * vhr.transform.scale(vhr.width / shape[1], vhr.height / shape[0])
        light = ntl_on_grid(ntl, vhr.crs, transform, shape[1], shape[0])[0]
    colours = ["#000000"] + [c.color for c in FUNCTIONAL_CLASSES]
    fig = Figure(figsize=(18, 6.6))  # no pyplot: the caller's matplotlib backend is left alone
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, 3)
    axes[0].imshow(rgb)
    axes[0].set_title("VHR (synthetic, 0.5 m)")
    axes[1].imshow(labels, cmap=ListedColormap(colours), vmin=0, vmax=7, interpolation="nearest")
    axes[1].set_title("functional zones")
    axes[1].legend(handles=[Patch(color=c.color, label=c.name) for c in FUNCTIONAL_CLASSES], loc="lower center",
                   bbox_to_anchor=(0.5, -0.2), ncol=4, fontsize=8, frameon=False)
    shown = axes[2].imshow(np.log1p(light), cmap="magma")
    axes[2].set_title("NTL radiance on the VHR grid (log1p)")
    fig.colorbar(shown, ax=axes[2], fraction=0.046)
    for ax in axes:
        ax.set_axis_off()
    fig.tight_layout()
    fig.savefig(png, dpi=90)
