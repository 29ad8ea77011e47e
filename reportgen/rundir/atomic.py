"""Atomic file writes for everything the reporter hands to a person.

A crash, a Ctrl-C or a full disk halfway through writing must leave either the old
file or the new one, never a truncated deck that a mentor opens on Monday. Writing to
a temporary file in the same folder and then ``os.replace`` gives exactly that on POSIX
and Windows.
"""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path


def temp_prefix(path: Path) -> str:
    """The name a temporary sibling of ``path`` starts with: it carries the writer's pid, so a
    later run can tell a killed writer's leftover from a file another process is writing."""
    return f".{path.name}.{os.getpid()}."


def remove_stale_temps(path: Path | str) -> list[Path]:
    """Delete temporary siblings of ``path`` left by writers that no longer run (a deck
    writer killed mid-write leaves ``.deck.pptx.<pid>.<random>.tmp``); returns them."""
    path = Path(path)
    removed = []
    for tmp in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = tmp.name[len(path.name) + 2:].split(".", 1)[0]
        if not pid.isdigit() or not _alive(int(pid)):
            tmp.unlink(missing_ok=True)
            removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def write_atomic(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` via a temporary sibling file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent)
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
