"""Core mechanics on a real model (SmolLM2-135M-Instruct: Llama blocks, BPE, ChatML).

The organism cannot show what a 30-layer model with a 49k BPE vocabulary does with left
padding, hooks and forced answers; these tests run the shipped real model, a few forward
passes each.
"""

from __future__ import annotations

import pytest
import torch

from experiments.core.batching import next_token_logprobs
from experiments.core.hooks import capture_residuals, directional_ablation
from experiments.core.mc_datasets import MCItem
from experiments.core.prompting import format_prompt
from experiments.truncation.answers import MIN_OPTION_MASS, AnswerReader
from experiments.truncation.config import PromptStyle, TruncationConfig, resolve_style
from experiments.truncation.prompts import forced_text, question_prompt

pytestmark = pytest.mark.real_model

SHORT = "Name a colour."
LONG = "Write a detailed, step by step explanation of how bread rises, covering yeast, sugar, gluten and heat."


def test_left_padding_does_not_change_the_next_token(smollm2_lm) -> None:
    tok = smollm2_lm.tokenizer
    short = format_prompt(tok, SHORT)
    alone = next_token_logprobs(smollm2_lm, [short])
    padded = next_token_logprobs(smollm2_lm, [short, format_prompt(tok, LONG)], batch_size=2)[:1]
    assert torch.allclose(alone, padded, atol=2e-4), float((alone - padded).abs().max())


def test_zero_ablation_removes_the_direction_from_every_block_input(smollm2_lm) -> None:
    g = torch.Generator().manual_seed(0)
    d = torch.randn(smollm2_lm.d_model, generator=g)
    d = d / d.norm()
    texts = [format_prompt(smollm2_lm.tokenizer, SHORT), format_prompt(smollm2_lm.tokenizer, LONG)]
    before = capture_residuals(smollm2_lm, texts, positions=[-6, -1], batch_size=2).acts
    with directional_ablation(smollm2_lm, d):
        after = capture_residuals(smollm2_lm, texts, positions=[-6, -1], batch_size=2).acts
    proj_before, proj_after = before[:, 1:] @ d, after[:, 1:] @ d  # block 0's input is the embedding
    assert proj_before.abs().max() > 0.05
    assert (proj_after.abs() <= 1e-4 * after[:, 1:].norm(dim=-1)).all()


def _item() -> MCItem:
    return MCItem("arith/0", "What is 2 + 3?", options=("4", "5", "6", "7"), answer_index=1, answer="5")


def test_forced_answer_reads_the_options_after_the_answer_prefix(smollm2_lm) -> None:
    cfg = TruncationConfig(model="smollm2", datasets=["organism"], prompt=PromptStyle(preset="cot"))
    style = resolve_style(cfg.prompt, "smollm2")
    reader = AnswerReader(smollm2_lm, style, batch_size=2, answer_tokens=4)
    item = _item()
    text = forced_text(question_prompt(smollm2_lm.tokenizer, item, style, cfg), "", item, style)
    assert text.endswith("So the best answer is: (")
    (forced,) = reader.forced([text], [item])
    assert forced.mass is not None and forced.mass >= MIN_OPTION_MASS
    assert forced.answer in item.labels and abs(sum(forced.probs.values()) - 1) < 1e-4


def test_forced_answer_with_little_mass_on_the_options_is_a_parse_failure(smollm2_lm) -> None:
    """After a text that does not ask for a letter the options get <10 %: no answer, not the argmax."""
    cfg = TruncationConfig(model="smollm2", datasets=["organism"], prompt=PromptStyle(preset="cot"))
    style = resolve_style(cfg.prompt, "smollm2")
    reader = AnswerReader(smollm2_lm, style, batch_size=1, answer_tokens=4)
    item = _item()
    text = question_prompt(smollm2_lm.tokenizer, item, style, cfg) + "Once upon a time, in a small village,"
    (forced,) = reader.forced([text], [item])
    assert forced.mass is not None and forced.mass < MIN_OPTION_MASS
    assert forced.answer is None and forced.probs  # the probabilities stay recorded
