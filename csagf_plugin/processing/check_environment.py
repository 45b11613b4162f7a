"""csagf:check_environment: versions, onnxruntime providers, why CUDA does or does not load, one tile timed."""

from __future__ import annotations

import os
import time
from typing import Any

from qgis.core import (
    QgsProcessingOutputString,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
)

from ..environment import doctor
from ..environment.location import dependency_folder, qgis_profile_dir
from .base import CsagfAlgorithm, FeedbackProgress
from .classify import DEFAULT_MODEL


def model_section(path: str) -> doctor.Section:
    """The model's opsets, whether onnxruntime loads it, and one tile of zeros timed on each device."""
    section = doctor.Section(f"Model {os.path.basename(path)}")
    try:
        opsets = doctor.model_opsets(path)
    except (OSError, ValueError, IndexError) as exc:
        section.lines.append(f"cannot read its operator sets: {exc}")
        opsets = {}
    if opsets:
        section.lines.append("ONNX opset " + ", ".join(f"{domain or 'ai.onnx'} {version}"
                                                        for domain, version in sorted(opsets.items())))
    try:
        import numpy as np
        import onnxruntime as ort

        from ..core.model import CUDA, load_model
    except ImportError as exc:
        section.lines.append(f"not run: {exc.name or exc} is missing (CSAGF > Install dependencies)")
        return section
    devices = ["cpu"] + (["cuda"] if CUDA in ort.get_available_providers() else [])
    for device in devices:
        notes: list[str] = []
        try:
            model = load_model(path, device=device, warn=notes.append)
        except Exception as exc:  # an opset this onnxruntime does not know ends up here, with its words
            section.lines.append(f"onnxruntime {ort.__version__} cannot load it on {device}: {exc}")
            continue
        if device == "cuda" and model.device != "cuda":
            section.lines.append("on cuda: the CUDA provider did not load, so the model would run on the CPU; "
                                 f"onnxruntime says: {doctor.cuda_load_error(path)}")
            continue
        card = model.card
        size = model.fixed_tile_size or card.tile_size
        vhr = np.zeros((1, len(card.vhr_bands), size, size), np.float32)
        ntl = np.zeros((1, len(card.ntl_bands), size, size), np.float32) if card.uses_ntl else None
        model.run(vhr, ntl)  # the first run allocates; the second is the one timed
        start = time.perf_counter()
        model.run(vhr, ntl)
        seconds = time.perf_counter() - start
        section.lines.append(f"one {size} x {size} tile on {device}: {seconds * 1000:.0f} ms "
                             f"(providers in use: {', '.join(model.providers)})")
        section.lines.extend(notes)
    return section


class CheckEnvironmentAlgorithm(CsagfAlgorithm):
    """Report what the plugin finds in QGIS's Python and whether the GPU is used."""

    MODEL = "MODEL"
    OUTPUT = "OUTPUT"
    REPORT = "REPORT"

    def name(self) -> str:
        return "check_environment"

    def displayName(self) -> str:  # noqa: N802
        return "Check environment (versions, GPU)"

    def shortHelpString(self) -> str:  # noqa: N802
        return ("Reports the versions of QGIS, Python, numpy, GDAL, rasterio, onnxruntime and torch, which "
                "onnxruntime execution providers load and, when CUDA does not, why (driver, CUDA and cuDNN "
                "libraries, the onnxruntime build), the model's ONNX operator set, and the time of one tile of "
                "the model on the CPU and, where it loads, the GPU. Paste the report into a bug report.")

    def initAlgorithm(self, config=None) -> None:  # noqa: N802
        self._add(QgsProcessingParameterFile(self.MODEL, "Model", extension="onnx", defaultValue=DEFAULT_MODEL,
                                             optional=True),
                  "The model whose operator set is checked and whose one tile is timed; default: the bundled one.")
        self._add(QgsProcessingParameterFileDestination(self.OUTPUT, "Report", fileFilter="Text files (*.txt)",
                                                        optional=True, createByDefault=False),
                  "Where the report is also written as text.", advanced=True)
        self.addOutput(QgsProcessingOutputString(self.REPORT, "Report"))

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        model = self.parameterAsFile(parameters, self.MODEL, context) or DEFAULT_MODEL
        sections = [doctor.versions(dependency_folder(qgis_profile_dir())), doctor.onnxruntime_providers(),
                    doctor.cuda_diagnosis()]
        progress.set_progress(50)
        sections.append(model_section(model))
        report = "\n".join(section.text() for section in sections)
        for line in report.splitlines():
            feedback.pushInfo(line)
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        if output:
            with open(output, "w", encoding="utf-8") as handle:
                handle.write(report + "\n")
        return {self.REPORT: report, self.OUTPUT: output or None}
