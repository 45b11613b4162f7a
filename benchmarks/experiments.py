"""The paper's experiments on the SYNTHETIC benchmark city: four CSAGFNet variants and five baselines, one budget.

    .venv/bin/python benchmarks/experiments.py --out runs/experiments --size 2048 --width small --epochs 30

Steps, all written under --out:
  1. generate a training city (seeds --train-seeds) and a SEPARATE held-out test city (--test-seed, another seed):
     the test pixels come from a layout, texture, NTL misregistration and PSF that training never saw;
  2. cut the training cities into tiles (one tile store shared by every model) and train each model of --models
     with the same epochs, batch size, tiles, split and seed (validation: spatial blocks of the training city);
  3. evaluate each best-validation checkpoint on the whole test city (tiles without overlap, the model's own card
     normalises the inputs): mIoU, macro F1, OA and per-class IoU;
  4. write results.json and results.md (our numbers beside the paper's, which come from its Guangzhou data);
  5. draw the test area (VHR, NTL, labels), every model's map, the full model's gate map (where night light drove
     the decision) and the difference map full vs VHR-only;
  6. with --export-sample PATH, copy the full model's ONNX there with a model card that describes the synthetic data.

--time-budget-min limits each model's training: seconds per epoch are measured on random tensors before training,
and the epoch count is cut so that training fits (by default the same count for every model, so that the budget
stays equal); training is also canceled, keeping its best epoch, if it runs past the budget anyway.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from csagf_plugin.core.errors import Canceled, CsagfError, InputError  # noqa: E402
from csagf_plugin.core.model_card import FUNCTIONAL_CLASSES, ModelCard  # noqa: E402

CSAGF_VARIANTS = ("vhr", "cat", "oafa", "full")
BASELINES = ("unet", "deeplabv3plus", "fpn", "pspnet", "pan")
ALL_MODELS = CSAGF_VARIANTS + BASELINES
CLASS_NAMES = [c.name for c in FUNCTIONAL_CLASSES]

# The paper's own numbers (PAPER.md, "Results the paper reports"; Guangzhou data, not public). None = not reported.
PAPER_RESULTS: dict[str, dict[str, float | None]] = {
    "full": {"miou": 0.853, "macro_f1": 0.894, "oa": 0.934},
    "oafa": {"miou": 0.789, "macro_f1": 0.804, "oa": 0.843},
    "vhr": {"miou": 0.743, "macro_f1": 0.727, "oa": None},
    "cat": {"miou": 0.713, "macro_f1": None, "oa": None},
    "unet": {"miou": 0.812, "macro_f1": None, "oa": None},
    "fpn": {"miou": 0.789, "macro_f1": None, "oa": None},
    "pspnet": {"miou": 0.747, "macro_f1": None, "oa": None},
    "pan": {"miou": 0.693, "macro_f1": None, "oa": None},
    "deeplabv3plus": {"miou": None, "macro_f1": 0.836, "oa": None},
}
MODEL_LABELS = {"full": "CSAGFNet (full: alignment + gated fusion)", "oafa": "CSAGFNet-OAFA (alignment, concat)",
                "cat": "CSAGFNet-Cat (concat, no alignment)", "vhr": "CSAGFNet-VHR (VHR stream only)",
                "unet": "U-Net, ResNet34 (VHR)", "deeplabv3plus": "DeepLabV3+, ResNet34 (VHR)",
                "fpn": "FPN, ResNet34 (VHR)", "pspnet": "PSPNet, ResNet34 (VHR)", "pan": "PAN, ResNet34 (VHR)"}
PICTURE_PX = 1024  # long side of the pictures' panels (the test city is decimated to this)


def say(message: str) -> None:
    """Progress line on stdout, flushed at once (runs are watched through logs on remote machines)."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


