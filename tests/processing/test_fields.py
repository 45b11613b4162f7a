"""Attribute fields typed the way this QGIS wants (QVariant.Type before 3.38, QMetaType.Type after, Qt6-ready)."""

from __future__ import annotations

from qgis.core import QgsVectorLayer

from csagf_plugin.processing.fields import METATYPE_FIELDS, field_type, make_field


def test_fields_keep_their_kind_in_a_layer():
    layer = QgsVectorLayer("Point?crs=EPSG:4326", "points", "memory")
    layer.dataProvider().addAttributes([make_field("n", "int"), make_field("share", "double"),
                                        make_field("name", "string", 80)])
    layer.updateFields()
    fields = layer.fields()
    assert fields.field("n").isNumeric() and fields.field("share").isNumeric()
    assert fields.field("n").typeName().lower().startswith("int")
    assert fields.field("share").typeName().lower() in {"double", "real"}
    assert fields.field("name").typeName().lower() == "string"
    assert fields.field("name").length() == 80


def test_type_matches_the_qgis_version():
    from qgis.PyQt.QtCore import QMetaType, QVariant

    expected = QMetaType.Type.Int if METATYPE_FIELDS else QVariant.Int
    assert field_type("int") == expected
