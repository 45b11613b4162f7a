"""Typed errors whose message tells the user what to fix; the QGIS layer turns them into QgsProcessingException."""


class CsagfError(Exception):
    """Base class of every error the plugin raises on purpose."""


class InputError(CsagfError):
    """An input file or parameter cannot be used as given."""


class ModelCardError(CsagfError):
    """A model file has no usable model card in its ONNX metadata."""


class Canceled(CsagfError):
    """The user canceled a long-running job."""


class OutputError(CsagfError):
    """An output cannot be written where it was asked for (read-only folder, disk full, ...)."""


class Interrupted(CsagfError):
    """The process received SIGTERM or SIGINT while it ran; nothing was written."""

    def __init__(self, message: str, signum: int = 15) -> None:
        super().__init__(message)
        self.signum = signum  # the signal received (command lines exit with 128 + it)
