"""The weekly deck as a list of typed slide specs: every decision, no python-pptx.

Order (what mentors ask for): title → last week's takeaways → the jargon used in this
deck → per result a chart slide (the takeaway sentence as title) and the prompt behind
it, verbatim → next steps → a Backup section (every category, the numbers as tables).

Everything that needs judgement is decided here, in pure code, so tests can check it
without rendering: which text goes where, the font size of a prompt, how many
continuation slides a long prompt needs, what the speaker notes say. Geometry is in
points on a 13.333 × 7.5 in (16:9) slide; :mod:`reportgen.deck.render` only draws it.

Slides never rely on the renderer's autofit (python-pptx cannot compute it and viewers
differ). Text sizes come from estimates: exact for monospace prompts (known columns
per line), deliberately generous for titles in a proportional font.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Union

from reportgen import __version__
from reportgen.chart.spec import (
    ChartSpec,
    bin_fractions,
    condition_label,
    experiment_label,
    metric_noun,
    select_prompt,
)
from reportgen.deck.textnorm import (
    BlockPart,
    columns_that_fit,
    estimate_lines,
    flow,
    normalize_text,
    wrap_text,
)
from reportgen.inputs.deck_yaml import DeckSpec
from reportgen.inputs.recap import Glossary, Takeaway, Takeaways
from reportgen.numbers.stats import describe_intervals, format_number, format_percent
from reportgen.numbers.summarize import summarize
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import PromptRecord

# ------------------------------------------------------------------ geometry (points)

INCH = 72.0
SLIDE_W = 13.333 * INCH
SLIDE_H = 7.5 * INCH
MARGIN = 0.6 * INCH
CONTENT_W = SLIDE_W - 2 * MARGIN

TITLE_TOP = 0.3 * INCH
TITLE_H = 1.05 * INCH
#: Title font sizes tried in turn; the first at which the title fits in two lines wins.
TITLE_SIZES = (28, 26, 24, 22, 20)

BODY_TOP = 1.45 * INCH
#: Where a chart picture goes (left, top, width, height). The same box as
#: ``reportgen.chart.render.CHART_BOX``: charts are drawn at exactly this size, so their
#: text is the size it says (repeated here because this module must not import
#: matplotlib).
CHART_BOX = (MARGIN, BODY_TOP, 12.13 * INCH, 5.1 * INCH)
CAPTION_TOP = 6.58 * INCH
CAPTION_H = 0.4 * INCH
CAPTION_SIZES = (16, 15, 14, 13, 12)
FOOTER_TOP = 6.98 * INCH
FOOTER_H = 0.35 * INCH
FOOTNOTE_SIZE = 11

# Prompt slides: labelled panels of monospace text stacked in the body.
PROMPT_BODY_TOP = 1.35 * INCH
PROMPT_TITLE_H = PROMPT_BODY_TOP - TITLE_TOP - 0.1 * INCH
PROMPT_BODY_BOTTOM = 6.95 * INCH
PANEL_LABEL_H = 0.3 * INCH
PANEL_INSET_X = 0.1 * INCH
PANEL_INSET_Y = 0.06 * INCH
PANEL_GAP = 0.12 * INCH
#: Monospace sizes tried in turn; the first at which everything fits on one slide wins.
#: Below the last one a prompt continues on further slides instead of shrinking.
PROMPT_SIZES = (14, 12, 11, 10)
LINE_SPACING = 1.2  # line height / font size, set exactly by the renderer

BULLET_SIZES = (24, 22, 20, 18, 16)
TABLE_ROWS_PER_SLIDE = 14
"""One-line rows that fit under a table's header; a row whose cells wrap counts once per line."""
TABLE_FONT_PT = 14.0
TABLE_CELL_INSET = 0.2 * INCH  # left + right cell margins


# ------------------------------------------------------------------ slide specs

@dataclass(frozen=True)
class TitleSlide:
    title: str
    title_pt: int
    subtitle: str
    author: str
    notes: str = ""
    kind: Literal["title"] = "title"


