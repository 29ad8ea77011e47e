"""Where to cut a reasoning: token-fraction cuts and sentence cuts, exactly.

Definitions (tested at the boundaries):

- The reasoning is tokenized on its own (no special tokens) into ``T`` tokens with
  character offsets.
- A **fraction cut** at ``f`` keeps the first ``k = round_half_up(f · T)`` tokens,
  computed on the decimal value of ``f`` (so 0.35 · 10 keeps 4 tokens, not 3 from
  float error). The kept text is the reasoning up to the end of token ``k`` (empty
  for ``k = 0``, the whole reasoning for ``k = T``).
- A **sentence cut** after sentence ``j`` keeps the text up to and including that
  sentence's terminator (trailing whitespace excluded); ``x = j / S`` for ``S``
  sentences, with ``j = 0 … S`` so the curve has both end points. Its token count is
  the number of tokens that end at or before the cut.

Cutting text at token ends (rather than decoding token ids) keeps the kept text a
literal prefix of the reasoning, so the prompt recorded is exactly what was sent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any, Literal

#: A sentence ends at ., ! or ? followed by whitespace or the end, or at a line break.
DEFAULT_SENTENCE_END = r"[.!?](?=\s|$)|\n"

Offsets = Sequence[tuple[int, int]]


@dataclass(frozen=True)
class Cut:
    """One truncation point of one reasoning."""

    kind: Literal["fraction", "sentence"]
    x: float  #: fraction kept: requested fraction, or sentences kept / sentences
    n_tokens: int  #: reasoning tokens kept
    n_chars: int  #: reasoning characters kept (the kept text is ``reasoning[:n_chars]``)
    total_tokens: int

    @property
    def token_fraction(self) -> float:
        return self.n_tokens / self.total_tokens if self.total_tokens else 1.0

    def kept(self, reasoning: str) -> str:
        return reasoning[: self.n_chars]


def kept_tokens(fraction: float, total: int) -> int:
    """``round_half_up(fraction · total)`` on the decimal value of ``fraction``."""
    if not 0.0 <= fraction <= 1.0 or math.isnan(fraction):
        raise ValueError(f"fraction must be in [0, 1], got {fraction}")
    if total < 0:
        raise ValueError(f"total must be >= 0, got {total}")
    exact = Fraction(fraction).limit_denominator(10**6) * total
    return math.floor(exact + Fraction(1, 2))


def fraction_cuts(offsets: Offsets, fractions: Sequence[float]) -> list[Cut]:
    """Cuts at each fraction of the reasoning's tokens (see module docstring)."""
    total = len(offsets)
    cuts = []
    for f in fractions:
        k = kept_tokens(f, total)
        cuts.append(Cut("fraction", float(f), k, offsets[k - 1][1] if k else 0, total))
    return cuts


def sentence_spans(text: str, pattern: str = DEFAULT_SENTENCE_END) -> list[tuple[int, int]]:
    """``(start, end)`` of each non-empty sentence; ``end`` is just after its terminator.

    Whitespace between sentences belongs to neither; trailing text without a
    terminator is the last sentence.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in re.finditer(pattern, text):
        end = m.end() if text[m.start():m.end()].strip() else m.start()
        _add_span(text, start, end, spans)
        start = m.end()
    _add_span(text, start, len(text), spans)
    return spans


def _add_span(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> None:
    piece = text[start:end]
    if not piece.strip():
        return
    lead = len(piece) - len(piece.lstrip())
    trail = len(piece) - len(piece.rstrip())
    spans.append((start + lead, end - trail))


def sentence_cuts(text: str, offsets: Offsets, pattern: str = DEFAULT_SENTENCE_END) -> list[Cut]:
    """A cut before the first sentence and after each sentence (``x = j / S``)."""
    spans = sentence_spans(text, pattern)
    total = len(offsets)
    ends = [0] + [end for _, end in spans]
    n = len(spans)
    cuts = []
    for j, end in enumerate(ends):
        k = sum(1 for _, tok_end in offsets if tok_end <= end)
        cuts.append(Cut("sentence", j / n if n else 1.0, k, end, total))
    return cuts


def token_offsets(tokenizer: Any, text: str) -> list[tuple[int, int]]:
    """Character offsets of ``text``'s tokens (tokenized alone, no special tokens).

    Uses the fast tokenizer's offset mapping; for slow tokenizers, decodes growing
    prefixes of the ids and finds where each token's text ends.
    """
    try:
        enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
        offsets = [tuple(o) for o in enc["offset_mapping"]]
    except (NotImplementedError, ValueError, TypeError, KeyError):
        offsets = _decoded_offsets(tokenizer, text)
    # Some tokenizers report a token's leading space inside its span; the end is what
    # matters for a cut, and it must never run past the text.
    return [(int(s), min(int(e), len(text))) for s, e in offsets]


def _decoded_offsets(tokenizer: Any, text: str) -> list[tuple[int, int]]:
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    offsets, prev = [], 0
    for i in range(1, len(ids) + 1):
        decoded = tokenizer.decode(ids[:i])
        end = len(decoded) if text.startswith(decoded) else max(prev, min(len(decoded), len(text)))
        offsets.append((prev, end))
        prev = end
    return offsets


def count_sentences(text: str, pattern: str = DEFAULT_SENTENCE_END) -> int:
    return len(sentence_spans(text, pattern))
