"""Training throughput (tiles per second) of CSAGFNet variants: data pipeline + forward + backward + AdamW step.

Usage: python benchmarks/bench_training.py [--device cpu|cuda] [--models full vhr] [--width small]
       [--batch-size 8] [--tile-size 256] [--steps 5] [--threads 2]
Random tiles (uint8 VHR, radiance NTL, class ids) go through the same dataset, normalisation, augmentation, loss
and optimiser as csagf_plugin.training.fit.train, so the figure is what a real run gets per step.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def random_store(num_tiles: int, tile_size: int, seed: int = 0):
    """An in-memory tile store of random tiles with all seven classes."""
    from csagf_plugin.training.tile_store import TileStore

    rng = np.random.default_rng(seed)
    cells = rng.integers(1, 8, size=(num_tiles, tile_size // 32, tile_size // 32)).astype(np.uint8)
    labels = np.kron(cells, np.ones((1, 32, 32), dtype=np.uint8))
    return TileStore(vhr=rng.integers(0, 256, size=(num_tiles, 3, tile_size, tile_size), dtype=np.uint8),
                     ntl=rng.gamma(2.0, 10.0, size=(num_tiles, 1, tile_size, tile_size)).astype(np.float32),
                     labels=labels, scene=np.zeros(num_tiles, dtype=np.int32),
                     origin=np.zeros((num_tiles, 2), dtype=np.int32))


def bench(model_name: str, width: str | int, device: str, batch_size: int, tile_size: int, steps: int) -> dict:
    """Time `steps` training steps after two warm-up steps; returns tiles/s and seconds per step."""
    import torch

    from csagf_plugin.core.model_card import ModelCard
    from csagf_plugin.nn import create_model
    from csagf_plugin.training.data import EpochSampler, fit_normalisation, make_dataset
    from csagf_plugin.training.losses import class_weights_from_counts, make_loss

    store = random_store(batch_size * (steps + 2), tile_size)
    indices = np.arange(store.num_tiles)
    card = fit_normalisation(store, indices, ModelCard(name="bench", variant=model_name))
    loader = torch.utils.data.DataLoader(make_dataset(store, indices, card, train=True), batch_size=batch_size,
                                         sampler=EpochSampler(store.num_tiles, None, 0), drop_last=True)
    model = create_model(model_name, 7, width=width).to(device)
    loss_fn = make_loss(class_weights_from_counts(store.class_pixel_counts())).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
    times = []
    t0 = time.perf_counter()
    for vhr, ntl, labels in loader:  # each step's time includes reading, normalising and augmenting its batch
        vhr, ntl, labels = vhr.to(device), ntl.to(device), labels.to(device)
        optimizer.zero_grad(set_to_none=True)
        loss = loss_fn(model(vhr, ntl), labels)
        loss.backward()
        optimizer.step()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
    timed = times[2:]  # without the two warm-up steps
    step = float(np.mean(timed))
    return {"model": model_name, "width": width, "device": device, "batch": batch_size, "tile": tile_size,
            "params": sum(p.numel() for p in model.parameters()), "s_per_step": step,
            "tiles_per_s": batch_size / step}


def main() -> None:
    """Parse options, run each model, print one line per model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--models", nargs="+", default=["full", "vhr"])
    parser.add_argument("--width", default="small")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--tile-size", type=int, default=256)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    width = int(args.width) if args.width.isdigit() else args.width
    name = torch.cuda.get_device_name() if args.device.startswith("cuda") else f"CPU, {args.threads} threads"
    print(f"# training throughput on {name}, torch {torch.__version__}")
    for model_name in args.models:
        r = bench(model_name, width, args.device, args.batch_size, args.tile_size, args.steps)
        print(f"{r['model']:>14s} width={r['width']} params={r['params']:,} batch={r['batch']} tile={r['tile']}: "
              f"{r['tiles_per_s']:.2f} tiles/s ({r['s_per_step']:.3f} s/step)", flush=True)


if __name__ == "__main__":
    main()
