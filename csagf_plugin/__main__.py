"""Command line without QGIS: `python -m csagf_plugin <verb> ...` for servers and schedulers.

  classify   a VHR file, a list, a folder or a VRT + night light -> functional-zone map(s), Cloud Optimized GeoTIFF
             (the core call csagf:classify makes; --scheduler auto|tcp://host:8786 runs it on Dask)
  quantise   an INT8 copy of a model (onnxruntime static quantisation), calibrated on tiles of your scene(s),
             or (--fp16) a float16 copy for the CUDA provider
  prepare, train, evaluate   the training verbs of `python -m csagf_plugin.training` (same options)

Errors the user can fix print one line on stderr and exit with status 2; Ctrl+C exits with 130.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from dataclasses import replace

from .core.errors import CsagfError, InputError, Interrupted
from .core.model import DEFAULT_MODEL
from .core.safe_output import interruptible

TRAINING_VERBS = ("prepare", "train", "evaluate")
RASTER_SUFFIXES = (".tif", ".tiff", ".vrt", ".jp2", ".img")  # what a folder of VHR inputs is searched for
OUTPUT_KEYS = ("map", "confidence", "gate")
SUFFIX = {"map": "_zones", "confidence": "_confidence", "gate": "_gate"}  # per-input output names


class TqdmProgress:
    """core's Progress shown as a tqdm bar on stderr."""

    def __init__(self, label: str) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=100, desc=label, unit="%", leave=True, file=sys.stderr,
                        bar_format="{l_bar}{bar}| {n:.0f}/{total} % [{elapsed}<{remaining}]")

    def set_progress(self, percent: float) -> None:
        """Move the bar to `percent`."""
        self.bar.update(max(0.0, min(100.0, percent)) - self.bar.n)

    def is_canceled(self) -> bool:
        """Never: Ctrl+C stops the command line."""
        return False

    def close(self) -> None:
        """Finish the bar."""
        self.bar.close()


