"""The model card: everything inference needs to know about a model, stored as JSON in the ONNX metadata.

The ONNX file is the contract between training and inference (STYLE.md habit 6): export writes this card,
inference reads it and never guesses.  Both sides normalise inputs through the functions below, so a model
sees at inference exactly the numbers it saw in training.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from .errors import ModelCardError

METADATA_KEY = "csagf_model_card"
CARD_FORMAT = 1


@dataclass(frozen=True)
class FunctionalClass:
    """One output class of the map."""

    id: int  # class id written in the output raster (0 is reserved for no data)
    name: str  # name shown in the legend
    color: str  # "#rrggbb" colour in the legend and the colour table


# The seven functional classes of PAPER.md, in output-channel order (channel k -> FUNCTIONAL_CLASSES[k]).
FUNCTIONAL_CLASSES: tuple[FunctionalClass, ...] = (
    FunctionalClass(1, "Residential", "#e8a33d"),
    FunctionalClass(2, "Commercial", "#d7301f"),
    FunctionalClass(3, "Industrial", "#8856a7"),
    FunctionalClass(4, "Green space", "#41ab5d"),
    FunctionalClass(5, "Streets and transportation", "#969696"),
    FunctionalClass(6, "Water", "#2b8cbe"),
    FunctionalClass(7, "Non-developed land", "#e7d7a3"),
)


@dataclass
class ModelCard:
    """Metadata of a trained (or exported) CSAGF model."""

    name: str  # short model name, e.g. "csagfnet_sample"
    variant: str  # "full", "oafa", "cat", "vhr" or a baseline name ("unet", "deeplabv3plus", ...)
    classes: list[FunctionalClass] = field(default_factory=lambda: list(FUNCTIONAL_CLASSES))
    vhr_bands: list[str] = field(default_factory=lambda: ["red", "green", "blue"])  # band order expected
    ntl_bands: list[str] = field(default_factory=lambda: ["radiance"])  # NTL band order expected
    # VHR digital numbers are divided by this per source dtype before mean/std; other dtypes are used as read.
    vhr_scale: dict[str, float] = field(default_factory=lambda: {"uint8": 255.0, "uint16": 65535.0})
    vhr_mean: list[float] = field(default_factory=lambda: [0.485, 0.456, 0.406])  # after scaling
    vhr_std: list[float] = field(default_factory=lambda: [0.229, 0.224, 0.225])
    ntl_transform: str = "log1p"  # "log1p" (of radiance clipped at 0) or "none"
    ntl_mean: list[float] = field(default_factory=lambda: [2.0])  # after the transform
    ntl_std: list[float] = field(default_factory=lambda: [1.5])
    ntl_fill: float = 0.0  # radiance used where the NTL raster has no data
    vhr_pixel_size_m: float = 0.5  # ground pixel size of the training VHR
    ntl_pixel_size_m: float = 40.0  # ground pixel size of the training NTL
    tile_size: int = 256  # tile edge in pixels the model was trained on
    overlap: int = 64  # recommended tile overlap in pixels at inference
    input_names: list[str] = field(default_factory=lambda: ["vhr", "ntl"])  # ONNX input names, in order
    output_names: list[str] = field(default_factory=lambda: ["logits"])  # "logits" then optionally "gate"
    vhr_encoder: str = "paper"  # VHR extractor: "paper" (five convolutions) or "efficientnet_lite0" (ImageNet)
    fine_tuning: str = ""  # how pretrained weights were fine-tuned (weights, normalisation, learning rates)
    training_data: str = "untrained"  # description of what the model was trained on
    metrics: dict[str, float] = field(default_factory=dict)  # validation/test metrics (mIoU, F1, OA, ...)
    trained: bool = False  # False for a model exported with random weights
    card_format: int = CARD_FORMAT

    @property
    def num_classes(self) -> int:
        """Number of output channels of the logits."""
        return len(self.classes)

    @property
    def has_gate(self) -> bool:
        """True when the model also outputs the GFM gate map."""
        return "gate" in self.output_names

    @property
    def uses_ntl(self) -> bool:
        """True when the model has an NTL input (False for VHR-only variants and baselines)."""
        return "ntl" in self.input_names

    def class_ids(self) -> np.ndarray:
        """Class id of each output channel, as uint8."""
        return np.array([c.id for c in self.classes], dtype=np.uint8)

    def to_json(self) -> str:
        """Serialise for the ONNX metadata."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str, source: str = "model") -> "ModelCard":
        """Parse a card written by to_json; raises ModelCardError naming the source when it is not one."""
        try:
            data = json.loads(text)
            data["classes"] = [FunctionalClass(**c) for c in data["classes"]]
            known = set(cls.__dataclass_fields__)
            card = cls(**{k: v for k, v in data.items() if k in known})
        except (ValueError, TypeError, KeyError) as exc:
            raise ModelCardError(f"{source}: the model card in the ONNX metadata cannot be read ({exc}).") from exc
        if card.card_format > CARD_FORMAT:
            raise ModelCardError(f"{source}: model card format {card.card_format} is newer than this plugin "
                                 f"understands ({CARD_FORMAT}); update the plugin.")
        return card

    @classmethod
    def from_metadata(cls, metadata: dict[str, str], source: str = "model") -> "ModelCard":
        """Read the card from an ONNX custom metadata map."""
        if METADATA_KEY not in metadata:
            raise ModelCardError(
                f"{source} has no CSAGF model card (metadata key '{METADATA_KEY}'). Export the model with "
                "csagf_plugin.training.export.export_onnx, which writes the card, or pick a CSAGF model file.")
        return cls.from_json(metadata[METADATA_KEY], source)


def normalise_vhr(vhr: np.ndarray, source_dtype: str, card: ModelCard, scale: float | None = None) -> np.ndarray:
    """Scale VHR digital numbers [B, H, W] (or [N, B, H, W]) to the model's input: divide by `scale` (default the
    card's for the dtype), standardise."""
    scale = card.vhr_scale.get(str(source_dtype), 1.0) if scale is None else scale
    x = vhr.astype(np.float32) / np.float32(scale)
    shape = (-1, 1, 1)
    mean = np.asarray(card.vhr_mean, dtype=np.float32).reshape(shape)
    std = np.asarray(card.vhr_std, dtype=np.float32).reshape(shape)
    return (x - mean) / std


def normalise_ntl(ntl: np.ndarray, card: ModelCard) -> np.ndarray:
    """Turn NTL radiance [B, H, W] (NaN where no data) into the model's input: fill, transform, standardise."""
    x = np.where(np.isfinite(ntl), ntl, np.float32(card.ntl_fill)).astype(np.float32)
    if card.ntl_transform == "log1p":
        x = np.log1p(np.clip(x, 0.0, None))
    elif card.ntl_transform != "none":
        raise ModelCardError(f"Unknown NTL transform '{card.ntl_transform}' in the model card (use log1p or none).")
    shape = (-1, 1, 1)
    mean = np.asarray(card.ntl_mean, dtype=np.float32).reshape(shape)
    std = np.asarray(card.ntl_std, dtype=np.float32).reshape(shape)
    return (x - mean) / std
