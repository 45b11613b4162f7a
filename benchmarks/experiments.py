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
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from csagf_plugin.core.errors import Canceled, CsagfError, InputError
from csagf_plugin.core.model_card import ModelCard

sys.path.insert(0, str(Path(__file__).resolve().parent))  # its sibling modules, when imported from elsewhere
from experiment_report import (
    ALL_MODELS,
    PAPER_RESULTS,
    draw_pictures,
    markdown_tables,
)
from experiment_scene import (
    assemble_scene,
    comparison,
    gate_by_class,
    predict_scene,
    scene_metrics,
)
from experiment_training import (
    plan_epochs,
    prepare_stores,
    resolve_device,
    say,
    train_one,
)


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
        f"SYNTHETIC benchmark city (csagf_plugin.benchmark_city, invented layout and rendered imagery, not a "
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
