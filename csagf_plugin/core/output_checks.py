"""The output checks every algorithm makes before it writes anything: an output must not be one of the inputs
(through another path, a symlink or a hard link), appear twice, be a folder, or go to a folder that is missing, a
file or read-only; a name that becomes a file name must not leave its folder. Stale temporary files of killed runs
are removed from the output folders on the way (core/safe_output.py)."""

from __future__ import annotations

import os
import uuid
from typing import Callable, Mapping

from .errors import InputError
from .io_errors import output_error
from .safe_output import report_stale


def check_outputs(outputs: Mapping[str, str | None], inputs: Mapping[str, str | None],
                  warn: Callable[[str], None] | None = None) -> None:
    """Refuse outputs (role -> path) that are one of the inputs (role -> path), equal each other, are folders, or
    whose folder is missing, a file or read-only; then remove stale temporary files from the output folders."""
    seen: dict[str, str] = {}
    for role, out in outputs.items():
        if not out:
            continue
        out = _file_part(os.fspath(out))
        for in_role, path in inputs.items():
            if path and _same(out, _file_part(os.fspath(path))):
                raise InputError(f"The {role} {out} is the {in_role}: writing it would destroy the input. Pick "
                                 "another output file name.")
        real = os.path.realpath(out)
        if real in seen:
            raise InputError(f"{out} is given twice, as the {seen[real]} and the {role}: pick a different file "
                             "for each output.")
        seen[real] = role
        if os.path.isdir(out):
            raise InputError(f"The {role} {out} is an existing folder: give a file name inside it.")
        folder = os.path.dirname(real)
        if os.path.isfile(folder):
            raise InputError(f"The folder of the {role}, {folder}, is an existing file: pick another output path.")
        if not os.path.isdir(folder):
            raise InputError(f"The folder of the {role}, {folder}, does not exist: create it or pick another "
                             "output path.")
        _check_writable(folder, role)
    for folder in {os.path.dirname(real) for real in seen}:
        report_stale(folder, warn)


def check_output_folder(folder: str, role: str, inputs: Mapping[str, str | None] = {},
                        warn: Callable[[str], None] | None = None) -> None:
    """Refuse an output folder that is an existing file or an input, or that cannot be created or written; remove
    stale temporary files from it. The folder itself is not created here (a failed run must not leave it)."""
    folder = os.fspath(folder)
    if not folder:
        raise InputError(f"No {role} given: pick a folder.")
    if os.path.isfile(folder):
        raise InputError(f"The {role} {folder} is an existing file, not a folder: pick a folder.")
    for in_role, path in inputs.items():
        if path and _same(folder, _file_part(os.fspath(path))):
            raise InputError(f"The {role} {folder} is the {in_role}: pick another folder.")
    existing = os.path.realpath(folder)
    while not os.path.isdir(existing):  # the nearest existing folder above, where the new one will be made
        if os.path.isfile(existing):
            raise InputError(f"The {role} {folder} cannot be created: {existing} is a file.")
        existing = os.path.dirname(existing)
    _check_writable(existing, role)
    if os.path.isdir(folder):
        report_stale(folder, warn)


def check_file_name(name: str, role: str) -> str:
    """Refuse a name (run name, prefix) that would put a file outside its output folder; return it."""
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\0" in name or ":" in name:
        raise InputError(f"The {role} '{name}' cannot be used in file names: it must not be empty, '.', '..' or "
                         "hold '/', '\\' or ':' (it would write outside the output folder). Pick a plain name such "
                         "as 'csagfnet'.")
    return name


def _check_writable(folder: str, role: str) -> None:
    """Raise OutputError when a folder cannot take new files (read-only permissions or file system)."""
    probe = os.path.join(folder, f".csagf-write-test-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        os.close(os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        os.remove(probe)
    except OSError as exc:
        raise output_error(exc, os.path.join(folder, "…"), role) from None


def _same(a: str, b: str) -> bool:
    """True when two paths name the same file: equal real paths, or the same inode (hard links)."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _file_part(path: str) -> str:
    """The file of a GDAL/OGR source string ("x.gpkg|layername=y" -> "x.gpkg")."""
    return path.split("|", 1)[0]
