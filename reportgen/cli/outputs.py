"""Check that every output location is writable before any work starts.

A read-only folder found only when the deck is saved (after minutes of experiments) costs
the whole run and ends in a traceback. Each command therefore names its output files and
folders up front; the first one that cannot be written stops it with one line naming the
path and the reason (exit code 2 from the CLI).

``os.access`` is not enough (it says yes to root, and knows nothing of read-only mounts),
so a location is probed by creating and deleting a temporary file in the nearest folder
that exists. Folders that do not exist yet are not created here: that is the command's job.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from reportgen.rundir.errors import UserError


class OutputError(UserError):
    """An output location cannot be written; the message is one line naming it."""


def check_outputs(*, files: Iterable[Path | str | None] = (), dirs: Iterable[Path | str | None] = ()) -> None:
    """Raise :class:`OutputError` for the first file or folder that cannot be written."""
    for path in files:
        if path is not None:
            _check(Path(path), is_dir=False)
    for path in dirs:
        if path is not None:
            _check(Path(path), is_dir=True)


def _check(path: Path, is_dir: bool) -> None:
    if path.exists():
        if is_dir and not path.is_dir():
            raise OutputError(f"cannot write to {path}: it is a file, not a folder")
        if not is_dir and path.is_dir():
            raise OutputError(f"cannot write {path}: it is a folder")
    folder = path if is_dir else path.parent
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot write {path}: {existing} is a file, not a folder")
    try:
        fd, probe = tempfile.mkstemp(prefix=".reportgen-write-check.", dir=existing)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {existing} is not writable ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)
