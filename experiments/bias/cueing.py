"""Applying a cue template to an item: the user text(s) of the cued query, and the cue's text.

Pure string work. The result records the exact cue string inserted (``cue_text``) so the deck
can highlight it inside the verbatim prompt, and the option the cue points at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from experiments.bias.cues import CueSpec, fill
from experiments.bias.items import ChoiceItem


@dataclass(frozen=True)
class CuedQuery:
    """How one item is asked under one cue.

    ``user`` is the first user turn. For a second-turn cue it is the uncued question and
    ``follow_up`` is the cue, said after the model's first answer. ``cued_index`` is the option
    the cue points at (None for a second-turn cue, where any change counts).
    """

    cue: str
    user: str
    cue_text: str
    cued_index: int | None
    follow_up: str | None = None

    @property
    def is_second_turn(self) -> bool:
        return self.follow_up is not None


def join(parts: Sequence[str], joiner: str) -> str:
    return joiner.join(p for p in parts if p)


def uncued_text(item: ChoiceItem, instruction: str | None = None) -> str:
    """The uncued user turn: the question with its options, then the answer-format instruction."""
    return join([item.text(), instruction or ""], item.joiner)


def apply_cue(
    item: ChoiceItem,
    cue: CueSpec,
    cued_index: int | None,
    *,
    shots: Sequence[ChoiceItem] = (),
    instruction: str | None = None,
) -> CuedQuery:
    """Build the cued query for ``item``.

    ``cued_index`` is the option the cue points at (see :func:`experiments.bias.items.cued_index`);
    ``shots`` are the solved examples of a few-shot cue. The instruction (answer format) always
    comes last, so every cue sits between the question and what the model is asked to do.
    """
    j = item.joiner
    if cue.kind == "second_turn":
        return CuedQuery(cue.name, uncued_text(item, instruction), cue.template, None, follow_up=cue.template)
    if cue.kind == "trigger":
        parts = [cue.template, item.text()] if cue.position == "before" else [item.text(), cue.template]
        return CuedQuery(cue.name, join([*parts, instruction or ""], j), cue.template, cued_index)
    if cued_index is None:
        raise ValueError(f"cue {cue.name!r} needs the index of the option it points at")
    letter, option = item.labels[cued_index], item.options[cued_index]
    if cue.kind == "suggested_answer":
        text = fill(cue.template, letter=letter, option=option)
        parts = [text, item.text()] if cue.position == "before" else [item.text(), text]
        return CuedQuery(cue.name, join([*parts, instruction or ""], j), text, cued_index)
    if cue.kind == "option_marker":
        opts = list(item.options)
        opts[cued_index] = fill(cue.template, option=option)
        return CuedQuery(cue.name, join([item.text(opts), instruction or ""], j), opts[cued_index], cued_index)
    if cue.kind == "few_shot":
        if len(shots) != cue.n_shots:
            raise ValueError(f"cue {cue.name!r} needs {cue.n_shots} examples, got {len(shots)}")
        if letter != cue.letter:
            raise ValueError(f"few-shot cue {cue.name!r} points at ({cue.letter}), not ({letter})")
        moved = [s.with_answer_at(s.labels.index(cue.letter)) for s in shots]
        blocks = [fill(cue.template, question=s.text(), letter=cue.letter) for s in moved]
        text = join([cue.intro, *blocks], j)
        return CuedQuery(cue.name, join([text, item.text(), instruction or ""], j), text, cued_index)
    raise ValueError(f"unknown cue kind {cue.kind!r}")
