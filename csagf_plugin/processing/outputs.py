"""Safe outputs for the QGIS layer: the file behind a layer, and feature sinks written in a temporary folder and
moved into place only when every feature is in (core/safe_output.py does the same for rasters and files)."""

from __future__ import annotations

import os
import re
import shutil
from typing import Any, Callable

from qgis.core import QgsProcessingException, QgsProcessingUtils

from ..core.output_checks import check_output_folder, check_outputs
from ..core.safe_output import atomic_outputs, commit_folder, discard, temp_folder

_OGR_URI = re.compile(r"^ogr:dbname='(?P<path>.*?)'")  # a table added to an existing GeoPackage
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+]+:(?![\\/])")  # memory:, postgres:..., but not C:\ or C:/


def layer_file(layer: Any) -> str | None:
    """The file a layer (or a feature source's layer) reads, without its "|layername=..." part; None for none."""
    if layer is None:
        return None
    source = layer.source() if hasattr(layer, "source") else str(layer)
    path = source.split("|", 1)[0]
    return path if path and os.path.exists(path) else None


def source_file(alg: Any, parameters: dict, key: str, context) -> str | None:
    """The file behind a feature-source or layer parameter (None for memory layers and databases)."""
    value = parameters.get(key)
    if hasattr(value, "source"):  # QgsProcessingFeatureSourceDefinition
        value = value.source.staticValue() if hasattr(value.source, "staticValue") else value.source
    if isinstance(value, str) and os.path.exists(value.split("|", 1)[0]):
        return value.split("|", 1)[0]
    layer = QgsProcessingUtils.mapLayerFromString(str(value), context) if value else None
    return layer_file(layer)


class AtomicSink:
    """A feature sink whose file appears only when `finish` is called; an error or a kill leaves nothing.

    Plain file destinations (x.gpkg, x.shp, x.geojson, ...) are written in a hidden temporary folder beside them;
    destinations QGIS manages itself (memory:, a table added to an existing GeoPackage, databases) are written
    directly, after the same check that they are none of the inputs.
    """

    def __init__(self, alg: Any, parameters: dict, key: str, context, fields, wkb_type, crs,
                 inputs: dict[str, str | None], role: str, warn=None) -> None:
        destination = alg.parameterAsOutputLayer(parameters, key, context)
        match = _OGR_URI.match(destination or "")
        path = match["path"] if match else destination
        self.final = self.temp = None
        if path and not _SCHEME.match(path):  # a file, not memory: or a database
            check_outputs({role: path}, inputs, warn)
            if not match:
                self.final = path
                self.temp = temp_folder(path)  # the file keeps its name inside: a GeoPackage names its layer so
        sink_parameters = dict(parameters)
        if self.temp:
            sink_parameters[key] = os.path.join(self.temp, os.path.basename(self.final))
        self.sink, self.dest_id = alg.parameterAsSink(sink_parameters, key, context, fields, wkb_type, crs)
        if self.sink is None:
            self.abort()
            raise QgsProcessingException(alg.invalidSinkError(parameters, key))
        self.context = context
        self.details = None
        if self.temp and context.willLoadLayerOnCompletion(self.dest_id):
            self.details = context.layerToLoadOnCompletionDetails(self.dest_id)
            layers = context.layersToLoadOnCompletion()
            layers.pop(self.dest_id, None)
            context.setLayersToLoadOnCompletion(layers)

    def finish(self) -> str:
        """Close the sink and move its file into place; returns the output's id for the results dict."""
        self.sink = None  # the writer closes when its last reference goes
        if not self.temp:
            return self.dest_id
        commit_folder(self.temp, self.final)
        if self.details is not None:
            self.context.addLayerToLoadOnCompletion(self.final, self.details)
        return self.final

    def abort(self) -> None:
        """Close the sink and remove its temporary file."""
        self.sink = None
        if self.temp:
            discard(self.temp)


def write_report(write: Callable[[str], Any], html_path: str, json_path: str | None, folder: str,
                 inputs: dict[str, str | None], warn=None) -> None:
    """Write a report (HTML, optional JSON, tables in `folder`) all at once: `write(work_folder)` makes the files
    (returns core.accuracy.report.ReportFiles) in a hidden folder, then they are moved into place together; an
    error or a kill leaves none of them and never an input overwritten."""
    check_outputs({"HTML report": html_path, "JSON file": json_path}, inputs, warn)
    check_output_folder(folder, "folder for the tables", inputs, warn)
    work = temp_folder(html_path)
    try:
        files = write(work)
        tables = [path for path in files.all_paths() if path != files.html]
        sources = [files.html] + ([files.json] if json_path else []) + tables
        finals = [html_path] + ([json_path] if json_path else []) + [
            os.path.join(folder, os.path.basename(path)) for path in tables]
        with atomic_outputs(finals, "accuracy report") as temps:
            for source, temp in zip(sources, temps):
                shutil.copyfile(source, temp)
    finally:
        discard(work)
