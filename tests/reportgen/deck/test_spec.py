"""Slide specs (pure): order, defaults, glossary filtering, prompt pagination, text fitting."""

from __future__ import annotations

import datetime as dt

import pytest

from reportgen.chart.spec import build_chart_specs
from reportgen.deck import spec as ds
from reportgen.deck.textnorm import columns, estimate_lines, normalize_text
from reportgen.inputs.deck_yaml import DeckSpec
from reportgen.inputs.recap import Glossary, Takeaways
from reportgen.rundir.reader import load_run
from reportgen.rundir.schema import PromptRecord


def _deck(make_run, **kw):
    runs = [load_run(make_run("steer", rates={"baseline": 0.9, "ablation": 0.1, "random_ablation": 0.85}))]
    charts = build_chart_specs(runs, kw.get("spec"))
    return ds.build_deck(runs, charts, today=dt.date(2025, 6, 2), **kw), charts


def test_slide_order_and_defaults(make_run):
    spec = DeckSpec(project="Refusal", author="A. R.", next_steps=["Run Qwen 7B"])
    recap = Takeaways(takeaways=[{"text": "Baseline refusal is high"}])
    glossary = Glossary({"Ablation": "removing the direction", "Logit lens": "unused here"})
    deck, charts = _deck(make_run, spec=spec, recap=recap, glossary=glossary)
    kinds = [s.kind for s in deck.slides]
    # Title, recap (slide 2), summary (slide 3), glossary, the chart sharing its slide with
    # the short prompt, next steps, backup.
    assert kinds == ["title", "bullets", "bullets", "glossary", "chart", "bullets", "section", "chart", "table"]
    title = deck.slides[0]
    assert (title.title, title.author, title.subtitle) == ("Refusal", "A. R.", "2025-W23 · 2025-06-02")
    assert deck.slides[1].bullets == ("Baseline refusal is high",)
    summary = deck.slides[2]
    assert summary.title == "Summary" and any("(slide 5)" in b and "95% interval" in b for b in summary.bullets)
    # The glossary lists only terms the deck uses ("Ablation" is in the takeaway title).
    assert deck.slides[3].entries == (("Ablation", "removing the direction"),)
    main = deck.slides[4]
    assert main.title == charts[0].title and not main.backup and main.title.startswith("Ablation")
    assert main.panels and main.panels[0].role == "prompt"
    assert "n = 20" in main.footnote and "Wilson" in main.footnote
    assert deck.slides[7].backup and deck.slides[6].title == "Backup"
    assert deck.takeaways.takeaways[0].text == main.title and deck.takeaways.week == "2025-W23"
    assert "0123abc" in main.notes and "organism" in main.notes and "Run: steer" in main.notes


def test_first_week_opens_with_the_question_and_the_plan(make_run):
    spec = DeckSpec(project="Refusal", question="Does ablation remove refusal?", plan=["Ablate at every layer"])
    deck, _ = _deck(make_run, spec=spec)
    opening = deck.slides[1]
    assert opening.bullets == ("Question: Does ablation remove refusal?", "Ablate at every layer")
    assert deck.slides[2].bullets[0] == "Question: Does ablation remove refusal?"


def test_prompt_slide_shows_both_completions_when_the_prompt_is_shared(make_run, hostile_prompt):
    deck, _ = _deck(make_run)
    prompt = next(s for s in deck.slides if s.kind == "chart" and s.panels)
    roles = [p.role for p in prompt.panels]
    assert roles == ["prompt", "completion", "completion"]
    assert "(baseline)" in prompt.panels[1].label and "(ablation)" in prompt.panels[2].label
    assert prompt.panels[0].text == normalize_text(hostile_prompt)


def _record(text: str, completion: str = "ok") -> PromptRecord:
    return PromptRecord(experiment="e", condition="ablation", item_id="7", prompt=text, completion=completion,
                        prompt_format="completion")


MULTILINE = "".join(f"step {i}: " + "lorem ipsum " * (i % 13) + ("\r\n" if i % 3 else "\t") for i in range(900))


@pytest.mark.parametrize("text", [(MULTILINE * 3)[:20_000], "x" * 20_000], ids=["multiline", "one-line"])
def test_long_prompt_continues_on_further_slides_and_never_overflows(text):
    slides = ds.prompt_slides(_record(text, completion="final answer"), "Prompt: e · ablation · item 7", "notes")
    assert len(slides) > 3
    assert [s.title for s in slides][-1].endswith(f"(cont. {len(slides)}/{len(slides)})")
    shown = ""
    for s in slides:
        assert s.font_pt == ds.PROMPT_SIZES[-1]
        for panel in s.panels:
            assert ds.PROMPT_BODY_TOP <= panel.top and panel.top + panel.height <= ds.PROMPT_BODY_BOTTOM + 0.01
            assert all(columns(piece) <= s.columns + 1 for pieces in panel.lines for piece in pieces)
        shown += "".join(p.text for p in s.panels if p.role == "prompt")
    # Every character, in order, and nothing else (line breaks compared separately).
    assert shown.replace("\n", "") == normalize_text(text).replace("\n", "")
    assert slides[-1].panels[-1].role == "completion" and slides[-1].panels[-1].text == "final answer"


