"""The shape of the weekly deck: opening, summary, sections, and charts that share a slide.

A mentor's three minutes go: what we asked (or what we concluded last week), what we
found (3–5 takeaways, each with its number, interval and the slide that shows it), then
the evidence grouped by experiment. This module decides that shape from the chart specs;
:mod:`reportgen.deck.build` assembles the slides and :mod:`reportgen.deck.render` draws.

A chart whose prompt is short shares its slide with it (chart left, prompt right): a
prompt slide that is half blank costs a slide of the main section's budget for nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from reportgen.chart.spec import ChartSpec, experiment_label, select_prompt
from reportgen.chart.words import format_x
from reportgen.deck.geometry import (
    BODY_TOP,
    CAPTION_TOP,
    INCH,
    LINE_SPACING,
    MARGIN,
    PANEL_GAP,
    PANEL_INSET_X,
    PANEL_INSET_Y,
    PANEL_LABEL_H,
    SLIDE_W,
    TABLE_ROWS_PER_SLIDE,
    fit_title,
)
from reportgen.deck.slides.bullets import bullet_slides
from reportgen.deck.slides.prompts import SCORED_NOTE, comparison_record, prompt_blocks
from reportgen.deck.slides.tables import row_lines
from reportgen.deck.spec import BulletSlide, Panel, TableSlide
from reportgen.deck.textnorm import columns_that_fit, flow, wrap_text
from reportgen.inputs.deck_yaml import DeckSpec
from reportgen.inputs.recap import Takeaways
from reportgen.numbers import stats
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import PromptRecord

#: Chart size (inches) on a slide it shares with its prompt: the left 57 % of the body.
SHARED_CHART_IN = (6.9, 5.1)
PANELS_LEFT = MARGIN + SHARED_CHART_IN[0] * INCH + 0.15 * INCH
PANELS_W = SLIDE_W - MARGIN - PANELS_LEFT
PANELS_TOP = BODY_TOP
PANELS_BOTTOM = CAPTION_TOP - 0.06 * INCH
#: Monospace sizes tried for a shared slide; a prompt that needs less goes on its own slide.
SHARED_SIZES = (12, 11, 10)
SUMMARY_MIN, SUMMARY_MAX = 3, 5
_PAGED = re.compile(r"\(\d+/\d+\)$")
_UNCLEAR = ("does not clearly", "do not clearly", "no condition clearly", "not clearly")


def _short_label(label: str) -> str:
    """Panel labels shortened to the narrow column beside a chart."""
    return (label.replace("Prompt sent to the model", "Prompt")
            .replace("chat template applied", "chat template")
            .replace("raw completion prompt, no chat template", "raw, no chat template")
            .replace("; what differs in bold", "; cue in bold")
            .replace(": empty (scored from next-token probabilities, no generation)", " (scored, not generated)")
            .replace(SCORED_NOTE, "scored, not generated"))


def shared_panels(record: PromptRecord, other: PromptRecord | None) -> tuple[int, tuple[Panel, ...]] | None:
    """Font size and panels of a prompt laid out beside its chart, or None if it does not fit."""
    blocks = prompt_blocks(record, other)
    width = PANELS_W - 2 * PANEL_INSET_X
    height = PANELS_BOTTOM - PANELS_TOP
    overhead = PANEL_LABEL_H + 2 * PANEL_INSET_Y + PANEL_GAP
    for size in SHARED_SIZES:
        cols = columns_that_fit(width, size)
        wrapped = [wrap_text(b.text, cols) for b in blocks]
        pages = flow(wrapped, height + PANEL_GAP, size * LINE_SPACING, overhead)
        if len(pages) != 1:
            continue
        top, panels = PANELS_TOP, []
        for part in pages[0]:
            block = blocks[part.block]
            h = PANEL_LABEL_H + 2 * PANEL_INSET_Y + part.n_lines * size * LINE_SPACING
            panels.append(Panel(block.role, _short_label(block.label), tuple(f.pieces for f in part.fragments),
                                top, h, False, block.highlight, left=PANELS_LEFT, width=PANELS_W))
            top += h + PANEL_GAP
        return size, tuple(panels)
    return None


def plan_shared_slides(runs: Sequence[Run], charts: Sequence[ChartSpec]) -> list[ChartSpec]:
    """The charts, with the main charts whose prompt fits beside them narrowed (drawn smaller).

    Called before the charts are rendered, so each PNG is drawn at the size it will
    occupy (its text stays the size it says).
    """
    by_id = {r.run_id: r for r in reversed(list(runs))}
    out = list(charts)
    for i, chart in enumerate(out):
        if chart.backup or chart.run_id not in by_id:
            continue
        run = by_id[chart.run_id]
        record = select_prompt(run, chart)
        if record is not None and shared_panels(record, comparison_record(run, chart, record)) is not None:
            out[i] = replace(chart, size_in=SHARED_CHART_IN)
    return out


# ------------------------------------------------------------------ opening and summary


def opening_slides(spec: DeckSpec, recap: Takeaways | None) -> list[BulletSlide]:
    """Slide 2: last week's takeaways, or in a first week the question and the plan."""
    if recap is not None and recap.takeaways:
        return bullet_slides(
            "Last week's takeaways" + (f" ({recap.week})" if recap.week else ""),
            [t.text for t in recap.takeaways],
            "Recap of last week's conclusions, from the takeaways file.",
        )
    question = spec.question or f"{spec.title or spec.project}: what do this week's runs show?"
    plan = spec.plan or [f"Run {experiment_label(e.experiment).lower()}" for e in spec.experiments
                         if not e.skip]
    return bullet_slides("The question, and what we planned", [f"Question: {question}", *plan],
                         "First week: no takeaways to recap yet, so the question and the plan instead.")


