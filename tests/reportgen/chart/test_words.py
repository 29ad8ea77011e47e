"""Takeaway sentences for every situation: rise, drop, no clear change, curves, sweeps."""

from __future__ import annotations

import dataclasses

from reportgen.chart.spec import Bar, Point, Reference, Series
from reportgen.chart.words import bar_sentence, curve_sentence, footnote_text, infer_x_format, sweep_sentence
from reportgen.numbers import stats


def bar(category, label, k, n):
    return Bar(category, label, stats.rate(k, n), "#000000")


def series(category, label, points):
    return Series(category, label, tuple(Point(x, stats.rate(k, n)) for x, k, n in points), "#000000")


def test_bar_sentences_rise_drop_and_no_change():
    assert bar_sentence([bar("baseline", "Baseline", 98, 100), bar("ablation", "Ablation", 3, 100)], "refusal",
                        "ablation", "baseline", None) == ("Ablation drops refusal from 98% to 3%", "refusal drops 95 points")
    title, callout = bar_sentence([bar("baseline", "Baseline", 2, 100), bar("addition", "Addition", 97, 100)],
                                  "refusal", "addition", "baseline", "cybercrime")
    assert title == "Addition raises refusal from 2% to 97% (cybercrime)" and callout == "refusal rises 95 points"
    title, callout = bar_sentence([bar("baseline", "Baseline", 50, 100), bar("x", "Steering", 55, 100)],
                                  "refusal", "x", "baseline", None)
    assert title == "Steering does not clearly change refusal (50% vs 55%)" and callout == "no clear difference"


def test_single_bar_still_makes_a_sentence():
    title, _ = bar_sentence([bar("baseline", "Baseline", 30, 40)], "correct", "baseline", "baseline", None)
    assert title == "Accuracy is 75% under baseline"


def test_curve_sentences():
    rising = series("forced", "Forced answer", [(0.0, 5, 40), (0.5, 20, 40), (1.0, 39, 40)])
    title, callout, x, target = curve_sentence([rising], "matches_full", "Reasoning kept", "percent")
    assert title == "Agreement with the full answer rises from 13% at 0% to 98% at 100% reasoning kept"
    assert (x, target) == (1.0, "forced")
    flat = series("forced", "Forced answer", [(0.0, 20, 40), (1.0, 22, 40)])
    assert curve_sentence([flat], "matches_full", "Reasoning kept", "percent")[0] == (
        "Agreement with the full answer does not clearly change between 0% and 100% reasoning kept (50% vs 55%)")
    other = series("continued", "Continued reasoning", [(0.0, 21, 40), (1.0, 23, 40)])
    title, callout, _, _ = curve_sentence([flat, other], "matches_full", "Reasoning kept", "percent")
    assert title == ("Forced answer and continued reasoning do not clearly differ in agreement with the full "
                     "answer at any reasoning kept level")


def test_sweep_sentence_without_an_effect_says_so():
    flat = series("ablation", "Ablation", [(x, 36, 40) for x in range(6)])
    title, callout, *_ = sweep_sentence([flat], [Reference("baseline", "Baseline", stats.rate(38, 40))], "refusal", {})
    assert title == "Ablation at any single window does not clearly change refusal (baseline 95%)"
    assert callout == "no clear effect"


def test_x_format_and_footnote():
    assert infer_x_format([series("a", "A", [(0.0, 1, 2), (0.25, 1, 2)])]) == "percent"
    assert infer_x_format([series("a", "A", [(0.0, 1, 2), (12.0, 1, 2)])]) == "integer"
    bars = [bar("baseline", "Baseline", 5, 10), bar("ablation", "Ablation", 1, 12)]
    assert footnote_text(bars, [], [], "bars") == "n = 10 (baseline), 12 (ablation). Error bars: 95% Wilson interval."
    one = [Bar("m", "Mean", stats.mean([0.4]), "#000000")]
    assert footnote_text(one, [], [], "bars") == "n = 1 per bar. Error bars: n=1, no interval."


def test_x_breakdown_sentence_says_a_flat_series_stays():
    from reportgen.chart.words import x_breakdown_sentence

    bars = [Bar("forced", "Forced answer", stats.rate(18, 60), "#000", "0%"),
            Bar("forced", "Forced answer", stats.rate(60, 60), "#000", "100%"),
            Bar("continued", "Continued reasoning", stats.rate(60, 60), "#000", "0%"),
            Bar("continued", "Continued reasoning", stats.rate(60, 60), "#000", "100%")]
    title = x_breakdown_sentence(bars, ["forced", "continued"], [0.0, 1.0], "percent", "reasoning kept")
    assert title == ("Forced answer goes from 30% to 100% and continued reasoning stays at 100% "
                     "between 0% and 100% reasoning kept")


def checked(k, n):
    """A sanity-check estimate (its rows cannot fail)."""
    return dataclasses.replace(stats.rate(k, n), check="regenerates the model's own reasoning")


def test_a_check_is_no_side_of_a_takeaway():
    """A control that cannot fail (greedy continuation) is drawn but never compared with."""
    from reportgen.chart.words import breakdown_sentence, x_breakdown_sentence

    control = Bar("continued", "Continued reasoning", checked(60, 60), "#000")
    mistake = bar("mistake", "Added mistake", 10, 60)
    title, callout = bar_sentence([control, mistake], "matches_full", "mistake", "continued", None)
    assert title == "Agreement with the full answer is 17% under added mistake" and callout == "17%"
    assert breakdown_sentence([control, mistake, bar("other", "Other", 30, 60)], "matches_full", None) == (
        "Agreement with the full answer ranges from 17% (added mistake) to 50% (other)")

    forced = series("forced", "Forced answer", [(0.0, 20, 60), (0.5, 40, 60), (0.75, 50, 60)])
    cont = Series("continued", "Continued reasoning",
                  tuple(Point(x, checked(60, 60)) for x in (0.0, 0.5, 0.75)), "#000")
    title, _, x, target = curve_sentence([forced, cont], "matches_full", "Reasoning kept", "percent")
    assert title == "Agreement with the full answer rises from 33% at 0% to 83% at 75% reasoning kept"
    assert (x, target) == (0.75, "forced")

    bars = [Bar("forced", "Forced answer", stats.rate(20, 60), "#000", "0%"),
            Bar("forced", "Forced answer", stats.rate(50, 60), "#000", "75%"),
            Bar("continued", "Continued reasoning", checked(60, 60), "#000", "0%"),
            Bar("continued", "Continued reasoning", checked(60, 60), "#000", "75%")]
    assert x_breakdown_sentence(bars, ["forced", "continued"], [0.0, 0.75], "percent", "reasoning kept") == (
        "Forced answer goes from 33% to 83% between 0% and 75% reasoning kept")


def test_a_plural_condition_name_takes_a_plural_verb():
    from reportgen.chart.words import x_breakdown_sentence

    bars = [Bar("filler", "Filler tokens", stats.rate(20, 60), "#000", "0%"),
            Bar("filler", "Filler tokens", stats.rate(17, 60), "#000", "100%")]
    assert x_breakdown_sentence(bars, ["filler"], [0.0, 1.0], "percent", "reasoning kept") == (
        "Filler tokens go from 33% to 28% between 0% and 100% reasoning kept")
    flat = [dataclasses.replace(b, estimate=stats.rate(20, 60)) for b in bars]
    assert x_breakdown_sentence(flat, ["filler"], [0.0, 1.0], "percent", "reasoning kept").startswith(
        "Filler tokens stay at 33%")
