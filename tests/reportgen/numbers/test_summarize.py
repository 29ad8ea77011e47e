"""Tidy rows → cells: rate vs mean per metric, pooling, aggregated k/n input, x order."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from reportgen.numbers.summarize import experiments, metric_kinds, summarize, summary_frame
from reportgen.rundir.schema import validate_results


def rows(experiment="e", condition="baseline", metric="refusal", values=(1, 0, 1), x=None, group=None,
         task="steering"):
    return [
        {"experiment": experiment, "task": task, "model": "m", "condition": condition, "item_id": f"i{i}",
         "metric": metric, "value": float(v), "x": x, "group": group}
        for i, v in enumerate(values)
    ]


def table(*parts):
    return validate_results(pd.DataFrame([r for p in parts for r in p]))


def test_binary_metric_is_a_rate_and_continuous_metric_a_mean():
    df = table(rows(values=[1, 1, 0, 1]), rows(metric="kl", values=[0.1, 0.3, 0.2]))
    assert metric_kinds(df) == {("e", "refusal"): "rate", ("e", "kl"): "mean"}
    cells = {c.metric: c.estimate for c in summarize(df)}
    assert (cells["refusal"].k, cells["refusal"].n) == (3, 4)
    assert cells["kl"].value == pytest.approx(0.2)


def test_kind_is_decided_per_metric_not_per_cell():
    # One condition happens to be all 0/1 in a continuous metric: it must stay a mean.
    df = table(rows(metric="score", values=[0, 1, 1]), rows(condition="ablation", metric="score", values=[0.5, 2.5]))
    assert {c.estimate.kind for c in summarize(df)} == {"mean"}


def test_aggregated_rows_pool_into_one_rate():
    df = validate_results(pd.DataFrame([
        {"experiment": "e", "task": "bias", "model": "m", "condition": "cued", "metric": "switched",
         "group": g, "k": k, "n": n} for g, k, n in [("a", 3, 10), ("b", 9, 30)]
    ]))
    (cell,) = summarize(df, by=("condition",))
    assert (cell.estimate.k, cell.estimate.n) == (12, 40)
    assert cell.estimate.low == pytest.approx(proportion_confint(12, 40, method="wilson")[0])
    per_group = summarize(df, by=("condition", "group"))
    assert [(c.group, c.estimate.k, c.estimate.n) for c in per_group] == [("a", 3, 10), ("b", 9, 30)]


def test_aggregated_and_per_item_forms_give_the_same_estimate():
    values = np.r_[np.ones(7), np.zeros(13)]
    per_item = table(rows(values=values))
    aggregated = validate_results(pd.DataFrame([{"experiment": "e", "task": "steering", "model": "m",
                                                 "condition": "baseline", "metric": "refusal", "k": 7, "n": 20}]))
    assert summarize(per_item)[0].estimate == summarize(aggregated)[0].estimate


def test_x_is_sorted_within_each_series_and_missing_x_kept_as_its_own_cell():
    df = table(
        rows(condition="forced", metric="matches_full", values=[1, 1], x=1.0),
        rows(condition="forced", metric="matches_full", values=[0, 1], x=0.0),
        rows(condition="continued", metric="matches_full", values=[1, 0], x=0.5),
        rows(condition="baseline", metric="matches_full", values=[1, 1]),
    )
    cells = summarize(df, by=("condition", "x"))
    assert [(c.condition, c.x) for c in cells] == [
        ("forced", 0.0), ("forced", 1.0), ("continued", 0.5), ("baseline", None)
    ]


def test_group_pooled_unless_kept_and_filters_apply():
    df = table(rows(group="a", values=[1, 1]), rows(group="b", values=[0, 0]), rows(experiment="other"))
    pooled = summarize(df, experiment="e")
    assert len(pooled) == 1 and pooled[0].group is None and pooled[0].estimate.k == 2
    split = summarize(df, by=("condition", "group"), experiment="e")
    assert [(c.group, c.estimate.k) for c in split] == [("a", 2), ("b", 0)]
    assert [k.experiment for k in experiments(df)] == ["e", "other"]


def test_summary_frame_carries_labels():
    frame = summary_frame(summarize(table(rows(values=[1, 0, 1, 1]))))
    assert frame.loc[0, "label"] == "75% (3/4)" and frame.loc[0, "method"] == "95% Wilson"


def test_a_declared_lower_bound_clips_the_mean_interval_of_its_cell_only():
    kl = [dict(r, lower_bound=0.0) for r in rows(metric="kl", values=[0.0, 0.01, 0.0, 0.9])]
    score = rows(metric="refusal_score", values=[0.0, 0.01, 0.0, 0.9])
    cells = {c.metric: c.estimate for c in summarize(table(kl, score))}
    assert cells["kl"].low == 0.0 and "clipped at 0" in cells["kl"].method
    assert cells["refusal_score"].low < 0 and cells["refusal_score"].method == "95% t"


def test_a_bounded_metric_stays_a_mean_even_when_every_value_is_0_or_1():
    aoc = [dict(r, lower_bound=0.0, upper_bound=1.0) for r in rows(metric="aoc", values=[0, 1, 1, 0])]
    df = table(aoc, rows(metric="refusal", values=[0, 1, 1, 0]))
    assert metric_kinds(df) == {("e", "aoc"): "mean", ("e", "refusal"): "rate"}
    cells = {c.metric: c.estimate for c in summarize(df)}
    assert cells["aoc"].kind == "mean" and (cells["aoc"].low, cells["aoc"].high) == (0.0, 1.0)
