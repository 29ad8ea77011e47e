"""What the seam must reject or flag before it charts wrong: 0/1 metrics holding other values,
rows counted twice, spreadsheet-mangled CSVs, an empty prompts file (issue 13, items 7-10)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from reportgen.rundir.reader import load_run
from reportgen.rundir.schema import MAX_PROBLEMS_SHOWN, ResultsError


def _rewrite(run_dir, df: pd.DataFrame) -> None:
    """Replace the run's table (both files, so parquet and CSV agree)."""
    df.to_parquet(run_dir / "results.parquet")
    df.to_csv(run_dir / "results.csv", index=False)


def test_a_refusal_of_4_is_rejected_naming_its_row(tmp_path, run_writer):
    run = run_writer(tmp_path / "r")
    df = pd.read_parquet(run / "results.parquet")
    df.loc[5, "value"] = 4.0
    _rewrite(run, df)
    with pytest.raises(ResultsError) as err:
        load_run(run)
    [problem] = err.value.problems
    assert (problem.row, problem.column) == (6, "value")
    assert "4 is not 0 or 1" in problem.message and "'refusal'" in problem.message


def test_a_metric_declared_binary_in_run_json_is_checked_too(tmp_path, run_writer):
    run = run_writer(tmp_path / "r")
    df = pd.read_parquet(run / "results.parquet").assign(metric="harm")
    df.loc[2, "value"] = 0.5
    _rewrite(run, df)
    assert load_run(run).results["value"].iloc[2] == 0.5  # an unknown metric may be continuous
    info = json.loads((run / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "binary_metrics": ["harm"]}))
    with pytest.raises(ResultsError) as err:
        load_run(run)
    assert [(p.row, p.column) for p in err.value.problems] == [(3, "value")]


def test_duplicate_rows_are_rejected_naming_both(tmp_path, run_writer):
    run = run_writer(tmp_path / "r")
    df = pd.read_parquet(run / "results.parquet")
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)
    _rewrite(run, df)
    (run / "results.parquet").unlink()  # CSV: rows are line numbers
    with pytest.raises(ResultsError) as err:
        load_run(run)
    [problem] = err.value.problems
    assert problem.row == len(df) + 1 and "duplicates row 5" in problem.message


@pytest.mark.parametrize("how, expected", [
    ("semicolon", "uses ';' as the delimiter and decimal commas"),
    ("utf16", "is UTF-16 encoded"),
])
def test_an_excel_saved_csv_is_named_as_such(tmp_path, run_writer, how, expected):
    run = run_writer(tmp_path / "r")
    df = pd.read_parquet(run / "results.parquet")
    (run / "results.parquet").unlink()
    df["value"] = df["value"] / 3  # some non-integers, so decimal commas appear
    df = df.assign(metric="share")
    if how == "semicolon":
        df.to_csv(run / "results.csv", sep=";", decimal=",", index=False)
    else:
        df.to_csv(run / "results.csv", sep="\t", index=False, encoding="utf-16")
    with pytest.raises(ResultsError) as err:
        load_run(run)
    [problem] = err.value.problems
    assert expected in problem.message and "missing required column" not in str(err.value)


def test_the_problem_list_is_capped_with_a_count(run_cli, tmp_path, run_writer):
    run = run_writer(tmp_path / "r", n=30)  # 60 rows
    df = pd.read_parquet(run / "results.parquet").assign(task="nonsense")
    _rewrite(run, df)
    code, _, err = run_cli("validate", str(run))
    assert code == 2
    listed = [line for line in err.splitlines() if "column 'task'" in line]
    assert len(listed) == MAX_PROBLEMS_SHOWN
    assert f"... and {len(df) - MAX_PROBLEMS_SHOWN} more problems" in err


def test_an_empty_prompts_file_is_a_warning(run_cli, tmp_path, run_writer):
    run = run_writer(tmp_path / "r")
    (run / "prompts.jsonl").write_text("")
    code, out, err = run_cli("validate", str(run))
    assert code == 0 and "OK" in out
    assert "warning: prompts.jsonl is empty" in err
