"""The reader's format-version check: older run directories read unchanged, newer refused."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from reportgen.cli.entry import main
from reportgen.rundir.errors import RunDirError
from reportgen.rundir.reader import load_run
from reportgen.rundir.schema import FORMAT_VERSION, ResultsError
from reportgen.rundir.writer import RunWriter

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def _write(run_dir: Path) -> Path:
    w = RunWriter(run_dir, task="steering", model_id="organism", config={"n": 2})
    w.append([{"experiment": "harmful", "condition": "baseline", "item_id": i, "metric": "refusal", "value": 1.0}
              for i in ("a", "b")])
    w.finish()
    return run_dir


def _set_version(run_dir: Path, version: object) -> None:
    path = run_dir / "run.json"
    info = json.loads(path.read_text())
    info["format_version"] = version
    path.write_text(json.dumps(info))


def test_the_writer_stamps_the_current_version_and_the_reader_reads_it(tmp_path):
    run_dir = _write(tmp_path / "run")
    assert json.loads((run_dir / "run.json").read_text())["format_version"] == FORMAT_VERSION == 1
    info = load_run(run_dir).info
    assert info is not None and info.format_version == 1


def test_a_run_json_without_the_key_is_version_0_and_reads_unchanged():
    assert "format_version" not in json.loads((EXAMPLES / "steering" / "run.json").read_text())
    run = load_run(EXAMPLES / "steering")
    assert run.info is not None and run.info.format_version == 0 and len(run.results) > 0


def test_a_newer_version_is_refused_with_one_line_naming_the_file(tmp_path):
    run_dir = _write(tmp_path / "run")
    _set_version(run_dir, 2)
    with pytest.raises(ResultsError) as exc:
        load_run(run_dir)
    assert str(exc.value).splitlines() == [
        f"{run_dir / 'run.json'}: written by a newer reportgen: format_version 2 > 1; upgrade reportgen"]


@pytest.mark.parametrize("bad", ["1", -1, 1.5, True])
def test_a_malformed_version_is_named(tmp_path, bad):
    run_dir = _write(tmp_path / "run")
    _set_version(run_dir, bad)
    with pytest.raises(ResultsError, match=r"run\.json: format_version must be a whole number"):
        load_run(run_dir)


def test_the_cli_exits_2_on_a_newer_version(tmp_path, monkeypatch, capsys):
    run_dir = _write(tmp_path / "run")
    _set_version(run_dir, 2)
    monkeypatch.setattr(sys, "argv", ["reportgen", "validate", str(run_dir)])
    with pytest.raises(SystemExit) as exit_info:
        main()
    err = capsys.readouterr().err
    assert exit_info.value.code == 2
    assert "written by a newer reportgen: format_version 2 > 1" in err and "Traceback" not in err


def test_the_writer_will_not_resume_a_newer_run(tmp_path):
    run_dir = tmp_path / "run"
    w = RunWriter(run_dir, task="steering", model_id="organism", config={"n": 2})
    w.append([{"experiment": "harmful", "condition": "baseline", "item_id": "a", "metric": "refusal", "value": 1.0}])
    _set_version(run_dir, 2)
    with pytest.raises(RunDirError, match="format_version 2 > 1"):
        RunWriter(run_dir, task="steering", model_id="organism", config={"n": 2})
