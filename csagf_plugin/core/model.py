"""An onnxruntime session for a CSAGF model, with the model card read from the ONNX metadata.

Device choice: "auto" uses the CUDA execution provider when a session with it really loads (checked with
`session.get_providers()`), else the CPU.  "cuda" when CUDA does not load is a recoverable problem: a warning
says so and the model runs on the CPU (STYLE.md habit 3: the run goes on).  onnxruntime is imported lazily.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from .errors import InputError, ModelCardError
from .model_card import ModelCard

DEVICES = ("auto", "cpu", "cuda")
MODELS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, os.pardir, "models")
# The model classify uses when none is given: full CSAGFNet with the ImageNet VHR encoder, trained on real Shanghai
# imagery and VIIRS (models/README.md).  The synthetic sample model classifies README's synthetic demo scene.
DEFAULT_MODEL = os.path.normpath(os.path.join(MODELS_DIR, "csagfnet_pudong.onnx"))
SAMPLE_MODEL = os.path.normpath(os.path.join(MODELS_DIR, "csagfnet_sample.onnx"))
CUDA = "CUDAExecutionProvider"
CPU = "CPUExecutionProvider"


@dataclass
class LoadedModel:
    """A model ready to run: its card, its onnxruntime session and the providers in use."""

    card: ModelCard  # the model card read from the ONNX metadata
    session: Any  # onnxruntime.InferenceSession
    providers: list[str]  # providers the session really uses, best first
    path: str  # the model file
    fixed_batch: int | None = None  # batch size the graph insists on, None when dynamic
    fixed_tile_size: int | None = None  # tile edge the graph insists on, None when dynamic
    warnings: list[str] = field(default_factory=list)  # recoverable problems met while loading

    @property
    def device(self) -> str:
        """"cuda" when the CUDA provider runs the model, else "cpu"."""
        return "cuda" if self.providers and self.providers[0] == CUDA else "cpu"

    def run(self, vhr: np.ndarray, ntl: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Run normalised inputs vhr [N, Bv, H, W] and ntl [N, Bn, H, W] (float32); return (logits, gate or None)."""
        card = self.card
        if card.uses_ntl and ntl is None:
            raise InputError(f"Model {self.path} needs a night-light input (model card inputs {card.input_names}).")
        if self.fixed_batch is not None and vhr.shape[0] != self.fixed_batch:
            return self._run_fixed_batch(vhr, ntl)
        return self._run_once(vhr, ntl)

    def _run_once(self, vhr: np.ndarray, ntl: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """One onnxruntime call."""
        feeds = {"vhr": np.ascontiguousarray(vhr, dtype=np.float32)}
        if self.card.uses_ntl:
            feeds["ntl"] = np.ascontiguousarray(ntl, dtype=np.float32)
        names = ["logits"] + (["gate"] if self.card.has_gate else [])
        outputs = self.session.run(names, feeds)
        return outputs[0], (outputs[1] if self.card.has_gate else None)

    def _run_fixed_batch(self, vhr: np.ndarray, ntl: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """Run in chunks of the graph's fixed batch size, padding the last chunk with zeros."""
        b = self.fixed_batch or 1
        logits, gates = [], []
        for start in range(0, vhr.shape[0], b):
            v = vhr[start:start + b]
            m = ntl[start:start + b] if ntl is not None else None
            real = v.shape[0]
            if real < b:
                v = np.concatenate([v, np.zeros((b - real,) + v.shape[1:], v.dtype)])
                if m is not None:
                    m = np.concatenate([m, np.zeros((b - real,) + m.shape[1:], m.dtype)])
            lo, ga = self._run_once(v, m)
            logits.append(lo[:real])
            if ga is not None:
                gates.append(ga[:real])
        return np.concatenate(logits), (np.concatenate(gates) if gates else None)


def load_model(path: str | os.PathLike, device: str = "auto", threads: int = 0,
               warn: Callable[[str], None] | None = None) -> LoadedModel:
    """Open an ONNX model with its model card on the requested device ("auto", "cpu" or "cuda").

    `threads` sets onnxruntime's intra-op threads on the CPU (0 = onnxruntime's default, all cores).  Recoverable
    problems (CUDA asked for but not loading) go to `warn` (default: warnings.warn) and are kept in `.warnings`.
    """
    import onnxruntime as ort

    path = os.fspath(path)
    if device not in DEVICES:
        raise InputError(f"Device '{device}' is unknown: pick one of {', '.join(DEVICES)}.")
    if not os.path.isfile(path):
        raise InputError(f"Model file {path} does not exist: pick a CSAGF .onnx model file.")
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        (warn or (lambda m: warnings.warn(m, stacklevel=3)))(message)

    options = ort.SessionOptions()
    options.intra_op_num_threads = max(0, int(threads))
    options.inter_op_num_threads = 1
    # onnxruntime's pool threads spin between ops by default, burning cores that the reader thread, other Dask
    # workers or the rest of the desktop need: on 2 shared cores classify ran 1.5-2x faster without spinning
    # (docs/scale.md); on an idle machine the wake-ups cost a few percent.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # a failed CUDA load is reported by us, not by onnxruntime's log
    wants_cuda = device in ("auto", "cuda")
    cuda_listed = CUDA in ort.get_available_providers()
    providers = [CUDA, CPU] if wants_cuda and cuda_listed else [CPU]
    if CUDA in providers and hasattr(ort, "preload_dlls"):  # onnxruntime >= 1.21
        try:  # CUDA and cuDNN from nvidia-* wheels (onnxruntime-gpu[cuda,cudnn], what the plugin's installer puts)
            ort.preload_dlls()
        except Exception:  # noqa: BLE001 (a failed preload only means the system's CUDA libraries are tried)
            pass
    if CUDA in providers:
        ort.set_default_logger_severity(4)  # a CUDA provider that fails to load is reported below, not logged
    try:
        session = ort.InferenceSession(path, sess_options=options, providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors for a file that is not ONNX
        raise InputError(f"Model file {path} cannot be loaded as an ONNX model ({_first_line(exc)}). "
                         "Pick a .onnx file exported by CSAGF training.") from exc
    finally:
        if CUDA in providers:
            ort.set_default_logger_severity(2)  # onnxruntime's default: warnings
    in_use = list(session.get_providers())
    if device == "cuda" and CUDA not in in_use:
        why = "onnxruntime has no CUDA provider" if not cuda_listed else "the CUDA provider did not load"
        note(f"Device 'cuda' was asked for but {why} (check the NVIDIA driver, CUDA and cuDNN libraries and the "
             "onnxruntime-gpu package); running on the CPU instead.")
    card = ModelCard.from_metadata(session.get_modelmeta().custom_metadata_map, source=f"Model file {path}")
    fixed_batch, fixed_tile = _check_graph(session, card, path)
    return LoadedModel(card=card, session=session, providers=in_use, path=path, fixed_batch=fixed_batch,
                       fixed_tile_size=fixed_tile, warnings=notes)


def _check_graph(session: Any, card: ModelCard, path: str) -> tuple[int | None, int | None]:
    """Check the graph's inputs and outputs against the card; return its fixed batch size and tile size if any."""
    inputs = {i.name: i for i in session.get_inputs()}
    outputs = {o.name for o in session.get_outputs()}
    missing_in = [n for n in card.input_names if n not in inputs]
    missing_out = [n for n in card.output_names if n not in outputs]
    if missing_in or missing_out or "vhr" not in card.input_names or "logits" not in card.output_names:
        raise ModelCardError(
            f"Model file {path}: its model card (inputs {card.input_names}, outputs {card.output_names}) does not "
            f"match the graph (inputs {sorted(inputs)}, outputs {sorted(outputs)}). Re-export the model.")
    shape = list(inputs["vhr"].shape)
    if len(shape) != 4:
        raise ModelCardError(f"Model file {path}: input 'vhr' must be [N, bands, H, W], the graph has {shape}.")
    bands = shape[1]
    if isinstance(bands, int) and bands != len(card.vhr_bands):
        raise ModelCardError(f"Model file {path}: input 'vhr' has {bands} bands but the model card lists "
                             f"{card.vhr_bands}. Re-export the model.")
    fixed_batch = shape[0] if isinstance(shape[0], int) and shape[0] > 0 else None
    h, w = shape[2], shape[3]
    fixed_tile = h if isinstance(h, int) and isinstance(w, int) and h == w and h > 0 else None
    if isinstance(h, int) and isinstance(w, int) and h != w:
        raise ModelCardError(f"Model file {path}: input 'vhr' has a fixed non-square size {h} x {w}; export it "
                             "with dynamic or square spatial axes.")
    return fixed_batch, fixed_tile


def _first_line(exc: BaseException) -> str:
    """The first line of an exception's message, for error texts."""
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
