"""Parameters shared by csagf:prepare_training_data and csagf:train: VHR rasters, labels, NTL, tiling."""

from __future__ import annotations

from qgis.core import (
    QgsProcessing,
    QgsProcessingParameterField,
    QgsProcessingParameterFile,
    QgsProcessingParameterMapLayer,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterNumber,
    QgsProcessingParameterRasterLayer,
    QgsRasterLayer,
)

from .base import CsagfAlgorithm

VHR = "VHR"
LABELS = "LABELS"
CLASS_FIELD = "CLASS_FIELD"
MAPPING = "MAPPING"
NTL = "NTL"
TILE_SIZE = "TILE_SIZE"
STRIDE = "STRIDE"
MIN_LABELLED = "MIN_LABELLED"


def add_training_data_parameters(alg: CsagfAlgorithm, optional: bool = False) -> None:
    """Declare the training-data parameters on `alg`; `optional` when a tile store can replace the rasters (their
    names then say so, since QGIS's "[optional]" alone reads as if training needed no data)."""
    unless = " (unless a tile store is given)" if optional else ""
    alg._add(QgsProcessingParameterMultipleLayers(VHR, "VHR daytime raster(s)" + unless, QgsProcessing.TypeRaster,
                                                  optional=optional),
             "One or more VHR rasters; each is cut into tiles with the labels under it.")
    alg._add(QgsProcessingParameterMapLayer(LABELS, "Labels (raster of class ids or polygon layer)" + unless,
                                            optional=optional),
             "A raster of class ids 1-7 (0 = unlabelled), or polygons with a land-use field (OpenStreetMap extract, "
             "planning map, parcel layer) rasterised onto each VHR grid through the class mapping.")
    alg._add(QgsProcessingParameterField(CLASS_FIELD, "Land-use field of the polygons", parentLayerParameterName=LABELS,
                                         optional=True),
             "Field holding the land use or the class id. Empty for OpenStreetMap layers (tags are read).")
    alg._add(QgsProcessingParameterFile(MAPPING, "Class mapping (CSV or JSON)", optional=True,
                                        fileFilter="Mappings (*.csv *.json)"),
             "Table from field values (or OSM key=value tags) to classes 1-7. Empty: the bundled OpenStreetMap "
             "mapping for polygons, class ids as they are for rasters. Unmapped values are ignored with a warning.")
    alg._add(QgsProcessingParameterRasterLayer(NTL, "Night-time light raster" + unless, optional=optional),
             "Night-light radiance in any CRS and resolution; warped onto each tile as inference does.")
    alg._add(QgsProcessingParameterNumber(TILE_SIZE, "Tile size in pixels", QgsProcessingParameterNumber.Integer,
                                          256, False, 64, 2048),
             "Edge of the training tiles, a multiple of 32 (paper: 256).", advanced=True)
    alg._add(QgsProcessingParameterNumber(STRIDE, "Stride in pixels (0 = tile size)",
                                          QgsProcessingParameterNumber.Integer, 0, False, 0, 2048),
             "Step of the sliding window; smaller than the tile size makes overlapping tiles.", advanced=True)
    alg._add(QgsProcessingParameterNumber(MIN_LABELLED, "Minimum labelled share of a tile",
                                          QgsProcessingParameterNumber.Double, 0.1, False, 0.0, 1.0),
             "Tiles with a smaller share of labelled pixels are dropped.", advanced=True)


def layer_path(layer) -> tuple[str, str | None]:
    """File path of a layer and, for a layer inside a multi-layer file (GPKG, OSM), its layer name."""
    source = layer.source()
    if isinstance(layer, QgsRasterLayer):
        return source, None
    path, _, rest = source.partition("|")
    name = None
    for part in rest.split("|"):
        if part.startswith("layername="):
            name = part.split("=", 1)[1]
    return path, name


def prepare_config(alg: CsagfAlgorithm, parameters: dict, context, output: str | None):
    """Build core training's PrepareConfig from the parameters."""
    from ..training.tiles import PrepareConfig, SceneSource

    labels_path, labels_layer = layer_path(alg.parameterAsLayer(parameters, LABELS, context))
    class_field = alg.parameterAsString(parameters, CLASS_FIELD, context) or None
    scenes = [SceneSource(layer.source(), labels_path, labels_layer, class_field)
              for layer in alg.parameterAsLayerList(parameters, VHR, context)]
    tile_size = alg.parameterAsInt(parameters, TILE_SIZE, context)
    return PrepareConfig(
        scenes=scenes,
        ntl=alg.parameterAsRasterLayer(parameters, NTL, context).source(),
        mapping=alg.parameterAsFile(parameters, MAPPING, context) or None,
        tile_size=tile_size,
        stride=alg.parameterAsInt(parameters, STRIDE, context) or tile_size,
        min_labelled=alg.parameterAsDouble(parameters, MIN_LABELLED, context),
        output=output,
    )
