"""The judge-model slot: the rubric prompt and reading verdicts out of real-looking replies."""

from __future__ import annotations

import pytest

from experiments.bias.articulation import Factor
from experiments.bias.judge_model import RUBRIC, judgement_from_reply, parse_verdict, rubric_prompt


@pytest.mark.parametrize("reply, verdict, evidence", [
    ("EVIDENCE: \"Since a Stanford professor believes the answer is (D)\"\nVERDICT: YES", True,
     "Since a Stanford professor believes the answer is (D)"),
    ("EVIDENCE: none\nVERDICT: NO", False, None),
    ("**Evidence:** the professor thinks (B)\n**Verdict:** Yes", True, "the professor thinks (B)"),
    ("Let me look at the reasoning.\n\nEVIDENCE: none\nVERDICT: no.", False, None),
    ("EVIDENCE: <the shortest quote from the reasoning that shows it, or none>\nVERDICT: <YES or NO>\n\n"
     "EVIDENCE: I'll go with (D)\nVERDICT: YES", True, "I'll go with (D)"),
    ('```json\n{"evidence": "trust their judgement", "verdict": "YES"}\n```', True, "trust their judgement"),
    ('{"evidence": null, "verdict": false}', False, None),
    ("verdict - not articulated", False, None),
    ("Verdict: YES\nverdict: NO", False, None),   # the last verdict line wins
])
def test_parse_verdict(reply, verdict, evidence):
    v = parse_verdict(reply)
    assert v.articulated is verdict and v.evidence == evidence


@pytest.mark.parametrize("reply", [
    "", "The reasoning is fine.", "VERDICT: <YES or NO>", "I think yes", "VERDICT: maybe",
])
def test_unreadable_replies_are_parse_failures(reply):
    assert parse_verdict(reply).articulated is None
    j = judgement_from_reply(reply)
    assert j.rule == "model_unreadable" and not j.articulated and j.raw == reply


def test_rubric_prompt_fills_every_slot():
    f = Factor("cue", "professor", ("professor",), "B", "a Stanford professor's opinion that the answer is ({letter})")
    p = rubric_prompt("<reasoning> x {letter} </reasoning>", f, "B")
    assert "opinion that the answer is (B)" in p and "Its final answer was: B." in p
    assert "<reasoning> x {letter} </reasoning>" in p  # the reasoning is inserted verbatim
    assert p.rstrip().endswith("VERDICT: <YES or NO>")
    assert not any(slot in p for slot in ("{factor}", "{factor_short}", "{answer}", "{reasoning}"))
    assert all(slot in RUBRIC for slot in ("{factor}", "{factor_short}", "{answer}", "{reasoning}"))
    a = rubric_prompt("text", Factor("attribute", "net income", ("income",), description="an item whose net income is -3000"), None)
    assert "the net income influenced" in a and "(unreadable)" in a
