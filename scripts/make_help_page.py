"""Rewrite resources/help/index.html from the algorithms' help texts: `. scripts/env.sh; .venv/bin/python scripts/make_help_page.py`."""

from __future__ import annotations

import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from qgis.core import QgsApplication  # noqa: E402

app = QgsApplication([], False)
app.initQgis()
from csagf_plugin.processing.base import HELP_PAGE  # noqa: E402
from csagf_plugin.processing.help_page import help_page  # noqa: E402
from csagf_plugin.processing.provider import CsagfProvider  # noqa: E402

provider = CsagfProvider()
QgsApplication.processingRegistry().addProvider(provider)
Path(HELP_PAGE).parent.mkdir(parents=True, exist_ok=True)
Path(HELP_PAGE).write_text(help_page(provider.algorithms()), encoding="utf-8")
print(HELP_PAGE)
