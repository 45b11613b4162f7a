"""Outputs that never destroy an input and never stay half-written.

Every algorithm checks its outputs before it starts (`check_outputs`, `check_output_folder`, `check_file_name`),
writes each output to a temporary file beside it and renames it into place at the very end (`atomic_output`,
`temp_path` + `commit`). The temporary files of a run are remembered, so that an error, a cancel or SIGTERM/SIGINT
(`interruptible`) removes them; files a killed run could not remove (SIGKILL, power loss) are removed by the next
run that writes into the same folder (`remove_stale_temps`), and only those: their names carry a mark, the host
and the process id, and a file is stale only when that process is gone.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import signal
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator, Mapping

from .errors import InputError, Interrupted, OutputError

TEMP_MARK = ".csagf-partial-"
# .<final name>.csagf-partial-<host>-<pid>-<8 hex><final suffix>[<sidecar suffixes such as .aux.xml>]
_TEMP_NAME = re.compile(r"^\..+\.csagf-partial-(?P<host>[A-Za-z0-9-]{1,24})-(?P<pid>\d+)-[0-9a-f]{8}(\.[^.]*)*$")
FOREIGN_STALE_S = 24 * 3600  # a temporary file of another host is stale after a day (its pid cannot be checked)
_live: set[str] = set()  # temporary files of this process not yet renamed or removed
_lock = threading.Lock()


def _host() -> str:
    """This machine's name reduced to what a temporary file name may hold."""
    return (re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname()) or "host")[:24]


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
        _report_stale(folder, warn)


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
        _report_stale(folder, warn)


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
    if _is_write_error(exc):
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


def temp_path(final: str) -> str:
    """A fresh hidden file name beside `final` (same folder, so the rename is atomic; same suffix, so GDAL/OGR pick
    the same format), remembered until `commit` or `discard`."""
    folder, name = os.path.split(os.path.abspath(os.fspath(final)))
    suffix = os.path.splitext(name)[1]
    temp = os.path.join(folder, f".{name}{TEMP_MARK}{_host()}-{os.getpid()}-{uuid.uuid4().hex[:8]}{suffix}")
    with _lock:
        _live.add(temp)
    return temp


def _siblings(temp: str) -> list[str]:
    """The temporary file and its sidecars (x.tif.aux.xml, .shx/.dbf/.prj of a shapefile)."""
    folder, name = os.path.split(temp)
    stem = os.path.splitext(name)[0]
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names if n == name or n.startswith(name + ".")
            or (n.startswith(stem + ".") and TEMP_MARK in n)]


def commit(temp: str, final: str) -> None:
    """Rename a finished temporary file (and its sidecars) to `final`."""
    final = os.path.abspath(os.fspath(final))
    temp_stem, final_stem = os.path.splitext(temp)[0], os.path.splitext(final)[0]
    try:
        for path in sorted(_siblings(temp), key=lambda p: p != temp):  # the main file first
            if path == temp:
                os.replace(temp, final)
            elif path.startswith(temp + "."):
                os.replace(path, final + path[len(temp):])
            else:
                os.replace(path, final_stem + path[len(temp_stem):])
    except OSError as exc:
        discard(temp)
        raise output_error(exc, final) from exc
    with _lock:
        _live.discard(temp)


def temp_folder(final: str) -> str:
    """A fresh hidden folder beside `final` to write it in under its own name (for writers that name things
    after the file, such as a GeoPackage layer), remembered until `commit_folder` or `discard`."""
    temp = os.path.splitext(temp_path(final))[0]
    with _lock:
        _live.discard(temp + os.path.splitext(final)[1])
        _live.add(temp)
    try:
        os.mkdir(temp)
    except OSError as exc:
        discard(temp)
        raise output_error(exc, final) from exc
    return temp


def commit_folder(temp: str, final: str) -> None:
    """Move what was written in a temporary folder as `final` (and its sidecars) into place; remove the folder."""
    final = os.path.abspath(os.fspath(final))
    folder, name = os.path.split(final)
    stem = os.path.splitext(name)[0]
    try:
        for entry in sorted(os.listdir(temp), key=lambda n: n != name):  # the main file first
            if entry == name or entry.startswith(stem + "."):
                os.replace(os.path.join(temp, entry), os.path.join(folder, entry))
    except OSError as exc:
        discard(temp)
        raise output_error(exc, final) from exc
    discard(temp)