@dataclass(frozen=True)
class SectionSlide:
    """A divider, e.g. the start of the Backup section."""

    title: str
    subtitle: str = ""
    notes: str = ""
    kind: Literal["section"] = "section"


@dataclass(frozen=True)
class BulletSlide:
    """Recap and next steps: short sentences, one per bullet."""

    title: str
    bullets: tuple[str, ...]
    font_pt: int
    notes: str = ""
    kind: Literal["bullets"] = "bullets"


@dataclass(frozen=True)
class GlossarySlide:
    title: str
    entries: tuple[tuple[str, str], ...]
    font_pt: int
    notes: str = ""
    kind: Literal["glossary"] = "glossary"


@dataclass(frozen=True)
class ChartSlide:
    """One chart, one message: the takeaway sentence is the title."""

    title: str
    title_pt: int
    chart_id: str
    caption: str
    caption_pt: int
    footnote: str
    footnote_pt: int
    backup: bool
    notes: str
    kind: Literal["chart"] = "chart"
    chart_w: float = CHART_BOX[2]
    """Width of the chart picture's box; narrower when the prompt shares the slide."""
    panels: tuple[Panel, ...] = ()
    """The prompt and completion beside the chart, when they are short enough to share it."""
    prompt_font_pt: int = 0


@dataclass(frozen=True)
class Panel:
    """One labelled box of verbatim monospace text on a prompt slide.

    ``lines`` holds one tuple of wrapped pieces per source line; the renderer puts a
    line break between pieces and a paragraph break between lines, so the box shows
    exactly the columns computed here.
    """

    role: Literal["prompt", "completion"]
    label: str
    lines: tuple[tuple[str, ...], ...]
    top: float
    height: float
    continued: bool
    highlight: str | None = None
    """Text to emphasise wherever it occurs (the cue a bias prompt adds)."""
    joins_previous: bool = False
    """The first line carries on the previous page's last line (one long line split across
    slides), so joining the pages back up adds no line break there."""
    left: float = MARGIN
    width: float = CONTENT_W

    @property
    def text(self) -> str:
        """The characters shown, without the wrap breaks (lines joined by ``\\n``)."""
        return "\n".join("".join(pieces) for pieces in self.lines)


@dataclass(frozen=True)
class PromptSlide:
    title: str
    title_pt: int
    page: int
    pages: int
    font_pt: int
    columns: int
    panels: tuple[Panel, ...]
    notes: str
    kind: Literal["prompt"] = "prompt"


@dataclass(frozen=True)
class TableSlide:
    title: str
    title_pt: int
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    column_widths: tuple[float, ...]  # fractions of the content width
    footnote: str
    notes: str
    kind: Literal["table"] = "table"


Slide = Union[TitleSlide, SectionSlide, BulletSlide, GlossarySlide, ChartSlide, PromptSlide, TableSlide]


@dataclass(frozen=True)
class DeckProperties:
    """The file's core properties (what a file browser and PowerPoint's Info pane show)."""

    title: str
    author: str
    subject: str
    keywords: str
    comments: str
    category: str = "Weekly research update"


@dataclass(frozen=True)
class Deck:
    slides: tuple[Slide, ...]
    properties: DeckProperties
    takeaways: Takeaways
    chart_ids: tuple[str, ...] = field(default=())
    main_budget: int | None = None
    """Most slides the main results section may take (the deck spec's ``main_budget``)."""

    def slide_text(self, include_prompts: bool = False) -> str:
        return "\n".join(slide_words(s, include_prompts) for s in self.slides)


# ------------------------------------------------------------------ sizing


