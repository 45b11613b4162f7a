"""Outputs that never stay half-written.

Every algorithm checks its outputs before it starts (core/output_checks.py), writes each output to a temporary
file beside it and renames it into place at the very end (`atomic_output`, `temp_path` + `commit`). The temporary files of a run are remembered, so that an error, a cancel or SIGTERM/SIGINT
(`interruptible`) removes them; files a killed run could not remove (SIGKILL, power loss) are removed by the next
run that writes into the same folder (`remove_stale_temps`), and only those: their names carry a mark, the host
and the process id, and a file is stale only when that process is gone.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from typing import Callable, Iterator

from .errors import Interrupted, OutputError
from .io_errors import is_write_error, output_error

TEMP_MARK = ".csagf-partial-"
# .<final name>.csagf-partial-<host>-<pid>-<8 hex><final suffix>[<sidecar suffixes such as .aux.xml>]
_TEMP_NAME = re.compile(r"^\..+\.csagf-partial-(?P<host>[A-Za-z0-9-]{1,24})-(?P<pid>\d+)-[0-9a-f]{8}(\.[^.]*)*$")
FOREIGN_STALE_S = 24 * 3600  # a temporary file of another host is stale after a day (its pid cannot be checked)
_live: set[str] = set()  # temporary files of this process not yet renamed or removed
_lock = threading.Lock()


def _host() -> str:
    """This machine's name reduced to what a temporary file name may hold."""
    return (re.sub(r"[^A-Za-z0-9-]", "", socket.gethostname()) or "host")[:24]


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
        if is_write_error(exc):
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


def report_stale(folder: str, warn: Callable[[str], None] | None) -> None:
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
def interruptible(outcome: str = "no output was written and the temporary files were removed") -> Iterator[None]:
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
        raise Interrupted(f"Stopped by {signal.Signals(signum).name}: {outcome}.", signum)

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
