"""The deck's composition (pure): slide order, defaults, glossary filtering, bullet overflow."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reportgen.chart.spec import build_chart_specs
from reportgen.deck.build import build_deck
from reportgen.deck.spec import PromptSlide
from reportgen.deck.textnorm import normalize_text
from reportgen.inputs.deck_yaml import DeckSpec
from reportgen.inputs.recap import Glossary, Takeaways
from reportgen.rundir.reader import load_run


def _deck(make_run, **kw):
    runs = [load_run(make_run("steer", rates={"baseline": 0.9, "ablation": 0.1, "random_ablation": 0.85}))]
    charts = build_chart_specs(runs, kw.get("spec"))
    return build_deck(runs, charts, today=dt.date(2025, 6, 2), **kw), charts


def test_slide_order_and_defaults(make_run):
    spec = DeckSpec(project="Refusal", author="A. R.", next_steps=["Run Qwen 7B"])
    recap = Takeaways(takeaways=[{"text": "Baseline refusal is high"}])
    glossary = Glossary({"Ablation": "removing the direction", "Logit lens": "unused here"})
    deck, charts = _deck(make_run, spec=spec, recap=recap, glossary=glossary)
    kinds = [s.kind for s in deck.slides]
    # Title, recap (slide 2), summary (slide 3), the chart sharing its slide with the short
    # prompt, next steps, glossary, backup.
    assert kinds == ["title", "bullets", "bullets", "chart", "bullets", "glossary", "section", "chart", "table"]
    title = deck.slides[0]
    assert (title.title, title.author, title.subtitle) == ("Refusal", "A. R.", "2025-W23 · 2025-06-02")
    assert deck.slides[1].bullets == ("Baseline refusal is high",)
    summary = deck.slides[2]
    assert summary.title == "Summary" and any("(slide 4)" in b and "95% interval" in b for b in summary.bullets)
    # The glossary lists only terms the deck uses ("Ablation" is in the takeaway title).
    assert deck.slides[5].entries == (("Ablation", "removing the direction"),)
    main = deck.slides[3]
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


def test_many_next_steps_spill_onto_a_second_slide(make_run):
    spec = DeckSpec(project="P", next_steps=[f"Step {i}: " + "do something careful " * 6 for i in range(30)])
    deck, _ = _deck(make_run, spec=spec)
    steps = [s for s in deck.slides if s.kind == "bullets" and s.title.startswith("Next steps")]
    assert len(steps) > 1 and steps[0].title.startswith("Next steps (1/")
    assert sum(len(s.bullets) for s in steps) == 30


def test_a_cued_prompt_slide_shows_the_uncued_question_first_and_the_cue_highlighted():
    run = load_run(Path(__file__).resolve().parents[3] / "examples" / "bias")
    deck = build_deck([run], build_chart_specs([run]), today=dt.date(2025, 6, 2))
    slides = [s for s in deck.slides if isinstance(s, PromptSlide) and s.title.startswith("Prompt: Cue bias")]
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
