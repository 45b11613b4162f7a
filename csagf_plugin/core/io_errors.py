"""I/O failures told in one line with their cause: a write that fails (disk full, read-only folder) names the
output and its folder, a read that fails names the input that is truncated or corrupt."""

from __future__ import annotations

import errno
import os
import shutil
from typing import Iterator, Mapping

from .errors import InputError, OutputError


def output_error(exc: BaseException, path: str, role: str = "output") -> OutputError:
    """One clear line for a failed write of `path`, the original cause named."""
    folder = os.path.dirname(os.path.abspath(path))
    number = getattr(exc, "errno", None)
    text = " ".join(str(e) for e in _chain(exc)).lower()
    if number == errno.ENOSPC or "no space left" in text or _nearly_full(folder):
        free = _free_bytes(folder)
        return OutputError(f"No space left on device while writing the {role} {path} (folder {folder}"
                           f"{f', {free / 1e6:.1f} MB free' if free is not None else ''}): free some space or "
                           "pick an output folder on another disk. Nothing was written.")
    if number in (errno.EACCES, errno.EPERM, errno.EROFS) or "read-only" in text or "permission denied" in text:
        return OutputError(f"The {role} cannot be written in {folder}: the folder is read-only "
                           f"({_first_line(exc)}). Pick a folder you can write to.")
    return OutputError(f"The {role} {path} cannot be written ({_first_line(exc)}). Nothing was written.")


def io_error(exc: BaseException, inputs: Mapping[str, str | None], outputs: Mapping[str, str | None]) -> Exception:
    """One clear line for an I/O failure in the middle of a run: a write (disk full, read-only) names the output,
    a read names the input that is truncated or corrupt; anything else is handed back as it is."""
    if is_write_error(exc):
        role, path = next(((r, p) for r, p in outputs.items() if p), ("output", ""))
        return output_error(exc, path, role)
    text = " ".join(str(e) for e in _chain(exc))
    named = [(r, p) for r, p in inputs.items() if p and os.path.basename(p) in text]
    if not named and "read" in text.lower():
        named = [(r, p) for r, p in inputs.items() if p][:1]
    for role, path in named:
        return InputError(f"The {role} {path} cannot be read: the file is truncated or corrupt "
                          f"({_first_line(exc)}). Export or download it again.")
    return exc


def raise_io_error(exc: BaseException, inputs: Mapping[str, str | None], outputs: Mapping[str, str | None]):
    """Raise io_error's one clear line for `exc` (the original as its cause), or `exc` itself when unknown."""
    error = io_error(exc, inputs, outputs)
    if error is exc:
        raise exc
    raise error from exc


def is_write_error(exc: BaseException) -> bool:
    """True for an OSError of a write (disk full, read-only), as opposed to one of reading an input."""
    number = getattr(exc, "errno", None)
    if number in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG):
        return True
    text = " ".join(str(e) for e in _chain(exc)).lower()
    return "write" in text or "no space left" in text


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    """An exception and its causes (rasterio puts GDAL's details in the cause)."""
    seen = 0
    while exc is not None and seen < 8:
        yield exc
        exc = exc.__cause__ or exc.__context__
        seen += 1


def _first_line(exc: BaseException) -> str:
    """The most telling one-line text of an exception and its causes."""
    texts = [str(e).strip().splitlines()[0] for e in _chain(exc) if str(e).strip()]
    vague = ("see previous exception", "read failed", "write failed")
    detailed = [t for t in texts if not any(v in t.lower() for v in vague)]
    return (detailed or texts or [type(exc).__name__])[0]


def _free_bytes(folder: str) -> int | None:
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def _nearly_full(folder: str) -> bool:
    free = _free_bytes(folder)
    return free is not None and free < 1 << 20
