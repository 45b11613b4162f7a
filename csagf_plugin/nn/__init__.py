"""CSAGFNet and the baselines: torch modules only.  Start from create_model(name, ...)."""

from .factory import MODEL_NAMES, WIDTH_PRESETS, create_model
from .inputs import NetworkInputError

__all__ = ["MODEL_NAMES", "WIDTH_PRESETS", "NetworkInputError", "create_model"]