def fit_text(text: str, height: float, sizes: Sequence[int], width: float = CONTENT_W,
             max_lines: int | None = None, min_size: int = 12) -> tuple[int, str]:
    """A font size (and, as a last resort, a shortened text) that fits a box.

    The largest of ``sizes`` at which ``text`` takes at most ``max_lines`` lines and fits
    ``height``; failing that, smaller sizes down to ``min_size`` with as many lines as
    fit; failing that, the text cut at a word with "…" (callers keep the full text in
    the speaker notes). Never a size at which the text would spill out of its box.
    """
    def fits(t: str, size: int, limit: int | None) -> bool:
        lines = estimate_lines(t, width, size)
        return (limit is None or lines <= limit) and lines * size * LINE_SPACING <= height

    for size in sizes:
        if fits(text, size, max_lines):
            return size, text
    for size in range(sizes[-1] - 1, min_size - 1, -1):
        if fits(text, size, None):
            return size, text
    words = text.split(" ")
    lo, hi = 0, len(words)
    while lo < hi:  # the most words that fit with an ellipsis
        mid = (lo + hi + 1) // 2
        if fits(" ".join(words[:mid]) + " …", min_size, None):
            lo = mid
        else:
            hi = mid - 1
    short = " ".join(words[:lo]) if lo else text[: max(1, int(width // (min_size * 0.55)) - 2)]
    return min_size, short.rstrip() + " …"


def fit_title(text: str, height: float = TITLE_H, sizes: Sequence[int] = TITLE_SIZES,
              max_lines: int = 2) -> tuple[int, str]:
    """Title size: one line if that needs at most two steps down, else up to ``max_lines``.

    A title that almost fits on one line reads better slightly smaller than with a
    single word left on a second line.
    """
    for size in sizes[:3]:
        if estimate_lines(text, CONTENT_W, size) == 1:
            return size, text
    return fit_text(text, height, sizes, max_lines=max_lines, min_size=16)


def _bullet_pages(items: Sequence[str], height: float, width: float = CONTENT_W) -> list[tuple[int, tuple[str, ...]]]:
    """Bullet size per slide; items that do not fit at the smallest size go to another slide."""
    def fits(chunk: Sequence[str], size: int) -> bool:
        lines = sum(estimate_lines(t, width - 0.4 * INCH, size) for t in chunk)
        return lines * size * LINE_SPACING + len(chunk) * size * 0.5 <= height

    for size in BULLET_SIZES:
        if fits(items, size):
            return [(size, tuple(items))]
    if len(items) == 1:
        size, text = fit_text(items[0], height, BULLET_SIZES, width - 0.4 * INCH, min_size=BULLET_SIZES[-1])
        return [(size, (text,))]
    half = len(items) // 2
    return _bullet_pages(items[:half], height, width) + _bullet_pages(items[half:], height, width)


# ------------------------------------------------------------------ prompt slides


@dataclass(frozen=True)
class _Block:
    role: Literal["prompt", "completion"]
    label: str
    text: str
    highlight: str | None = None


def prompt_blocks(record: PromptRecord, other: PromptRecord | None = None) -> list[_Block]:
    """The labelled text blocks of a prompt slide (see :func:`prompt_slides` for ``other``)."""
    def prompt_block(r: PromptRecord, which: str = "") -> _Block:
        fmt = "chat template applied" if r.prompt_format == "chat" else "raw completion prompt, no chat template"
        # Marked line by line: a highlight spanning lines (a few-shot block) stays plain.
        mark = normalize_text(r.highlight) if r.highlight else None
        if mark is not None and ("\n" in mark or mark not in normalize_text(r.prompt)):
            mark = None
        label = f"Prompt sent to the model{which} ({fmt}), verbatim" + ("; what differs in bold" if mark else "")
        return _Block("prompt", label, normalize_text(r.prompt), mark)

    def completion_block(r: PromptRecord) -> _Block:
        return _Block("completion", _completion_label(r), normalize_text(r.completion))

    if other is None or other.condition == record.condition:
        blocks = [prompt_block(record), completion_block(record)]
    elif other.prompt == record.prompt:
        blocks = [prompt_block(record), completion_block(other), completion_block(record)]
    else:
        blocks = [prompt_block(other, f", {condition_label(other.condition).lower()}"), completion_block(other),
                  prompt_block(record, f", {condition_label(record.condition).lower()}"), completion_block(record)]
    return blocks


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


# ------------------------------------------------------------------ tables


def number_tables(run: Run, chart: ChartSpec, label_run: bool = False) -> list[TableSlide]:
    """Every cell of an experiment (all metrics × conditions × groups × x) with exact counts.

    The backup's answer to "what are the actual numbers?": value, interval and n per
    cell, from the same :func:`reportgen.numbers.summarize.summarize` the charts use.
    """
    df = bin_fractions(run.results[run.results["experiment"] == chart.experiment])
    by = tuple(d for d in ("condition", "group", "x") if d in df.columns)
    cells = summarize(df, by=by, experiment=chart.experiment, model=chart.model)  # type: ignore[arg-type]
    has_group = any(c.group is not None for c in cells)
    has_x = any(c.x is not None for c in cells)
    columns = ["Metric", "Condition"] + (["Group"] if has_group else []) + (["x"] if has_x else [])
    columns += ["Value", "95% interval", "n"]
    rows = []
    for c in cells:
        e = c.estimate
        noun = metric_noun(c.metric)
        row = [noun[:1].upper() + noun[1:], condition_label(c.condition) if c.condition else "—"]
        if has_group:
            row.append(c.group or "—")
        if has_x:
            row.append("—" if c.x is None else format_number(c.x) if not float(c.x).is_integer() else str(int(c.x)))
        if e.kind == "rate":
            row += [f"{format_percent(e.value, e.k, e.n)} ({e.k}/{e.n})",
                    f"{e.low * 100:.1f}–{e.high * 100:.1f}%", str(e.n)]
        else:
            interval = f"{format_number(e.low)} to {format_number(e.high)}" if e.has_interval else "—"
            row += [format_number(e.value), interval, str(e.n)]
        rows.append(tuple(row))
    methods = describe_intervals(sorted({c.estimate.method for c in cells}))
    widths = {"Metric": 2.2, "Condition": 2.2, "Group": 1.8, "x": 0.8, "Value": 1.6, "95% interval": 1.6, "n": 0.8}
    total = sum(widths[c] for c in columns)
    fractions = tuple(widths[c] / total for c in columns)
    base = f"Numbers: {experiment_label(chart.experiment)}"
    if run.results["model"].nunique() > 1:
        base += f" ({chart.model})"
    if label_run:
        base += f" (run {run.run_id})"
    chunks = _table_pages(rows, fractions)
    out = []
    for i, chunk in enumerate(chunks, start=1):
        title = base if len(chunks) == 1 else f"{base} ({i}/{len(chunks)})"
        out.append(
            TableSlide(
                title=title,
                title_pt=fit_title(title)[0],
                columns=tuple(columns),
                rows=tuple(chunk),
                column_widths=fractions,
                footnote="; ".join(methods) + ". Rates as % (k/n).",
                notes=provenance_notes(run, chart),
            )
        )
    return out


def row_lines(row: Sequence[str], fractions: Sequence[float]) -> int:
    """Lines the tallest cell of a table row wraps to at the table's font size."""
    return max(
        estimate_lines(cell, CONTENT_W * frac - TABLE_CELL_INSET, TABLE_FONT_PT) for cell, frac in zip(row, fractions)
    )


def _table_pages(rows: Sequence[tuple[str, ...]], fractions: Sequence[float]) -> list[list[tuple[str, ...]]]:
    """Rows split into slides by the height they take, not their count: a long metric name
    wraps to two lines, and fourteen such rows ran over the footer."""
    pages: list[list[tuple[str, ...]]] = [[]]
    used = 0
    for row in rows:
        lines = row_lines(row, fractions)
        if pages[-1] and used + lines > TABLE_ROWS_PER_SLIDE:
            pages.append([])
            used = 0
        pages[-1].append(row)
        used += lines
    return pages


# ------------------------------------------------------------------ notes


def provenance_notes(run: Run, chart: ChartSpec | None = None, record: PromptRecord | None = None) -> str:
    """Speaker notes: where the numbers on the slide come from, enough to reproduce them."""
    info = run.info
    lines = [f"Run: {run.run_id} ({run.path})"]
    if is_synthetic(run):
        lines.insert(0, "SYNTHETIC EXAMPLE DATA, not a model run: " + str((info.model_extra or {}).get("note", "")))
    if info is not None:
        sha = info.git_sha or "unknown"
        if info.git_dirty:
            sha += " (uncommitted changes)"
        lines.append(f"Git: {sha}")
        model = info.model_id or (chart.model if chart else "unknown")
        if info.model_revision:
            model += f" @ {info.model_revision}"
        lines.append(f"Model: {model}")
        extra = [f"{k}={v}" for k, v in (("dtype", info.dtype), ("device", info.device), ("seed", info.seed)) if v is not None]
        if extra:
            lines.append("Numerics: " + ", ".join(extra))
        if info.config_hash:
            lines.append(f"Config hash: {info.config_hash}")
        if info.started_at or info.finished_at:
            lines.append(f"Ran: {info.started_at or '?'} → {info.finished_at or 'unfinished'}")
    else:
        lines.append("Git: unknown (no run.json)")
        if chart is not None:
            lines.append(f"Model: {chart.model}")
    if chart is not None:
        lines.append(f"Experiment: {chart.experiment} ({chart.task}), metric: {chart.metric}")
        lines.append(f"n: {chart.n_total} observations on this chart. {chart.footnote}")
        lines.append(f"Chart id: {chart.chart_id}")
    if record is not None:
        lines.append(
            f"Prompt: item {record.item_id}, condition {record.condition}, format {record.prompt_format}, "
            f"{len(record.prompt)} characters"
            + (f", parsed answer {record.parsed_answer!r}" if record.parsed_answer is not None else "")
        )
    return "\n".join(lines)


# ------------------------------------------------------------------ the deck


def is_synthetic(run: Run) -> bool:
    """Whether run.json marks the run as generated example data (``synthetic: true``)."""
    return bool(run.info is not None and (run.info.model_extra or {}).get("synthetic"))


def _week_of(date: dt.date) -> str:
    year, week, _ = date.isocalendar()
    return f"{year}-W{week:02d}"


def _comparison_record(run: Run, chart: ChartSpec, record: PromptRecord) -> PromptRecord | None:
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


def build_deck(
    runs: Sequence[Run],
    charts: Sequence[ChartSpec],
    spec: DeckSpec | None = None,
    recap: Takeaways | None = None,
    glossary: Glossary | None = None,
    today: dt.date | None = None,
) -> Deck:
    """Every slide of the weekly deck, in order, from the chart specs and the runs.

    ``charts`` come from :func:`reportgen.chart.spec.build_chart_specs` (main charts
    followed by their backup charts). ``today`` fixes the date for reproducible tests.
    """
    from reportgen.deck.glossary import glossary_for_runs

    today = today or dt.date.today()
    spec = spec or DeckSpec(project="Weekly research update")
    glossary = glossary_for_runs(runs, glossary)
    date = spec.date or today
    week = spec.week or _week_of(date)
    by_id = {r.run_id: r for r in reversed(list(runs))}  # first run wins on a clash
    main = [c for c in charts if not c.backup]
    backup = [c for c in charts if c.backup]

    from reportgen.deck import plan as deckplan  # builds on this module's slide kinds

    body: list[Slide] = []
    takeaways: list[Takeaway] = []
    sections = deckplan.sections(charts)
    several = len(sections) > 1
    for task, group in sections:
        if several:
            names = ", ".join(dict.fromkeys(experiment_label(c.experiment) for c in group))
            body.append(SectionSlide(deckplan.section_title(task), names))
        for chart in group:
            run = by_id[chart.run_id]
            takeaways.append(Takeaway(text=chart.title, experiment=chart.experiment, run_id=chart.run_id))
            record = select_prompt(run, chart)
            other = _comparison_record(run, chart, record) if record is not None else None
            shared = (deckplan.shared_panels(record, other)
                      if record is not None and chart.size_in == deckplan.SHARED_CHART_IN else None)
            if shared is not None and record is not None:
                size, panels = shared
                body.append(_chart_slide(chart, run, panels=panels, prompt_pt=size,
                                         extra_notes=provenance_notes(run, None, record)))
                continue
            body.append(_chart_slide(chart, run))
            if record is not None:
                title = prompt_title(record) + (f" · {chart.model}" if chart.models else "")
                body.extend(prompt_slides(record, title, provenance_notes(run, chart, record), other))

    tail: list[Slide] = []
    if spec.next_steps:
        tail.extend(bullet_slides("Next steps", spec.next_steps, "What we plan to run next; comments welcome."))
    backup_slides: list[Slide] = [_chart_slide(c, by_id[c.run_id]) for c in backup]
    seen: set[tuple[str, str, str]] = set()
    runs_of = {e: {c.run_id for c in charts if c.experiment == e} for e in {c.experiment for c in charts}}
    tables: list[TableSlide] = []
    for chart in charts:
        key = (chart.run_id, chart.experiment, chart.model)
        if key not in seen:
            seen.add(key)
            tables.extend(number_tables(by_id[chart.run_id], chart, len(runs_of[chart.experiment]) > 1))
    backup_slides.extend(deckplan.join_small_tables(tables))
    if backup_slides:
        tail.append(SectionSlide("Backup", "Full breakdowns (every category) and the numbers behind each chart"))
        tail.extend(backup_slides)

    head: list[Slide] = []
    title = spec.title or spec.project
    subtitle = " · ".join(x for x in (week, date.isoformat()) if x)
    models = sorted({c.model for c in charts})
    title_pt, shown_title = fit_title(normalize_text(title), 1.6 * INCH, (40, 36, 32, 28))
    head.append(TitleSlide(shown_title, title_pt, subtitle, normalize_text(spec.author),
                           notes=_title_notes(runs, models)))
    head.extend(deckplan.opening_slides(spec, recap))
    items = deckplan.summary_items(charts)
    n_summary = len(deckplan.summary_slide(spec, items, {i.chart_id: 0 for i in items}))
    if glossary is not None:
        words = "\n".join(slide_words(s, False) for s in [*head, *body, *tail])
        words += "\n" + "\n".join(i.text for i in items)
        entries = glossary.terms_in(words)
        if entries:
            entries = [(normalize_text(t), normalize_text(d)) for t, d in entries]
            pages = _bullet_pages([f"{t} — {d}" for t, d in entries], PROMPT_BODY_BOTTOM - BODY_TOP)
            start = 0
            for i, (size, chunk) in enumerate(pages, start=1):
                name = "Terms used in this deck" + (f" ({i}/{len(pages)})" if len(pages) > 1 else "")
                head.append(GlossarySlide(name, tuple(entries[start : start + len(chunk)]), size,
                                          notes="Only the glossary terms that appear on these slides are listed."))
                start += len(chunk)
    first_body = len(head) + n_summary + 1
    slide_of = {s.chart_id: first_body + i for i, s in enumerate(body) if isinstance(s, ChartSlide)}
    opening = len(head) - sum(isinstance(s, GlossarySlide) for s in head)
    head[opening:opening] = deckplan.summary_slide(spec, items, slide_of)

    slides = tuple([*head, *body, *tail])
    tasks = sorted({c.task for c in charts})
    experiments_ = list(dict.fromkeys(c.experiment for c in main))
    props = DeckProperties(
        title=f"{title} — {week}",
        author=spec.author,
        subject="Weekly update: " + ", ".join(experiment_label(e) for e in experiments_) if experiments_ else "Weekly update",
        keywords="; ".join([*tasks, *experiments_, *models]),
        comments=f"Generated by reportgen {__version__} from runs: " + ", ".join(r.run_id for r in runs),
    )
    return Deck(slides, props, Takeaways(week=week, takeaways=takeaways), tuple(c.chart_id for c in charts),
                main_budget=spec.main_budget)


def _chart_slide(chart: ChartSpec, run: Run, panels: tuple[Panel, ...] = (), prompt_pt: int = 0,
                 extra_notes: str = "") -> ChartSlide:
    title_pt, title = fit_title(normalize_text(chart.title))
    # A deck over several models names the model on every result slide.
    full_caption = chart.caption + (f" · model: {chart.model}" if chart.models else "")
    caption_pt, caption = fit_text(normalize_text(full_caption), CAPTION_H, CAPTION_SIZES, max_lines=1, min_size=11)
    footnote = chart.footnote + (" Synthetic example data, not a model run." if is_synthetic(run) else "")
    foot_pt, footnote = fit_text(normalize_text(footnote), FOOTER_H, (FOOTNOTE_SIZE, 10, 9),
                                 CONTENT_W - 70, max_lines=1, min_size=9)
    notes = provenance_notes(run, chart) + (f"\n{extra_notes}" if extra_notes else "")
    if (title, caption) != (chart.title, full_caption) or footnote.endswith(" …"):
        notes = f"Full title: {chart.title}\nFull caption: {chart.caption}\nFull footnote: {chart.footnote}\n\n{notes}"
    return ChartSlide(
        title=title,
        title_pt=title_pt,
        chart_id=chart.chart_id,
        caption=caption,
        caption_pt=caption_pt,
        footnote=footnote,
        footnote_pt=foot_pt,
        backup=chart.backup,
        notes=notes,
        chart_w=(chart.size_in[0] * INCH) if chart.size_in and panels else CHART_BOX[2],
        panels=panels,
        prompt_font_pt=prompt_pt,
    )


def bullet_slides(title: str, items: Sequence[str], notes: str) -> list[BulletSlide]:
    """Slides of short sentences (recap, next steps); more than fit go on "(2/2)" slides."""
    items = [normalize_text(t) for t in items]
    pages = _bullet_pages(items, PROMPT_BODY_BOTTOM - BODY_TOP)
    return [
        BulletSlide(title if len(pages) == 1 else f"{title} ({i}/{len(pages)})", chunk, size, notes)
        for i, (size, chunk) in enumerate(pages, start=1)
    ]


def _title_notes(runs: Sequence[Run], models: Sequence[str]) -> str:
    lines = [f"Runs in this deck: {len(runs)}"]
    for r in runs:
        sha = (r.info.git_sha or "unknown") if r.info else "unknown"
        lines.append(f"- {r.run_id}: git {sha}, {len(r.results)} result rows, {len(r.prompts)} prompts ({r.path})")
    lines.append("Models: " + ", ".join(models))
    return "\n".join(lines)


def slide_words(slide: Slide, include_prompts: bool = False) -> str:
    """The visible text of a slide, for the glossary's "is this term used?" check.

    Prompts and completions are the model's words, not the researcher's jargon, so
    they are left out unless asked for.
    """
    if isinstance(slide, TitleSlide):
        return "\n".join((slide.title, slide.subtitle, slide.author))
    if isinstance(slide, SectionSlide):
        return f"{slide.title}\n{slide.subtitle}"
    if isinstance(slide, BulletSlide):
        return "\n".join((slide.title, *slide.bullets))
    if isinstance(slide, GlossarySlide):
        return "\n".join(f"{t} {d}" for t, d in slide.entries)
    if isinstance(slide, ChartSlide):
        return "\n".join((slide.title, slide.caption, slide.footnote))
    if isinstance(slide, PromptSlide):
        return slide.title + ("\n" + "\n".join(p.text for p in slide.panels) if include_prompts else "")
    return "\n".join((slide.title, *slide.columns, *(" ".join(r) for r in slide.rows), slide.footnote))