def _warn(message: str) -> None:
    from tqdm import tqdm

    tqdm.write(f"warning: {message}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every verb (the training verbs only for the listing: they parse their own)."""
    from .core.model import DEVICES

    parser = argparse.ArgumentParser(prog="python -m csagf_plugin", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("classify", help="classify functional zones (the core call of csagf:classify)")
    c.add_argument("--vhr", nargs="+", required=True,
                   help="VHR raster(s): files, folders of rasters or a VRT; several give one mosaic (or --per-input)")
    c.add_argument("--ntl", help="night-time light raster, any CRS and grid covering the VHR (not for VHR-only models)")
    c.add_argument("--out", required=True, help="output map (.tif, a COG); with --per-input, a folder")
    c.add_argument("--model", help="ONNX model with a CSAGF model card (default: the bundled real-data model, "
                                      "models/csagfnet_pudong.onnx)")
    c.add_argument("--confidence", nargs="?", const="", metavar="PATH",
                   help="also write the winning class's probability (PATH, or beside --out when omitted)")
    c.add_argument("--gate", nargs="?", const="", metavar="PATH",
                   help="also write the fusion gate of full models (PATH, or beside --out when omitted)")
    c.add_argument("--per-input", action="store_true", help="one output per VHR input, in the folder --out")
    c.add_argument("--tile-size", type=int, help="tile edge in pixels (default: the model card's)")
    c.add_argument("--overlap", type=int, help="tile overlap in pixels (default: the model card's)")
    c.add_argument("--batch-size", type=int, default=4, help="tiles per onnxruntime call (default 4)")
    c.add_argument("--device", default="auto", choices=list(DEVICES))
    c.add_argument("--threads", type=int, default=0, help="onnxruntime threads (0 = all cores, or cores/workers)")
    c.add_argument("--pixel-size", type=float, metavar="M",
                   help="ground pixel size (m) the VHR is resampled to for prediction; 0 = as it is "
                        "(default: the model card's); the maps stay on the VHR grid")
    c.add_argument("--vhr-scale", default="auto",
                   help="what VHR values are divided by: auto (from the values), card, or a number (default auto)")
    c.add_argument("--no-overlap-io", action="store_true", help="read, infer and blend one after another")
    d = c.add_argument_group("Dask")
    d.add_argument("--scheduler", help="'auto' starts a LocalCluster; tcp://host:8786 uses a running scheduler")
    d.add_argument("--workers", type=int, default=0, help="LocalCluster workers (0 = cores / 4, at least 1)")
    d.add_argument("--block-tiles", type=int, default=16, help="block edge in tiles (default 16)")
    d.add_argument("--keep-blocks", action="store_true", help="keep the block files after assembling")
    q = sub.add_parser("quantise", help="write an INT8 copy of a model, calibrated on tiles of your scene(s)")
    q.add_argument("--model", required=True, help="float ONNX model with a CSAGF model card")
    q.add_argument("--out", required=True, help="INT8 ONNX model to write")
    q.add_argument("--vhr", nargs="+", default=[], help="calibration scene(s): VHR rasters")
    q.add_argument("--ntl", help="night light of the calibration scene(s)")
    q.add_argument("--tiles", help="or a tile store (.npz) from prepare")
    q.add_argument("--count", type=int, default=32, help="calibration tiles (default 32)")
    q.add_argument("--method", default="percentile", help="calibration: minmax, percentile or entropy")
    q.add_argument("--keep-float", nargs="*", default=[], help="more node names (op types with --fp16) kept float")
    q.add_argument("--fp16", action="store_true", help="write a float16 copy for the CUDA provider instead "
                                                       "(no calibration)")
    for verb in TRAINING_VERBS:
        sub.add_parser(verb, help=f"training: python -m csagf_plugin {verb} --help", add_help=False)
    return parser


def expand_inputs(items: list[str]) -> list[str]:
    """Files as given, folders replaced by the rasters in them (sorted); refuses what does not exist."""
    paths: list[str] = []
    for item in items:
        if os.path.isdir(item):
            found = sorted(os.path.join(item, n) for n in os.listdir(item)
                           if n.lower().endswith(RASTER_SUFFIXES) and not n.startswith("."))
            if not found:
                raise InputError(f"Folder {item} holds no raster ({', '.join(RASTER_SUFFIXES)}): give VHR files or "
                                 "a folder of them.")
            paths.extend(found)
        elif os.path.exists(item):
            paths.append(item)
        else:
            raise InputError(f"VHR input {item} does not exist: check the path.")
    return paths


def _outputs_for(args: argparse.Namespace, out: str) -> dict[str, str | None]:
    """Output path per key for one map at `out` (confidence and gate beside it unless given)."""
    stem = os.path.splitext(out)[0]
    paths: dict[str, str | None] = {"map": out}
    for key in ("confidence", "gate"):
        value = getattr(args, key)
        paths[key] = None if value is None else (value or f"{stem}{SUFFIX[key]}.tif")
    return paths


def classify_command(args: argparse.Namespace) -> int:
    """The classify verb."""
    from .core.classify import ClassifyConfig

    inputs = expand_inputs(args.vhr)
    model = args.model or DEFAULT_MODEL
    base = ClassifyConfig(vhr_path=inputs[0], ntl_path=args.ntl, model_path=model, output_path=args.out,
                          tile_size=args.tile_size, overlap=args.overlap, batch_size=args.batch_size,
                          device=args.device, threads=args.threads, overlap_io=not args.no_overlap_io,
                          vhr_pixel_size_m=args.pixel_size, vhr_scale=_vhr_scale(args.vhr_scale))
    if args.per_input:
        if args.confidence or args.gate:
            raise InputError("With --per-input, give --confidence and --gate without paths: the files are named "
                             "after each input.")
        os.makedirs(args.out, exist_ok=True)
        for i, vhr in enumerate(inputs):
            stem = os.path.join(args.out, os.path.splitext(os.path.basename(vhr))[0])
            outputs = {key: f"{stem}{SUFFIX[key]}.tif" if key == "map" or getattr(args, key) is not None else None
                       for key in OUTPUT_KEYS}
            _classify_one(args, _with_outputs(replace(base, vhr_path=vhr), outputs), f"{i + 1}/{len(inputs)}")
        return 0
    outputs = _outputs_for(args, args.out)
    if len(inputs) == 1:
        _classify_one(args, _with_outputs(base, outputs), "classify")
        return 0
    _classify_mosaic(args, base, inputs, outputs)
    return 0


def _vhr_scale(text: str) -> str | float:
    """--vhr-scale as ClassifyConfig wants it."""
    if text in ("auto", "card"):
        return text
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise InputError(f"VHR scale '{text}' is not usable: give auto, card or a positive number (e.g. 255).")
    return value


def _with_outputs(config, outputs: dict[str, str | None]):
    return replace(config, output_path=outputs["map"], confidence_path=outputs["confidence"],
                   gate_path=outputs["gate"])


def _classify_one(args: argparse.Namespace, config, label: str):
    """One scene to COG outputs: on Dask when --scheduler is given, else in this process."""
    from .core.classify import check_output_paths, classify_scene
    from .core.mosaic import partial_path, write_cog
    from .core.style import write_style_for_raster

    progress = TqdmProgress(label)
    try:
        if args.scheduler:
            from .scale.blocks import classify_on_dask
            from .scale.cluster import ClusterConfig

            result = classify_on_dask(config, ClusterConfig(args.scheduler, args.workers, args.threads,
                                                            args.block_tiles, args.keep_blocks), progress, _warn)
        else:
            check_output_paths(config)
            finals = {"output_path": config.output_path, "confidence_path": config.confidence_path,
                      "gate_path": config.gate_path}
            temps = {k: partial_path(v) if v else None for k, v in finals.items()}
            try:
                result = classify_scene(replace(config, **temps), progress, _warn)
                for key, temp in temps.items():
                    if temp and os.path.exists(temp):
                        write_cog(temp, finals[key], categorical=key == "output_path")
                        aux = temp + ".aux.xml"
                        if os.path.exists(aux):
                            os.replace(aux, finals[key] + ".aux.xml")
            finally:
                for temp in temps.values():
                    for leftover in (temp, f"{temp}.aux.xml"):
                        if leftover and os.path.exists(leftover):
                            os.remove(leftover)
            result.output_path = config.output_path
    finally:
        progress.close()
    write_style_for_raster(config.output_path, result.classes)
    areas = ", ".join(f"{c.name} {result.class_areas.get(c.id, 0.0):.6g}" for c in result.classes)
    _log(f"{config.output_path}: {result.width} x {result.height} px on {result.device} in "
         f"{result.timings.total_s:.1f} s; area per class ({result.area_unit}): {areas}")
    return result


def _classify_mosaic(args: argparse.Namespace, base, inputs: list[str], outputs: dict[str, str | None]) -> None:
    """Several scenes (any CRS) classified one by one, then put on the first one's grid as COG mosaics."""
    from .core.mosaic import mosaic_grid, mosaic_maps
    from .core.style import category_names_aux_xml

    folder = os.path.join(os.path.dirname(os.path.abspath(args.out)), f".{os.path.basename(args.out)}.inputs")
    os.makedirs(folder, exist_ok=True)
    try:
        parts: dict[str, list[str]] = {key: [] for key, path in outputs.items() if path}
        result = None
        for i, vhr in enumerate(inputs):
            part = {key: os.path.join(folder, f"input_{i:04d}{SUFFIX[key]}.tif") if path else None
                    for key, path in outputs.items()}
            result = _classify_one(args, _with_outputs(replace(base, vhr_path=vhr), part), f"{i + 1}/{len(inputs)}")
            for key, found in parts.items():
                if os.path.exists(part[key]):
                    found.append(part[key])
        grid = mosaic_grid(inputs)
        for key, paths in parts.items():
            if len(paths) == len(inputs):
                mosaic_maps(paths, outputs[key], categorical=key == "map", grid=grid)
        with open(outputs["map"] + ".aux.xml", "w", encoding="utf-8") as f:
            f.write(category_names_aux_xml(result.classes))
        from .core.style import write_style_for_raster

        write_style_for_raster(outputs["map"], result.classes)
        _log(f"{outputs['map']}: mosaic of {len(inputs)} scenes, {grid.width} x {grid.height} px in {grid.crs}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def quantise_command(args: argparse.Namespace) -> int:
    """The quantise verb."""
    from .training.quantise import QuantiseConfig, quantise_model, to_fp16

    if args.fp16:
        settings = to_fp16(args.model, args.out, args.keep_float)
        _log(f"{args.out}: float16, kept in float32: {', '.join(settings['float_ops'])}")
        return 0
    result = quantise_model(QuantiseConfig(args.model, args.out, expand_inputs(args.vhr) if args.vhr else [],
                                           args.ntl, args.tiles, args.count, args.method, args.keep_float))
    _log(f"{result.output_path}: {result.quantised_nodes} convolutions in INT8, kept in float: "
         f"{', '.join(result.float_nodes) or 'none'}; calibrated on {result.calibration_tiles} tiles")
    return 0


def _log(message: str) -> None:
    from tqdm import tqdm

    tqdm.write(message)


def main(argv: list[str] | None = None) -> int:
    """Run one verb; returns the exit status (2 for errors the user can fix, with one line on stderr)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in TRAINING_VERBS:
        from .training.__main__ import main as training_main

        return training_main(argv)
    args = build_parser().parse_args(argv)
    try:
        # SIGTERM (and SIGINT) remove the temporary files and end with one line, as in the training verbs
        with interruptible("no output was written (finished Dask blocks are kept for a rerun)"):
            if args.command == "quantise":
                return quantise_command(args)
            return classify_command(args)
    except Interrupted as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 128 + exc.signum
    except CsagfError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted: no output was written (finished Dask blocks are kept for a rerun).",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
