"""The strings the truncation runner sends, and reading answers back from them.

Every prompt is the question prompt (chat template or completion, ending with the
style's ``reasoning_open``) followed by a literal prefix of the model's own reasoning:

- forced:    ``prompt + kept + reasoning_close + answer_prefix`` → one next-token read;
- continued: ``prompt + kept`` → the model keeps reasoning and answers by itself;
- mistake:   ``prompt + reasoning[:step] + corrupted step`` → continue, as above.

Pure string work plus a tokenizer (for the chat template and the answer tokens); no
model calls, so all of it is tested without one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from experiments.core.answer_parsing import normalize_short_answer, parse_choice, parse_short_answer
from experiments.core.mc_datasets import MCItem, render_question
from experiments.core.prompting import format_prompt
from experiments.truncation.config import ResolvedStyle, TruncationConfig


def is_lettered(item: MCItem) -> bool:
    """Whether the model answers this item with an option letter."""
    return item.is_multiple_choice and item.labelled


def question_prompt(tokenizer: Any, item: MCItem, style: ResolvedStyle, cfg: TruncationConfig) -> str:
    """The exact string that asks ``item`` and opens the reasoning."""
    instruction = style.instruction_choice if is_lettered(item) else style.instruction_short
    return format_prompt(
        tokenizer,
        render_question(item) + instruction,
        fmt=cfg.prompt_format,
        system=cfg.system_prompt,
        assistant_prefix=style.reasoning_open,
        completion_template=cfg.completion_template or style.completion_template,
    )


def answer_prefix(item: MCItem, style: ResolvedStyle) -> str:
    return style.answer_prefix if is_lettered(item) else style.short_answer_prefix


def forced_text(prompt: str, kept: str, item: MCItem, style: ResolvedStyle) -> str:
    return prompt + kept + style.reasoning_close + answer_prefix(item, style)


@dataclass(frozen=True)
class SplitCompletion:
    """A generation split into the reasoning and what follows it (the stated answer)."""

    reasoning: str
    tail: str
    closed: bool  #: whether the end of the reasoning was found (else the whole text is reasoning)


def split_reasoning(completion: str, style: ResolvedStyle) -> SplitCompletion:
    """Where the reasoning ends: at the first end marker, else at the last answer statement.

    Trailing whitespace belongs to neither part, so ``reasoning`` is exactly what a
    100 % cut keeps and the end marker is appended to.
    """
    marker = style.reasoning_close.strip()
    cut = completion.find(marker) if marker else -1
    if cut < 0:
        matches = list(re.finditer(style.reasoning_end_pattern, completion))
        cut = matches[-1].start() if matches else -1
    if cut < 0:
        return SplitCompletion(completion.rstrip(), "", False)
    return SplitCompletion(completion[:cut].rstrip(), completion[cut:], True)


def canonical(item: MCItem, answer: str | None) -> str | None:
    """An answer in the form compared across conditions: a letter, or a normalised text."""
    if answer is None:
        return None
    return answer.strip().upper() if is_lettered(item) else normalize_short_answer(answer)


def gold(item: MCItem) -> str | None:
    return canonical(item, item.answer_label)


def parse_answer(text: str, item: MCItem, style: ResolvedStyle) -> str | None:
    """The answer a free-form text states for ``item`` (canonical form), or ``None``."""
    if is_lettered(item):
        return parse_choice(text, item.labels, options=item.options, answer_prefix=style.answer_prefix)
    return canonical(item, parse_short_answer(text, answer_prefix=style.short_answer_prefix))


class AnswerTokenError(ValueError):
    """The options cannot be told apart by their first token after the answer prefix."""


def candidate_token_ids(tokenizer: Any, context: str, candidates: Sequence[str]) -> list[list[int]]:
    """For each candidate answer, the token ids that can start it right after ``context``.

    Both ``c`` and ``" " + c`` are tried, since tokenizers differ on whether the space
    after "answer :" is its own token, part of the answer token, or absent; a token
    that could start two candidates (a bare space, a shared first digit) is dropped.
    The forced answer then compares the candidates' summed probabilities.
    """
    base = tokenizer(context, add_special_tokens=False)["input_ids"]
    found: list[set[int]] = []
    for cand in candidates:
        ids: set[int] = set()
        for variant in (cand, " " + cand):
            full = tokenizer(context + variant, add_special_tokens=False)["input_ids"]
            if len(full) > len(base) and full[: len(base)] == base:
                ids.add(full[len(base)])
        found.append(ids)
    shared = {t for i, a in enumerate(found) for j, b in enumerate(found) if i < j for t in a & b}
    out = [sorted(ids - shared) for ids in found]
    empty = [c for c, ids in zip(candidates, out) if not ids]
    if empty:
        raise AnswerTokenError(
            f"answers {empty} share their first token with another option after {context!r}; "
            "the forced answer cannot tell them apart (use lettered options)"
        )
    return out
