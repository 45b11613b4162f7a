"""The dock's status: one readable line (cause and what to do), the full text one click away, never a traceback.

A Processing error arrives as "Unable to execute algorithm\\n<core's message>" and, for an unexpected failure, with
a Python traceback; the line shown is core's message (or the exception's last line), the rest goes to Details.
"""

from __future__ import annotations

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QToolButton, QVBoxLayout, QWidget

from ..environment.check import missing_module_message

PROCESSING_PREFIXES = ("Unable to execute algorithm", "Error encountered while running", "Execution failed")
MAX_LINE = 300  # characters of the one line; the rest is in the details


def error_line(failure: str, message: str) -> str:
    """`failure: cause` in one line from a Processing error text (see the module docstring)."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith(PROCESSING_PREFIXES)]
    if any(line.startswith("Traceback") for line in lines):
        last = lines[-1]
        if last.startswith("ModuleNotFoundError"):
            name = last.split("'")[1] if last.count("'") >= 2 else None
            return f"{failure}: {missing_module_message(name)}"
        cause = last
    else:
        cause = " ".join(lines) if lines else "no reason given"
    text = f"{failure}: {cause}"
    return text if len(text) <= MAX_LINE else text[:MAX_LINE - 1] + "…"


class StatusLine(QWidget):
    """A wrapped message label with a Details button that shows the full text of the last error."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.label = QLabel("", self)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row.addWidget(self.label, 1)
        self.details_button = QToolButton(self)
        self.details_button.setText("Details")
        self.details_button.setCheckable(True)
        self.details_button.setToolTip("The full message, to copy into a bug report")
        self.details_button.toggled.connect(lambda on: self.details.setVisible(on))
        row.addWidget(self.details_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(row)
        self.details = QPlainTextEdit(self)
        self.details.setReadOnly(True)
        self.details.setMaximumHeight(140)
        layout.addWidget(self.details)
        self.show_message("")

    def text(self) -> str:
        """The line on show."""
        return self.label.text()

    def show_message(self, text: str) -> None:
        """A plain message (progress, a hint); no details."""
        self.label.setStyleSheet("")
        self.label.setText(text)
        self._set_details("")

    def show_error(self, failure: str, message: str) -> None:
        """An error as one line in the theme's error colour; the whole `message` behind Details."""
        self.label.setStyleSheet("color: #b00020;")
        self.label.setText(error_line(failure, message))
        self._set_details(message)

    def _set_details(self, message: str) -> None:
        self.details.setPlainText(message)
        self.details_button.setChecked(False)
        self.details_button.setVisible(bool(message))
        self.details.setVisible(False)
