"""Claims: quantities as researchers write them, measurements against the libraries, verdicts."""

from __future__ import annotations

import pytest
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint

from reportgen.numbers.claims import Claim, ClaimError, Quantity, measure_claim, parse_quantity, verdict
from reportgen.rundir.reader import load_run


@pytest.mark.parametrize(
    "raw, expected",
    [("58%", Quantity(0.58, "percent")), ("-40 pp", Quantity(-0.40, "percent")), ("−5 %", Quantity(-0.05, "percent")),
     (0.48, Quantity(0.48, "number")), ("12", Quantity(12.0, "number"))],
)
def test_parse_quantity(raw, expected):
    got = parse_quantity(raw)
    assert got.unit == expected.unit and got.value == pytest.approx(expected.value)


@pytest.mark.parametrize("raw", ["about half", True, "5 %%", float("nan")])
def test_parse_quantity_rejects_what_it_cannot_read(raw):
    with pytest.raises(ValueError):
        parse_quantity(raw)


def test_rate_and_difference_match_statsmodels(make_run):
    run = load_run(make_run("steer", rates={"baseline": 0.9, "ablation": 0.15}, n=20))
    single = Claim(id="a", label="ablated", measure={"experiment": "harmful", "metric": "refusal", "condition": "ablation"})
    m = measure_claim(single, [run])
    low, high = proportion_confint(3, 20, method="wilson")
    assert (m.value, m.unit, m.n) == (0.15, "percent", "20")
    assert (m.low, m.high) == pytest.approx((low, high))
    diff = Claim(id="d", label="change", hypothetical="-50 pp",
                 measure={"experiment": "harmful", "metric": "refusal", "condition": "ablation",
                          "minus": {"condition": "baseline"}})
    d = measure_claim(diff, [run])
    # The same 20 items under both conditions: a paired interval, narrower than the
    # independent-samples one that ignores the pairing.
    low, high = confint_proportions_2indep(3, 20, 18, 20, method="newcomb", compare="diff")
    assert d.value == pytest.approx(-0.75) and d.method == "95% paired Newcombe"
    assert low < d.low < d.value < d.high < high
    assert d.text() == "−75 pp" and d.n == "20 vs 20" and d.difference
    # Different items (one baseline item missing): independent samples, as statsmodels computes it.
    unpaired = run.results.drop(run.results.index[(run.results["condition"] == "baseline")][-1])
    run.results = unpaired
    d = measure_claim(diff, [run])
    low, high = confint_proportions_2indep(3, 20, 18, 19, method="newcomb", compare="diff")  # it was a 0
    assert d.method == "95% Newcombe" and (d.low, d.high) == pytest.approx((low, high))


def test_verdict_is_judged_on_the_interval(make_run):
    run = load_run(make_run("steer", rates={"baseline": 0.9, "ablation": 0.15}, n=20))
    measure = {"experiment": "harmful", "metric": "refusal", "condition": "ablation"}
    m = measure_claim(Claim(id="a", label="x", measure=measure), [run])  # 15%, interval ≈ 5–36%
    assert verdict(Claim(id="a", label="x", measure=measure, expect={"below": "50%"}), m) == "held"
    assert verdict(Claim(id="a", label="x", measure=measure, expect={"above": "50%"}), m) == "did not hold"
    assert verdict(Claim(id="a", label="x", measure=measure, expect={"below": "20%"}), m) == "inconclusive"
    assert verdict(Claim(id="a", label="x", measure=measure), m) is None


def test_unmeasurable_claims_say_what_exists(make_run):
    run = load_run(make_run("steer"))
    claim = Claim(id="a", label="x", measure={"experiment": "harmful", "metric": "refusal", "condition": "ablaton"})
    with pytest.raises(ClaimError, match=r"no condition 'ablaton'; the results have: ablation, baseline"):
        measure_claim(claim, [run], "abstract.yaml: claims[0]")
    twice = [run, load_run(make_run("again"))]
    with pytest.raises(ClaimError, match="several runs"):
        measure_claim(Claim(id="a", label="x", measure={"experiment": "harmful", "metric": "refusal"}), twice)


def test_claim_needs_something_to_show_and_one_expectation():
    with pytest.raises(ValueError, match="hypothetical"):
        Claim(id="a", label="x")
    with pytest.raises(ValueError, match="exactly one"):
        Claim(id="a", label="x", hypothetical="5%", expect={"above": "1%", "below": "9%"})


def test_a_sanity_check_is_never_evidence_for_a_claim(make_run):
    from reportgen.numbers.summarize import summarize

    run = load_run(make_run("steer", rates={"baseline": 1.0, "ablation": 0.15}, n=20))
    is_check = run.results["condition"] == "baseline"
    run.results["check"] = None
    run.results.loc[is_check, "check"] = "refuses by construction"
    cells = {c.condition: c for c in summarize(run.results)}
    assert cells["baseline"].check == "refuses by construction" and cells["ablation"].check is None
    claim = Claim(id="c", label="baseline", measure={"experiment": "harmful", "metric": "refusal", "condition": "baseline"})
    with pytest.raises(ClaimError, match="sanity check that cannot fail"):
        measure_claim(claim, [run])
    diff = Claim(id="d", label="drop", measure={"experiment": "harmful", "metric": "refusal", "condition": "ablation",
                                                "minus": {"condition": "baseline"}})
    with pytest.raises(ClaimError, match="measure.minus: these rows are a sanity check"):
        measure_claim(diff, [run])


def test_a_difference_over_sampled_cells_compares_per_item_means(make_run):
    """k identical samples per item must not narrow a claimed difference's interval."""
    import pandas as pd

    run = load_run(make_run("steer", rates={"baseline": 0.9, "ablation": 0.15}, n=20))
    diff = Claim(id="d", label="change", measure={"experiment": "harmful", "metric": "refusal",
                                                   "condition": "ablation", "minus": {"condition": "baseline"}})
    once = measure_claim(diff, [run])
    run.results = pd.concat([run.results.assign(sample=s) for s in range(4)], ignore_index=True)
    sampled = measure_claim(diff, [run])
    assert sampled.value == pytest.approx(once.value)
    assert "per-item means" in sampled.method and "paired t" in sampled.method
    assert sampled.method.endswith("4 samples per item, interval clustered by item")
    single = Claim(id="a", label="ablated", measure={"experiment": "harmful", "metric": "refusal", "condition": "ablation"})
    assert "4 samples per item, interval clustered by item" in measure_claim(single, [run]).method
    assert sampled.n == once.n == "20 vs 20" and measure_claim(single, [run]).n == "20"  # items, not 80 rows
    assert sampled.high - sampled.low > 0.5 * (once.high - once.low)  # not the sqrt(4)-narrower naive one
