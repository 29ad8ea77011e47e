"""Model names beyond folders: GGUF files, offline hub ids, and what a failed load leaves behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from experiments.core.errors import ModelLoadError
from experiments.core.model import load_model
from experiments.core.run_loading import load_for_run

ROOT = Path(__file__).resolve().parents[3]


def test_offline_hub_id_not_in_the_cache_fails_at_once_with_the_fix(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))  # an empty cache
    with pytest.raises(ModelLoadError) as err:
        load_model("someorg/not-downloaded-model")
    msg = str(err.value)
    assert "\n" not in msg and "huggingface-cli download someorg/not-downloaded-model" in msg


def test_missing_gguf_file_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(ModelLoadError, match="does not exist"):
        load_model(str(tmp_path / "x.gguf"))


def test_a_failed_load_removes_a_run_folder_holding_only_run_json(tmp_path) -> None:
    fresh, resumed = tmp_path / "fresh", tmp_path / "resumed"
    for d in (fresh, resumed):
        d.mkdir()
        (d / "run.json").write_text("{}")
    (resumed / "journal.jsonl").write_text("{}\n")  # computed work: never removed

    def fail() -> None:
        raise ModelLoadError("no")

    for d in (fresh, resumed):
        with pytest.raises(ModelLoadError):
            load_for_run(d, fail)
    assert not fresh.exists() and (resumed / "run.json").exists()


def test_cli_run_with_a_bad_gguf_exits_2_and_leaves_no_run_folder(tmp_path) -> None:
    out = tmp_path / "runs" / "truncation"
    res = subprocess.run([sys.executable, "-c", "from reportgen.cli.entry import main; main()", "run", "truncation",
                          "--model", str(tmp_path / "missing.gguf"), "--out", str(out)],
                         check=False, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr[-2000:]
    assert "missing.gguf" in res.stderr
    assert not out.exists()
