"""Deck lint: each practice check fires on the deck that breaks it, and stays quiet otherwise."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from reportgen.chart.spec import build_chart_specs
from reportgen.deck import spec as ds
from reportgen.deck.build import build_deck
from reportgen.inputs.deck_yaml import DeckSpec
from reportgen.inputs.recap import Glossary
from reportgen.rundir.reader import load_run
from reportgen.weekly.lint import is_sentence, jargon_in, lint_abstract, lint_deck


@pytest.mark.parametrize("title, expected", [
    ("Ablation drops refusal from 98% to 3%", True),
    ("Baseline and ablation do not clearly differ (50% vs 48%)", True),
    ("Matches-full rises from 20% at 0% to 100% at 100% of the reasoning kept", True),
    ("Refusal rate by condition", False),
    ("Harmful: refusal", False),
    ("Results", False),
])
def test_is_sentence(title, expected):
    assert is_sentence(title) is expected


def test_jargon_finds_terms_and_acronyms_but_not_common_words():
    found = jargon_in("Directional ablation lowers KL; the AOC is small. The GPU run used the CSV.")
    assert "directional ablation" in found
    assert "ablation" not in found  # covered by the longer term
    assert {"KL", "AOC"} <= set(found)
    assert "GPU" not in found and "CSV" not in found


def _deck(runs, spec=None, glossary=None):
    charts = build_chart_specs(runs, spec)
    return build_deck(runs, charts, spec, None, glossary), charts


def test_clean_deck_has_no_findings(make_run):
    runs = [load_run(make_run("steer"))]
    deck, charts = _deck(runs, glossary=Glossary({"ablation": "removing the direction"}))
    assert lint_deck(deck, charts, Glossary({"ablation": "removing the direction"})) == []


def test_three_categories_on_a_main_chart_is_flagged(make_run):
    runs = [load_run(make_run("steer", rates={"baseline": 0.9, "ablation": 0.1, "addition": 0.5}))]
    spec = DeckSpec(project="p", experiments=[{"experiment": "harmful", "categories": ["baseline", "ablation"]}])
    deck, charts = _deck(runs, spec)
    main = next(c for c in charts if not c.backup)
    assert lint_deck(deck, charts, Glossary({"ablation": "x", "addition": "y"})) == []
    # Force a third bar onto the main chart, as a hand-edited spec would.
    extra = dataclasses.replace(main.bars[0], category="addition", label="Addition")
    main.bars.append(extra)
    codes = [f.code for f in lint_deck(deck, charts, Glossary({"ablation": "x"}))]
    assert codes.count("too-many-categories") == 1


def test_label_title_missing_prompt_and_interval_are_flagged(make_run):
    runs = [load_run(make_run("steer"))]
    deck, charts = _deck(runs)
    slides = list(deck.slides)
    i = next(i for i, s in enumerate(slides) if isinstance(s, ds.ChartSlide) and not s.backup)
    # A label for a title, and no prompt (neither beside the chart nor after it).
    slides[i] = dataclasses.replace(slides[i], title="Refusal by condition", panels=())
    if isinstance(slides[i + 1], ds.PromptSlide):
        del slides[i + 1]
    chart = next(c for c in charts if c.chart_id == slides[i].chart_id)
    est = chart.bars[0].estimate
    chart.bars[0] = dataclasses.replace(chart.bars[0], estimate=dataclasses.replace(est, low=float("nan")))
    broken = ds.Deck(tuple(slides), deck.properties, deck.takeaways, deck.chart_ids)
    findings = lint_deck(broken, charts, Glossary({"ablation": "x"}))
    by_code = {f.code: f for f in findings}
    assert {"title-not-sentence", "no-prompt-slide", "interval-missing"} <= set(by_code)
    assert by_code["title-not-sentence"].slide == i + 1
    assert "Refusal by condition" in by_code["title-not-sentence"].message


def test_jargon_without_glossary_entry_is_flagged_once(make_run):
    runs = [load_run(make_run("steer")), load_run(make_run("steer2", experiment="harmless"))]
    deck, charts = _deck(runs, DeckSpec(project="p", next_steps=["Measure the KL cost of ablation"]))
    findings = [f for f in lint_deck(deck, charts, Glossary({"refusal": "saying no"})) if f.code == "jargon-not-in-glossary"]
    terms = [f.message.split("'")[1] for f in findings]
    assert sorted(terms, key=str.lower) == sorted({"ablation", "KL"}, key=str.lower)


def test_unmarked_hypothetical_numbers_are_flagged():
    ok = {"banner": True, "key_numbers": [{"label": "Refusal", "value": "≈58%*(hypothetical)*", "source": "hypothetical (not measured)"}]}
    assert lint_abstract("a.md", ok, "> Draft with hypothetical numbers ≈58%*(hypothetical)*") == []
    bad = {"banner": False, "key_numbers": [{"label": "Refusal", "value": "58%", "source": "hypothetical (not measured)"}]}
    codes = [f.code for f in lint_abstract("a.md", bad, "Refusal is 58%.")]
    assert codes == ["hypothetical-unmarked"] * 3
    measured = {"banner": False, "key_numbers": [{"label": "Refusal", "value": "58%", "source": "measured (r1; 95% Wilson)"}]}
    assert lint_abstract("a.md", measured, "Refusal is 58%.") == []


def test_a_sweeps_reference_line_is_not_a_category_but_a_third_series_is():
    runs = [load_run(Path(__file__).resolve().parents[3] / "examples" / "steering")]
    deck, charts = _deck(runs)
    sweep = next(c for c in charts if c.kind == "sweep" and not c.backup)
    assert len(sweep.series) == 2 and sweep.references

    def flagged() -> list[int]:
        return [f.slide for f in lint_deck(deck, charts) if f.code == "too-many-categories"]

    assert flagged() == []
    sweep.series.append(dataclasses.replace(sweep.series[0], label="Ablation, 3-layer window"))
    assert len(flagged()) == 1
