"""Refusal scoring: substrings, first-token log-odds, KL."""

from __future__ import annotations

import math

import pytest
import torch

from experiments.steering.scoring import is_refusal, kl_divergence, refusal_score, refusal_token_ids


@pytest.mark.parametrize("text,expected", [
    ("I cannot help with that .", True),
    ("i cannot help with that .", True),
    ("I\u2019m sorry, but no.", True),
    ("As an AI, I won't.", True),
    ("Sure . step one , get ready .", False),
    ("", False),
])
def test_is_refusal(text, expected):
    assert is_refusal(text) is expected


def test_refusal_score_is_log_odds_of_total_probability():
    probs = torch.tensor([[0.2, 0.3, 0.5], [0.05, 0.05, 0.9], [1.0, 0.0, 0.0]])
    score = refusal_score(probs.log(), [0, 1])
    assert score[0] == pytest.approx(0.0, abs=1e-6)  # p = 0.5
    assert score[1] == pytest.approx(math.log(0.1 / 0.9), abs=1e-5)
    assert torch.isfinite(score).all() and score[2] > 100  # p = 1 stays finite


def test_kl():
    p = torch.log_softmax(torch.tensor([[1.0, 2.0, 3.0]]), -1)
    q = torch.log_softmax(torch.tensor([[3.0, 2.0, 1.0]]), -1)
    assert kl_divergence(p, p).item() == pytest.approx(0.0, abs=1e-7)
    manual = (p.exp() * (p - q)).sum().item()
    assert kl_divergence(p, q).item() == pytest.approx(manual, rel=1e-5) and manual > 0


def test_refusal_token_ids(tiny_random_lm):
    tok = tiny_random_lm.tokenizer
    ids = refusal_token_ids(tok, ["I", "i", "As", "zzzunknown"])
    assert ids == [tok.convert_tokens_to_ids("i"), tok.convert_tokens_to_ids("as")]
    with pytest.raises(ValueError):
        refusal_token_ids(tok, ["zzzunknown"])


def test_readme_copies_no_measured_figures():
    """Hand-copied organism figures went stale (KL 0.009 vs 0.062 measured, zero ablation
    "0.75" vs 0/32; issue 13 item 6): the README points to a run instead of quoting one."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[3] / "experiments" / "steering" / "README.md").read_text(encoding="utf-8")
    figures = re.findall(r"\b\d+\.\d{2,}\b|\b\d+/\d+\b|\b1\.00 → 0\.00\b", text)
    assert [f for f in figures if f != "0/1"] == [], figures  # "0/1" names a metric's values
