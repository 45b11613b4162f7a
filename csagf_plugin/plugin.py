"""Adds and removes the CSAGF Processing provider and the accuracy dialog's menu entry."""

from __future__ import annotations

from qgis.core import QgsApplication


class CsagfPlugin:
    """The object QGIS holds for this plugin."""

    def __init__(self, iface) -> None:
        self.iface = iface
        self.provider = None
        self.action = None

    def initProcessing(self) -> None:  # noqa: N802 (QGIS calls this name)
        """Register the Processing provider (also called by qgis_process)."""
        from .processing.provider import CsagfProvider

        self.provider = CsagfProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self) -> None:  # noqa: N802
        """Register the provider and add the menu entry of the accuracy dialog."""
        self.initProcessing()
        if self.iface is None:
            return
        try:
            from .gui.menu import add_menu_entry
        except ImportError:  # the dialog is optional for Processing use
            return
        self.action = add_menu_entry(self.iface)

    def unload(self) -> None:
        """Remove everything initGui added."""
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
        if self.action is not None and self.iface is not None:
            from .gui.menu import remove_menu_entry

            remove_menu_entry(self.iface, self.action)
            self.action = None
