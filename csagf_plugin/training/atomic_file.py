"""Files written whole or not at all: a crash, an error or a cancel never leaves half a checkpoint, model or store."""

from __future__ import annotations

import os
import uuid
from contextlib import contextmanager
from typing import Iterator


@contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[str]:
    """Yield a temporary path beside `path` (its folder created); it replaces `path` when the block succeeds and
    is removed when it fails."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = f"{path}.{uuid.uuid4().hex[:8]}.part"  # unique: several processes may write beside each other
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
