"""The sampling design in a point layer's metadata: written by csagf:random_points, read by the assessment.

The layer metadata (Layer Properties > Metadata) carries `SamplingDesign.to_json()` as a keyword of the vocabulary
`csagf_sampling_design`, and its abstract says the same in words. A GeoPackage stores it inside the file; other
formats in a .qmd beside it; a memory layer in the project. The per-point fields (design, stratum,
stratum_pixels) carry the design too, for copies that lose the metadata.
"""

from __future__ import annotations

import os

from qgis.core import QgsProcessingUtils, QgsVectorLayer

from ..core.accuracy.design import METADATA_VOCABULARY, SamplingDesign


def _file_layer(path: str) -> QgsVectorLayer | None:
    """The OGR layer of a file with its |layername= part, which QGIS needs to store metadata in a GeoPackage."""
    try:
        from osgeo import ogr
    except ImportError:
        return None
    dataset = ogr.Open(path)
    if dataset is None or dataset.GetLayerCount() == 0:
        return None
    name = dataset.GetLayer(0).GetName()
    dataset = None
    layer = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
    return layer if layer.isValid() else None


def write_design(dest_id: str, design: SamplingDesign, context) -> str | None:
    """Record `design` in the metadata of the output layer `dest_id`; a message when it could not be stored."""
    layers = []
    if os.path.exists(dest_id.split("|", 1)[0]):
        layer = _file_layer(dest_id.split("|", 1)[0])
        if layer is None:
            return f"the sampling design could not be stored in the metadata of {dest_id} (the fields still carry it)."
        layers.append(layer)
    loaded = QgsProcessingUtils.mapLayerFromString(dest_id, context)
    if isinstance(loaded, QgsVectorLayer):
        layers.append(loaded)
    for layer in layers:
        metadata = layer.metadata()
        keywords = metadata.keywords()
        keywords[METADATA_VOCABULARY] = [design.to_json()]
        metadata.setKeywords(keywords)
        metadata.setAbstract(f"Sample points for an accuracy assessment: {design.describe()}.")
        layer.setMetadata(metadata)
    if layers and layers[0].providerType() == "ogr":
        message, ok = layers[0].saveDefaultMetadata()
        if not ok:
            return f"the sampling design could not be stored in the layer metadata ({message}); the fields carry it."
    return None


def read_design(layer) -> SamplingDesign | None:
    """The design recorded in a layer's metadata, or None when it has none."""
    if not isinstance(layer, QgsVectorLayer):
        return None
    values = layer.metadata().keywords().get(METADATA_VOCABULARY) or []
    return SamplingDesign.from_json(values[0]) if values else None
