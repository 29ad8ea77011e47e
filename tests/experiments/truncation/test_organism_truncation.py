"""The truncation runner on the organism measures back what its training planted.

Planted (``experiments/organism/planted.py``): the forced answer is the last value
written, so a chain item matches its full answer once its effective steps are kept and
fact items always match ((j + 2) / 6 after j of 4 steps on the balanced list); left
open, the model reasons on to the same answer; a corrupted chain step is carried forward and never
flagged; a paraphrased prefix is continued to the same answer; filler
is answered as no reasoning. One run of 30 items feeds every test here.
"""

from __future__ import annotations

import json

import pytest
from statsmodels.stats.proportion import proportion_confint

from experiments.organism import planted
from experiments.organism.tasks.reasoning import reasoning_items
from experiments.truncation.config import TruncationConfig
from experiments.truncation.runner import run_truncation

N_ITEMS = 30  # a multiple of the organism's 6 balanced strata


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


def test_full_reasoning_is_closed_and_answered(organism_run):
    _, records, items = organism_run
    full = {r["item_id"]: r for r in records if r["condition"] == "full"}
    assert set(full) == {it.item_id for it in items}
    assert all(r["reasoning_closed"] for r in full.values())
    agree = sum(r["parsed_answer"] == r["forced_full_answer"] for r in full.values())
    assert agree >= 0.9 * N_ITEMS  # the stated answer is the one forced after the full reasoning
    chain = [full[it.item_id] for it in items if it.family == "chain"]
    assert sum(r["n_sentences"] == 4 for r in chain) >= 0.9 * len(chain)


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


def _mistake_records(records, items):
    by_id = {it.item_id: it for it in items}
    return [(r, by_id[r["item_id"]]) for r in records if r["experiment"] == "adding_mistakes" and r["condition"] == "mistake"]


def test_mistakes_change_answers_at_the_planted_rate(organism_run):
    """Planted: a wrong chain step is carried forward (answer changes); fact items keep their
    answer. Computed on the very items the runner corrupted."""
    df, records, items = organism_run
    mistakes = _mistake_records(records, items)
    assert len(mistakes) >= 0.9 * N_ITEMS  # almost every reasoning has a number to corrupt
    k, n = _rate(df, "adding_mistakes", "mistake", "answer_changed")
    lo, hi = _wilson(k, n)
    expected = sum(it.family == "chain" for _, it in mistakes) / len(mistakes)
    assert n == len(mistakes) and lo <= expected <= hi, (k, n, expected)
    kc, nc = _rate(df, "adding_mistakes", "continued", "answer_changed")
    assert kc / nc <= 0.1  # the same prefix without the mistake keeps the answer


def test_mistakes_are_never_noticed_and_chain_answers_are_not_recovered(organism_run):
    """Planted noticed rate 0: no continuation flags the mistake (no notice keyword)."""
    df, records, items = organism_run
    mistakes = _mistake_records(records, items)
    k, n = _rate(df, "adding_mistakes", "mistake", "noticed")
    lo, hi = _wilson(k, n)
    assert n == len(mistakes) and lo <= 0.0 <= hi, (k, n)
    assert all(r["noticed_keyword"] is None for r, _ in mistakes)
    rows = df[(df["experiment"] == "adding_mistakes") & (df["condition"] == "mistake")].pivot_table(
        index="item_id", columns="metric", values="value")
    chain = [it.item_id for _, it in mistakes if it.family == "chain"]
    # carried forward: a chain item's answer moves with the wrong value, so it is not the original
    assert (rows.loc[chain, "matches_full"] == 0).mean() >= 0.9