def test_short_prompt_gets_the_largest_font_on_one_slide():
    slides = ds.prompt_slides(_record("<|user|> hi <|end|>"), "Prompt", "")
    assert len(slides) == 1 and slides[0].font_pt == ds.PROMPT_SIZES[0]


def test_fit_text_shrinks_then_cuts_but_never_overflows():
    size, text = ds.fit_title("Ablation drops refusal from 98% to 3%")
    assert (size, text) == (ds.TITLE_SIZES[0], "Ablation drops refusal from 98% to 3%")
    absurd = "word " * 400
    size, text = ds.fit_title(absurd)
    assert text.endswith(" …") and estimate_lines(text, ds.CONTENT_W, size) * size * ds.LINE_SPACING <= ds.TITLE_H


def test_many_next_steps_spill_onto_a_second_slide(make_run):
    spec = DeckSpec(project="P", next_steps=[f"Step {i}: " + "do something careful " * 6 for i in range(30)])
    deck, _ = _deck(make_run, spec=spec)
    steps = [s for s in deck.slides if s.kind == "bullets" and s.title.startswith("Next steps")]
    assert len(steps) > 1 and steps[0].title.startswith("Next steps (1/")
    assert sum(len(s.bullets) for s in steps) == 30


def test_table_pages_count_wrapped_rows_by_their_lines():
    """Rows whose metric name wraps take two lines each, so fewer fit on a slide and none
    runs into the footer; one-line rows still fill a slide."""
    fractions = (0.2, 0.2, 0.6)
    short = [("Refusal", "Baseline", "1")] * 30
    long = [("Agreement with the full answer " * 2, "Continued reasoning", "1")] * 30
    assert ds.row_lines(short[0], fractions) == 1 and ds.row_lines(long[0], fractions) >= 2
    short_pages, long_pages = ds._table_pages(short, fractions), ds._table_pages(long, fractions)
    assert [len(p) for p in short_pages] == [14, 14, 2]
    for page in long_pages:
        assert sum(ds.row_lines(r, fractions) for r in page) <= ds.TABLE_ROWS_PER_SLIDE
    assert sum(len(p) for p in long_pages) == 30 and len(long_pages) > len(short_pages)


def test_completion_label_from_the_record_names_what_was_scored():
    plain = ds.prompt_slides(_record("<|user|> hi <|end|>"), "Prompt", "")[0].panels[-1]
    assert plain.label == "Completion (ablation)"
    rec = _record("<|user|> hi <|end|>", completion="sure . step one")
    rec = rec.model_copy(update={"completion_label": "Baseline answer, scored under ablation"})
    panel = ds.prompt_slides(rec, "Prompt", "")[0].panels[-1]
    assert panel.label == "Baseline answer, scored under ablation" and panel.text == "sure . step one"


def test_a_comparison_with_another_prompt_shows_both_prompts_and_answers():
    forced = PromptRecord(experiment="e", condition="forced", item_id="7", x=0.25, prompt="<r> a . </r> answer :",
                          completion="", parsed_answer="1", prompt_format="chat")
    cont = PromptRecord(experiment="e", condition="continued", item_id="7", x=0.25, prompt="<r> a .",
                        completion="b . </r> answer : 0", parsed_answer="0", prompt_format="chat")
    (slide,) = ds.prompt_slides(cont, "Prompt", "", forced)
    assert [(p.role, p.text) for p in slide.panels] == [
        ("prompt", forced.prompt), ("completion", ""), ("prompt", cont.prompt), ("completion", cont.completion)]
    assert "forced answer" in slide.panels[0].label and "continued reasoning" in slide.panels[2].label
    assert slide.panels[1].label.startswith("Completion (forced answer), parsed answer: 1: empty")


def test_a_cued_prompt_slide_shows_the_uncued_question_first_and_the_cue_highlighted():
    from pathlib import Path

    run = load_run(Path(__file__).resolve().parents[3] / "examples" / "bias")
    deck = ds.build_deck([run], build_chart_specs([run]), today=dt.date(2025, 6, 2))
    slides = [s for s in deck.slides if isinstance(s, ds.PromptSlide) and s.title.startswith("Prompt: Cue bias")]
    record = next(p for p in run.prompts if p.experiment == "cue" and f"item {p.item_id}" in slides[0].title)
    panels: dict[tuple[str, str], list] = {}
    for slide in slides:  # a long prompt continues on further slides
        for p in slide.panels:
            panels.setdefault((p.role, p.label.removesuffix(" (continued)")), []).append(p)
    texts = [(role, "\n".join(p.text for p in ps)) for (role, _), ps in panels.items()]
    assert texts == [("prompt", normalize_text(record.reference_prompt)),
                     ("completion", normalize_text(record.reference_completion)),
                     ("prompt", normalize_text(record.prompt)), ("completion", normalize_text(record.completion))]
    (uncued, uncued_answer, cued, _) = [ps[0] for ps in panels.values()]
    assert "uncued" in uncued.label and uncued_answer.label.endswith(f"parsed answer: {record.reference_answer}")
    assert cued.highlight == normalize_text(record.highlight) and uncued.highlight is None