def highlighted(chart: ChartSpec) -> stats.Estimate | None:
    """The highlighted bar's or point's estimate, whatever it is."""
    h = chart.highlight
    if h is None:
        return None
    for b in chart.bars:
        if b.category == h.category and (h.group is None or b.group == h.group):
            return b.estimate
    for s in chart.series:
        if s.category == h.category and (h.group is None or s.group == h.group) and h.x is not None:
            return min(s.points, key=lambda p: abs(p.x - h.x)).estimate  # type: ignore[operator]
    return None


@dataclass(frozen=True)
class Quoted:
    """The number a summary bullet quotes for a chart, and where it sits when that is not the
    highlighted bar or point ('' when it is)."""

    estimate: stats.Estimate
    where: str = ""


def quoted_number(chart: ChartSpec) -> Quoted | None:
    """The number a chart's message rests on: the highlighted bar or point or, when that is a
    sanity check (it cannot fail by construction, e.g. the continued answer after the whole
    reasoning under greedy decoding), a real measurement on the same chart; None when there is none.

    A real measurement of another condition comes first: the check's own condition is the one
    set up so it cannot fail (its neighbouring points too, mostly), while the other curve (the
    forced answer) is the finding. Conditions without any check point come before those with
    one, and within a condition the point nearest the highlighted x (at 100 % kept: the last
    point that could fail).
    """
    e = highlighted(chart)
    h = chart.highlight
    if e is None or e.check is None or h is None:
        return Quoted(e) if e is not None else None
    checked = {b.category for b in chart.bars if b.estimate.check}
    checked |= {s.category for s in chart.series if any(p.estimate.check for p in s.points)}
    candidates: list[tuple[tuple[bool, bool, float], str, stats.Estimate]] = []
    for b in chart.bars:
        candidates.append(((b.category == h.category, b.category in checked, 0.0), b.label, b.estimate))
    for s in chart.series:
        for p in s.points:
            far = abs(p.x - h.x) if h.x is not None else 0.0
            candidates.append(((s.category == h.category, s.category in checked, far),
                               f"{s.label} at {format_x(p.x, chart.x_format)}", p.estimate))
    real = sorted((c for c in candidates if c[2].check is None), key=lambda c: c[0])
    return Quoted(real[0][2], real[0][1]) if real else None


def chart_number(chart: ChartSpec) -> stats.Estimate | None:
    """The estimate of :func:`quoted_number`, never a sanity check."""
    q = quoted_number(chart)
    return q.estimate if q is not None else None


def number_with_interval(e: stats.Estimate) -> str:
    """'3% (1/32; 95% interval 1–16%)' or '0.12 (95% interval 0.08 to 0.17)'."""
    if e.kind == "rate":
        return f"{e.label()[:-1]}; 95% interval {e.low * 100:.0f}–{e.high * 100:.0f}%)"
    if e.has_interval:
        return f"{stats.format_number(e.value)} (95% interval {stats.format_number(e.low)} to {stats.format_number(e.high)})"
    return stats.format_number(e.value)


@dataclass(frozen=True)
class SummaryItem:
    text: str
    chart_id: str


