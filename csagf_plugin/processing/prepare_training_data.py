"""csagf:prepare_training_data: VHR + NTL + labels cut into a tile store for csagf:train."""

from __future__ import annotations

from typing import Any

from qgis.core import QgsProcessingOutputNumber, QgsProcessingParameterFileDestination

from . import training_inputs as inputs
from .base import CsagfAlgorithm, FeedbackProgress


class PrepareTrainingDataAlgorithm(CsagfAlgorithm):
    """Cut training tiles (VHR, NTL warped onto each tile, labels) into one .npz tile store."""

    OUTPUT = "OUTPUT"
    NUM_TILES = "NUM_TILES"

    def name(self) -> str:
        return "prepare_training_data"

    def displayName(self) -> str:  # noqa: N802
        return "Prepare training data"

    def shortHelpString(self) -> str:  # noqa: N802
        return ("Cuts VHR rasters, a night-light raster and land-use labels (a class raster or polygons with a "
                "mapping) into training tiles by a sliding window, with the night light warped onto each tile "
                "exactly as classification does. The tile store feeds 'Train a CSAGF model'.")

    def initAlgorithm(self, config=None) -> None:  # noqa: N802
        inputs.add_training_data_parameters(self)
        self._add(QgsProcessingParameterFileDestination(self.OUTPUT, "Tile store", "Tile stores (*.npz)"),
                  "The tiles and their class statistics, as a compressed NumPy archive.")
        self.addOutput(QgsProcessingOutputNumber(self.NUM_TILES, "Number of tiles"))

    def run_algorithm(self, parameters: dict, context, feedback, progress: FeedbackProgress) -> dict[str, Any]:
        from ..training.outputs import check_prepare_outputs
        from ..training.tiles import prepare_tiles

        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        config = inputs.prepare_config(self, parameters, context, output)
        check_prepare_outputs(config, progress.warn)
        store = prepare_tiles(config, progress, progress.warn)
        feedback.pushInfo(f"{store.num_tiles} tiles of {store.tile_size} px written to {output}.")
        return {self.OUTPUT: output, self.NUM_TILES: store.num_tiles}