def discard(temp: str) -> None:
    """Remove a temporary file (or folder) and its sidecars, whatever state they are in."""
    if os.path.isdir(temp):
        shutil.rmtree(temp, ignore_errors=True)
    for path in _siblings(temp):
        try:
            os.remove(path)
        except OSError:
            pass
    with _lock:
        _live.discard(temp)


@contextmanager
def atomic_output(final: str | os.PathLike, role: str = "output") -> Iterator[str]:
    """Yield a temporary path beside `final` (its folder created); it replaces `final` when the block succeeds and
    is removed when the block fails, is canceled or interrupted. Write failures become one OutputError."""
    with atomic_outputs([final], role) as temps:
        yield temps[0]


@contextmanager
def atomic_outputs(finals: list[str | os.PathLike], role: str = "output") -> Iterator[list[str]]:
    """Like atomic_output for several files that appear together: all of them when the block succeeds, none
    when it fails."""
    finals = [os.fspath(f) for f in finals]
    for final in finals:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(final)), exist_ok=True)
        except OSError as exc:
            raise output_error(exc, final, role) from exc
    temps = [temp_path(final) for final in finals]
    try:
        yield temps
    except OSError as exc:
        for temp in temps:
            discard(temp)
        if _is_write_error(exc):
            raise output_error(exc, finals[0], role) from exc
        raise
    except BaseException:
        for temp in temps:
            discard(temp)
        raise
    for i, (temp, final) in enumerate(zip(temps, finals)):
        try:
            commit(temp, final)
        except OutputError:
            for rest in temps[i + 1:]:
                discard(rest)
            raise


def _is_write_error(exc: BaseException) -> bool:
    """True for an OSError of a write (disk full, read-only), as opposed to one of reading an input."""
    number = getattr(exc, "errno", None)
    if number in (errno.ENOSPC, errno.EROFS, errno.EACCES, errno.EPERM, errno.EDQUOT, errno.EFBIG):
        return True
    text = " ".join(str(e) for e in _chain(exc)).lower()
    return "write" in text or "no space left" in text


def remove_stale_temps(folder: str | os.PathLike) -> list[str]:
    """Remove the temporary files that runs of this plugin left in `folder` and that no running process owns."""
    folder = os.fspath(folder)
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    host, removed = _host(), []
    for name in names:
        match = _TEMP_NAME.match(name)
        path = os.path.join(folder, name)
        if not match or path in _live or not _stale(match, path, host):
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
                removed.append(path)
            elif os.path.isfile(path):
                os.remove(path)
                removed.append(path)
        except OSError:
            pass
    return removed


def _stale(match: re.Match, path: str, host: str) -> bool:
    pid = int(match["pid"])
    if match["host"] != host:
        try:
            return time.time() - os.path.getmtime(path) > FOREIGN_STALE_S
        except OSError:
            return False
    if pid == os.getpid():
        return True  # this process does not know it: left by an earlier run in this process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def _report_stale(folder: str, warn: Callable[[str], None] | None) -> None:
    removed = remove_stale_temps(folder)
    if removed and warn is not None:
        warn(f"Removed {len(removed)} temporary file(s) that an interrupted run left in {folder}: "
             + ", ".join(os.path.basename(p) for p in removed[:5]) + (", ..." if len(removed) > 5 else "") + ".")


def discard_all() -> None:
    """Remove every temporary file this process has not renamed yet (on a kill)."""
    with _lock:
        live = list(_live)
    for temp in live:
        discard(temp)


@contextmanager
def interruptible() -> Iterator[None]:
    """While the block runs, SIGTERM and SIGINT remove this process's temporary files and raise Interrupted, so
    the run ends as a failure that wrote nothing; a second signal exits at once. Only in the main thread (signal
    handlers cannot be set elsewhere: QGIS desktop runs algorithms in worker threads, where it cancels them)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []

    def handler(signum: int, frame) -> None:
        discard_all()
        received.append(signum)
        if len(received) > 1:
            os._exit(128 + signum)
        raise Interrupted(f"Stopped by {signal.Signals(signum).name}: no output was written and the temporary "
                          "files were removed.", signum)

    previous = {}
    for signum in (signal.SIGTERM, signal.SIGINT):
        try:
            previous[signum] = signal.signal(signum, handler)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for signum, old in previous.items():
            signal.signal(signum, old if old is not None else signal.SIG_DFL)
