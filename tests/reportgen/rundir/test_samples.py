"""The optional ``sample`` column: part of a row's key, missing means 0, resumable per sample."""

from __future__ import annotations

import pandas as pd
import pytest

from reportgen.rundir.schema import ResultsError, validate_results
from reportgen.rundir.writer import RunWriter, unit_key


def frame(samples):
    return pd.DataFrame([{"experiment": "cue", "task": "bias", "model": "m", "condition": "cued", "item_id": "q1",
                          "metric": "switched", "value": 1.0, "sample": s} for s in samples])


def test_two_samples_of_an_item_are_two_observations():
    out = validate_results(frame([0, 1, 2]))
    assert out["sample"].tolist() == [0, 1, 2] and out["sample"].dtype == "int64"


def test_the_same_sample_twice_is_a_duplicate():
    with pytest.raises(ResultsError, match="counted twice"):
        validate_results(frame([0, 1, 1]))


def test_a_blank_sample_is_sample_0_and_collides_with_it():
    assert validate_results(frame([None, 1]))["sample"].tolist() == [0, 1]
    with pytest.raises(ResultsError, match="counted twice"):
        validate_results(frame([None, 0]))


@pytest.mark.parametrize("bad", [-1, 0.5])
def test_a_sample_is_a_whole_number_from_0(bad):
    with pytest.raises(ResultsError, match="whole number"):
        validate_results(frame([0, bad]))


def test_sample_0_keeps_the_key_of_runs_written_before_samples():
    assert unit_key("cue", "cued", "q1", None, "professor") == unit_key("cue", "cued", "q1", None, "professor", 0)
    assert unit_key("cue", "cued", "q1", None, "professor", 2) != unit_key("cue", "cued", "q1", None, "professor")


def test_the_writer_marks_each_sample_done(tmp_path):
    w = RunWriter(tmp_path / "r", task="bias", model_id="m", config={"a": 1})
    w.append([{"experiment": "cue", "condition": "cued", "item_id": "q1", "metric": "switched", "value": 1,
               "sample": s} for s in (0, 1)])
    assert w.is_done("cue", "cued", "q1", sample=1) and not w.is_done("cue", "cued", "q1", sample=2)
    df = w.finish()
    assert df["sample"].tolist() == [0, 1]
