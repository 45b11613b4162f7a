"""Raster > CSAGF: the installer and environment-check entries, and the first-run offer to install."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.usefixtures("csagf_provider")


def test_menu_has_the_dock_the_installer_and_the_check(qgis_iface, monkeypatch):
    from csagf_plugin.gui import menu

    opened = []
    monkeypatch.setattr(menu, "open_algorithm_dialog", opened.append)
    actions = menu.add_menu_entries(qgis_iface)
    try:
        assert [a.text() for a in actions] == [menu.ACTION_TEXT, menu.INSTALL_TEXT, menu.CHECK_TEXT]
        actions[1].trigger()
        actions[2].trigger()
        assert opened == ["csagf:install_dependencies", "csagf:check_environment"]
    finally:
        menu.remove_menu_entries(qgis_iface, actions)


def test_missing_packages_are_offered_until_they_are_installed(qgis_iface, monkeypatch):
    from qgis.PyQt.QtWidgets import QPushButton

    from csagf_plugin.environment import check
    from csagf_plugin.gui import menu

    bar = qgis_iface.messageBar()
    bar.clearWidgets()
    assert menu.offer_install_if_missing(qgis_iface) == []  # this venv has everything
    assert bar.currentItem() is None

    real_status = check.package_status
    monkeypatch.setattr(check, "package_status", lambda r: check.PackageStatus(r, None, False, False)
                        if r.name == "rasterio" else real_status(r))
    opened = []
    monkeypatch.setattr(menu, "open_algorithm_dialog", opened.append)
    assert menu.offer_install_if_missing(qgis_iface) == ["rasterio"]
    item = bar.currentItem()
    assert item is not None and "rasterio" in item.text()
    item.findChild(QPushButton, "csagfOfferInstall").click()
    assert opened == ["csagf:install_dependencies"]
    assert bar.currentItem() is item  # still missing: the offer stays

    from qgis.core import QgsApplication

    monkeypatch.setattr(check, "package_status", real_status)  # installed meanwhile, e.g. from the toolbox
    QgsApplication.taskManager().allTasksFinished.emit()
    assert bar.currentItem() is None
