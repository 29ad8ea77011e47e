"""Atomic file writes for everything the reporter hands to a person.

A crash, a Ctrl-C or a full disk halfway through writing must leave either the old
file or the new one, never a truncated deck that a mentor opens on Monday. Writing to
a temporary file in the same folder and then ``os.replace`` gives exactly that on POSIX
and Windows.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_atomic(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary sibling file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_text_atomic(path: Path | str, text: str) -> Path:
    """UTF-8 text with ``\\n`` line endings, written atomically."""
    return write_atomic(path, text.encode("utf-8"))


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
