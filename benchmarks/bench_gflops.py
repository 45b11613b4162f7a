"""Effective GFLOP/s of CSAGFNet (small and paper width, float and INT8) against this machine's peak in onnxruntime.

    .venv/bin/python benchmarks/bench_gflops.py [--threads 2] [--widths small paper] [--workdir DIR]

The peak is measured in the same run with one large plain convolution (256 -> 256 channels, 3 x 3, 4 x 64 x 64,
9.7 GFLOP), float and INT8 (QDQ, onnxruntime's QLinearConv).  Times are the fastest of 3 runs.  Each width is built with random weights
(nn.create_model, seed 0), exported to ONNX (training/export.py), its FLOPs per 256 px tile counted with torch's
FlopCounterMode plus the deformable convolution by hand (bench_models.count_flops), timed at batch 4, then
quantised (training/quantise.py, calibration on 16 tiles of a synthetic city) and timed again.  With --cuda (and
onnxruntime's CUDA provider) the float model and its FP16 copy (training/quantise.to_fp16) are timed on the GPU.  Random weights
say nothing about accuracy: bench_quantise.py measures that on the trained bundled models.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

TILE = 256
BATCH = 4


def best_s(run, repeats: int = 3) -> float:
    """Fastest of `repeats` runs of run() after one warm-up call, in seconds (the CPU is shared: the fastest run is
    the one least disturbed by other work)."""
    run()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times)


def session(path: str, threads: int, cuda: bool = False):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    providers = ["CUDAExecutionProvider", "CPUExecutionProvider"] if cuda else ["CPUExecutionProvider"]
    return ort.InferenceSession(path, options, providers=providers)


def peak(folder: Path, threads: int) -> dict[str, float]:
    """GFLOP/s of one large 3 x 3 convolution, float and INT8."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    c, hw, n = 256, 64, 4
    w = np.random.default_rng(0).normal(0, 0.05, (c, c, 3, 3)).astype(np.float32)
    graph = helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
                              "peak", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, c, hw, hw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, c, hw, hw])],
                              [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    float_path, int8_path = str(folder / "peak.onnx"), str(folder / "peak_int8.onnx")
    onnx.save(model, float_path)
    x = np.random.default_rng(1).normal(size=(n, c, hw, hw)).astype(np.float32)

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.done = False

        def get_next(self):
            if self.done:
                return None
            self.done = True
            return {"x": x}

    quantize_static(float_path, int8_path, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    flops = 2 * c * c * 9 * hw * hw * n
    out = {}
    for name, path in (("float", float_path), ("int8", int8_path)):
        s = session(path, threads)
        out[name] = flops / best_s(lambda s=s: s.run(None, {"x": x})) / 1e9
    return out


def measure_width(width: str, folder: Path, threads: int, calibration: tuple[str, str],
                  cuda: bool = False) -> dict[str, float]:
    """GFLOPs per tile and ms per tile of one width, float and INT8."""
    import torch
    from bench_models import count_flops

    from csagf_plugin.core.model_card import ModelCard
    from csagf_plugin.nn import create_model
    from csagf_plugin.training.export import export_onnx
    from csagf_plugin.training.quantise import QuantiseConfig, quantise_model, to_fp16

    torch.manual_seed(0)
    model = create_model("full", width=width).eval()
    gflops, deform = count_flops(model, torch.randn(1, 3, TILE, TILE), torch.randn(1, 1, TILE, TILE))
    path = folder / f"csagfnet_{width}.onnx"
    card = ModelCard(name=f"bench_{width}", variant="full", tile_size=TILE)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_onnx(model, path, card)
    int8 = folder / f"csagfnet_{width}_int8.onnx"
    quantise_model(QuantiseConfig(str(path), str(int8), [calibration[0]], calibration[1], tiles=16))
    rng = np.random.default_rng(0)
    feeds = {"vhr": rng.normal(size=(BATCH, 3, TILE, TILE)).astype(np.float32),
             "ntl": rng.normal(size=(BATCH, 1, TILE, TILE)).astype(np.float32)}
    row = {"gflops_per_tile": gflops, "deform_gflops_per_tile": deform}
    for name, p in (("float", path), ("int8", int8)):
        s = session(str(p), threads)
        seconds = best_s(lambda s=s: s.run(None, feeds)) / BATCH
        row[f"{name}_ms_per_tile"] = seconds * 1000
        row[f"{name}_gflops_per_s"] = gflops / seconds
    row["int8_speedup"] = row["float_ms_per_tile"] / row["int8_ms_per_tile"]
    if cuda:
        half = folder / f"csagfnet_{width}_fp16.onnx"
        to_fp16(str(path), str(half))
        for name, p in (("cuda_float", path), ("cuda_fp16", half)):
            s = session(str(p), threads, cuda=True)
            row[f"{name}_ms_per_tile"] = best_s(lambda s=s: s.run(None, feeds), 10) / BATCH * 1000
        row["fp16_speedup"] = row["cuda_float_ms_per_tile"] / row["cuda_fp16_ms_per_tile"]
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--widths", nargs="+", default=["small", "paper"])
    parser.add_argument("--workdir", help="folder for the models and the calibration city")
    parser.add_argument("--cuda", action="store_true", help="also time float and FP16 on the CUDA provider")
    parser.add_argument("--json", help="also write the figures to this JSON file")
    args = parser.parse_args()
    import onnxruntime as ort

    from csagf_plugin.benchmark_city import generate_city

    if args.cuda and "CUDAExecutionProvider" not in ort.get_available_providers():
        print("onnxruntime has no CUDA provider here: --cuda needs onnxruntime-gpu and a GPU", file=sys.stderr)
        return 2

    with tempfile.TemporaryDirectory(prefix="csagf_bench_gflops_") as tmp:
        folder = Path(args.workdir or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        city = generate_city(folder / "calibration_city", size_px=512, seed=1)
        figures = {"peak": peak(folder, args.threads)}
        for width in args.widths:
            figures[width] = measure_width(width, folder, args.threads, (str(city.vhr), str(city.ntl)), args.cuda)
        p = figures["peak"]
        print(f"{args.threads} threads; peak of one large convolution: float {p['float']:.0f} GFLOP/s, "
              f"INT8 {p['int8']:.0f} GOP/s")
        print(f"{'width':>7} {'GFLOP/tile':>11} {'float ms':>9} {'float GFLOP/s':>14} {'of peak':>8} {'int8 ms':>8} "
              f"{'int8 speed-up':>14}")
        for width in args.widths:
            r = figures[width]
            print(f"{width:>7} {r['gflops_per_tile']:>11.2f} {r['float_ms_per_tile']:>9.1f} "
                  f"{r['float_gflops_per_s']:>14.0f} {r['float_gflops_per_s'] / p['float']:>8.0%} "
                  f"{r['int8_ms_per_tile']:>8.1f} {r['int8_speedup']:>14.2f}")
            if args.cuda:
                print(f"{'':>7} CUDA: float {r['cuda_float_ms_per_tile']:.2f} ms/tile, FP16 "
                      f"{r['cuda_fp16_ms_per_tile']:.2f} ms/tile ({r['fp16_speedup']:.2f}x)")
        if args.json:
            Path(args.json).write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
