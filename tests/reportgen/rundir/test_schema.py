"""The seam's validator: every problem named by file, row and column; declared bounds enforced."""

from __future__ import annotations

import pandas as pd
import pytest

from reportgen.rundir.reader import read_results
from reportgen.rundir.schema import ResultsError, validate_results


def _rows(values, **extra):
    return pd.DataFrame([
        {"experiment": "cost", "task": "steering", "model": "m", "condition": "ablation", "item_id": f"i{i}",
         "metric": "kl", "value": v, **{k: col[i] for k, col in extra.items()}}
        for i, v in enumerate(values)
    ])


def test_every_bad_cell_is_reported_at_once_with_its_csv_line(tmp_path):
    df = _rows([0.1, 0.2, 0.3])
    df.loc[0, "task"] = "nonsense"
    df.loc[2, "model"] = ""
    df.to_csv(tmp_path / "results.csv", index=False)
    with pytest.raises(ResultsError) as err:
        read_results(tmp_path)
    text = str(err.value)
    assert "results.csv, row 2, column 'task'" in text and "results.csv, row 4, column 'model'" in text


def test_values_outside_their_declared_bounds_are_named_by_row():
    df = _rows([0.1, -0.2, 1.5, 0.4], lower_bound=[0.0, 0.0, 0.0, None], upper_bound=[1.0, 1.0, 1.0, None])
    with pytest.raises(ResultsError) as err:
        validate_results(df, "r.parquet")
    assert [(p.row, p.column, p.message) for p in err.value.problems] == [
        (2, "value", "value is below lower_bound"), (3, "value", "value is above upper_bound")]


def test_bounds_are_optional_and_blank_where_a_metric_has_none():
    df = pd.concat([_rows([0.1, 0.2], lower_bound=[0.0, 0.0]), _rows([-3.0]).assign(metric="refusal_score", item_id="j")])
    out = validate_results(df)
    assert out["lower_bound"].isna().tolist() == [False, False, True]
    assert "lower_bound" not in validate_results(_rows([-1.0])).columns
