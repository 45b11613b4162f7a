"""Cities, tile stores, epoch budgets and training runs of the experiments.

Part of benchmarks/experiments.py (the paper's experiments on the synthetic benchmark city).
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from csagf_plugin.core.errors import InputError
from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES

if TYPE_CHECKING:
    from experiments import ExperimentConfig


def say(message: str) -> None:
    """Progress line on stdout, flushed at once (runs are watched through logs on remote machines)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


class BudgetProgress:
    """A Progress that cancels training once its time budget is spent (train keeps the best epoch so far)."""

    def __init__(self, seconds: float | None) -> None:
        self.deadline = None if seconds is None else time.monotonic() + seconds
        self.canceled = False

    def set_progress(self, percent: float) -> None:
        """Progress is logged per epoch by train's log callback; nothing to do per batch."""

    def is_canceled(self) -> bool:
        """True once the deadline has passed."""
        if self.deadline is not None and time.monotonic() > self.deadline:
            self.canceled = True
        return self.canceled


# ---------------------------------------------------------------------------------------------------------- data

def make_city(folder: Path, size: int, seed: int, ntl_pixel_m: float):
    """Generate a benchmark city into folder, or reuse the one there when its card matches size, seed and NTL."""
    from csagf_plugin.benchmark_city import CityPaths, generate_city

    paths = CityPaths(folder / "vhr.tif", folder / "ntl.tif", folder / "labels.tif", folder / "city.json")
    if paths.card.exists() and all(p.exists() for p in (paths.vhr, paths.ntl, paths.labels)):
        card = json.loads(paths.card.read_text())
        if (card.get("size_px"), card.get("seed"), card.get("ntl_pixel_m")) == (size, seed, ntl_pixel_m):
            say(f"reusing city {folder} (seed {seed}, {size} px)")
            return paths
    started = time.perf_counter()
    paths = generate_city(folder, size, seed=seed, ntl_pixel_m=ntl_pixel_m)
    say(f"generated city {folder} (seed {seed}, {size} px) in {time.perf_counter() - started:.0f} s")
    return paths


def prepare_stores(config: ExperimentConfig):
    """Cities and tile stores: (training store path, test TileStore, training city paths, test city paths)."""
    from csagf_plugin.training.tiles import PrepareConfig, SceneSource, prepare_tiles

    out = config.out_path
    train_cities = [make_city(out / "cities" / f"train_seed{s}", config.size, s, config.ntl_pixel_m)
                    for s in config.train_seeds]
    test_city = make_city(out / "cities" / f"test_seed{config.test_seed}", config.effective_test_size,
                          config.test_seed, config.ntl_pixel_m)
    train_npz = out / "tiles_train.npz"
    stores = [prepare_tiles(PrepareConfig([SceneSource(str(c.vhr), str(c.labels))], str(c.ntl),
                                          tile_size=config.tile_size, stride=config.effective_stride))
              for c in train_cities]
    merge_stores(stores).save(train_npz)
    test_store = prepare_tiles(PrepareConfig([SceneSource(str(test_city.vhr), str(test_city.labels))],
                                             str(test_city.ntl), tile_size=config.tile_size,
                                             stride=config.tile_size, min_labelled=0.0))
    return train_npz, test_store, train_cities, test_city


def merge_stores(stores: list):
    """One tile store from several (each city has its own NTL raster, so each is cut on its own); scenes renumbered."""
    from csagf_plugin.training.tiles import TileStore

    if len(stores) == 1:
        return stores[0]
    offsets = np.cumsum([0] + [len(s.scenes) for s in stores[:-1]])
    first = stores[0]
    return TileStore(vhr=np.concatenate([s.vhr for s in stores]), ntl=np.concatenate([s.ntl for s in stores]),
                     labels=np.concatenate([s.labels for s in stores]),
                     scene=np.concatenate([s.scene + o for s, o in zip(stores, offsets)]).astype(np.int32),
                     origin=np.concatenate([s.origin for s in stores]),
                     scenes=[p for s in stores for p in s.scenes], vhr_dtype=first.vhr_dtype,
                     vhr_band_names=first.vhr_band_names, ntl_band_names=first.ntl_band_names,
                     vhr_pixel_size_m=first.vhr_pixel_size_m, ntl_pixel_size_m=first.ntl_pixel_size_m,
                     description=f"{sum(s.num_tiles for s in stores)} tiles from {len(stores)} cities: "
                                 + "; ".join(s.description for s in stores))


# ------------------------------------------------------------------------------------------------------ budget