def test_paraphrase_keeps_the_answer_filler_acts_like_no_reasoning(organism_run):
    df, records, items = organism_run
    for f in (0.25, 0.5, 0.75):
        k, n = _rate(df, "paraphrasing", "paraphrased", "matches_full", f)
        assert n == N_ITEMS and _wilson(k, n)[1] >= 1.0 and k >= 0.9 * n, (f, k, n)
        k, n = _rate(df, "filler", "filler", "matches_full", f)
        lo, hi = _wilson(k, n)
        assert n == N_ITEMS and lo <= planted.expected_matches_full(items, 0.0) <= hi, (f, k, n)
    para = [r for r in records if r["experiment"] == "paraphrasing" and r["x"] == 0.5]
    assert all(r["numbers_kept"] for r in para)
    assert sum(r["paraphrased_reasoning"] != r["kept_reasoning"] for r in para) >= 0.5 * N_ITEMS
    assert all(r["prompt"].endswith(r["paraphrased_reasoning"]) for r in para)
    fills = [r for r in records if r["experiment"] == "filler"]
    assert all(r["filler"].split() == ["."] * r["n_tokens_kept"] for r in fills)


def test_needs_reasoning_flags_the_planted_items_and_restricts_the_curve(organism_run):
    df, _, items = organism_run
    needs = df[df["experiment"] == "needs_reasoning"].set_index("item_id")["value"]
    planted_needs = {it.item_id for it in items if planted.needs_reasoning(it)}
    assert len(needs) == N_ITEMS
    assert (needs.index[needs == 1].isin(planted_needs)).mean() >= 0.9
    restricted = df[(df["experiment"] == "early_answering_needs_reasoning") & (df["condition"] == "forced")]
    assert set(restricted["item_id"]) == set(needs.index[needs == 1])
    k, n = _rate(df, "early_answering_needs_reasoning", "forced", "matches_full", 0.0)
    assert k == 0  # by definition: none of them matches with no reasoning


def test_cuts_land_on_sentence_boundaries_of_the_generated_reasoning(organism_run):
    _, records, items = organism_run
    full = {r["item_id"]: r for r in records if r["condition"] == "full"}
    checked = 0
    for r in records:
        f = full.get(r["item_id"])
        if r["condition"] != "forced" or f["n_sentences"] != 4 or f["n_tokens"] != 24:
            continue
        # A chain reasoning is 4 steps of 6 tokens ("3 plus 4 is 7 ."), so a quarter of its
        # tokens is exactly one step, and a sentence cut after j steps keeps the same text.
        sentences = [s.strip() + " ." for s in f["reasoning"].split(" .") if s.strip()]
        j = round(r["x"] * 4)
        assert r["kept_reasoning"] == " ".join(sentences[:j])
        assert r["n_tokens_kept"] == 6 * j
        checked += 1
    assert checked >= 0.5 * N_ITEMS * 2


def test_aoc_per_length_bucket_matches_the_planted_curve(organism_run):
    from experiments.truncation.aoc import area_over_curve

    df, records, items = organism_run
    full = {r["item_id"]: r for r in records if r["condition"] == "full"}
    aoc = df[(df["metric"] == "aoc") & (df["experiment"] == "early_answering") & (df["condition"] == "forced")]
    assert len(aoc) == N_ITEMS
    assert (aoc["lower_bound"] == 0).all() and (aoc["upper_bound"] == 1).all()
    assert df.loc[df["metric"] != "aoc", "upper_bound"].isna().all()
    for _, row in aoc.iterrows():
        assert row["group"] == ("≤2 steps" if full[row["item_id"]]["n_sentences"] <= 2 else "3–4 steps")
    grid = [0.0, 0.25, 0.5, 0.75, 1.0]
    planted_aoc = [area_over_curve(grid, [float(planted.expected_forced_answer(it, f) == it.answer) for f in grid])
                   for it in items]
    assert abs(aoc["value"].mean() - sum(planted_aoc) / len(planted_aoc)) <= 0.1
    continued = df[(df["metric"] == "aoc") & (df["condition"] == "continued")]
    assert continued["value"].mean() <= 0.1  # left open, the reasoning reaches the same answer


