"""Files written whole or not at all: a crash, an error or a cancel never leaves half a checkpoint, model or store.

The same temporary-file-and-rename as every output of the plugin (core/safe_output.py), so that SIGTERM and the
next run clean up after training too.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from ..core.safe_output import atomic_output


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside `path` (its folder created); it replaces `path` when the block succeeds and
    is removed when it fails."""
    with atomic_output(path) as tmp:
        yield tmp
