"""summary.md: the deck as Markdown says what the slides say, block by block."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from reportgen.chart.spec import build_chart_specs
from reportgen.deck.build import build_deck
from reportgen.deck.spec import ChartSlide, PromptSlide
from reportgen.rundir.reader import load_run
from reportgen.weekly.summary_md import deck_markdown

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_each_completion_gets_its_own_labelled_fence():
    runs = [load_run(EXAMPLES / "steering")]
    charts = build_chart_specs(runs, None)
    deck = build_deck(runs, charts, None, None, None, dt.date(2026, 11, 27))
    text = deck_markdown(deck, {})
    slide = next(s for s in deck.slides if isinstance(s, (PromptSlide, ChartSlide)) and len(s.panels) == 3)
    prompt, before, after = slide.panels
    assert before.label != after.label and before.text != after.text
    for panel in (prompt, before, after):
        block = text.split(f"{panel.label}:\n", 1)[1].lstrip("\n")
        assert block.startswith("```text\n"), panel.label
        fenced = block.removeprefix("```text\n").split("```\n", 1)[0]
        assert fenced.rstrip("\n") == panel.text.rstrip("\n"), panel.label


def test_a_20000_character_single_line_prompt_stays_one_line(tmp_path, run_writer):
    prompt = " ".join(f"word{i}" for i in range(3000))[:20_000]
    run = load_run(run_writer(tmp_path / "long", prompt=prompt, n=2))
    charts = build_chart_specs([run], None)
    deck = build_deck([run], charts, None, None, None, dt.date(2026, 11, 27))
    assert sum(isinstance(s, PromptSlide) for s in deck.slides) > 2  # it does span several slides
    text = deck_markdown(deck, {})
    block = text.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert block == prompt
