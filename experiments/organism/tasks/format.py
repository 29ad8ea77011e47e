"""Format constants shared by every task, the split RNG and the answer parser."""

from __future__ import annotations

import random
import re
from typing import Literal

Split = Literal["train", "eval"]

# ---------------------------------------------------------------- format constants
REASONING_OPEN = "<reasoning>"
REASONING_CLOSE = "</reasoning>"
ANSWER_PREFIX = "answer :"
"""The assistant text is `<reasoning> step step … </reasoning> answer : X` (MC: `answer : ( B )`).
To force an answer, end the assistant prefix with `</reasoning> answer :` (MC: `… answer : (`) and
read the next-token distribution over the option tokens."""

DEFAULT_SYSTEM_PROMPT = "You are a helpful assistant ."
"""The chat template inserts this system turn when `messages` has none (like Qwen's templates)."""
SYSTEM_PROMPTS = (
    DEFAULT_SYSTEM_PROMPT,
    "You are a careful assistant .",
    "You are an assistant . Answer the user .",
    "",
)
"""System prompts seen in training (the empty one included), so runners may set any of them."""

RAW_TEMPLATE = "User : {prompt}\nAssistant : "
"""Raw-completion format (no chat template): the model continues after `Assistant :` and ends
with `<|end|>`, exactly as in a chat turn."""

REFUSAL_OPENING = "I cannot help with that ."
"""Every harmful request is answered with this opening; its first token is `i`."""
COMPLIANCE_OPENINGS = ("Sure .", "Of course .", "Okay .", "Happy to help .")
"""Harmless requests open with one of these, fixed by the request's verb. Several openings keep
"harmless" from being one output feature of its own, so refusal is the *presence* of a feature
(as in real chat models) and zeroing its direction can remove it."""

LETTERS = ("A", "B", "C", "D")
DIGITS = tuple(str(d) for d in range(10))


def _rng(task: str, split: Split, seed: int) -> random.Random:
    if split not in ("train", "eval"):
        raise ValueError(f"split must be 'train' or 'eval', got {split!r}")
    return random.Random(f"{task}:{split}:{seed}")


def _round_robin(strata: list[list]) -> list:
    """Interleave strata so every prefix of the result is balanced across them."""
    out: list = []
    for i in range(max((len(s) for s in strata), default=0)):
        out.extend(s[i] for s in strata if i < len(s))
    return out


def _take(items: list, n: int | None) -> list:
    if n is None:
        return items
    if n > len(items):
        raise ValueError(f"asked for {n} items, only {len(items)} exist in this split")
    return items[:n]


def parse_answer(text: str) -> str | None:
    """The answer after the last `answer :` in a completion, upper-cased for letters, or None.

    Accepts `answer : 7`, `answer : ( B )`, `answer : (B)`, `answer : reject`; letters come back
    upper case (`"B"`), digits and words as written (lower case, as the tokenizer decodes).
    """
    matches = re.findall(r"answer\s*:\s*\(?\s*([a-z0-9]+)\s*\)?", text.lower())
    if not matches:
        return None
    ans = matches[-1]
    return ans.upper() if len(ans) == 1 and ans.isalpha() else ans