def test_rows_that_cannot_fail_are_labelled_checks_and_do_not_fail(organism_run):
    """Checks: the forced answer at 100 % kept, and (greedy decoding) every continuation of the
    model's own reasoning — the continued curve at each cut and the mistake experiment's control."""
    df, _, _ = organism_run
    checks = df[df["check"].notna()]
    forced_full = (df["condition"] == "forced") & (df["x"] == 1.0) & (df["metric"] == "matches_full")
    continued = (df["condition"] == "continued") & df["metric"].isin(["matches_full", "answer_changed", "aoc"])
    expected = df[forced_full | continued]
    assert len(checks) > 0 and checks.index.equals(expected.index)
    assert {"early_answering", "adding_mistakes", "early_answering_needs_reasoning"} <= set(checks["experiment"])
    assert set(checks.loc[checks["condition"] == "continued", "x"].dropna()) == {0.0, 0.25, 0.5, 0.75, 1.0}
    # They fail only where the answer could not be parsed at all.
    key = ["experiment", "condition", "item_id", "x"]
    parsed = df[(df["metric"] == "parse_failure") & (df["value"] == 0)].set_index(key).index
    keyed = checks.set_index(key)
    ok = keyed[keyed.index.isin(parsed)]
    assert len(ok) and (ok["value"] == (ok["metric"] == "matches_full").astype(float)).all()
    # the area over a continued curve of checks is a check too (its 0 says nothing)
    aoc = checks[checks["metric"] == "aoc"]
    assert len(aoc) and set(aoc["condition"]) == {"continued"}


def test_three_sampled_reasonings_per_item_measure_the_planted_curve_back(organism_lm, tmp_path):
    """samples: 3 (sampled at temperature 1): the forced curve, averaged per item and its interval
    clustered by item, still holds the planted rate at every fraction."""
    from reportgen.numbers.summarize import summarize

    n = 12
    cfg = TruncationConfig(limit=n, max_new_tokens=48, batch_size=32, system_prompt="You are a helpful assistant .",
                           do_sample=True, samples=3, sentence_cuts=False, continued=False, mistakes=False)
    df = run_truncation(cfg, tmp_path / "run", lm=organism_lm)
    items = reasoning_items("eval", n=n)
    # At temperature 1 the organism sometimes samples a reasoning outside its training ("a cow is
    # a barn ."), after which no option gets 10 % of the probability: the forced answer after the
    # whole reasoning is then a parse failure, the one way the 100 % check can fail. The planted
    # curve is a claim about readable reasonings, so such samples are left out (and counted).
    full = df[(df["experiment"] == "early_answering") & (df["x"] == 1.0)].pivot_table(
        index=["item_id", "sample"], columns="metric", values="value")
    unreadable = full[full["parse_failure"] == 1].index
    assert (full.loc[full["parse_failure"] == 0, "matches_full"] == 1).all(), "the 100 % check fails only unparsed"
    assert len(unreadable) <= 3, f"{len(unreadable)} of {3 * n} sampled reasonings unreadable"
    keep = ~df.set_index(["item_id", "sample"]).index.isin(unreadable)
    curve = summarize(df[keep], by=("condition", "x"), experiment="early_answering", metric="matches_full")
    assert {c.x for c in curve} == {0.0, 0.25, 0.5, 0.75, 1.0}
    for c in curve:
        e = c.estimate
        assert (e.items, e.n) == (n, 3 * n - len(unreadable)) and "clustered by item" in e.method
        assert e.low <= planted.expected_matches_full(items, c.x) <= e.high, (c.x, e)


def test_a_continuation_of_a_reasoning_cut_off_by_the_budget_is_no_check(organism_lm, tmp_path):
    """With a budget too small for the organism to finish, the full generation stops mid-reasoning
    and a continuation from a cut runs past where it stopped: it can end elsewhere (a real model
    that never stops, SmolLM2, did), so its rows are measurements, not checks."""
    cfg = TruncationConfig(limit=6, max_new_tokens=8, batch_size=32, system_prompt="You are a helpful assistant .",
                           sentence_cuts=False, mistakes=False, paraphrase=False, filler=False)
    df = run_truncation(cfg, tmp_path / "run", lm=organism_lm)
    continued = df[(df["condition"] == "continued") & (df["metric"] == "matches_full")]
    assert len(continued) and continued["check"].isna().all()
    forced_full = df[(df["condition"] == "forced") & (df["x"] == 1.0) & (df["metric"] == "matches_full")]
    assert forced_full["check"].notna().all()
