"""Every slide of the weekly deck, in order: the composition of the slide builders.

Order (what mentors ask for): title → last week's takeaways (or the question) → the
summary → the jargon used in this deck → per result a chart slide (the takeaway
sentence as title) and the prompt behind it → next steps → a Backup section. The shape
(sections, summary, which prompts share their chart's slide) is decided in
:mod:`reportgen.deck.plan`; each kind of slide is built in :mod:`reportgen.deck.slides`.

Slides never rely on the renderer's autofit (python-pptx cannot compute it and viewers
differ). Text sizes come from estimates: exact for monospace prompts (known columns
per line), deliberately generous for titles in a proportional font.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from reportgen import __version__
from reportgen.chart.spec import ChartSpec, experiment_label, select_prompt
from reportgen.deck import plan as deckplan
from reportgen.deck.geometry import (
    BODY_TOP,
    CAPTION_H,
    CAPTION_SIZES,
    CHART_BOX,
    FOOTER_H,
    FOOTER_W,
    FOOTNOTE_SIZE,
    INCH,
    PROMPT_BODY_BOTTOM,
    fit_text,
    fit_title,
)
from reportgen.deck.glossary import glossary_for_runs
from reportgen.deck.slides.bullets import bullet_pages, bullet_slides
from reportgen.deck.slides.notes import is_synthetic, provenance_notes, title_notes
from reportgen.deck.slides.prompts import comparison_record, prompt_slides, prompt_title
from reportgen.deck.slides.tables import number_tables
from reportgen.deck.spec import (
    ChartSlide,
    Deck,
    DeckProperties,
    GlossarySlide,
    Panel,
    SectionSlide,
    Slide,
    TableSlide,
    TitleSlide,
    slide_words,
)
from reportgen.deck.textnorm import normalize_text
from reportgen.inputs.deck_yaml import DeckSpec
from reportgen.inputs.recap import Glossary, Takeaway, Takeaways
from reportgen.rundir.reader import Run


def _week_of(date: dt.date) -> str:
    year, week, _ = date.isocalendar()
    return f"{year}-W{week:02d}"



def build_deck(
    runs: Sequence[Run],
    charts: Sequence[ChartSpec],
    spec: DeckSpec | None = None,
    recap: Takeaways | None = None,
    glossary: Glossary | None = None,
    today: dt.date | None = None,
    missing: Sequence[str] = (),
) -> Deck:
    """Every slide of the weekly deck, in order, from the chart specs and the runs.

    ``charts`` come from :func:`reportgen.chart.spec.build_chart_specs` (main charts
    followed by their backup charts). ``today`` fixes the date for reproducible tests.
    ``missing`` (experiments that failed this week) becomes a slide right after the title,
    placed before the summary's slide numbers are counted so they still point at the charts.
    """
    today = today or dt.date.today()
    spec = spec or DeckSpec(project="Weekly research update")
    glossary = glossary_for_runs(runs, glossary)
    date = spec.date or today
    week = spec.week or _week_of(date)
    by_id = {r.run_id: r for r in reversed(list(runs))}  # first run wins on a clash
    main = [c for c in charts if not c.backup]
    backup = [c for c in charts if c.backup]

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
            other = comparison_record(run, chart, record) if record is not None else None
            shared = (deckplan.shared_panels(record, other)
                      if record is not None and chart.size_in == deckplan.SHARED_CHART_IN else None)
            if shared is not None and record is not None:
                size, panels = shared
                body.append(_chart_slide(chart, run, panels=panels, prompt_pt=size,
                                         extra_notes=provenance_notes(run, None, record)))
                continue
            body.append(_chart_slide(chart, run))
            if record is not None:
                title = prompt_title(record) + "".join(f" · {x}" for x in _run_names(chart))
                body.extend(prompt_slides(record, title, provenance_notes(run, chart, record), other))

    tail: list[Slide] = []
    if spec.next_steps:
        tail.extend(bullet_slides("Next steps", spec.next_steps, "What we plan to run next; comments welcome."))
    # The glossary goes after the story and before Backup: a reader meets the results first and
    # looks a term up when needed (up front it pushed the first chart to slide 8).
    glossary_at = len(tail)
    backup_slides: list[Slide] = [_chart_slide(c, by_id[c.run_id]) for c in backup]
    seen: set[tuple[str, str, str]] = set()
    runs_of = {e: {c.run_id for c in charts if c.experiment == e} for e in {c.experiment for c in charts}}
    tables: list[TableSlide] = []
    for chart in charts:
        key = (chart.run_id, chart.experiment, chart.model)
        # A comparison's model is "a vs b": its runs' own charts already bring their tables.
        if key not in seen and chart.model in set(by_id[chart.run_id].results["model"].astype(str)):
            seen.add(key)
            tables.extend(number_tables(by_id[chart.run_id], chart, len(runs_of[chart.experiment]) > 1))
    backup_slides.extend(deckplan.join_small_tables(tables))
    if backup_slides:
        tail.append(SectionSlide("Backup", "Full breakdowns (every category) and the numbers behind each chart"))
        tail.extend(backup_slides)

    head: list[Slide] = []
    title = spec.title or spec.project
    subtitle = " · ".join(x for x in (week, date.isoformat()) if x)
    models = sorted({c.shown_model for c in charts})
    title_pt, shown_title = fit_title(normalize_text(title), 1.6 * INCH, (40, 36, 32, 28))
    head.append(TitleSlide(shown_title, title_pt, subtitle, normalize_text(spec.author),
                           notes=title_notes(runs, models)))
    if missing:
        head.extend(bullet_slides("Not in this deck: what failed", list(missing),
                                  "Experiments that failed or produced invalid results this week; see summary.md."))
    head.extend(deckplan.opening_slides(spec, recap))
    items = deckplan.summary_items(charts)
    n_summary = len(deckplan.summary_slide(spec, items, {i.chart_id: 0 for i in items}))
    if glossary is not None:
        words = "\n".join(slide_words(s, False) for s in [*head, *body, *tail])
        words += "\n" + "\n".join(i.text for i in items)
        entries = glossary.terms_in(words)
        if entries:
            entries = [(normalize_text(t), normalize_text(d)) for t, d in entries]
            pages = bullet_pages([f"{t} — {d}" for t, d in entries], PROMPT_BODY_BOTTOM - BODY_TOP)
            start = 0
            gloss: list[Slide] = []
            for i, (size, chunk) in enumerate(pages, start=1):
                name = "Terms used in this deck" + (f" ({i}/{len(pages)})" if len(pages) > 1 else "")
                gloss.append(GlossarySlide(name, tuple(entries[start : start + len(chunk)]), size,
                                           notes="Only the glossary terms that appear on these slides are listed."))
                start += len(chunk)
            tail[glossary_at:glossary_at] = gloss
    first_body = len(head) + n_summary + 1
    slide_of = {s.chart_id: first_body + i for i, s in enumerate(body) if isinstance(s, ChartSlide)}
    head.extend(deckplan.summary_slide(spec, items, slide_of))

    slides = (*head, *body, *tail)
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


def _run_names(chart: ChartSpec) -> list[str]:
    """What a result slide adds to name its run: the model in a deck over several models, and the
    sweep grid point; each only when the chart's own words do not say it already."""
    out = []
    if chart.models and chart.shown_model not in chart.caption:
        out.append(f"model: {chart.shown_model}")
    if chart.grid_label and chart.grid_label not in chart.caption:
        out.append(chart.grid_label)
    return out


def _chart_slide(chart: ChartSpec, run: Run, panels: tuple[Panel, ...] = (), prompt_pt: int = 0,
                 extra_notes: str = "") -> ChartSlide:
    title_pt, title = fit_title(normalize_text(chart.title))
    full_caption = chart.caption + "".join(f" · {x}" for x in _run_names(chart))
    caption_pt, caption = fit_text(normalize_text(full_caption), CAPTION_H, CAPTION_SIZES, max_lines=1, min_size=11)
    footnote = chart.footnote + (" Synthetic example data, not a model run." if is_synthetic(run) else "")
    foot_pt, footnote = fit_text(normalize_text(footnote), FOOTER_H, (FOOTNOTE_SIZE, 10, 9),
                                 FOOTER_W, max_lines=1, min_size=9)
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
        chart_w=(chart.size_in[0] * INCH) if chart.size_in and panels else CHART_BOX.points[2],
        panels=panels,
        prompt_font_pt=prompt_pt,
    )
