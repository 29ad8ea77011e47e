"""Several rows per item (``samples: k``): per-item averages, intervals clustered by item."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.stats.proportion import proportion_confint

from reportgen.chart.words import footnote_text
from reportgen.numbers import stats
from reportgen.numbers.summarize import summarize
from reportgen.rundir.schema import validate_results

OUTCOMES = [1, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, 1]


def sampled(values_per_item, metric="refusal"):
    """One row per (item, sample): ``values_per_item[i]`` lists item i's sample values."""
    return validate_results(pd.DataFrame([
        {"experiment": "e", "task": "bias", "model": "m", "condition": "cued", "item_id": f"i{i}",
         "metric": metric, "value": float(v), "sample": s}
        for i, vs in enumerate(values_per_item) for s, v in enumerate(vs)
    ]))


def only(df):
    (cell,) = summarize(df)
    return cell.estimate


@pytest.mark.parametrize("k", [2, 5])
def test_k_identical_samples_give_the_interval_of_one_sample_per_item(k):
    one = only(sampled([[v] for v in OUTCOMES]))
    many = only(sampled([[v] * k for v in OUTCOMES]))
    assert (many.value, many.low, many.high) == pytest.approx((one.value, one.low, one.high), abs=1e-12)
    naive = proportion_confint(sum(OUTCOMES) * k, len(OUTCOMES) * k, method="wilson")
    # the classic bug (k·n rows as independent) would be about sqrt(k) narrower
    assert many.high - many.low > (naive[1] - naive[0]) * 1.3
    assert (many.items, many.samples, many.n) == (len(OUTCOMES), k, len(OUTCOMES) * k)


@pytest.mark.parametrize("k", [2, 5])
def test_a_mean_over_identical_samples_keeps_its_width(k):
    vals = [0.1, 0.4, 0.35, 0.8, 0.05, 0.5]
    one = only(sampled([[v] for v in vals], metric="score"))
    many = only(sampled([[v] * k for v in vals], metric="score"))
    assert (many.low, many.high) == pytest.approx((one.low, one.high), abs=1e-12)


def test_independent_samples_count_as_rows():
    rng = np.random.default_rng(3)
    draws = rng.integers(0, 2, size=(200, 4))  # no item effect: every row independent
    est = only(sampled(draws.tolist()))
    flat = proportion_confint(int(draws.sum()), draws.size, method="wilson")
    assert est.high - est.low == pytest.approx(flat[1] - flat[0], rel=0.15)
    assert est.high - est.low < (flat[1] - flat[0]) * 2  # far from the items-only width (x2)


def test_the_rate_is_the_average_of_per_item_rates():
    est = only(sampled([[1, 1, 1, 1], [0]]))  # unbalanced: 4 samples of one item, 1 of the other
    assert est.value == pytest.approx(0.5)


def test_all_zero_samples_are_as_cautious_as_one_per_item():
    est = only(sampled([[0, 0, 0]] * 10))
    assert est.high == pytest.approx(stats.rate(0, 10).high)


def test_the_footnote_says_k_samples_per_item_and_clustered():
    from reportgen.chart.model import Bar

    est = only(sampled([[v] * 3 for v in OUTCOMES]))
    text = footnote_text([Bar(category="cued", label="Cued", estimate=est, color="#000000")], [], [], "bars")
    assert "3 samples per item, interval clustered by item" in text
    assert "Wilson interval (clustered by item)" in text
    assert stats.sampling_note([stats.rate(3, 10)]) is None


def forty_by_three():
    """40 items × 3 samples, 24 of the 120 rows a success, items differing (the example of the fix)."""
    return sampled([[float((3 * i + s) % 5 == 0) for s in range(3)] for i in range(40)])


def test_labels_count_items_not_samples():
    """A bar label, the footnote's n, a backup table's n and a claim's n name the 40 items,
    never "24/120": the 120 rows are not 120 independent observations."""
    from pathlib import Path

    from reportgen.chart.model import Bar
    from reportgen.chart.render import draw_chart
    from reportgen.chart.spec import build_chart_specs
    from reportgen.deck.slides.tables import number_tables
    from reportgen.rundir.reader import Run

    est = only(forty_by_three())
    assert (est.k, est.n, est.items) == (24, 120, 40)
    assert est.label() == "20% (n=40 items)" and "/120" not in est.label()
    text = footnote_text([Bar(category="cued", label="Cued", estimate=est, color="#000000")], [], [], "bars")
    assert text.startswith("n = 40 per bar.") and "3 samples per item" in text
    run = Run(path=Path("r"), results=forty_by_three())
    chart = next(c for c in build_chart_specs([run]) if c.kind == "bars")
    ax = draw_chart(chart).axes[0]
    labels = [t.get_text() for t in ax.texts if t.get_gid() == "value-label"]
    assert labels and not any("120" in t for t in labels) and "n=40 items" in " ".join(labels).replace("\n", " ")
    rows = [r for t in number_tables(run, chart) for r in t.rows]
    assert rows and all(r[-1] == "40" and "/120" not in " ".join(r) for r in rows)
