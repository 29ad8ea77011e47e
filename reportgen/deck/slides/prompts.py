"""Prompt slides: the prompt exactly as sent and what came back, verbatim, in monospace.

A result is only as convincing as the prompt behind it, so each chart is followed by
(or shares its slide with) one prompt, shown beside the same item under the comparison
condition: the effect itself, not just its rate. Nothing is cut: a long prompt goes on
"(cont. i/n)" slides at the smallest monospace size rather than shrinking further.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from reportgen.chart.spec import ChartSpec, condition_label, experiment_label
from reportgen.deck.geometry import (
    CONTENT_W,
    LINE_SPACING,
    PANEL_GAP,
    PANEL_INSET_X,
    PANEL_INSET_Y,
    PANEL_LABEL_H,
    PROMPT_BODY_BOTTOM,
    PROMPT_BODY_TOP,
    PROMPT_SIZES,
    PROMPT_TITLE_H,
    fit_text,
)
from reportgen.deck.spec import Panel, PromptSlide
from reportgen.deck.textnorm import BlockPart, columns_that_fit, flow, normalize_text, wrap_text
from reportgen.numbers.stats import format_number
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import PromptRecord


@dataclass(frozen=True)
class _Block:
    role: Literal["prompt", "completion"]
    label: str
    text: str
    highlight: str | None = None


def prompt_blocks(record: PromptRecord, other: PromptRecord | None = None) -> list[_Block]:
    """The labelled text blocks of a prompt slide (see :func:`prompt_slides` for ``other``).

    A record scored without generating (a forced answer read from next-token probabilities)
    has no completion to show: its answer goes into its prompt's label instead of an empty
    box, which on a long prompt would otherwise fill a "(cont.)" slide of its own.
    """
    def prompt_block(r: PromptRecord, which: str = "", scored: PromptRecord | None = None) -> _Block:
        fmt = "chat template applied" if r.prompt_format == "chat" else "raw completion prompt, no chat template"
        # Marked line by line: a highlight spanning lines (a few-shot block) stays plain.
        mark = normalize_text(r.highlight) if r.highlight else None
        if mark is not None and ("\n" in mark or mark not in normalize_text(r.prompt)):
            mark = None
        label = f"Prompt sent to the model{which} ({fmt}), verbatim" + ("; what differs in bold" if mark else "")
        if scored is not None and not scored.completion:
            label += f"; {SCORED_NOTE}: {_answer(scored)}"
        return _Block("prompt", label, normalize_text(r.prompt), mark)

    def completion_block(r: PromptRecord, keep_empty: bool = False) -> _Block | None:
        if not r.completion and not keep_empty:
            return None
        return _Block("completion", _completion_label(r), normalize_text(r.completion))

    if other is None or other.condition == record.condition:
        blocks = [prompt_block(record, scored=record), completion_block(record)]
    elif other.prompt == record.prompt:
        blocks = [prompt_block(record), completion_block(other, True), completion_block(record, True)]
    else:
        blocks = [prompt_block(other, f", {condition_label(other.condition).lower()}", other), completion_block(other),
                  prompt_block(record, f", {condition_label(record.condition).lower()}", record),
                  completion_block(record)]
    return [b for b in blocks if b is not None]


SCORED_NOTE = "nothing generated, answer read from next-token probabilities"


def _answer(record: PromptRecord) -> str:
    return normalize_text(record.parsed_answer) if record.parsed_answer is not None else "none readable"


def prompt_slides(
    record: PromptRecord,
    title: str,
    notes: str,
    other: PromptRecord | None = None,
) -> list[PromptSlide]:
    """The prompt exactly as sent (template tokens and all) and what came back.

    ``other`` is the same item under the comparison condition, shown first ("before", then
    "after") so the slide shows the effect itself: when its prompt is the same string (a
    steering run changes activations, not text) only its completion is added; when it
    differs (a forced answer vs a continued reasoning at the same cut) its prompt and
    completion come first, each labelled with its condition. Text is normalised (line endings,
    control characters, tabs) and then laid out in monospace: the largest size in
    :data:`PROMPT_SIZES` at which everything fits on one slide, else the smallest size
    on as many "(cont. i/n)" slides as needed. Nothing is cut.
    """
    blocks = prompt_blocks(record, other)
    width = CONTENT_W - 2 * PANEL_INSET_X
    height = PROMPT_BODY_BOTTOM - PROMPT_BODY_TOP
    overhead = PANEL_LABEL_H + 2 * PANEL_INSET_Y + PANEL_GAP
    pages: list[list[BlockPart]] = []
    size, cols = PROMPT_SIZES[-1], 1
    for size in PROMPT_SIZES:
        cols = columns_that_fit(width, size)
        wrapped = [wrap_text(b.text, cols) for b in blocks]
        pages = flow(wrapped, height + PANEL_GAP, size * LINE_SPACING, overhead)
        if len(pages) == 1:
            break
    slides = []
    suffix = f" (cont. {len(pages)}/{len(pages)})" if len(pages) > 1 else ""
    # One line if at all possible: the panels start right under the title.
    title_pt, title = fit_text(title, PROMPT_TITLE_H, (24, 22, 20, 18), CONTENT_W - len(suffix) * 24 * 0.55,
                               max_lines=1, min_size=16)
    for i, parts in enumerate(pages, start=1):
        top = PROMPT_BODY_TOP
        panels = []
        for part in parts:
            block = blocks[part.block]
            h = PANEL_LABEL_H + 2 * PANEL_INSET_Y + part.n_lines * size * LINE_SPACING
            label = block.label if part.first else f"{block.label} (continued)"
            panels.append(
                Panel(block.role, label, tuple(f.pieces for f in part.fragments), top, h, not part.first,
                      block.highlight, bool(part.fragments) and part.fragments[0].continues)
            )
            top += h + PANEL_GAP
        page_title = title if len(pages) == 1 else f"{title} (cont. {i}/{len(pages)})"
        slides.append(PromptSlide(page_title, title_pt, i, len(pages), size, cols, tuple(panels), notes))
    return slides



def prompt_title(record: PromptRecord) -> str:
    """``Prompt: Harmful prompts · ablation · item 7`` (plus the group or x it belongs to)."""
    where = condition_label(record.condition).lower()
    if record.group is not None:
        where += f", {record.group}"
    elif record.x is not None:
        where += f", x = {format_number(record.x)}"
    return f"Prompt: {experiment_label(record.experiment)} · {where} · item {record.item_id}"


def _completion_label(record: PromptRecord) -> str:
    label = record.completion_label or f"Completion ({condition_label(record.condition).lower()})"
    if record.parsed_answer is not None:
        label += f", parsed answer: {normalize_text(record.parsed_answer)}"
    if not record.completion:
        label += ": empty (scored from next-token probabilities, no generation)"
    return label



def comparison_record(run: Run, chart: ChartSpec, record: PromptRecord) -> PromptRecord | None:
    """The same item under the chart's other category, when the categories are conditions;
    else the record's own reference (the uncued question of a cued one), if it has one."""
    if chart.category_field != "condition":
        return _reference_record(record)
    others = [c for c in chart.categories if c != record.condition]
    for cond in others:
        for p in run.prompts:
            if (p.experiment == record.experiment and p.item_id == record.item_id and p.condition == cond
                    and (record.x is None or p.x is None or math.isclose(p.x, record.x))):
                return p
    return None


def _reference_record(record: PromptRecord) -> PromptRecord | None:
    if record.reference_prompt is None:
        return None
    return PromptRecord(
        experiment=record.experiment, condition=record.reference_condition or "reference", item_id=record.item_id,
        prompt=record.reference_prompt, completion=record.reference_completion or "",
        parsed_answer=record.reference_answer, prompt_format=record.prompt_format, group=record.group,
    )
