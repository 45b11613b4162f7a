"""Measure every CSAGFNet variant and baseline: parameters, GFLOPs per tile, PyTorch eager vs onnxruntime CPU latency.

Run from the repository root:  python benchmarks/bench_models.py --width small --repeats 5
Prints a markdown table.  Latency is the median over --repeats runs (after one warm-up) divided by the batch size,
on --threads threads for both engines.  FLOPs come from torch.utils.flop_counter.FlopCounterMode, which does not
count torchvision's deform_conv2d: its FLOPs are added by hand (see deform_conv_flops).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import torch  # noqa: E402
from torch.utils.flop_counter import FlopCounterMode  # noqa: E402
from torchvision.ops import DeformConv2d  # noqa: E402

from csagf_plugin.core.model_card import ModelCard  # noqa: E402
from csagf_plugin.nn import MODEL_NAMES, create_model  # noqa: E402
from csagf_plugin.training.export import export_onnx  # noqa: E402


@dataclass
class Row:
    """One line of the table."""

    name: str
    params_m: float  # parameters, millions
    gflops: float  # per tile, including hand-counted deformable convolutions
    deform_gflops: float  # the hand-counted part
    eager_ms: dict[int, float]  # batch -> median ms per tile
    ort_ms: dict[int, float]
    dynamic: bool  # exported with dynamic height and width


def deform_conv_flops(module: DeformConv2d, output: torch.Tensor) -> int:
    """FLOPs of one deformable conv call: the convolution (2 per MAC) plus bilinear sampling (8 per sampled value)."""
    n, c_out, h, w = output.shape
    taps = module.kernel_size[0] * module.kernel_size[1]
    c_in = module.in_channels
    convolution = 2 * n * h * w * c_out * c_in * taps // module.groups
    sampling = 8 * n * h * w * c_in * taps  # 4 neighbour weights, 4 multiply-adds per sampled input value
    return convolution + sampling


def count_flops(model: torch.nn.Module, vhr: torch.Tensor, ntl: torch.Tensor) -> tuple[float, float]:
    """(total GFLOPs, hand-counted deformable GFLOPs) of one forward pass on one tile."""
    deform = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: deform.append(deform_conv_flops(mod, out)))
             for m in model.modules() if isinstance(m, DeformConv2d)]
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(vhr, ntl)
    for hook in hooks:
        hook.remove()
    return (counter.get_total_flops() + sum(deform)) / 1e9, sum(deform) / 1e9


def median_ms(run, repeats: int) -> float:
    """Median wall time of run() in milliseconds, after one warm-up call."""
    run()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def measure(name: str, width: str | int, tile: int, batches: list[int], repeats: int, threads: int,
            folder: Path, vhr_encoder: str = "paper") -> Row:
    """Build, export and time one model."""
    import onnx
    import onnxruntime as ort

    torch.manual_seed(0)
    model = create_model(name, width=width, vhr_encoder=vhr_encoder).eval()
    params = sum(p.numel() for p in model.parameters()) / 1e6
    vhr1, ntl1 = torch.randn(1, 3, tile, tile), torch.randn(1, 1, tile, tile)
    gflops, deform_gflops = count_flops(model, vhr1, ntl1)

    path = folder / f"{name}_{model.model_args['width']}_{vhr_encoder}_{tile}.onnx"
    card = ModelCard(name=f"bench_{name}", variant=name, tile_size=tile)
    if path.exists():  # exported by an earlier run with --onnx-dir: same seed, so the same weights
        card = ModelCard.from_metadata({p.key: p.value for p in onnx.load(str(path)).metadata_props}, str(path))
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            export_onnx(model, path, card)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    eager, onnx_ms = {}, {}
    for batch in batches:
        vhr, ntl = torch.randn(batch, 3, tile, tile), torch.randn(batch, 1, tile, tile)
        feeds = {k: v for k, v in (("vhr", vhr.numpy()), ("ntl", ntl.numpy())) if k in card.input_names}

        def run_eager() -> None:
            with torch.inference_mode():
                model(vhr, ntl)

        eager[batch] = median_ms(run_eager, repeats) / batch
        onnx_ms[batch] = median_ms(lambda: session.run(None, feeds), repeats) / batch
    label = name if vhr_encoder == "paper" else f"{name} + {vhr_encoder}"
    return Row(label, params, gflops, deform_gflops, eager, onnx_ms, bool(getattr(model, "dynamic_size", True)))


def table(rows: list[Row], batches: list[int]) -> str:
    """Markdown table of the rows."""
    head = ["model", "params (M)", "GFLOPs/tile"]
    for b in batches:
        head += [f"eager b{b} (ms/tile)", f"ORT b{b} (ms/tile)", f"ORT speed-up b{b}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        flops = f"{r.gflops:.3f}" + (f" ({r.deform_gflops:.3f} deform, by hand)" if r.deform_gflops else "")
        cells = [r.name + ("" if r.dynamic else " (fixed tile size)"), f"{r.params_m:.3f}", flops]
        for b in batches:
            cells += [f"{r.eager_ms[b]:.1f}", f"{r.ort_ms[b]:.1f}", f"{r.eager_ms[b] / r.ort_ms[b]:.2f}x"]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    """Parse options, measure every model, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", default="small", help='CSAGFNet width: "small", "paper" or an int')
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per measurement (median is reported)")
    parser.add_argument("--threads", type=int, default=2, help="threads for PyTorch and onnxruntime")
    parser.add_argument("--tile", type=int, default=256, help="tile edge in pixels")
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 8], help="batch sizes")
    parser.add_argument("--models", nargs="+", default=list(MODEL_NAMES), choices=MODEL_NAMES)
    parser.add_argument("--vhr-encoders", nargs="+", default=["paper"], choices=["paper", "efficientnet_lite0"],
                        help="VHR encoders to measure each model with")
    parser.add_argument("--onnx-dir", type=Path, default=None,
                        help="keep the exported models here and reuse them on the next run (exports are slow)")
    args = parser.parse_args()
    width: str | int = int(args.width) if args.width.isdigit() else args.width
    torch.set_num_threads(args.threads)

    print(f"torch {torch.__version__}, {args.threads} threads, width {width!r}, tile {args.tile}, "
          f"{args.repeats} repeats; load average before: {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.onnx_dir or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        for name, encoder in [(n, e) for n in args.models for e in args.vhr_encoders]:
            start = time.perf_counter()
            rows.append(measure(name, width, args.tile, args.batches, args.repeats, args.threads, folder, encoder))
            print(f"  {name} ({encoder}): {time.perf_counter() - start:.0f} s, load {os.getloadavg()[0]:.1f}",
                  file=sys.stderr, flush=True)
    print(table(rows, args.batches))
    print(f"\nload average after: {os.getloadavg()[0]:.1f} (other work on this machine slows both engines). "
          "Baselines ignore the width (segmentation-models-pytorch defaults, ResNet34). Deformable-convolution "
          "FLOPs are counted by hand (2 per multiply-accumulate + 8 per bilinear sample).")


if __name__ == "__main__":
    main()
