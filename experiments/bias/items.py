"""Multiple-choice items as the cue runner needs them: re-renderable with options moved or marked.

A cue changes how an item is *shown* (an option moved to (A) for a few-shot example, a mark
beside one option), so an item keeps its stem and options apart and renders itself on demand.
Two layouts: the organism's inline one (``… ( A ) x ( B ) y``, the text it was trained on) and
the Turpin et al. layout every other dataset uses (``Answer choices:`` then one option a line).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from experiments.core.errors import DatasetError

OPTIONS_SLOT = "\x00OPTIONS\x00"
LETTERS = tuple("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
Layout = Literal["inline", "lines"]


@dataclass(frozen=True)
class ChoiceItem:
    """A question whose ``stem`` holds :data:`OPTIONS_SLOT` where the options are rendered."""

    item_id: str
    stem: str
    options: tuple[str, ...]
    answer_index: int | None
    family: str = ""
    layout: Layout = "lines"
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> tuple[str, ...]:
        return LETTERS[: len(self.options)]

    @property
    def answer_label(self) -> str | None:
        return None if self.answer_index is None else self.labels[self.answer_index]

    @property
    def joiner(self) -> str:
        """How cue text is joined to the question: a space inline, a blank line otherwise."""
        return " " if self.layout == "inline" else "\n\n"

    def render_options(self, options: Sequence[str] | None = None) -> str:
        opts = self.options if options is None else options
        if self.layout == "inline":
            return " ".join(f"( {lab} ) {o}" for lab, o in zip(self.labels, opts))
        return "\n".join(f"({lab}) {o}" for lab, o in zip(self.labels, opts))

    def text(self, options: Sequence[str] | None = None) -> str:
        """The question with its options (optionally replaced, e.g. one marked)."""
        return self.stem.replace(OPTIONS_SLOT, self.render_options(options))

    def with_answer_at(self, index: int) -> ChoiceItem:
        """The same question with the correct option swapped into position ``index``."""
        if self.answer_index is None:
            raise ValueError(f"item {self.item_id}: no known answer to move")
        opts = list(self.options)
        opts[self.answer_index], opts[index] = opts[index], opts[self.answer_index]
        return replace(self, options=tuple(opts), answer_index=index)


def from_organism(item: Any) -> ChoiceItem:
    """Convert the organism's ``MCItem`` (its question text already holds the options)."""
    from experiments.organism.tasks.mc import render_options

    rendered = render_options(list(item.options))
    if rendered not in item.question:
        raise ValueError(f"organism item {item.item_id}: options not found in its question text")
    return ChoiceItem(
        item_id=item.item_id, stem=item.question.replace(rendered, OPTIONS_SLOT), options=tuple(item.options),
        answer_index=item.answer_idx, family=item.family, layout="inline",
    )


def from_mc_item(item: Any) -> ChoiceItem:
    """Convert an :class:`experiments.core.mc_datasets.MCItem` (BBH, MMLU, JSONL/CSV tables)."""
    from experiments.core.mc_datasets import ANSWER_CHOICES_HEADER

    if not item.options:
        raise DatasetError(f"item {item.item_id}: has no options; cues need multiple-choice questions")
    return ChoiceItem(
        item_id=item.item_id, stem=f"{item.question}\n\n{ANSWER_CHOICES_HEADER}\n{OPTIONS_SLOT}",
        options=tuple(item.options), answer_index=item.answer_index, family=item.source,
        layout="lines", meta=dict(item.meta),
    )


def load_choice_items(spec: str, limit: int | None = None, seed: int = 0) -> list[ChoiceItem]:
    """``organism`` / ``organism:<split>`` (the organism's MC questions), or any file the core's
    multiple-choice loaders read (BBH ``val_data.json``, MMLU CSV, JSONL/CSV tables)."""
    if spec == "organism" or spec.startswith("organism:"):
        from experiments.organism.tasks.mc import mc_items

        split = spec.split(":", 1)[1] if ":" in spec else "eval"
        if split not in ("train", "eval"):
            raise DatasetError(f"{spec}: unknown organism split {split!r} (use organism:eval or organism:train)")
        try:
            return [from_organism(it) for it in mc_items("train" if split == "train" else "eval", n=limit, seed=seed)]
        except ValueError as exc:
            raise DatasetError(f"{spec}: {exc}") from None
    from experiments.core.mc_datasets import load_dataset

    items = load_dataset(spec, limit=limit)
    return [from_mc_item(it) for it in items]


def _pick(rng_key: str, candidates: Sequence[int]) -> int:
    return random.Random(rng_key).choice(list(candidates))


def cued_index(item: ChoiceItem, target: str, seed: int, fixed_letter: str | None = None) -> int:
    """The option a cue points at, fixed by the item id and seed (the same for every cue).

    ``wrong``: one of the wrong options (any option when the answer is unknown); ``any``: any
    option; ``dataset``: the file's own choice (BBH ``random_ans_idx``), else a wrong one.
    A fixed letter (few-shot "always A") overrides the target.
    """
    if fixed_letter is not None:
        if fixed_letter not in item.labels:
            raise DatasetError(f"item {item.item_id}: has no option ({fixed_letter}) for the cue's fixed letter")
        return item.labels.index(fixed_letter)
    key = f"cue:{seed}:{item.item_id}"
    everything = range(len(item.options))
    if target == "any" or item.answer_index is None:
        return _pick(key, everything)
    if target == "dataset":
        idx = item.meta.get("random_ans_idx")
        if isinstance(idx, int) and 0 <= idx < len(item.options):
            return idx
    if target not in ("wrong", "dataset"):
        raise ValueError(f"unknown cue target {target!r}")
    return _pick(key, [i for i in everything if i != item.answer_index])


def few_shot_examples(item: ChoiceItem, pool: Sequence[ChoiceItem], n: int, seed: int) -> list[ChoiceItem]:
    """``n`` solved examples for ``item`` from the other items of its dataset.

    Items of other families are preferred (an example of the very same kind of question would
    teach the answer, not the letter), then any other item; the choice is fixed by item and seed.
    """
    others = [p for p in pool if p.item_id != item.item_id and p.answer_index is not None]
    if item.family:
        diff = [p for p in others if p.family != item.family]
        others = diff if len(diff) >= n else others
    if len(others) < n:
        raise DatasetError(
            f"item {item.item_id}: a few-shot cue needs {n} other items with known answers, "
            f"the dataset has {len(others)}"
        )
    return random.Random(f"shots:{seed}:{item.item_id}").sample(others, n)
