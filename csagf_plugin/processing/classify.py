"""csagf:classify: a VHR raster and a night-light raster in, a styled functional-zone map out."""

from __future__ import annotations

import os
from typing import Any

from qgis.core import (
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterDestination,
    QgsProcessingParameterRasterLayer,
)

from ..core.model import DEFAULT_MODEL, DEVICES  # the enum passes an index into DEVICES
from .base import CsagfAlgorithm, FeedbackProgress

VHR_SCALE_LABELS = ("auto", "card", "given")  # the enum passes an index into these


class ApplyQml(QgsProcessingLayerPostProcessorInterface):
    """Applies the QML written beside the output so the legend shows the class names and colours."""

    def __init__(self, qml_path: str) -> None:
        super().__init__()
        self.qml_path = qml_path

    def postProcessLayer(self, layer, context, feedback) -> None:  # noqa: N802
        if layer is not None and os.path.exists(self.qml_path):
            layer.loadNamedStyle(self.qml_path)
            layer.triggerRepaint()


class ClassifyAlgorithm(CsagfAlgorithm):
    """Classify urban functional zones with a CSAGF model."""

    VHR = "VHR"
    NTL = "NTL"
    MODEL = "MODEL"
    TILE_SIZE = "TILE_SIZE"
    OVERLAP = "OVERLAP"
    BATCH_SIZE = "BATCH_SIZE"
    DEVICE = "DEVICE"
    THREADS = "THREADS"
    WORKERS = "WORKERS"
    VHR_SCALE = "VHR_SCALE"
    VHR_PIXEL_SIZE = "VHR_PIXEL_SIZE"
    VHR_SCALE_VALUE = "VHR_SCALE_VALUE"
    OUTPUT = "OUTPUT"
    CONFIDENCE = "CONFIDENCE"
    GATE = "GATE"

    _post_processors: dict[str, ApplyQml] = {}

    def name(self) -> str:
        return "classify"

    def displayName(self) -> str:  # noqa: N802
        return "Classify urban functional zones"

    def shortHelpString(self) -> str:  # noqa: N802
        return ("Maps residential, commercial, industrial, green space, streets and transportation, water and "
                "non-developed land from a very-high-resolution daytime raster and a night-time light raster with "
                "a CSAGFNet model (ONNX). The two rasters may have different CRS, resolution and extent: the night "
                "light is warped onto the VHR grid tile by tile. The output is on the VHR grid, class 0 = no data.")

    def initAlgorithm(self, config=None) -> None:  # noqa: N802
        self._add(QgsProcessingParameterRasterLayer(self.VHR, "VHR daytime image (RGB or RGBA)"),
                  "Very-high-resolution daytime raster. Band order as the model card says (red, green, blue); "
                  "a 4th band is used as alpha (0 = no data).")
        self._add(QgsProcessingParameterRasterLayer(self.NTL, "Night-time light raster"),
                  "Night-time light radiance (e.g. VIIRS DNB or SDGSAT-1), any CRS and resolution covering the VHR.")
        self._add(QgsProcessingParameterFile(self.MODEL, "Model (ONNX with a CSAGF model card)",
                                             extension="onnx", defaultValue=DEFAULT_MODEL, optional=True),
                  "An ONNX model exported by CSAGF training. Empty: the bundled real-data model csagfnet_pudong "
                  "(full CSAGFNet with an ImageNet-pretrained VHR encoder, trained on Google Earth imagery of "
                  "Shanghai Pudong at about 0.85 m with VIIRS night light; other pixel sizes are resampled to it; "
                  "see models/README.md). models/csagfnet_sample.onnx is for the synthetic demo city.")
        self._add(QgsProcessingParameterNumber(self.TILE_SIZE, "Tile size in pixels (0 = model's)",
                                               QgsProcessingParameterNumber.Integer, 0, False, 0, 4096),
                  "Edge of the square tiles fed to the model, a multiple of 32. 0 uses the model card's.",
                  advanced=True)
        self._add(QgsProcessingParameterNumber(self.OVERLAP, "Tile overlap in pixels (-1 = model's)",
                                               QgsProcessingParameterNumber.Integer, -1, False, -1, 2048),
                  "Overlap between neighbouring tiles, blended smoothly so no seams appear. -1 uses the model "
                  "card's recommendation.", advanced=True)
        self._add(QgsProcessingParameterNumber(self.BATCH_SIZE, "Batch size",
                                               QgsProcessingParameterNumber.Integer, 4, False, 1, 256),
                  "Tiles run through the model at once; lower it if memory runs out.", advanced=True)
        self._add(QgsProcessingParameterEnum(self.DEVICE, "Device", options=list(DEVICES), defaultValue=0),
                  "auto uses the GPU (onnxruntime CUDA provider) when it loads, else the CPU.", advanced=True)
        self._add(QgsProcessingParameterNumber(self.THREADS, "CPU threads (0 = all)",
                                               QgsProcessingParameterNumber.Integer, 0, False, 0, 256),
                  "Threads onnxruntime uses on the CPU.", advanced=True)
        self._add(QgsProcessingParameterNumber(self.WORKERS, "Worker processes (Dask; 0 or 1 = this process)",
                                               QgsProcessingParameterNumber.Integer, 0, True, 0, 256),
                  "2 or more: classify on a Dask LocalCluster of that many worker processes, each with one "
                  "onnxruntime session (CPU threads above per worker, 0 = cores / workers), block by block; the "
                  "map is the same as in one process, written as a Cloud Optimized GeoTIFF. Needs the "
                  "dask[distributed] package.", advanced=True)
        self._add(QgsProcessingParameterEnum(self.VHR_SCALE, "VHR scale", options=list(VHR_SCALE_LABELS),
                                             defaultValue=0, optional=True),
                  "What the VHR values are divided by to bring them to the 0..1 the model was trained on. auto: the "
                  "model card's divisor while it brings a sample's mean near the training VHR's (the card records "
                  "it), else the one of 1, 255, 2047, 4095, 10000 and 65535 that does (e.g. 10000 for uint16 "
                  "reflectance given to a model trained on 8-bit images), with a warning; card: the model card's "
                  "divisor for the raster's data type; given: the number below. An all-no-data VHR is refused.",
                  advanced=True)
        self._add(QgsProcessingParameterNumber(self.VHR_SCALE_VALUE, "VHR scale value (with 'given')",
                                               QgsProcessingParameterNumber.Double, 255.0, True, 1e-6, 1e9),
                  "Divisor of the VHR values when the VHR scale is 'given', e.g. 4095 for 12-bit data.",
                  advanced=True)
        self._add(QgsProcessingParameterNumber(self.VHR_PIXEL_SIZE, "Predict at pixel size in m (-1 = model's, 0 = "
                                               "as the VHR is)", QgsProcessingParameterNumber.Double, -1.0, True,
                                               -1.0, 100.0),
                  "The VHR is resampled on the fly to this ground pixel size before the model sees it, and the map "
                  "is written on the VHR's own grid. -1 (default) uses the pixel size the model was trained at (its "
                  "card), so 0.3 m drone mosaics and 2 m satellite images show objects at the size the model knows; "
                  "0 feeds the VHR as it is (a warning says when that is far from the model's). Range -1 to 100.",
                  advanced=True)
        self._add(QgsProcessingParameterRasterDestination(self.OUTPUT, "Functional zones"),
                  "Output GeoTIFF of class ids with a colour table and class names; styled with a legend.")
        self._add(QgsProcessingParameterRasterDestination(self.CONFIDENCE, "Confidence (max class probability)",
                                                          optional=True, createByDefault=False),
                  "Optional float32 raster of the winning class's probability.")
        self._add(QgsProcessingParameterRasterDestination(self.GATE, "Gate map (VHR weight of the fusion)",
                                                          optional=True, createByDefault=False),
                  "Optional float32 raster of the gated-fusion weight G: near 1 where the VHR drove the decision, "
                  "near 0 where night light did. Only full CSAGFNet models have it.")

    def _pixel_size(self, parameters: dict, context) -> float | None:
        """The VHR_PIXEL_SIZE parameter as ClassifyConfig wants it: None for the model's, 0 for as it is."""
        value = self.parameterAsDouble(parameters, self.VHR_PIXEL_SIZE, context)
        return None if value < 0 else value

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        from ..core.classify import ClassifyConfig, classify_scene
        from ..core.style import write_style_for_raster

        vhr = self.parameterAsRasterLayer(parameters, self.VHR, context)
        ntl = self.parameterAsRasterLayer(parameters, self.NTL, context)
        overlap = self.parameterAsInt(parameters, self.OVERLAP, context)
        tile_size = self.parameterAsInt(parameters, self.TILE_SIZE, context)
        confidence = self.parameterAsOutputLayer(parameters, self.CONFIDENCE, context) or None
        gate = self.parameterAsOutputLayer(parameters, self.GATE, context) or None
        config = ClassifyConfig(
            vhr_path=vhr.source(),
            ntl_path=ntl.source(),
            model_path=self.parameterAsFile(parameters, self.MODEL, context) or DEFAULT_MODEL,
            output_path=self.parameterAsOutputLayer(parameters, self.OUTPUT, context),
            confidence_path=confidence,
            gate_path=gate,
            tile_size=tile_size or None,
            overlap=None if overlap < 0 else overlap,
            batch_size=self.parameterAsInt(parameters, self.BATCH_SIZE, context),
            device=DEVICES[self.parameterAsEnum(parameters, self.DEVICE, context)],
            threads=self.parameterAsInt(parameters, self.THREADS, context),
            vhr_scale=self._vhr_scale(parameters, context),
            vhr_pixel_size_m=self._pixel_size(parameters, context),
        )
        workers = self.parameterAsInt(parameters, self.WORKERS, context)
        if workers >= 2:
            from ..scale.blocks import classify_on_dask
            from ..scale.cluster import ClusterConfig

            _python_for_workers()
            result = classify_on_dask(config, ClusterConfig(workers=workers, threads=config.threads), progress,
                                      progress.warn)
        else:
            result = classify_scene(config, progress=progress, warn=progress.warn)
        qml = write_style_for_raster(result.output_path, result.classes)
        feedback.pushInfo(f"Ran on {result.device} ({', '.join(result.providers)}).")
        if context.willLoadLayerOnCompletion(result.output_path):
            processor = ApplyQml(qml)
            # QGIS holds only a C++ pointer: keep the Python object alive (one small object per output path).
            ClassifyAlgorithm._post_processors[qml] = processor
            context.layerToLoadOnCompletionDetails(result.output_path).setPostProcessor(processor)
        outputs = {self.OUTPUT: result.output_path}
        if confidence:
            outputs[self.CONFIDENCE] = confidence
        if gate and result.gate_path:
            outputs[self.GATE] = result.gate_path
        return outputs

    def _vhr_scale(self, parameters: dict, context) -> str | float:
        """"auto", "card" or the given divisor."""
        mode = VHR_SCALE_LABELS[self.parameterAsEnum(parameters, self.VHR_SCALE, context)]
        return self.parameterAsDouble(parameters, self.VHR_SCALE_VALUE, context) if mode == "given" else mode


def _python_for_workers() -> None:
    """Dask starts its workers with multiprocessing, which runs sys.executable: inside QGIS that is the QGIS
    program, or (qgis_process) whatever `python3` comes first on PATH, maybe another Python whose standard
    library does not match QGIS's.  Point multiprocessing at QGIS's own Python interpreter."""
    import multiprocessing
    import sys

    from ..core.errors import InputError
    from ..environment.location import find_qgis_python

    python = find_qgis_python()
    if python is None:
        raise InputError(f"QGIS's Python interpreter was not found beside {sys.executable}, so no Dask workers can "
                         "start: set Worker processes to 0 to classify in this process.")
    multiprocessing.set_executable(python)
