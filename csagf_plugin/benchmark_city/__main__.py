"""Command line: python -m csagf_plugin.benchmark_city OUT_DIR --size 2048 --seed 0 --ntl-pixel 40."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..core.errors import CsagfError
from ..core.progress import PrintProgress
from .generate import generate_city


def _parser() -> argparse.ArgumentParser:
    """The command's arguments, with help text."""
    parser = argparse.ArgumentParser(
        prog="python -m csagf_plugin.benchmark_city",
        description="Write a SYNTHETIC benchmark city: vhr.tif (RGB, UTM), ntl.tif (radiance, EPSG:4326), "
                    "labels.tif (functional classes 1..7) and city.json.")
    parser.add_argument("out_dir", type=Path, help="folder to write into (created if missing)")
    parser.add_argument("--size", type=int, default=2048, help="scene edge in VHR pixels (default 2048)")
    parser.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same city")
    parser.add_argument("--vhr-pixel", type=float, default=0.5, help="VHR pixel size in metres (default 0.5)")
    parser.add_argument("--ntl-pixel", type=float, default=40.0,
                        help="NTL pixel size in metres (40 like SDGSAT-1, 500 like VIIRS; default 40)")
    parser.add_argument("--misregistration", type=float, default=1.0,
                        help="largest NTL misregistration in NTL pixels (default 1)")
    parser.add_argument("--preview", type=Path, default=None,
                        help="also write a PNG preview (VHR | labels | NTL) here; needs matplotlib")
    parser.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the generator from the command line; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        paths = generate_city(args.out_dir, size_px=args.size, seed=args.seed, vhr_pixel_m=args.vhr_pixel,
                              ntl_pixel_m=args.ntl_pixel, misregistration_ntl_px=args.misregistration,
                              progress=None if args.quiet else PrintProgress("benchmark city"))
    except CsagfError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.preview is not None:
        from .preview import write_preview

        write_preview(paths, args.preview)
    if not args.quiet:
        card = json.loads(paths.card.read_text())
        print(f"wrote {paths.vhr}, {paths.ntl}, {paths.labels}, {paths.card} in {card['seconds']} s")
        print("class shares: " + ", ".join(f"{k} {v:.1%}" for k, v in card["class_shares"].items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