@dataclass
class ExperimentConfig:
    """One experiment run: cities, models, budget and outputs."""

    out: str  # folder for cities, tiles, runs, results and pictures (created)
    size: int = 2048  # edge of each training city in VHR pixels (0.5 m)
    test_size: int | None = None  # edge of the held-out test city; None: same as size
    train_seeds: list[int] = field(default_factory=lambda: [1])  # seeds of the training cities
    test_seed: int = 2  # seed of the held-out test city (must differ from every training seed)
    ntl_pixel_m: float = 40.0  # NTL pixel size of the cities (40 m like SDGSAT-1, 500 m like VIIRS)
    models: list[str] = field(default_factory=lambda: list(ALL_MODELS))  # models to train and compare
    width: str | int = "small"  # CSAGFNet width: small, paper or an int (baselines keep ResNet34)
    epochs: int = 30  # most epochs per model (the same for all)
    batch_size: int = 16  # tiles per batch (the same for all)
    lr: float = 1e-3  # AdamW initial learning rate
    patience: int = 10  # early stopping: epochs without a better validation mIoU
    tile_size: int = 256  # tile edge in pixels
    stride: int | None = None  # sliding-window step of the training tiles; None: tile_size // 2
    block_size: int | None = None  # spatial block edge of the train/validation split; None: 2 tiles
    val_share: float = 0.15  # share of training-city tiles (by spatial blocks) kept for validation
    seed: int = 0  # seed of split, sampling, augmentation and weights (the same for all models)
    device: str = "auto"  # auto, cpu, cuda or cuda:N
    threads: int = 0  # torch CPU threads (0: torch's default)
    num_workers: int = 0  # DataLoader worker processes
    time_budget_min: float | None = None  # most minutes of training per model (None: no limit)
    budget_mode: str = "same-epochs"  # same-epochs: one epoch count fitting the slowest model; per-model
    export_sample: str | None = None  # copy the full model's ONNX here with a sample-model card
    reuse: bool = False  # models already trained in `out` (results.json + best checkpoint) are only re-tested

    def __post_init__(self) -> None:
        unknown = [m for m in self.models if m not in ALL_MODELS]
        if unknown or not self.models:
            raise InputError(f"Unknown or no models {unknown}; choose from {list(ALL_MODELS)}.")
        if self.test_seed in self.train_seeds:
            raise InputError(f"The test city's seed {self.test_seed} is also a training seed {self.train_seeds}: "
                             "give the held-out test city another seed.")
        if self.size < 2 * self.tile_size or self.effective_test_size < self.tile_size:
            raise InputError(f"City size {self.size} px (test {self.effective_test_size} px) is too small for "
                             f"{self.tile_size} px tiles: use at least {2 * self.tile_size} px.")
        if self.budget_mode not in ("same-epochs", "per-model"):
            raise InputError(f"Unknown budget mode '{self.budget_mode}': use same-epochs or per-model.")
        if self.time_budget_min is not None and self.time_budget_min <= 0:
            raise InputError(f"Time budget {self.time_budget_min} min must be positive.")

    @property
    def effective_test_size(self) -> int:
        """Edge of the test city in pixels."""
        return self.test_size or self.size

    @property
    def effective_stride(self) -> int:
        """Sliding-window step of the training tiles."""
        return self.stride or self.tile_size // 2

    @property
    def effective_block_size(self) -> int:
        """Spatial block edge of the train/validation split."""
        return self.block_size or 2 * self.tile_size

    @property
    def out_path(self) -> Path:
        """The output folder."""
        return Path(self.out)


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
    from csagf_plugin.core.benchmark_city import CityPaths, generate_city

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


@dataclass
class SceneMaps:
    """The test city assembled from its tiles: inputs, labels and each model's prediction (and the gate)."""

    vhr: np.ndarray  # [3, H, W] uint8
    ntl: np.ndarray  # [H, W] float32 radiance on the VHR grid
    labels: np.ndarray  # [H, W] uint8 class ids
    predictions: dict[str, np.ndarray] = field(default_factory=dict)  # model -> [H, W] uint8 class ids
    gate: np.ndarray | None = None  # [H, W] float32 GFM gate G (VHR weight) of the full model


def assemble_scene(store) -> SceneMaps:
    """Paste the test store's tiles back into whole-scene arrays (tiles cover the scene, the last ones snapped)."""
    T = store.tile_size
    h = int(store.origin[:, 0].max()) + T
    w = int(store.origin[:, 1].max()) + T
    scene = SceneMaps(np.zeros((3, h, w), np.uint8), np.zeros((h, w), np.float32), np.zeros((h, w), np.uint8))
    for t, (r, c) in enumerate(store.origin):
        scene.vhr[:, r:r + T, c:c + T] = store.vhr[t, :3]
        scene.ntl[r:r + T, c:c + T] = store.ntl[t, 0]
        scene.labels[r:r + T, c:c + T] = store.labels[t]
    return scene


