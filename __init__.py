"""QGIS plugin entry point: QGIS calls classFactory; nothing heavy is imported here."""


def classFactory(iface):  # noqa: N802 (QGIS's name)
    """Create the plugin object for QGIS."""
    from .csagf_plugin.plugin import CsagfPlugin

    return CsagfPlugin(iface)
