"""`reportgen weekly` end to end: the real runners on the organism, killed by a real signal
mid-run, then rerun.

What must hold after the rerun: the experiment that had finished is skipped (its files are
not rewritten), the interrupted one resumes from its journal (the batches written before the
kill are kept, byte for byte, and none is computed twice), the one not yet started runs, a
broken config fails alone with a message naming the field, and the report is complete.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml
from pptx import Presentation

from experiments.organism import MODEL_DIR
from reportgen.rundir.writer import JOURNAL

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (MODEL_DIR / "model.safetensors").exists(), reason="organism not trained"),
]

IDENT = ["experiment", "condition", "item_id", "metric", "x", "group"]


def _weekly_file(tmp_path: Path) -> Path:
    small_steering = {"data": {"n_train": 16, "n_val": 8, "n_eval": 8}, "batch_size": 8,
                      "sweep": {"widths": [1]}, "max_new_tokens": 16}
    # Many small batches, so the kill lands between two of them.
    truncation = {"limit": 12, "batch_size": 2, "sentence_cuts": False, "mistakes": False}
    bias = {"cue": {"limit": 8, "cues": ["professor"]}, "attribute": {"limit": 8}}
    data = {
        "project": "Kill test",
        "runs_dir": "runs",
        "reports_dir": "reports",
        "experiments": [
            {"name": "steering", "runner": "steering", "config": small_steering},
            {"name": "truncation", "runner": "truncation", "config": truncation},
            {"name": "bias", "runner": "bias", "config": bias},
            {"name": "broken", "runner": "bias", "config": {"cue": {"limt": 8}}},
        ],
    }
    path = tmp_path / "weekly.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _command(weekly: Path) -> list[str]:
    return [sys.executable, "-c", "from reportgen.cli.entry import main; main()", "weekly", str(weekly),
            "--date", "2026-11-27"]


def _env() -> dict[str, str]:
    # One thread each: the organism gains nothing from more, and CI shares two cores.
    return {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}


def _journal_lines(run_dir: Path) -> int:
    path = run_dir / JOURNAL
    return path.read_bytes().count(b"\n") if path.exists() else 0


def test_killed_weekly_resumes_without_recomputing_or_duplicating(tmp_path):
    weekly = _weekly_file(tmp_path)
    runs = tmp_path / "runs"
    proc = subprocess.Popen(_command(weekly), cwd=tmp_path, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    try:
        # Kill once the truncation run has journaled a few batches but is not finished.
        while _journal_lines(runs / "truncation") < 3:
            assert proc.poll() is None, proc.stdout.read().decode(errors="replace")
            assert time.monotonic() < deadline, "truncation never started writing"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL

    steering_files = {p.name: p.stat().st_mtime_ns for p in (runs / "steering").iterdir() if p.is_file()}
    assert json.loads((runs / "steering" / "weekly.json").read_text())["state"] == "done"
    assert json.loads((runs / "truncation" / "weekly.json").read_text())["state"] == "running"
    assert json.loads((runs / "truncation" / "run.json").read_text())["finished_at"] is None
    journal_before = (runs / "truncation" / JOURNAL).read_bytes()
    journal_before = journal_before[: journal_before.rfind(b"\n") + 1]  # a torn last batch is redone
    assert not (runs / "bias").exists()

    again = subprocess.run(_command(weekly), cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600,
                           check=False)
    out = again.stdout + again.stderr
    assert again.returncode == 1, out  # the broken experiment fails the pipeline's exit code …
    assert "steering: skipped" in out and "truncation: resumed" in out and "bias: ran" in out, out
    assert "broken: failed" in out and "limt" in out, out

    # Finished work is not recomputed: the skipped run's files are untouched, and the
    # resumed run's journal still starts with every batch written before the kill.
    assert {p.name: p.stat().st_mtime_ns for p in (runs / "steering").iterdir() if p.is_file()} == steering_files
    assert (runs / "truncation" / JOURNAL).read_bytes().startswith(journal_before)
    for name in ("steering", "truncation", "bias"):
        df = pd.read_parquet(runs / name / "results.parquet")
        assert not df.empty and not df.duplicated(IDENT).any(), name
        info = json.loads((runs / name / "run.json").read_text())
        assert info["finished_at"]
        # The real runner wrote its registry vocabulary, so the reporter needs no runner names.
        assert info["vocabulary"]["task"] == name and info["vocabulary"]["labels"], name
    assert set(pd.read_parquet(runs / "truncation" / "results.parquet")["item_id"]) == {
        f"reason-eval-{i:04d}" for i in range(12)}

    # … while the report is still written from the rest and says what is missing.
    report = tmp_path / "reports" / "2026-11-27"
    for name in ("deck.pptx", "summary.md", "takeaways.yaml"):
        assert (report / name).is_file(), name
    titles = [s.shapes.title.text for s in Presentation(report / "deck.pptx").slides if s.shapes.title is not None]
    assert titles[1].startswith("Not in this deck")
    summary = (report / "summary.md").read_text()
    assert "broken (bias) failed" in summary and "limt" in summary
    from reportgen.deck.plan import section_title

    for task in ("steering", "truncation", "bias"):  # each finished run made its section, charts and prompts
        section = summary.split(f"\n## {section_title(task)}\n", 1)
        assert len(section) == 2, task
        body = section[1].split("\n## ", 1)[0]
        assert "![" in body and "```" in body, task
