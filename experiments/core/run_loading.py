"""Loading a run's model without leaving a half-made run folder behind.

Runners open their run folder first (a wrong ``--out`` then fails in a second, not after
loading the weights), which writes ``run.json``. If the model then fails to load, that
folder held nothing but ``run.json``, and ``reportgen deck runs/*`` read it as a broken run.
:func:`load_for_run` removes such a folder again; a folder with any computed work in it is
never touched.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
_RUN_JSON = "run.json"


def _only_run_json(run_dir: Path) -> bool:
    names = [p.name for p in run_dir.iterdir()] if run_dir.is_dir() else []
    visible = [n for n in names if not n.startswith(".")]
    return visible == [_RUN_JSON]


def load_for_run(run_dir: str | Path, load: Callable[[], T]) -> T:
    """Call ``load``; if it raises and ``run_dir`` holds only ``run.json`` (plus hidden
    temporary files), remove that folder's files and the folder, then re-raise."""
    run_dir = Path(run_dir)
    try:
        return load()
    except BaseException:
        if _only_run_json(run_dir):
            for p in run_dir.iterdir():
                if p.is_file():
                    p.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                run_dir.rmdir()
        raise