def predict_scene(checkpoint: str, store, scene: SceneMaps, device: str, batch_size: int) -> tuple[np.ndarray,
                                                                                                  np.ndarray | None]:
    """Class ids (and the gate of a full model) over the test scene, tile by tile, normalised by the model's card."""
    import torch

    from csagf_plugin.training.checkpoint import model_from_checkpoint
    from csagf_plugin.training.data import make_dataset

    model, meta = model_from_checkpoint(checkpoint)
    model.to(device)
    card = ModelCard.from_json(meta["card"], checkpoint)
    dataset = make_dataset(store, np.arange(store.num_tiles), card, train=False)
    loader = torch.utils.data.DataLoader(dataset, batch_size=batch_size, shuffle=False)
    T = store.tile_size
    prediction = np.zeros_like(scene.labels)
    gate = np.zeros(scene.labels.shape, np.float32) if getattr(model, "has_gate", False) else None
    ids = card.class_ids()
    t = 0
    with torch.no_grad():
        for vhr, ntl, _ in loader:
            vhr, ntl = vhr.to(device), ntl.to(device)
            if gate is not None:
                logits, g = model.forward_with_gate(vhr, ntl)
                g = g[:, 0].float().cpu().numpy()
            else:
                logits, g = model(vhr, ntl), None
            classes = ids[logits.argmax(1).cpu().numpy()]
            for k in range(len(classes)):
                r, c = store.origin[t]
                prediction[r:r + T, c:c + T] = classes[k]
                if g is not None:
                    gate[r:r + T, c:c + T] = g[k]
                t += 1
    return prediction, gate


def scene_metrics(labels: np.ndarray, prediction: np.ndarray) -> dict:
    """mIoU, macro F1, OA and per-class scores of a prediction against the test labels (0 ignored)."""
    from csagf_plugin.training.metrics import segmentation_metrics

    return segmentation_metrics(labels, prediction, len(FUNCTIONAL_CLASSES)).to_dict(CLASS_NAMES)


def comparison(scene: SceneMaps, a: str = "full", b: str = "vhr") -> dict[str, float]:
    """Shares of labelled test pixels where both models are right, only a, only b, or neither."""
    labelled = scene.labels > 0
    right_a = (scene.predictions[a] == scene.labels) & labelled
    right_b = (scene.predictions[b] == scene.labels) & labelled
    n = max(int(labelled.sum()), 1)
    return {"both_right": float((right_a & right_b).sum() / n),
            f"only_{a}_right": float((right_a & ~right_b).sum() / n),
            f"only_{b}_right": float((~right_a & right_b).sum() / n),
            "both_wrong": float((labelled & ~right_a & ~right_b).sum() / n)}


def gate_by_class(scene: SceneMaps) -> dict[str, float]:
    """Mean NTL weight (1 - G) of the full model per reference class: where night light drove the decision."""
    assert scene.gate is not None
    return {c.name: round(float(1.0 - scene.gate[scene.labels == c.id].mean()), 4)
            for c in FUNCTIONAL_CLASSES if (scene.labels == c.id).any()}


# ------------------------------------------------------------------------------------------------------ report

def _fmt(x: float | None) -> str:
    return "-" if x is None or (isinstance(x, float) and not math.isfinite(x)) else f"{x:.3f}"


