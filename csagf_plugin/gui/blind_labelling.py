"""Blind labelling: the classified map stays off the canvas while points are labelled, and comes back after.

An interpreter who sees the map's class while labelling copies it (Olofsson et al. 2014 ask for reference labels
made independently of the map). The map layer is unticked in the layer tree (which drives QGIS's canvas) and left
out of the canvas's own layer list (a canvas without a layer-tree bridge, as in tests); both are restored exactly.
"""

from __future__ import annotations

from qgis.core import QgsMapLayer, QgsProject, QgsRasterLayer


def is_class_map(layer) -> bool:
    """A raster drawn with a palette (a class map), not a continuous image."""
    if not isinstance(layer, QgsRasterLayer) or not layer.isValid() or layer.bandCount() != 1:
        return False
    renderer = layer.renderer()
    return renderer is not None and renderer.type() == "paletted"


def default_map_layer(project: QgsProject) -> QgsRasterLayer | None:
    """The map to assess by default: the first paletted raster of the project's layer order, None if there is none."""
    root = project.layerTreeRoot()
    layers = [node.layer() for node in root.findLayers()] or list(project.mapLayers().values())
    return next((layer for layer in layers if is_class_map(layer)), None)


class BlindLabelling:
    """Hides one map layer from the canvas and gives it back as it was."""

    def __init__(self, canvas) -> None:
        self.canvas = canvas
        self.layer_id: str | None = None
        self.was_ticked = False
        self.canvas_position: int | None = None  # where the layer was in a canvas not driven by the layer tree

    @property
    def active(self) -> bool:
        return self.layer_id is not None

    def _canvas_ids(self) -> list[str]:
        return [layer.id() for layer in self.canvas.layers()]

    def hide(self, layer: QgsMapLayer | None) -> None:
        """Take `layer` off the canvas (restoring any layer hidden before)."""
        if layer is not None and layer.id() == self.layer_id:
            return
        self.restore()
        if layer is None:
            return
        self.layer_id = layer.id()
        node = QgsProject.instance().layerTreeRoot().findLayer(layer.id())
        self.was_ticked = bool(node is not None and node.itemVisibilityChecked())
        if node is not None:
            node.setItemVisibilityChecked(False)
        ids = self._canvas_ids()
        if layer.id() in ids:  # still drawn: this canvas does not follow the layer tree
            self.canvas_position = ids.index(layer.id())
            self.canvas.setLayers([item for item in self.canvas.layers() if item.id() != layer.id()])
        self.canvas.refresh()

    def restore(self) -> None:
        """Put the hidden layer back as it was (ticked, and at its place on the canvas if it was removed there)."""
        if self.layer_id is None:
            return
        project = QgsProject.instance()
        node = project.layerTreeRoot().findLayer(self.layer_id)
        if node is not None and self.was_ticked:
            node.setItemVisibilityChecked(True)
        layer = project.mapLayer(self.layer_id)
        if self.canvas_position is not None and layer is not None and self.layer_id not in self._canvas_ids():
            layers = list(self.canvas.layers())
            layers.insert(min(self.canvas_position, len(layers)), layer)
            self.canvas.setLayers(layers)
        self.layer_id, self.was_ticked, self.canvas_position = None, False, None
        self.canvas.refresh()
