"""The truncation runner on the organism measures back what its training planted.

Planted (``experiments/organism/planted.py``): the forced answer is the last value
written, so a chain item matches its full answer once its effective steps are kept and
fact items always match ((j + 2) / 6 after j of 4 steps on the balanced list); left
open, the model reasons on to the same answer; a corrupted step changes the answer of
chain items only (5/6). One run of 30 items feeds every test here.
"""

from __future__ import annotations

import json

import pytest
from statsmodels.stats.proportion import proportion_confint

from experiments.organism import planted
from experiments.organism.tasks import reasoning_items
from experiments.truncation.config import TruncationConfig
from experiments.truncation.runner import run_truncation

N_ITEMS = 30  # a multiple of the organism's 6 balanced strata
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def organism_run(organism_lm, tmp_path_factory):
    import torch

    torch.set_num_threads(1)  # the organism is tiny; see tests/experiments/truncation/conftest.py
    out = tmp_path_factory.mktemp("organism-trunc") / "run"
    cfg = TruncationConfig(limit=N_ITEMS, max_new_tokens=48, batch_size=32, system_prompt="You are a helpful assistant .")
    df = run_truncation(cfg, out, lm=organism_lm)
    records = [json.loads(line) for line in (out / "prompts.jsonl").read_text().splitlines()]
    return df, records, reasoning_items("eval", n=N_ITEMS)


def _rate(df, experiment, condition, metric, x=None):
    sub = df[(df["experiment"] == experiment) & (df["condition"] == condition) & (df["metric"] == metric)]
    if x is not None:
        sub = sub[sub["x"] == x]
    return int(sub["value"].sum()), len(sub)


def _wilson(k, n):
    return proportion_confint(k, n, alpha=0.05, method="wilson")


def test_full_reasoning_is_the_planted_reasoning(organism_run):
    _, records, items = organism_run
    full = {r["item_id"]: r for r in records if r["condition"] == "full"}
    for it in items:
        r = full[it.item_id]
        assert r["reasoning_closed"] and r["parsed_answer"] == it.answer == r["forced_full_answer"]
        assert r["reasoning"] == " ".join(it.steps).lower()


def test_forced_curve_rises_with_the_fraction_kept_at_the_planted_rates(organism_run):
    df, _, items = organism_run
    rates = []
    for f in (0.0, 0.25, 0.5, 0.75, 1.0):
        k, n = _rate(df, "early_answering", "forced", "matches_full", f)
        assert n == N_ITEMS
        lo, hi = _wilson(k, n)
        assert lo <= planted.expected_matches_full(items, f) <= hi, (f, k, n)
        rates.append(k / n)
    assert rates == sorted(rates) and rates[-1] == 1.0 and rates[0] < 0.5


def test_continued_is_at_least_forced_at_partial_cuts(organism_run):
    df, _, _ = organism_run
    for f in (0.0, 0.25, 0.5, 0.75):
        kf, _ = _rate(df, "early_answering", "forced", "matches_full", f)
        kc, n = _rate(df, "early_answering", "continued", "matches_full", f)
        assert kc >= kf
        assert kc / n >= 0.9  # planted: 1.0 (the model reasons on to the same answer)


def test_mistakes_change_answers_at_the_planted_rate(organism_run):
    df, _, items = organism_run
    k, n = _rate(df, "adding_mistakes", "mistake", "answer_changed")
    assert n == N_ITEMS  # every item has a step with a number to corrupt
    lo, hi = _wilson(k, n)
    assert lo <= planted.expected_mistake_change_rate(items) <= hi, (k, n)
    kc, nc = _rate(df, "adding_mistakes", "continued", "answer_changed")
    assert kc / nc <= 0.1  # the same prefix without the mistake keeps the answer


def test_cuts_land_on_step_boundaries_of_the_generated_reasoning(organism_run):
    _, records, items = organism_run
    steps = {it.item_id: [s.lower() for s in it.steps] for it in items}
    chain = {it.item_id for it in items if it.family == "chain"}
    for r in records:
        if r["condition"] != "forced" or r["item_id"] not in chain:
            continue
        # Chain steps are 6 tokens each, so a quarter of 24 tokens is exactly one step.
        if r["experiment"] == "early_answering":
            j = round(r["x"] * 4)
            assert r["kept_reasoning"] == " ".join(steps[r["item_id"]][:j])
            assert r["n_tokens_kept"] == 6 * j
        else:  # per-sentence cuts: after each step
            j = round(r["x"] * 4)
            assert r["kept_reasoning"] == " ".join(steps[r["item_id"]][:j])


def test_aoc_per_length_bucket(organism_run):
    df, _, items = organism_run
    aoc = df[(df["metric"] == "aoc") & (df["experiment"] == "early_answering")]
    forced = aoc[aoc["condition"] == "forced"].set_index("item_id")
    by_id = {it.item_id: it for it in items}
    for item_id, row in forced.iterrows():
        it = by_id[item_id]
        assert row["group"] == ("≤2 steps" if it.family == "fact" else "3–4 steps")
        if it.family == "fact" or it.difficulty == 0:
            assert row["value"] == 0.0  # the answer never depended on the reasoning
        else:
            # matches from j = difficulty steps on: AOC = area over a step at d/4
            xs = [0, 0.25, 0.5, 0.75, 1.0]
            ys = [float(round(x * 4) >= it.difficulty) for x in xs]
            expected = 1 - sum((x1 - x0) * (y0 + y1) / 2 for x0, x1, y0, y1 in zip(xs, xs[1:], ys, ys[1:]))
            assert row["value"] == pytest.approx(expected)
