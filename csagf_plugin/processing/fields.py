"""Attribute fields that QGIS 3.22 and QGIS 4 (Qt6) both accept.

QGIS up to 3.36 types a QgsField with QVariant.Type; QGIS 3.38 added QMetaType.Type and QGIS 4 (PyQt6) has no
QVariant.Type at all, so the type is chosen by the QGIS version here, in one place.
"""

from __future__ import annotations

from qgis.core import Qgis, QgsField

# kind -> (QMetaType.Type member, QVariant member)
_TYPES = {"int": ("Int", "Int"), "double": ("Double", "Double"), "string": ("QString", "String")}
METATYPE_FIELDS = Qgis.QGIS_VERSION_INT >= 33800


def field_type(kind: str):
    """The QgsField type for 'int', 'double' or 'string' in this QGIS."""
    metatype, variant = _TYPES[kind]
    if METATYPE_FIELDS:
        from qgis.PyQt.QtCore import QMetaType

        return getattr(QMetaType.Type, metatype)
    from qgis.PyQt.QtCore import QVariant

    return getattr(QVariant, variant)


def make_field(name: str, kind: str, length: int = 0) -> QgsField:
    """A QgsField of the given kind ('int', 'double', 'string'), with a length for strings."""
    return QgsField(name, field_type(kind), len=length)
