"""Filler, paraphrase and the frozen ladder's half cut on a real BPE tokenizer (SmolLM2), where a
"..." unit may merge into one token or split into several and a cut may fall inside a word."""

from __future__ import annotations

import pytest

from experiments.bias.frozen_ladder import half_trace, open_trace
from experiments.core.mc_datasets import MCItem
from experiments.truncation.answers import AnswerReader
from experiments.truncation.config import PromptStyle, TruncationConfig, resolve_style
from experiments.truncation.paraphrase import GENERIC_RULES, RuleParaphraser, filler_text, numbers
from experiments.truncation.prompts import forced_text, question_prompt

pytestmark = pytest.mark.real_model

REASONING = " First, 12 apples minus 5 apples equals 7 apples. Therefore 7 + 3 = 10 because we add 3."


@pytest.mark.parametrize("n", [1, 5, 17])
def test_filler_is_exactly_as_long_as_the_reasoning_it_replaces(smollm2_lm, n) -> None:
    tok = smollm2_lm.tokenizer
    style = resolve_style(PromptStyle(preset="cot"), "smollm2")
    text = filler_text(tok, n, style.filler_unit)
    assert len(tok(text, add_special_tokens=False)["input_ids"]) == n
    assert set(text.replace(" ", "")) == {"."}


def test_forced_answer_after_filler_reads_the_options(smollm2_lm) -> None:
    tok = smollm2_lm.tokenizer
    cfg = TruncationConfig(model="smollm2", datasets=["organism"], prompt=PromptStyle(preset="cot"))
    style = resolve_style(cfg.prompt, "smollm2")
    item = MCItem("q", "Which number is largest?", options=("3", "9", "5", "1"), answer_index=1, answer="9")
    n = len(tok(REASONING, add_special_tokens=False)["input_ids"])
    prompt = question_prompt(tok, item, style, cfg)
    (forced,) = AnswerReader(smollm2_lm, style, batch_size=1, answer_tokens=4).forced(
        [forced_text(prompt, filler_text(tok, n, style.filler_unit), item, style)], [item])
    assert forced.probs and set(forced.probs) == set(item.labels)


def test_generic_paraphrase_keeps_numbers_and_half_cut_keeps_whole_tokens(smollm2_lm) -> None:
    tok = smollm2_lm.tokenizer
    (new,) = RuleParaphraser(GENERIC_RULES)([REASONING])
    assert new != REASONING and numbers(new) == numbers(REASONING)
    trace = open_trace(REASONING + " </think>", "</think>")
    half = half_trace(tok, trace)
    n_trace, n_half = (len(tok(t, add_special_tokens=False)["input_ids"]) for t in (trace, half))
    # re-tokenizing the cut text may merge its last token differently: within one token
    assert trace.startswith(half) and abs(n_half - (n_trace + 1) // 2) <= 1