def markdown_tables(results: dict) -> str:
    """Headline table (ours beside the paper's) and per-class IoU table, in markdown."""
    models = [m for m in ALL_MODELS if m in results["models"]]
    lines = ["| model | test mIoU | test macro F1 | test OA | paper mIoU | paper F1 | paper OA | epochs (best) "
             "| train min |", "|---|---|---|---|---|---|---|---|---|"]
    for m in models:
        r, p = results["models"][m], PAPER_RESULTS[m]
        t = r["test"]
        lines.append(f"| {MODEL_LABELS[m]} | {_fmt(t['miou'])} | {_fmt(t['macro_f1'])} | {_fmt(t['oa'])} | "
                     f"{_fmt(p['miou'])} | {_fmt(p['macro_f1'])} | {_fmt(p['oa'])} | {r['epochs_run']} "
                     f"({r['best_epoch']}) | {r['train_seconds'] / 60:.1f} |")
    short = ["resid.", "comm.", "indus.", "green", "streets", "water", "non-dev."]
    lines += ["", "Per-class IoU on the test city:", "",
              "| model | " + " | ".join(short) + " |", "|---|" + "---|" * len(short)]
    for m in models:
        per = results["models"][m]["test"]["per_class"]
        lines.append(f"| {m} | " + " | ".join(_fmt(per[n]["iou"]) for n in CLASS_NAMES) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------------- pictures

def _decimate(a: np.ndarray, step: int) -> np.ndarray:
    return a[..., ::step, ::step]


def _class_rgba(labels: np.ndarray) -> np.ndarray:
    lut = np.zeros((256, 4), np.float32)
    for c in FUNCTIONAL_CLASSES:
        lut[c.id] = [int(c.color[i:i + 2], 16) / 255 for i in (1, 3, 5)] + [1.0]
    return lut[labels]


def _rgb(vhr: np.ndarray) -> np.ndarray:
    x = np.moveaxis(vhr.astype(np.float32), 0, -1)
    lo, hi = np.percentile(x, 1), np.percentile(x, 99)
    return np.clip((x - lo) / max(hi - lo, 1e-6), 0, 1)


def _figure(ncols: int, nrows: int = 1, size: float = 4.0):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(size * ncols, size * nrows + 0.8), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
    return fig, axes


def _legend(fig) -> None:
    from matplotlib.patches import Patch

    fig.legend(handles=[Patch(facecolor=c.color, edgecolor="black", linewidth=0.3, label=c.name)
                        for c in FUNCTIONAL_CLASSES], loc="lower center", ncol=4, frameon=False, fontsize=9)


def draw_pictures(scene: SceneMaps, results: dict, folder: Path) -> dict[str, str]:
    """PNG files: test area, every model's map, gate map and difference map; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    step = max(1, math.ceil(max(scene.labels.shape) / PICTURE_PX))
    rgb = _rgb(_decimate(scene.vhr, step))
    labels = _decimate(scene.labels, step)
    ntl = np.log1p(np.clip(_decimate(scene.ntl, step), 0, None))
    written = {}

    fig, ax = _figure(3)
    ax[0, 0].imshow(rgb)
    ax[0, 0].set_title("VHR (test city)")
    im = ax[0, 1].imshow(ntl, cmap="magma")
    ax[0, 1].set_title("NTL on the VHR grid, log(1 + radiance)")
    fig.colorbar(im, ax=ax[0, 1], fraction=0.046, pad=0.02)
    ax[0, 2].imshow(_class_rgba(labels), interpolation="nearest")
    ax[0, 2].set_title("Reference labels")
    _legend(fig)
    fig.suptitle(f"Held-out SYNTHETIC test city (seed {results['config']['test_seed']})")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.88, bottom=0.12, wspace=0.08)
    written["test_area"] = str(folder / "test_area.png")
    fig.savefig(written["test_area"])

    models = [m for m in ALL_MODELS if m in scene.predictions]
    ncols = min(5, len(models) + 1)
    nrows = math.ceil((len(models) + 1) / ncols)
    fig, ax = _figure(ncols, nrows, 3.2)
    panels = [("reference", labels)] + [(m, _decimate(scene.predictions[m], step)) for m in models]
    for a, (name, data) in zip(ax.ravel(), panels):
        a.imshow(_class_rgba(data), interpolation="nearest")
        title = name if name == "reference" else f"{name}: mIoU {results['models'][name]['test']['miou']:.3f}"
        a.set_title(title, fontsize=10)
    for a in ax.ravel()[len(panels):]:
        a.axis("off")
    _legend(fig)
    fig.subplots_adjust(left=0.01, right=0.99, top=0.95, bottom=0.1, wspace=0.05, hspace=0.12)
    written["predictions"] = str(folder / "predictions.png")
    fig.savefig(written["predictions"])

    if scene.gate is not None:
        fig, ax = _figure(3)
        ax[0, 0].imshow(rgb)
        ax[0, 0].set_title("VHR (test city)")
        ax[0, 1].imshow(ntl, cmap="magma")
        ax[0, 1].set_title("NTL, log(1 + radiance)")
        weight = 1.0 - _decimate(scene.gate, step)
        lo, hi = (float(v) for v in np.percentile(weight, [2, 98]))
        im = ax[0, 2].imshow(weight, cmap="viridis", vmin=lo, vmax=max(hi, lo + 1e-3))
        ax[0, 2].set_title(f"Night-light weight 1 - G (full model), {lo:.2f} to {hi:.2f}", fontsize=10)
        fig.colorbar(im, ax=ax[0, 2], fraction=0.046, pad=0.02)
        fig.suptitle("Gated fusion: where night light drove the decision (bright = NTL features weighted more; "
                     "colours stretched over the 2-98 % range)")
        fig.subplots_adjust(left=0.01, right=0.97, top=0.88, bottom=0.04, wspace=0.1)
        written["gate_map"] = str(folder / "gate_map.png")
        fig.savefig(written["gate_map"])

    if "full" in scene.predictions and "vhr" in scene.predictions:
        from matplotlib.colors import ListedColormap
        from matplotlib.patches import Patch

        lab = scene.labels
        right_full = scene.predictions["full"] == lab
        right_vhr = scene.predictions["vhr"] == lab
        code = np.zeros(lab.shape, np.uint8)  # 0 unlabelled, 1 both right, 2 only full, 3 only vhr, 4 both wrong
        code[(lab > 0) & right_full & right_vhr] = 1
        code[(lab > 0) & right_full & ~right_vhr] = 2
        code[(lab > 0) & ~right_full & right_vhr] = 3
        code[(lab > 0) & ~right_full & ~right_vhr] = 4
        colours = ["#ffffff", "#d9d9d9", "#1a9850", "#d73027", "#404040"]
        shares = results.get("full_vs_vhr", {})
        names = ["unlabelled", f"both right ({shares.get('both_right', 0):.1%})",
                 f"only full right ({shares.get('only_full_right', 0):.1%})",
                 f"only VHR-only right ({shares.get('only_vhr_right', 0):.1%})",
                 f"both wrong ({shares.get('both_wrong', 0):.1%})"]
        fig, ax = _figure(2, 1, 5.0)
        ax[0, 0].imshow(rgb)
        ax[0, 0].set_title("VHR (test city)")
        ax[0, 1].imshow(_decimate(code, step), cmap=ListedColormap(colours), vmin=0, vmax=4, interpolation="nearest")
        ax[0, 1].set_title("Full CSAGFNet vs CSAGFNet-VHR")
        fig.legend(handles=[Patch(facecolor=c, edgecolor="black", linewidth=0.3, label=n)
                            for c, n in zip(colours[1:], names[1:])], loc="lower center", ncol=2, frameon=False)
        fig.subplots_adjust(left=0.01, right=0.99, top=0.92, bottom=0.14, wspace=0.05)
        written["difference_map"] = str(folder / "difference_map.png")
        fig.savefig(written["difference_map"])
    return written


# ------------------------------------------------------------------------------------------------------ export

def export_full_model(config: ExperimentConfig, results: dict, destination: Path) -> str:
    """Export the full model's best checkpoint to ONNX with a card naming the synthetic data and the test scores."""
    from csagf_plugin.training.checkpoint import model_from_checkpoint
    from csagf_plugin.training.export import export_onnx

    run = results["models"]["full"]
    model, meta = model_from_checkpoint(run["checkpoint"])
    card = ModelCard.from_json(meta["card"], run["checkpoint"])
    test = run["test"]
    card.name = "csagfnet_sample" if config.export_sample else f"csagfnet_full_{config.width}"
    card.trained = True
    card.training_data = (
        f"SYNTHETIC benchmark city (csagf_plugin.core.benchmark_city, invented layout and rendered imagery, not a "
        f"real place): training city seed(s) {config.train_seeds}, {config.size} x {config.size} px at 0.5 m, NTL "
        f"{config.ntl_pixel_m:g} m; {card.training_data}. Tested on a held-out city of seed {config.test_seed} "
        f"({config.effective_test_size} px). Width {config.width}, {run['epochs_run']} epochs, batch "
        f"{config.batch_size}. Not trained on seed 0, the scene of README's main command.")
    card.metrics = {**run["validation"], "best_epoch": run["best_epoch"],
                    **{f"test_city_{k}": round(float(test[k]), 4) for k in ("miou", "macro_f1", "oa")},
                    **{f"test_city_iou_{n.lower().replace(' ', '_')}": round(float(v["iou"]), 4)
                       for n, v in test["per_class"].items() if v["iou"] is not None}}
    export_onnx(model.cpu(), destination, card)
    return str(destination)


# -------------------------------------------------------------------------------------------------------- main

# Settings that must match for a model trained by an earlier run to be reused (epochs may differ: each row says).
REUSE_KEYS = ("size", "test_size", "train_seeds", "test_seed", "ntl_pixel_m", "width", "batch_size", "lr",
              "patience", "tile_size", "stride", "block_size", "val_share", "seed")


def reusable_runs(results_path: Path, config: ExperimentConfig) -> dict[str, dict]:
    """Models of an earlier results.json in the same folder, when it was made with the same data and settings."""
    if not results_path.exists():
        return {}
    earlier = json.loads(results_path.read_text())
    now = asdict(config)
    differ = [k for k in REUSE_KEYS if earlier.get("config", {}).get(k) != now[k]]
    if differ:
        say(f"--reuse: {results_path} was made with other settings ({', '.join(differ)}): training everything anew")
        return {}
    return earlier.get("models", {})


def run_experiments(config: ExperimentConfig) -> dict:
    """Generate, train, test, report, draw and export; returns the results dict also written to results.json."""
    import torch

    if config.threads:
        torch.set_num_threads(config.threads)
    device = resolve_device(config.device)
    if device.startswith("cuda"):
        torch.backends.cudnn.benchmark = True
    out = config.out_path
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    say(f"experiments: models {config.models}, width {config.width}, device {device}, torch {torch.__version__}")
    train_npz, test_store, train_cities, test_city = prepare_stores(config)
    say(f"tiles: {train_npz} (training city), {test_store.num_tiles} test tiles of {config.tile_size} px")
    epochs = plan_epochs(config, train_npz, device)
    scene = assemble_scene(test_store)
    results: dict = {"config": {**asdict(config), "device": device, "torch": torch.__version__},
                     "synthetic": True, "test_split": f"separate held-out city, seed {config.test_seed}",
                     "train_cities": [json.loads(c.card.read_text()) for c in train_cities],
                     "test_city": json.loads(test_city.card.read_text()), "paper": PAPER_RESULTS, "models": {}}
    results_path = out / "results.json"
    previous = reusable_runs(results_path, config) if config.reuse else {}
    for name in config.models:
        old = previous.get(name, {})
        try:
            if old.get("checkpoint") and Path(old["checkpoint"]).exists():
                say(f"== {name}: reusing {old['checkpoint']} ({old['epochs_run']} epochs)")
                run = {k: v for k, v in old.items() if k not in ("test", "test_seconds")}
            else:
                say(f"== {name}: training {epochs[name]} epochs")
                run = train_one(name, epochs[name], config, train_npz, device)
        except Canceled as exc:
            say(f"{name}: no epoch finished inside the time budget ({exc}); left out of the table.")
            results["models"][name] = {"error": str(exc)}
            continue
        t0 = time.perf_counter()
        prediction, gate = predict_scene(run["checkpoint"], test_store, scene, device, config.batch_size)
        scene.predictions[name] = prediction
        if gate is not None:
            scene.gate = gate
        run["test"] = scene_metrics(scene.labels, prediction)
        run["test_seconds"] = round(time.perf_counter() - t0, 1)
        results["models"][name] = run
        say(f"{name}: TEST CITY mIoU {run['test']['miou']:.4f}, macro F1 {run['test']['macro_f1']:.4f}, "
            f"OA {run['test']['oa']:.4f}")
        results_path.write_text(json.dumps(results, indent=1))
    failed = {m for m, r in results["models"].items() if "error" in r}
    results["models_failed"] = sorted(failed)
    for m in failed:
        del results["models"][m]
    if "full" in scene.predictions and "vhr" in scene.predictions:
        results["full_vs_vhr"] = comparison(scene)
    if scene.gate is not None:
        results["ntl_weight_by_class"] = gate_by_class(scene)
    if results["models"]:
        results["pictures"] = draw_pictures(scene, results, out / "img")
        (out / "results.md").write_text(markdown_tables(results))
    if "full" in results["models"]:
        destination = Path(config.export_sample or out / "runs" / "full" / "csagfnet_full.onnx")
        try:
            results["full_onnx"] = export_full_model(config, results, destination)
            say(f"full model exported to {destination} ({destination.stat().st_size / 1e6:.1f} MB)")
        except Exception as exc:  # the experiment's numbers stay valid; say what failed and go on
            results["full_onnx_error"] = f"{type(exc).__name__}: {exc}"
            say(f"ONNX export of the full model failed: {results['full_onnx_error']}")
            if config.export_sample:
                raise
    elif config.export_sample:
        raise InputError("--export-sample needs the full model in --models and a finished training run.")
    results["total_minutes"] = round((time.perf_counter() - started) / 60, 2)
    results_path.write_text(json.dumps(results, indent=1))
    if results["models"]:
        print(markdown_tables(results), flush=True)
    say(f"done in {results['total_minutes']} min: {results_path}")
    return results


def _width(text: str) -> str | int:
    return int(text) if text.isdigit() else text


def parse_args(argv: list[str] | None = None) -> ExperimentConfig:
    """Command-line options -> ExperimentConfig."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--out", required=True, help="output folder (cities, tiles, runs, results, pictures)")
    p.add_argument("--size", type=int, default=2048, help="training city edge in VHR pixels (default 2048)")
    p.add_argument("--test-size", type=int, default=None, help="test city edge (default: --size)")
    p.add_argument("--train-seeds", type=int, nargs="+", default=[1], help="training city seed (default 1)")
    p.add_argument("--test-seed", type=int, default=2, help="held-out test city seed (default 2)")
    p.add_argument("--ntl-pixel-m", type=float, default=40.0, help="NTL pixel size of the cities (default 40 m)")
    p.add_argument("--models", nargs="+", default=list(ALL_MODELS), choices=ALL_MODELS, metavar="MODEL",
                   help=f"models to compare (default all): {' '.join(ALL_MODELS)}")
    p.add_argument("--width", type=_width, default="small", help="CSAGFNet width: small, paper or an int")
    p.add_argument("--epochs", type=int, default=30, help="most epochs per model (default 30)")
    p.add_argument("--batch-size", type=int, default=16, help="tiles per batch (default 16; paper 48)")
    p.add_argument("--lr", type=float, default=1e-3, help="AdamW initial learning rate (default 1e-3)")
    p.add_argument("--patience", type=int, default=10, help="early-stopping patience in epochs (default 10)")
    p.add_argument("--tile-size", type=int, default=256, help="tile edge in pixels (default 256)")
    p.add_argument("--stride", type=int, default=None, help="training tile step (default tile size / 2)")
    p.add_argument("--block-size", type=int, default=None, help="split block edge in px (default 2 tiles)")
    p.add_argument("--seed", type=int, default=0, help="training seed shared by all models (default 0)")
    p.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N")
    p.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's)")
    p.add_argument("--num-workers", type=int, default=0, help="DataLoader workers (default 0)")
    p.add_argument("--time-budget-min", type=float, default=None, help="most training minutes per model")
    p.add_argument("--budget-mode", default="same-epochs", choices=("same-epochs", "per-model"),
                   help="same-epochs: one epoch count that fits the slowest model (default); per-model")
    p.add_argument("--export-sample", default=None, metavar="PATH",
                   help="copy the full model's ONNX here with a sample-model card")
    p.add_argument("--reuse", action="store_true",
                   help="re-test models already trained in --out instead of training them again")
    a = p.parse_args(argv)
    return ExperimentConfig(out=a.out, size=a.size, test_size=a.test_size, train_seeds=a.train_seeds,
                            test_seed=a.test_seed, ntl_pixel_m=a.ntl_pixel_m, models=a.models, width=a.width,
                            epochs=a.epochs, batch_size=a.batch_size, lr=a.lr, patience=a.patience,
                            tile_size=a.tile_size, stride=a.stride, block_size=a.block_size, seed=a.seed,
                            device=a.device, threads=a.threads, num_workers=a.num_workers,
                            time_budget_min=a.time_budget_min, budget_mode=a.budget_mode,
                            export_sample=a.export_sample, reuse=a.reuse)


def main(argv: list[str] | None = None) -> int:
    """Entry point: run the experiments, turn our typed errors into one readable line and exit code 2."""
    try:
        run_experiments(parse_args(argv))
    except CsagfError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
