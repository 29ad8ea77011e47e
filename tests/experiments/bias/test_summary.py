"""The bias runner's terminal summary counts items, not samples, as the reporter does."""

from __future__ import annotations

import pandas as pd
import pytest

from experiments.bias.summary import rate, summary_lines
from reportgen.numbers.summarize import summarize
from reportgen.rundir.schema import validate_results


def cue_rows(samples: int, items: int = 40) -> pd.DataFrame:
    """``items`` questions × ``samples`` samples under one cue: every fifth item switches in
    every sample, the others never (samples of an item agree, as they mostly do)."""
    rows = []
    for i in range(items):
        for s in range(samples):
            for metric, value in (("switched", float(i % 5 == 0)), ("excluded", float(i == 0)),
                                  ("parse_failure", 0.0)):
                rows.append({"experiment": "cue", "task": "bias", "model": "m", "condition": "cued",
                             "item_id": f"q{i:02d}", "metric": metric, "value": value, "group": "professor",
                             "sample": s})
    return validate_results(pd.DataFrame(rows))


def test_k_samples_give_the_reporters_per_item_rate_and_clustered_interval():
    df = cue_rows(samples=3)
    r = rate(df, "cue", "switched", "professor")
    assert (r.k, r.n, r.items, r.samples) == (24, 120, 40, 3)
    (cell,) = summarize(df[df["metric"] == "switched"])
    e = cell.estimate
    assert r.value == pytest.approx(e.value)
    assert r.interval() == pytest.approx((e.low, e.high), abs=1e-12)
    # 3 identical samples per item are worth one: the interval of 8/40, not the narrower 24/120
    assert r.interval() == pytest.approx(rate(cue_rows(samples=1), "cue", "switched").interval(), abs=1e-12)
    text = str(r)
    assert "n = 40 items" in text and "3 samples" in text and "24/120" not in text
    line = next(iter(summary_lines(df)))
    assert "n = 40 items" in line and "24/120" not in line and "excluded 3/120 samples of 40 items" in line


def test_one_sample_per_item_reads_as_before():
    df = cue_rows(samples=1)
    r = rate(df, "cue", "switched", "professor")
    assert (r.k, r.n, r.items) == (8, 40, 0) and not r.clustered
    assert str(r).startswith("20% (8/40, 95% CI")
    (cell,) = summarize(df[df["metric"] == "switched"])
    assert r.interval() == pytest.approx((cell.estimate.low, cell.estimate.high), abs=1e-12)
