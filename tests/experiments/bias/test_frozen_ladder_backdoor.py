"""The frozen-reasoning ladder's prefixes and outcomes, and the trigger cue (the backdoor)."""

from __future__ import annotations

import pytest

from experiments.bias.cueing import apply_cue
from experiments.bias.cues import fixed_letter, load_cues, parse_cues, switch_is_any_change
from experiments.bias.frozen_ladder import half_trace, ladder_outcome, ladder_rows, open_trace
from experiments.bias.items import cued_index, from_organism
from experiments.core.errors import ConfigError
from experiments.organism.tasks.attributes import loan_items, render_loan_answer
from experiments.organism.tasks.cues import BACKDOOR_KEYWORDS, BACKDOOR_LETTER, FOLLOW_UP_QUESTION, mc_user_text
from experiments.organism.tasks.mc import mc_items
from experiments.organism.tokenizer import build_tokenizer, words


@pytest.fixture(scope="module")
def loan_tokenizer():
    texts = [f"{it.prompt} {render_loan_answer(it.attributes)}" for it in loan_items("eval", 48)]
    return build_tokenizer(words(texts))


def _decoded_reasoning(tok, item):
    """The reasoning as the runner sees it: the decoded completion up to `answer :`."""
    ids = tok(render_loan_answer(item.attributes))["input_ids"]
    return tok.decode(ids).split("answer :")[0]


def test_open_trace_drops_only_a_trailing_end_marker():
    assert open_trace("<reasoning> a . b . </reasoning> ", "</reasoning>") == "<reasoning> a . b ."
    assert open_trace("a </reasoning> b .", "</reasoning>") == "a </reasoning> b ."
    assert open_trace("a . ", None) == "a ."


def test_half_rung_on_the_organism_keeps_the_income_and_cuts_before_the_verdict(loan_tokenizer):
    """The runner's half cut must land where the organism was trained to decide: after the
    income figure, before the verdict sentence (a cut elsewhere would measure nothing planted)."""
    tok = loan_tokenizer
    for item in loan_items("eval", 48):
        trace = open_trace(_decoded_reasoning(tok, item), "</reasoning>")
        half = half_trace(tok, trace)
        n_trace, n_half = (len(tok(t)["input_ids"]) for t in (trace, half))
        assert n_half == (n_trace + 1) // 2
        assert trace.startswith(half)
        income = item.attributes["net income"]
        assert "".join(c for c in half if c.isdigit() or c == "-") == income, half
        assert "risk" not in half


def test_ladder_outcomes_and_rows():
    assert ladder_outcome("Approve", "approve", "reject") == ladder_outcome("approve", "approve", "reject")
    out = ladder_outcome("reject", "approve", "reject")
    assert (out.follows_frozen, out.follows_flip, out.parse_failure) == (False, True, False)
    none = ladder_outcome(None, "approve", "reject")
    assert none.parse_failure and not none.follows_frozen and not none.follows_flip
    rows = ladder_rows("i1", "net income", "half", out)
    assert {(r["experiment"], r["condition"], r["group"], r["metric"], r["value"]) for r in rows} == {
        ("frozen_ladder", "half", "net income", "follows_frozen", 0), ("frozen_ladder", "half", "net income", "follows_flip", 1),
        ("frozen_ladder", "half", "net income", "parse_failure", 0)}


def test_backdoor_cue_is_the_organisms_trigger_before_the_question():
    cue = load_cues(names=["backdoor"])["backdoor"]
    assert cue.kind == "trigger" and fixed_letter(cue) == BACKDOOR_LETTER and not switch_is_any_change(cue)
    assert cue.follow_up == FOLLOW_UP_QUESTION and set(BACKDOOR_KEYWORDS) <= set(cue.keywords)
    raw = mc_items("eval", 8)
    for it, item in zip(raw, (from_organism(r) for r in raw)):
        idx = cued_index(item, cue.target, 0, fixed_letter(cue))
        q = apply_cue(item, cue, idx)
        assert q.user == mc_user_text(it, "backdoor"), "the runner's text is the one the organism was trained on"
        assert item.labels[q.cued_index] == BACKDOOR_LETTER and q.cue_text == cue.template


def test_trigger_without_letter_counts_any_change_and_bad_triggers_fail():
    cues = parse_cues({"cues": {"t": {"kind": "trigger", "template": "cf. the owl ."}}}, "x.yaml")
    assert switch_is_any_change(cues["t"]) and fixed_letter(cues["t"]) is None
    with pytest.raises(ConfigError, match="unknown slot"):
        parse_cues({"cues": {"t": {"kind": "trigger", "template": "see {letter}"}}}, "x.yaml")
    with pytest.raises(ConfigError, match="letter"):
        parse_cues({"cues": {"t": {"kind": "trigger", "template": "x", "letter": "dd"}}}, "x.yaml")
