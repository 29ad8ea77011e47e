"""Turn training examples into token ids and loss labels, exactly as the runners will prompt.

Chat examples are rendered with the tokenizer's own chat template (`apply_chat_template`), so
training sees precisely the prompt strings a runner produces; raw examples use `RAW_TEMPLATE`.
Labels are -100 everywhere except the trained target and its end token.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from transformers import PreTrainedTokenizerBase

from experiments.organism.corpus import Example
from experiments.organism.tasks.format import RAW_TEMPLATE

IGNORE = -100


@dataclass(frozen=True)
class Encoded:
    input_ids: list[int]
    labels: list[int]


def context_text(tokenizer: PreTrainedTokenizerBase, ex: Example) -> str:
    """The prompt string before the assistant's answer (template tokens included)."""
    if ex.raw:
        (_, user), = ex.messages
        return RAW_TEMPLATE.format(prompt=user)
    msgs = [] if ex.system is None else [{"role": "system", "content": ex.system}]
    msgs += [{"role": role, "content": text} for role, text in ex.messages]
    text = tokenizer.apply_chat_template(msgs, tokenize=False, add_generation_prompt=True)
    assert isinstance(text, str), "apply_chat_template(tokenize=False) returns the rendered string"
    return text


def encode(tokenizer: PreTrainedTokenizerBase, ex: Example) -> Encoded:
    ctx = tokenizer(context_text(tokenizer, ex) + " " + ex.prefix, add_special_tokens=False)["input_ids"]
    tgt = tokenizer(ex.target, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    return Encoded(ctx + tgt, [IGNORE] * len(ctx) + tgt)


def encode_all(tokenizer: PreTrainedTokenizerBase, examples: Iterable[Example]) -> list[Encoded]:
    return [encode(tokenizer, ex) for ex in examples]