def summary_items(charts: Sequence[ChartSpec]) -> list[SummaryItem]:
    """3–5 takeaways from the main charts, clear effects first, in deck order.

    A chart whose every number is a sanity check is a bullet only when no chart has a real
    measurement: it would take a real finding's place to say 'not a finding'.
    """
    main = [c for c in charts if not c.backup and highlighted(c) is not None]
    numbers = {c.chart_id: quoted_number(c) for c in main}
    real = [c for c in main if numbers[c.chart_id] is not None]
    pool = real or main
    clear = [c for c in pool if not any(u in c.title.lower() for u in _UNCLEAR)]
    chosen = clear[:SUMMARY_MAX]
    if len(chosen) < SUMMARY_MIN:
        chosen += [c for c in pool if c not in chosen][: SUMMARY_MIN - len(chosen)]
    order = {c.chart_id: i for i, c in enumerate(charts)}
    chosen.sort(key=lambda c: order[c.chart_id])
    out = []
    for c in chosen:
        q = numbers[c.chart_id]
        if q is None:
            number = f"sanity check ({stats.SANITY_CHECK}), not a finding"
        else:
            number = (f"{q.where}: " if q.where else "") + number_with_interval(q.estimate)
        out.append(SummaryItem(f"{c.title} — {number}", c.chart_id))
    return out


def summary_slide(spec: DeckSpec, items: Sequence[SummaryItem], slide_of: dict[str, int]) -> list[BulletSlide]:
    """Slide 3: the question and the week's takeaways, each pointing at its chart's slide."""
    bullets = [f"{i.text} (slide {slide_of[i.chart_id]})" for i in items if i.chart_id in slide_of]
    lead = [f"Question: {spec.question}"] if spec.question else []
    return bullet_slides("Summary", [*lead, *(bullets or ["No result charts this week."])],
                         "The week's takeaways with their numbers; each names the slide with its chart.")


#: Section names per runner task: what the audience is about to see, in plain words.
SECTION_NAMES = {
    "steering": "Refusal direction (steering)",
    "truncation": "Is the reasoning used? (truncation)",
    "bias": "Cues and attributes (bias)",
}


def section_title(task: str) -> str:
    return SECTION_NAMES.get(task, experiment_label(task))


def sections(charts: Sequence[ChartSpec]) -> list[tuple[str, list[ChartSpec]]]:
    """Main charts grouped by runner task, groups in the order their first chart comes
    (the deck spec's order), charts within a group in that order too."""
    groups: dict[str, list[ChartSpec]] = {}
    for c in charts:
        if not c.backup:
            groups.setdefault(c.task, []).append(c)
    return list(groups.items())


def join_small_tables(tables: Sequence[TableSlide]) -> list[TableSlide]:
    """Backup tables with a row or two join their neighbour when both fit on one slide.

    A slide holding one table row is a slide to click past; the joined table names each
    row's experiment in its Metric cell, and the title lists both.
    """
    out: list[TableSlide] = []
    for t in tables:
        prev = out[-1] if out else None
        small = prev is not None and (len(t.rows) <= 2 or len(prev.rows) <= 2)
        if prev is None or not small or any(_PAGED.search(x.title) for x in (prev, t)):
            out.append(t)
            continue
        columns = [c for c in ("Metric", "Condition", "Group", "x", "Value", "95% interval", "n")
                   if c in prev.columns or c in t.columns]
        rows = [*_widen(prev, columns), *_widen(t, columns)]
        fractions = _fractions(columns)
        if sum(row_lines(r, fractions) for r in rows) > TABLE_ROWS_PER_SLIDE:
            out.append(t)
            continue
        title = prev.title + "; " + t.title.removeprefix("Numbers: ")
        footnote = prev.footnote if prev.footnote == t.footnote else f"{prev.footnote} {t.footnote}"
        out[-1] = TableSlide(title, fit_title(title)[0], tuple(columns), tuple(rows), fractions, footnote,
                             f"{prev.notes}\n\n{t.notes}")
    return out


def _widen(t: TableSlide, columns: Sequence[str]) -> list[tuple[str, ...]]:
    name = t.title.removeprefix("Numbers: ").split(";")[-1].strip()
    rows = []
    for r in t.rows:
        cells = dict(zip(t.columns, r))
        if not cells["Metric"].startswith(name):
            cells["Metric"] = f"{name}: {cells['Metric'].lower()}"
        rows.append(tuple(cells.get(c, "—") for c in columns))
    return rows


def _fractions(columns: Sequence[str]) -> tuple[float, ...]:
    widths = {"Metric": 2.6, "Condition": 2.0, "Group": 1.6, "x": 0.8, "Value": 1.6, "95% interval": 1.6, "n": 0.8}
    total = sum(widths[c] for c in columns)
    return tuple(widths[c] / total for c in columns)
