"""What a training run is given (TrainConfig) and what it produces (TrainResult); defaults follow PAPER.md."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ..core.errors import InputError

if TYPE_CHECKING:
    from .tiles import PrepareConfig


@dataclass
class TrainConfig:
    """Everything a training run needs; defaults follow PAPER.md's recipe."""

    output_dir: str  # folder for checkpoints, ONNX, CSV and PNGs (created)
    tiles: str | None = None  # tile store (.npz) written by prepare; or give `data`
    data: PrepareConfig | None = None  # rasters and labels to cut into tiles now (when `tiles` is None)
    model: str = "full"  # create_model name: full, oafa, cat, vhr, unet, deeplabv3plus, fpn, pspnet, pan
    width: str | int = "small"  # CSAGFNet width: "small" (CPU), "paper" (256 channels) or an int
    vhr_encoder: str = "paper"  # VHR extractor: "paper" (five convs, random start) or "efficientnet_lite0" (ImageNet)
    encoder_lr_scale: float = 0.1  # the pretrained encoder learns at lr * this (fine-tuning); 1 trains it like the rest
    freeze_encoder_epochs: int = 0  # the pretrained encoder is frozen for this many first epochs (head warm-up)
    freeze_encoder_bn: bool = True  # keep the pretrained encoder's BatchNorm statistics (small batches of one city)
    val_scenes: list[str] | None = None  # VHR file names whose tiles are the validation split (whole held-out scenes)
    epochs: int = 100  # most epochs to run (early stopping may end sooner)
    batch_size: int = 48  # tiles per batch and process (paper: 48)
    lr: float = 1e-3  # AdamW initial learning rate, annealed by a cosine schedule to 0 over `epochs`
    weight_decay: float = 1e-2  # AdamW weight decay
    w_ce: float = 0.4  # weight of the class-weighted cross-entropy
    w_dice: float = 0.3  # weight of the Dice loss
    w_focal: float = 0.3  # weight of the focal loss (alpha = class weights)
    focal_gamma: float = 2.0  # focusing parameter of the focal loss
    class_weight_power: float = 1.0  # class weights = (1 / frequency) ** power: 1 paper, 0.5 gentler, 0 none
    patience: int = 10  # stop after this many epochs without a better validation mIoU
    val_share: float = 0.15  # share of tiles (by spatial blocks) for validation
    test_share: float = 0.15  # share of tiles (by spatial blocks) for the final test
    block_size: int | None = None  # spatial block edge in px for the split; None: 4 tiles
    oversample: bool = True  # draw tiles holding rare classes more often (repeat-factor sampling)
    augment: bool = True  # flips, 90-degree turns, mild VHR brightness/contrast
    seed: int = 0  # seeds the split, sampling, augmentation and weights
    device: str = "auto"  # "auto", "cpu", "cuda" or "cuda:N"
    num_workers: int = 0  # DataLoader worker processes
    resume: str | None = None  # checkpoint (best.pt or last.pt) to continue from
    name: str = "csagfnet"  # model name in the card and file names
    export: bool = True  # export the best model to ONNX at the end

    def __post_init__(self) -> None:
        if (self.tiles is None) == (self.data is None):
            raise InputError("Give either a tile store (tiles) or the rasters to cut (data), not both or neither.")
        if self.epochs < 1 or self.batch_size < 1 or self.patience < 1:
            raise InputError(f"Epochs ({self.epochs}), batch size ({self.batch_size}) and patience "
                             f"({self.patience}) must be at least 1.")
        if self.lr <= 0:
            raise InputError(f"Learning rate {self.lr} must be positive (paper: 1e-3).")
        if self.vhr_encoder not in ("paper", "efficientnet_lite0"):
            raise InputError(f"Unknown VHR encoder '{self.vhr_encoder}': use 'paper' or 'efficientnet_lite0'.")
        if not 0 < self.encoder_lr_scale <= 1 or self.freeze_encoder_epochs < 0:
            raise InputError(f"Encoder learning-rate scale {self.encoder_lr_scale} must be in (0, 1] and freeze "
                             f"epochs {self.freeze_encoder_epochs} at least 0.")
        if self.val_share <= 0 and not self.val_scenes:
            raise InputError("The validation share must be above 0: the best checkpoint is the one with the best "
                             "validation mIoU.")

    @property
    def output_path(self) -> Path:
        """The output folder as a Path."""
        return Path(self.output_dir)


@dataclass
class TrainResult:
    """What a run produced."""

    best_checkpoint: str  # best validation mIoU weights (+ card) for resume or export
    last_checkpoint: str  # weights after the last finished epoch (for resume)
    onnx: str | None  # exported best model with its card, None when export was off
    metrics_csv: str  # one row per epoch
    curve_png: str  # training curves
    confusion_png: str  # confusion matrix on the test split (validation split when there is no test split)
    best_epoch: int  # epoch (1-based) of the best checkpoint
    epochs_run: int  # epochs finished, resumed ones included
    val_metrics: dict[str, float]  # validation scores of the best epoch
    test_metrics: dict  # scores of the best model on the test split (per class included)
    stopped_early: bool = False  # early stopping ended the run
    canceled: bool = False  # the user canceled; the outputs describe the best epoch before the cancel
    history: list[dict[str, float]] = field(default_factory=list)  # the CSV's rows
