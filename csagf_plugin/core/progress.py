"""The tiny progress-and-cancel protocol that core defines and the QGIS layer adapts to QgsProcessingFeedback."""

from __future__ import annotations

from typing import Callable, Protocol

Warn = Callable[[str], None]  # where long work reports a recoverable problem; the work goes on


class Progress(Protocol):
    """What long work reports to and asks of its caller."""

    def set_progress(self, percent: float) -> None:
        """Report progress in percent, 0 to 100."""

    def is_canceled(self) -> bool:
        """True when the user asked to stop."""


class SilentProgress:
    """A Progress that shows nothing and never cancels (the default for scripts and tests)."""

    def set_progress(self, percent: float) -> None:
        pass

    def is_canceled(self) -> bool:
        return False


class PrintProgress:
    """A Progress that prints whole-percent steps on one terminal line."""

    def __init__(self, label: str = "") -> None:
        self.label = label
        self._last = -1

    def set_progress(self, percent: float) -> None:
        step = int(percent)
        if step != self._last:
            self._last = step
            print(f"\r{self.label} {step:3d} %", end="\n" if step >= 100 else "", flush=True)

    def is_canceled(self) -> bool:
        return False


def ignore_warning(message: str) -> None:
    """A Warn that drops the message (the default for scripts and tests)."""