def seconds_per_epoch(name: str, config: ExperimentConfig, train_tiles: int, val_tiles: int, device: str) -> float:
    """Estimated seconds of one epoch of `name`: training steps and validation passes timed on random tensors."""
    import torch

    from csagf_plugin.nn import create_model

    torch.manual_seed(0)
    model = create_model(name, len(FUNCTIONAL_CLASSES), 3, 1, config.width).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr)
    batch = min(config.batch_size, train_tiles)
    T = config.tile_size
    vhr = torch.randn(batch, 3, T, T, device=device)
    ntl = torch.randn(batch, 1, T, T, device=device)
    labels = torch.randint(0, len(FUNCTIONAL_CLASSES), (batch, T, T), device=device)

    def sync() -> None:
        if device.startswith("cuda"):
            torch.cuda.synchronize()

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        torch.nn.functional.cross_entropy(model(vhr, ntl), labels).backward()
        optimizer.step()

    model.train()
    step()  # warm-up: allocator, cuDNN algorithm choice
    sync()
    t0 = time.perf_counter()
    for _ in range(2):
        step()
    sync()
    t_step = (time.perf_counter() - t0) / 2
    model.eval()
    with torch.no_grad():
        t0 = time.perf_counter()
        model(vhr, ntl)
        sync()
        t_eval = time.perf_counter() - t0
    del model, optimizer
    return math.ceil(train_tiles / batch) * t_step + math.ceil(val_tiles / batch) * t_eval


def plan_epochs(config: ExperimentConfig, train_npz: Path, device: str) -> dict[str, int]:
    """Epochs per model: config.epochs, cut to fit --time-budget-min (one count for all in same-epochs mode)."""
    if config.time_budget_min is None:
        return {m: config.epochs for m in config.models}
    from csagf_plugin.training.splits import split_by_blocks
    from csagf_plugin.training.tiles import TileStore

    store = TileStore.load(train_npz)
    split = split_by_blocks(store.scene, store.origin, store.tile_size, config.effective_block_size,
                            config.val_share, 0.0, config.seed)
    if len(split.train) == 0 or len(split.val) == 0:
        raise InputError(f"The training city gives {len(split.train)} training and {len(split.val)} validation tiles "
                         f"with {config.effective_block_size} px blocks: use a larger --size or a smaller "
                         "--block-size.")
    budget_s = 60.0 * config.time_budget_min
    estimates = {m: seconds_per_epoch(m, config, len(split.train), len(split.val), device) for m in config.models}
    for m, s in estimates.items():
        say(f"budget: {m} needs about {s:.1f} s per epoch ({len(split.train)} training, {len(split.val)} "
            f"validation tiles)")
    # 10 % of the budget is left for set-up, the final test pass and the ONNX export
    fits = {m: max(1, min(config.epochs, int(0.9 * budget_s // max(s, 1e-6)))) for m, s in estimates.items()}
    if config.budget_mode == "same-epochs":
        same = min(fits.values())
        fits = {m: same for m in fits}
    say(f"budget {config.time_budget_min} min per model ({config.budget_mode}): epochs {fits}")
    return fits


# ------------------------------------------------------------------------------------------------ train + test

def resolve_device(requested: str) -> str:
    """auto -> cuda when PyTorch sees a GPU, else cpu."""
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return requested


def train_one(name: str, epochs: int, config: ExperimentConfig, train_npz: Path, device: str) -> dict:
    """Train one model on the shared tile store; returns what the run produced (paths, epochs, seconds)."""
    from csagf_plugin.training.fit import TrainConfig, train

    run_dir = config.out_path / "runs" / name
    budget = None if config.time_budget_min is None else 60.0 * config.time_budget_min * 1.1
    progress = BudgetProgress(budget)
    tc = TrainConfig(output_dir=str(run_dir), tiles=str(train_npz), model=name, width=config.width, epochs=epochs,
                     batch_size=config.batch_size, lr=config.lr, patience=config.patience,
                     val_share=config.val_share, test_share=0.0, block_size=config.effective_block_size,
                     seed=config.seed, device=device, num_workers=config.num_workers, name=name,
                     export=False)  # exported below, so that an exporter problem cannot lose a trained model
    started = time.perf_counter()
    result = train(tc, progress, warn=lambda m: say(f"{name}: warning: {m}"), log=lambda m: say(f"{name}: {m}"))
    seconds = time.perf_counter() - started
    say(f"{name}: trained {result.epochs_run} epochs in {seconds / 60:.1f} min, best epoch {result.best_epoch}, "
        f"validation mIoU {result.val_metrics.get('val_miou', float('nan')):.4f}"
        f"{' (stopped by the time budget)' if progress.canceled else ''}")
    return {"checkpoint": result.best_checkpoint, "epochs_planned": epochs,
            "epochs_run": result.epochs_run, "best_epoch": result.best_epoch, "stopped_early": result.stopped_early,
            "stopped_by_budget": progress.canceled, "train_seconds": round(seconds, 1),
            "validation": {k: round(float(v), 4) for k, v in result.val_metrics.items()}}
