"""The output checks of prepare, train and evaluate: no output may be one of the run's inputs, no name may leave
the output folder, no folder may be a file (core/safe_output.py holds the checks every algorithm shares)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..core.progress import Warn, ignore_warning
from ..core.output_checks import check_file_name, check_output_folder, check_outputs

if TYPE_CHECKING:
    from .evaluate import EvaluateConfig
    from .config import TrainConfig
    from .tiles import PrepareConfig

TRAIN_OUTPUTS = ("best.pt", "last.pt", "metrics.csv", "curves.png", "confusion.png", "test_metrics.json")
EVALUATE_OUTPUTS = (".csv", ".json", "_confusion.csv", "_confusion.png")


def prepare_inputs(config: PrepareConfig) -> dict[str, str | None]:
    """Every file a tile-cutting run reads, by role."""
    inputs: dict[str, str | None] = {"NTL raster": config.ntl, "class mapping": config.mapping}
    for i, scene in enumerate(config.scenes, 1):
        inputs[f"VHR raster {i}"] = scene.vhr
        inputs[f"labels {i}"] = scene.labels
        for j, more in enumerate(getattr(scene, "more_labels", []) or [], 1):
            inputs[f"labels {i}.{j}"] = more.path
            inputs[f"class mapping {i}.{j}"] = more.mapping
    return inputs


def check_prepare_outputs(config: PrepareConfig, warn: Warn = ignore_warning) -> None:
    """Refuse a tile store path that is one of the inputs, a folder, or in a folder that is missing or read-only."""
    if config.output:
        check_outputs({"tile store": config.output}, prepare_inputs(config), warn)


def train_output_files(config: TrainConfig) -> dict[str, str]:
    """The files a training run writes in its output folder, by role."""
    folder = os.fspath(config.output_dir)
    files = {name: os.path.join(folder, f"{config.name}_{name}") for name in TRAIN_OUTPUTS}
    files["ONNX model"] = os.path.join(folder, f"{config.name}.onnx")
    return files


def check_train_outputs(config: TrainConfig, warn: Warn = ignore_warning) -> None:
    """Refuse a model name that leaves the output folder, an output folder that is a file or an input, and output
    files that are inputs (a tile store named like a checkpoint). Resuming from the folder's own last checkpoint
    is allowed: it is read whole before anything is written."""
    check_file_name(config.name, "model name")
    inputs = {"tile store": config.tiles}
    if config.data is not None:
        inputs.update(prepare_inputs(config.data))
    check_output_folder(config.output_dir, "output folder", inputs, warn)
    if os.path.isdir(config.output_dir):
        check_outputs(train_output_files(config), inputs)


def check_evaluate_outputs(config: EvaluateConfig, warn: Warn = ignore_warning) -> None:
    """The same for an evaluation: its name, its folder and its four files."""
    check_file_name(config.name, "base name of the output files")
    inputs = {"classified raster": config.classified, "reference": config.reference, "class mapping": config.mapping}
    check_output_folder(config.output_dir, "output folder", inputs, warn)
    if os.path.isdir(config.output_dir):
        check_outputs({f"{config.name}{suffix}": os.path.join(config.output_dir, f"{config.name}{suffix}")
                       for suffix in EVALUATE_OUTPUTS}, inputs)
