"""The run-directory writer: contract files, resume without duplicates, config guard."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from experiments.core.errors import RunDirError
from reportgen.rundir.reader import load_run
from reportgen.rundir.schema import COLUMNS
from reportgen.rundir.writer import JOURNAL, RunWriter, unit_key

CONFIG = {"model": "organism", "seed": 0, "n": 6}
ITEMS = [f"item-{i}" for i in range(6)]


def _run(run_dir, fail_after: int | None = None, config=CONFIG):
    """A toy runner: batches of 2 items, each giving two metrics and one prompt record."""
    w = RunWriter(run_dir, task="steering", model_id="organism", config=config, info={"seed": 0})
    if w.finished:
        return w, w.read()
    batches_done = 0
    for start in range(0, len(ITEMS), 2):
        todo = [i for i in ITEMS[start: start + 2] if not w.is_done("harmful", "baseline", i)]
        if not todo:
            continue
        if fail_after is not None and batches_done == fail_after:
            raise KeyboardInterrupt
        rows = [
            {"experiment": "harmful", "condition": "baseline", "item_id": i, "metric": m, "value": v}
            for i in todo for m, v in (("refusal", 1.0), ("refusal_score", 2.5))
        ]
        prompts = [{"experiment": "harmful", "condition": "baseline", "item_id": i, "prompt": f"<p>{i}",
                    "completion": "I cannot", "prompt_format": "chat"} for i in todo]
        w.append(rows, prompts)
        batches_done += 1
    return w, w.finish()


def test_contract_files_are_valid_and_identical(tmp_path):
    w, df = _run(tmp_path / "run")
    run = load_run(tmp_path / "run")
    assert len(run.results) == 12 and len(run.prompts) == 6
    assert list(df.columns)[: len(COLUMNS)] == list(COLUMNS)
    pq = pd.read_parquet(tmp_path / "run" / "results.parquet")
    csv = pd.read_csv(tmp_path / "run" / "results.csv", dtype={"item_id": str, "group": str, "run_id": str})
    assert list(pq.columns) == list(csv.columns)
    pd.testing.assert_frame_equal(pq.astype(object).where(pq.notna(), None),
                                  csv.astype(object).where(csv.notna(), None), check_dtype=False)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["finished_at"] and info["config"] == CONFIG and info["config_hash"]
    assert info["seed"] == 0 and "torch" in info["library_versions"]
    assert set(pq["run_id"]) == {info["run_id"]} and set(pq["task"]) == {"steering"}


def test_interrupted_run_resumes_without_duplicates(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "run", fail_after=2)
    partial = RunWriter(tmp_path / "run", task="steering", model_id="organism", config=CONFIG)
    assert len(partial.done) == 4 and not partial.finished
    assert json.loads((tmp_path / "run" / "run.json").read_text())["finished_at"] is None
    run_id = partial.run_id
    _, resumed = _run(tmp_path / "run")
    _, fresh = _run(tmp_path / "fresh")
    assert len(resumed) == 12 and not resumed.duplicated(["item_id", "metric"]).any()
    cols = ["experiment", "condition", "item_id", "metric", "value"]
    pd.testing.assert_frame_equal(resumed[cols].sort_values(cols).reset_index(drop=True),
                                  fresh[cols].sort_values(cols).reset_index(drop=True))
    assert set(resumed["run_id"]) == {run_id}
    assert len(load_run(tmp_path / "run").prompts) == 6


def test_torn_last_line_is_recomputed(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "run", fail_after=2)
    with (tmp_path / "run" / JOURNAL).open("a") as fh:
        fh.write('{"keys": ["x"], "rows": [')  # killed mid-write
    _, df = _run(tmp_path / "run")
    assert len(df) == 12


def test_batches_after_a_torn_line_survive_the_next_resume(tmp_path):
    """The torn fragment is cut off on resume; otherwise the next batch is glued onto it,
    becomes unreadable, and a second interruption loses it."""
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "run", fail_after=1)
    journal = tmp_path / "run" / JOURNAL
    with journal.open("ab") as fh:
        fh.write('{"keys": ["x"], "prompts": ["é'.encode()[:-1])  # killed inside a UTF-8 character
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "run", fail_after=1)  # resumes, writes one more batch, is killed again
    assert len(RunWriter(tmp_path / "run", task="steering", model_id="organism", config=CONFIG).done) == 4
    assert all(json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines())


def test_writing_a_key_twice_is_refused(tmp_path):
    w = RunWriter(tmp_path, task="steering", model_id="m", config=CONFIG)
    row = {"experiment": "e", "condition": "c", "item_id": "1", "metric": "m", "value": 1}
    w.append([row])
    assert w.is_done("e", "c", "1") and unit_key("e", "c", "1") in w.done
    with pytest.raises(ValueError, match="already written"):
        w.append([row])


def test_config_change_is_a_clear_error(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path / "run", fail_after=1)
    with pytest.raises(RunDirError, match="different config"):
        _run(tmp_path / "run", config={**CONFIG, "n": 7})
    w = RunWriter(tmp_path / "run", task="steering", model_id="organism", config={**CONFIG, "n": 7}, overwrite=True)
    assert not w.done and not (tmp_path / "run" / JOURNAL).exists()


def test_config_change_before_any_work_starts_afresh(tmp_path):
    RunWriter(tmp_path, task="steering", model_id="typo", config={"model": "typo"})
    w = RunWriter(tmp_path, task="steering", model_id="organism", config=CONFIG)
    assert json.loads((tmp_path / "run.json").read_text())["config"] == CONFIG and not w.done


def test_finished_run_is_not_rewritten(tmp_path):
    _run(tmp_path / "run")
    w = RunWriter(tmp_path / "run", task="steering", model_id="organism", config=CONFIG)
    assert w.finished and len(w.read()) == 12


def test_bad_rows_fail_at_append(tmp_path):
    w = RunWriter(tmp_path, task="steering", model_id="m", config=CONFIG)
    with pytest.raises(ValueError, match="non-finite"):
        w.append([{"experiment": "e", "condition": "c", "item_id": "1", "metric": "m", "value": float("nan")}])
    with pytest.raises(ValueError, match="lacks"):
        w.append([{"experiment": "e", "condition": "c", "item_id": "1", "value": 1.0}])
    with pytest.raises(ValueError, match="prompt record"):
        w.append([], [{"experiment": "e", "condition": "c", "item_id": "1", "prompt": "p", "prompt_format": "raw"}])


def test_stray_results_without_run_json_are_refused(tmp_path):
    (tmp_path / "results.csv").write_text("a\n")
    with pytest.raises(RunDirError, match="no run.json"):
        RunWriter(tmp_path, task="steering", model_id="m", config=CONFIG)


def test_second_process_into_the_same_run_dir_fails_at_once(tmp_path):
    """Two runs into one --out interleaved their journals (issue 13 item 11). While one
    process holds the directory, a second `reportgen run` exits 2 with one line naming the
    directory, and writes nothing there; once the first exits, the directory is free."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    run_dir = tmp_path / "run"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys; from reportgen.rundir.writer import RunWriter; "
         f"RunWriter({str(run_dir)!r}, task='steering', model_id='organism', config={CONFIG!r}); "
         "print('held', flush=True); sys.stdin.readline()"],
        cwd=root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        res = subprocess.run([sys.executable, "-c", "from reportgen.cli.entry import main; main()", "run", "steering",
                              "--out", str(run_dir)], check=False, cwd=root, capture_output=True,
                              text=True, timeout=300)
        assert res.returncode == 2 and "Traceback" not in res.stderr
        assert "another run is writing to this directory" in res.stderr and str(run_dir) in res.stderr
        assert str(holder.pid) in res.stderr
        assert not (run_dir / JOURNAL).exists()
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    _run(run_dir)  # the lock died with its holder
