"""A killed report leaves nothing behind: chart workers die with their parent, and half-written
temporary files of a killed writer are removed by the next run (issue 13, item 15)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from reportgen.rundir.atomic import write_atomic

ROOT = Path(__file__).resolve().parents[3]

_RENDER_FOREVER = """
import sys
from pathlib import Path
from reportgen.chart.spec import build_chart_specs
from reportgen.chart.render import render_charts
from reportgen.rundir.reader import load_run
specs = build_chart_specs([load_run(Path(sys.argv[1]))], None)
while True:
    render_charts(specs * 4, sys.argv[2], workers=2)
"""


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.add(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _wait(condition, seconds: float) -> bool:
    """Poll ``condition`` for at most ``seconds``: a bound on waiting, not a timing assertion."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def test_chart_workers_die_when_the_main_process_is_killed(tmp_path):
    parent = subprocess.Popen([sys.executable, "-c", _RENDER_FOREVER, str(ROOT / "examples" / "bias"), str(tmp_path)],
                              cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    workers: set[int] = set()
    try:
        assert _wait(lambda: len(_children(parent.pid)) >= 2, 120), "the pool never started"
        workers = _children(parent.pid)
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        survived = not _wait(lambda: not any(_alive(w) for w in workers), 30)
        assert not survived, f"chart workers {sorted(w for w in workers if _alive(w))} outlived their parent"
    finally:
        parent.kill()
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)


def test_a_killed_writers_temporary_file_is_removed_by_the_next_write(tmp_path):
    deck = tmp_path / "deck.pptx"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()  # a pid that no longer runs
    leftover = tmp_path / f".deck.pptx.{dead.pid}.k3j2h1.tmp"
    leftover.write_bytes(b"half a deck")
    in_progress = tmp_path / f".deck.pptx.{os.getppid()}.a1b2c3.tmp"  # a writer that still runs
    in_progress.write_bytes(b"being written")
    write_atomic(deck, b"the deck")
    assert deck.read_bytes() == b"the deck"
    assert not leftover.exists() and in_progress.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([deck.name, in_progress.name])
