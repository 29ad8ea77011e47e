"""Issue 14: the deck's shape, colours, controls, comparisons and the lint that guards them."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from reportgen.chart.render import draw_chart, render_charts
from reportgen.chart.spec import bin_fractions, build_chart_specs
from reportgen.chart.words import breakdown_sentence, pair_sentence
from reportgen.deck import render_check
from reportgen.deck import spec as ds
from reportgen.deck.build import build_deck
from reportgen.deck.glossary import glossary_for_runs
from reportgen.deck.plan import join_small_tables
from reportgen.deck.render import render_deck
from reportgen.inputs.deck_yaml import DeckSpec
from reportgen.inputs.recap import Glossary
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import RunInfo, validate_results
from reportgen.weekly.lint import lint_deck


def rate_rows(experiment, condition, p, n=40, metric="refusal", x=None, group=None, task="steering"):
    k = int(round(p * n))
    return [
        {"experiment": experiment, "task": task, "model": "m", "condition": condition, "item_id": f"i{i:03d}",
         "metric": metric, "value": float(i < k), "x": x, "group": group}
        for i in range(n)
    ]


def make_run(*parts, name="r") -> Run:
    return Run(path=Path(name), results=validate_results(pd.DataFrame([r for p in parts for r in p])), prompts=[])


def _main(charts, experiment):
    (c,) = [c for c in charts if c.experiment == experiment and not c.backup]
    return c


def test_a_condition_keeps_its_colour_across_experiments():
    run = make_run(
        rate_rows("attribute", "flipped", 0.4, metric="changed", task="bias"),
        rate_rows("attribute", "other", 0.1, metric="changed", task="bias"),
        rate_rows("frozen", "frozen_reasoning", 0.1, metric="changed", task="bias"),
        rate_rows("frozen", "flipped", 0.4, metric="changed", task="bias"),
    )
    colours = {}
    for c in build_chart_specs([run]):
        for b in c.bars:
            colours.setdefault(b.category, set()).add(b.color)
    assert all(len(v) == 1 for v in colours.values()), colours


def test_automatic_choice_never_headlines_a_control():
    run = make_run(rate_rows("cost", "baseline", 0.5, metric="refusal"),
                   rate_rows("cost", "ablation", 0.3, metric="refusal"),
                   rate_rows("cost", "random_ablation", 0.05, metric="refusal"))
    main = _main(build_chart_specs([run]), "cost")
    assert [b.category for b in main.bars] == ["baseline", "ablation"]
    run = make_run(rate_rows("cost", "random_ablation", 0.1), rate_rows("cost", "ablation", 0.9))
    assert _main(build_chart_specs([run]), "cost").highlight.category == "ablation"


def test_callouts_are_red_by_default_and_the_spec_sets_the_colour():
    run = make_run(rate_rows("harmful", "baseline", 0.9), rate_rows("harmful", "ablation", 0.0))
    chart = _main(build_chart_specs([run], DeckSpec(project="p")), "harmful")
    fig = draw_chart(chart)
    (callout,) = [t for t in fig.axes[0].texts if t.get_gid() == "callout"]
    assert callout.get_color() == "#C00000"
    # The ablation bar has height 0: the arrow ends above the axis, at its value label.
    assert callout.xy[1] > 0.02
    chart = _main(build_chart_specs([run], DeckSpec(project="p", callout_color="#00aa00")), "harmful")
    (callout,) = [t for t in draw_chart(chart).axes[0].texts if t.get_gid() == "callout"]
    assert callout.get_color() == "#00AA00"


def test_words_agree_with_their_numbers():
    run = make_run(rate_rows("x", "a", 0.8), rate_rows("x", "b", 0.8))
    bars = [b for c in build_chart_specs([run]) for b in c.bars][:2]
    assert "ranges" not in breakdown_sentence(bars, "refusal", None)
    cue = make_run(rate_rows("cue", "cued", 0.2, metric="switched", task="bias"),
                   rate_rows("cue", "cued", 0.0, n=8, metric="articulated", task="bias"))
    main = _main(build_chart_specs([cue]), "cue")
    _, callout = pair_sentence(main.bars, None, "cue")
    assert "some cases" not in callout and "never" in callout


def test_sentence_cuts_are_binned_to_quarters():
    rows = [{"experiment": "sentence_cut", "task": "truncation", "model": "m", "condition": "forced",
             "item_id": f"i{i}", "metric": "matches_full", "value": float(i % 2), "x": (i % 37) / 36}
            for i in range(200)]
    df = bin_fractions(validate_results(pd.DataFrame(rows)))
    assert sorted(df["x"].unique()) == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_unlisted_experiments_go_to_the_backup_and_slide_three_summarises():
    run = make_run(rate_rows("harmful", "baseline", 0.9), rate_rows("harmful", "ablation", 0.05),
                   rate_rows("other", "baseline", 0.5), rate_rows("other", "ablation", 0.1))
    spec = DeckSpec(project="p", question="Does it work?", experiments=[{"experiment": "harmful"}])
    charts = build_chart_specs([run], spec)
    assert {c.experiment for c in charts if not c.backup} == {"harmful"}
    deck = build_deck([run], charts, spec, today=dt.date(2025, 6, 2))
    assert deck.slides[1].bullets[0] == "Question: Does it work?"
    summary = deck.slides[2]
    chart_no = next(i for i, s in enumerate(deck.slides, 1) if s.kind == "chart" and not s.backup)
    assert f"(slide {chart_no})" in summary.bullets[1] and "95% interval" in summary.bullets[1]


def test_lint_catches_duplicates_wrong_numbers_budget_and_stray_callouts():
    run = make_run(rate_rows("harmful", "baseline", 0.9), rate_rows("harmful", "ablation", 0.05))
    spec = DeckSpec(project="p", main_budget=1, experiments=[
        {"experiment": "harmful", "takeaway": "Ablation drops refusal from 90% to 12%"}])
    charts = build_chart_specs([run], spec)
    charts[0] = dataclasses.replace(charts[0], highlight=type(charts[0].highlight)("nonexistent", "look here"))
    deck = build_deck([run], charts, spec, today=dt.date(2025, 6, 2))
    slides = list(deck.slides)
    i = next(i for i, s in enumerate(slides) if s.kind == "chart")
    slides.insert(i + 1, slides[i])  # the same chart twice: a duplicate title, 2 slides over a budget of 1
    deck = ds.Deck(tuple(slides), deck.properties, deck.takeaways, deck.chart_ids, main_budget=1)
    codes = {f.code for f in lint_deck(deck, charts, Glossary({"ablation": "x"}))}
    assert {"duplicate-title", "title-number-mismatch", "main-over-budget", "callout-off-mark"} <= codes


def test_one_row_tables_join_their_neighbour():
    t1 = ds.TableSlide("Numbers: Cost", 28, ("Metric", "Condition", "Value", "95% interval", "n"),
                       (("KL", "Ablation", "0.1", "0.0 to 0.2", "5"),), (0.3, 0.3, 0.2, 0.1, 0.1), "t.", "")
    t2 = ds.TableSlide("Numbers: Harmless", 28, ("Metric", "Condition", "Value", "95% interval", "n"),
                       (("Refusal", "Addition", "90%", "80–95%", "32"),), (0.3, 0.3, 0.2, 0.1, 0.1), "t.", "")
    (joined,) = join_small_tables([t1, t2])
    assert joined.title == "Numbers: Cost; Harmless" and len(joined.rows) == 2
    assert joined.rows[1][0].startswith("Harmless")


def _model_run(model: str, ablated: float) -> Run:
    rows = [dict(r, model=model) for r in rate_rows("harmful", "baseline", 0.95) + rate_rows("harmful", "ablation", ablated)]
    return Run(path=Path(f"runs/{model}"), results=validate_results(pd.DataFrame(rows)), prompts=[])


def test_compare_model_puts_two_run_directories_on_one_chart():
    runs = [_model_run("small", 0.05), _model_run("large", 0.6)]
    spec = DeckSpec(project="p", experiments=[{"experiment": "harmful", "compare": "model"}])
    charts = build_chart_specs(runs, spec)
    (main,) = [c for c in charts if not c.backup]
    assert main.categories == ("small", "large")
    assert {b.group for b in main.bars} == {"Baseline", "Ablation"}
    assert main.highlight is not None and main.highlight.category == "large"
    assert "higher on large than on small" in main.title
    assert all(c.models == ("large", "small") for c in charts)


def test_glossary_defines_the_ablation_the_run_did():
    info = RunInfo(run_id="s", task="steering", config={"intervention": {"ablation_mode": "mean",
                                                                         "addition_scope": "prompt"}})
    run = Run(path=Path("runs/s"), results=make_run(rate_rows("harmful", "baseline", 0.9)).results, prompts=[],
              info=info)
    g = glossary_for_runs([run], Glossary({"Ablation": "zero ablation", "Addition": "every position"}))
    assert "mean" in g.root["Ablation"] and "prompt's positions only" in g.root["Addition"]


@pytest.mark.skipif(not render_check.available(), reason="LibreOffice (soffice) and pdftoppm not installed")
def test_rendered_deck_has_no_overflowing_text_or_overlapping_shapes(tmp_path):
    run = make_run(rate_rows("harmful", "baseline", 0.9), rate_rows("harmful", "ablation", 0.0),
                   rate_rows("harmful", "random_ablation", 0.85))
    spec = DeckSpec(project="Refusal", question="Does ablating the direction remove refusal?",
                    experiments=[{"experiment": "harmful"}], next_steps=["Repeat on a 1.5B chat model"])
    charts = build_chart_specs([run], spec)
    images = dict(zip([c.chart_id for c in charts], render_charts(charts, tmp_path / "charts", workers=1)))
    deck = build_deck([run], charts, spec, today=dt.date(2025, 6, 2))
    out = render_deck(deck, images, tmp_path / "deck.pptx")
    assert render_check.check(out) == []
