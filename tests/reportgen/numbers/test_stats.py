"""Estimates and intervals against statsmodels/scipy, and the labels slides quote."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.proportion import proportion_confint

from reportgen.numbers import stats


@pytest.mark.parametrize("k,n", [(0, 10), (1, 10), (58, 100), (99, 100), (100, 100), (3, 7), (1, 1)])
def test_rate_matches_statsmodels_wilson(k, n):
    est = stats.rate(k, n)
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    assert est.value == pytest.approx(k / n)
    assert est.low == pytest.approx(max(0.0, low), abs=1e-12)
    assert est.high == pytest.approx(min(1.0, high), abs=1e-12)
    assert (est.k, est.n, est.kind, est.method) == (k, n, "rate", "95% Wilson")
    assert est.low <= est.value <= est.high


def test_rate_interval_contains_the_estimate_at_the_edges():
    # statsmodels returns an upper bound a hair below 1 for k == n; a bar must not stick out of it.
    for n in (1, 7, 120, 999):
        full = stats.rate(n, n)
        assert full.high == 1.0 and full.value == 1.0
        assert stats.rate(0, n).low == 0.0


@pytest.mark.parametrize("k,n", [(-1, 10), (11, 10), (0, 0)])
def test_rate_rejects_impossible_counts(k, n):
    with pytest.raises(ValueError):
        stats.rate(k, n)


def test_mean_matches_scipy_t_interval():
    values = [0.1, 0.4, 0.35, 0.8, 0.05, 0.52]
    est = stats.mean(values)
    arr = np.array(values)
    low, high = sps.t.interval(0.95, df=len(arr) - 1, loc=arr.mean(), scale=sps.sem(arr))
    assert (est.value, est.low, est.high) == pytest.approx((arr.mean(), low, high))
    assert (est.n, est.k, est.kind, est.method) == (6, None, "mean", "95% t")


def test_mean_of_one_value_says_there_is_no_interval():
    est = stats.mean([0.3])
    assert est.low == est.high == est.value == 0.3
    assert "no interval" in est.method and not est.has_interval


def test_mean_of_identical_values_has_zero_width():
    est = stats.mean([2.0, 2.0, 2.0])
    assert est.low == est.high == 2.0 and "all values equal" in est.method


def test_estimate_picks_rate_for_binary_values_unless_told():
    assert stats.estimate([0, 1, 1, 0]).kind == "rate"
    assert stats.estimate([0.0, 0.5, 1.0]).kind == "mean"
    forced = stats.estimate([0, 1, 1], binary=False)
    assert forced.kind == "mean" and forced.value == pytest.approx(2 / 3)


def test_pooled_rate_sums_counts():
    est = stats.pooled_rate([3, 5], [10, 10])
    assert (est.k, est.n) == (8, 20)
    assert est.low == pytest.approx(proportion_confint(8, 20, method="wilson")[0])


@pytest.mark.parametrize(
    "k,n,text",
    [(58, 100, "58% (58/100)"), (0, 50, "0% (0/50)"), (1, 300, "<1% (1/300)"), (299, 300, ">99% (299/300)"),
     (1, 8, "13% (1/8)"), (5, 8, "63% (5/8)")],
)
def test_rate_label(k, n, text):
    # Half-way cases round up (12.5% -> 13%), and a non-zero count never reads as 0%.
    assert stats.rate(k, n).label() == text


def test_mean_label_and_number_format():
    assert stats.mean([0.481, 0.483]).label() == "0.482 (n=2)"
    assert stats.format_number(123.456) == "123"
    assert stats.format_number(-0.012345) == "-0.0123"
    assert not math.isnan(float(stats.format_number(0.0)))


def test_overlap_is_the_no_clear_difference_rule():
    assert stats.rate(50, 100).overlaps(stats.rate(55, 100))
    assert not stats.rate(98, 100).overlaps(stats.rate(3, 100))


def test_mean_interval_is_clipped_at_the_metrics_bound_and_says_so():
    # A skewed non-negative metric (KL): one large value drags the t interval below 0.
    values = [0.0, 0.01, 0.0, 0.02, 0.9, 0.0]
    plain = stats.mean(values)
    assert plain.low < 0
    est = stats.mean(values, lower=0.0)
    assert (est.value, est.high) == pytest.approx((plain.value, plain.high))
    assert est.low == 0.0 and est.method == "95% t, clipped at 0"
    both = stats.mean([0.02, 0.98, 0.97, 0.99], lower=0.0, upper=1.0)
    assert (both.low, both.high, both.method) == (0.0, 1.0, "95% t, clipped at 0 and at 1")


def test_mean_inside_its_bounds_is_not_clipped():
    values = [0.1, 0.4, 0.35, 0.8, 0.05, 0.52]
    assert stats.mean(values, lower=0.0, upper=1.0) == stats.mean(values)


def test_interval_descriptions_merge_variants_of_one_method():
    methods = ["95% Wilson", "95% t", "95% t (all values equal)", "95% t, clipped at 0", "95% t, clipped at 0",
               "n=1, no interval"]
    assert stats.describe_intervals(methods) == [
        "95% Wilson interval", "95% t interval (clipped at 0; zero width where all values are equal)",
        "n=1, no interval"]
    assert stats.describe_intervals(["95% t"]) == ["95% t interval"]


def test_paired_rate_difference_is_newcombes_independent_interval_when_pairs_are_uncorrelated():
    from statsmodels.stats.proportion import confint_proportions_2indep

    from reportgen.numbers.stats import paired_rate_difference

    # 10 items 1/1, 10 items 1/0, 10 items 0/1, 10 items 0/0: phi = 0, so method 10 reduces
    # to the independent hybrid score interval that statsmodels computes.
    a = [1] * 10 + [1] * 10 + [0] * 10 + [0] * 10
    b = [1] * 10 + [0] * 10 + [1] * 10 + [0] * 10
    assert paired_rate_difference(a, b) == pytest.approx(
        confint_proportions_2indep(20, 40, 20, 40, method="newcomb", compare="diff"))
    # Positively correlated pairs (the usual case: the same prompts) give a narrower interval.
    a2 = [1] * 18 + [0] * 2 + [1] * 2 + [0] * 18
    b2 = [1] * 18 + [1] * 2 + [0] * 2 + [0] * 18
    lo, hi = paired_rate_difference(a2, b2)
    ilo, ihi = confint_proportions_2indep(20, 40, 20, 40, method="newcomb", compare="diff")
    assert ilo < lo < 0 < hi < ihi
