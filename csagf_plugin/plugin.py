"""Adds and removes the CSAGF Processing provider and the menu entries; puts the plugin's packages on sys.path."""

from __future__ import annotations

from qgis.core import QgsApplication


def activate_dependencies() -> str | None:
    """Put the plugin-private package folder of this QGIS profile on sys.path (see environment/location.py)."""
    from .environment.location import activate, dependency_folder, qgis_profile_dir

    return activate(dependency_folder(qgis_profile_dir()))


class CsagfPlugin:
    """The object QGIS holds for this plugin."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider = None
        self.actions: list = []
        activate_dependencies()  # before any algorithm imports rasterio or onnxruntime; qgis_process too

    def initProcessing(self) -> None:  # noqa: N802 (QGIS calls this name)
        """Register the Processing provider (also called by qgis_process)."""
        if self.provider is not None:
            return
        from .processing.provider import CsagfProvider

        self.provider = CsagfProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802
        """Register the provider, add the menu entries, and offer the installer when packages are missing."""
        self.initProcessing()
        if self.iface is None:
            return
        from .gui.menu import add_menu_entries, offer_install_if_missing

        self.actions = add_menu_entries(self.iface)
        offer_install_if_missing(self.iface)

    def unload(self) -> None:
        """Remove everything initGui added."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.actions and self.iface is not None:
            from .gui.menu import remove_menu_entries

            remove_menu_entries(self.iface, self.actions)
            self.actions = []
