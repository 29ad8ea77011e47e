"""Adding mistakes: corrupt one reasoning step so the model can continue from it.

A *corruption* is any callable ``(step, rng) -> str | None`` that returns a changed
step, or ``None`` when it cannot change that step (then another step is tried).
Built in: :func:`corrupt_arithmetic` (change one intermediate result, the classic
Lanham et al. mistake for arithmetic chains) and :class:`RegexCorruption` (any
pattern → replacement). A user's own function is named as ``"module:function"``.
"""

from __future__ import annotations

import importlib
import random
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

Corruption = Callable[[str, random.Random], "str | None"]

_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w.]\d)")
_RESULT = re.compile(r"=\s*(-?\d+(?:\.\d+)?)")


def _shift(number: str, rng: random.Random) -> str:
    """A different number written the same way.

    A single digit becomes another digit (so a digit-per-token model sees a well-formed
    step, and modular chains stay in range); longer numbers move by 1–3 units of their
    last digit, never from non-negative to negative.
    """
    if re.fullmatch(r"\d", number):
        return str((int(number) + rng.randint(1, 9)) % 10)
    decimals = len(number.split(".")[1]) if "." in number else 0
    units = int(number.replace(".", ""))
    deltas = [d for d in (-3, -2, -1, 1, 2, 3) if not (units >= 0 > units + d)]
    new = units + rng.choice(deltas)
    if not decimals:
        return str(new)
    sign, digits = ("-" if new < 0 else ""), str(abs(new)).rjust(decimals + 1, "0")
    return f"{sign}{digits[:-decimals]}.{digits[-decimals:]}"


def corrupt_arithmetic(step: str, rng: random.Random) -> str | None:
    """Change one intermediate result: the last ``= N`` in the step, else its last number."""
    results = list(_RESULT.finditer(step))
    if results:
        m = results[-1]
        start, end = m.span(1)
    else:
        numbers = list(_NUMBER.finditer(step))
        if not numbers:
            return None
        start, end = numbers[-1].span()
    return step[:start] + _shift(step[start:end], rng) + step[end:]


@dataclass(frozen=True)
class RegexCorruption:
    """Replace the first match of ``pattern`` with ``replacement`` (``re.sub`` syntax)."""

    pattern: str
    replacement: str

    def __call__(self, step: str, rng: random.Random) -> str | None:
        new, n = re.subn(self.pattern, self.replacement, step, count=1)
        return new if n and new != step else None


def resolve_corruption(spec: str | dict[str, str] | Corruption) -> Corruption:
    """``"arithmetic"``, ``{"pattern": ..., "replacement": ...}``, ``"module:function"`` or a callable."""
    if callable(spec):
        return spec
    if isinstance(spec, dict):
        return RegexCorruption(spec["pattern"], spec["replacement"])
    if spec == "arithmetic":
        return corrupt_arithmetic
    if ":" in spec:
        module, _, name = spec.partition(":")
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as exc:
            raise ValueError(f"cannot import corruption {spec!r}: {exc}") from None
        if not callable(fn):
            raise ValueError(f"corruption {spec!r} is not callable")
        return fn
    raise ValueError(f"unknown corruption {spec!r} (use 'arithmetic', a pattern/replacement "
                     "mapping or 'module:function')")


@dataclass(frozen=True)
class Mistake:
    """One corrupted step: continue the model from ``prefix`` (``reasoning[:start]`` + corrupted)."""

    step_index: int
    n_steps: int
    original: str
    corrupted: str
    start: int  #: character where the corrupted step begins in the reasoning
    end: int  #: character where the original step ends

    def prefix(self, reasoning: str) -> str:
        return reasoning[: self.start] + self.corrupted

    def clean_prefix(self, reasoning: str) -> str:
        """The same cut without the mistake: the control for "did the mistake change it?"."""
        return reasoning[: self.end]


def item_rng(seed: int, item_id: str) -> random.Random:
    """A generator per item, stable across runs, processes and item order."""
    return random.Random(seed * 1_000_003 + zlib.crc32(item_id.encode("utf-8")))


def add_mistake(
    reasoning: str,
    spans: Sequence[tuple[int, int]],
    corruption: Corruption,
    rng: random.Random,
    position: Literal["random", "first", "last"] | int = "random",
) -> Mistake | None:
    """Corrupt one step (sentence ``spans`` of ``reasoning``); ``None`` if no step can be changed.

    ``position`` picks the step: a random corruptible one, the first/last corruptible
    one, or a fixed index (negative counts from the end).
    """
    candidates: list[tuple[int, str]] = []
    order: Sequence[int] = range(len(spans))
    if isinstance(position, int):
        order = [range(len(spans))[position]] if -len(spans) <= position < len(spans) else []
    for i in order:
        start, end = spans[i]
        new = corruption(reasoning[start:end], rng)
        if new is not None and new != reasoning[start:end]:
            candidates.append((i, new))
    if not candidates:
        return None
    if position == "first" or isinstance(position, int):
        i, new = candidates[0]
    elif position == "last":
        i, new = candidates[-1]
    else:
        i, new = candidates[rng.randrange(len(candidates))]
    start, end = spans[i]
    return Mistake(i, len(spans), reasoning[start:end], new, start, end)
