"""Sanity checks (rows that cannot fail by construction) are marked in charts, never quoted as
a summary's number, and a takeaway citing one is linted (issue 13 item 4, deck half)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pandas as pd
import pytest

from reportgen.chart.render import draw_chart
from reportgen.chart.spec import build_chart_specs
from reportgen.deck import spec as ds
from reportgen.deck.build import build_deck
from reportgen.deck.plan import chart_number, summary_items
from reportgen.inputs.recap import Glossary
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import validate_results
from reportgen.weekly.lint import lint_deck

CHECK = "the forced answer after the whole reasoning is the full answer by definition"


def curve_rows(condition, rates, n=30, check_at_full=False):
    rows = []
    for x, p in rates.items():
        for i in range(n):
            rows.append({"experiment": "early_answering", "task": "truncation", "model": "m", "condition": condition,
                         "item_id": f"q{i:02d}", "metric": "matches_full", "value": float(i < round(p * n)), "x": x,
                         "check": CHECK if check_at_full and x == 1.0 else None})
    return rows


def bar_rows(condition, p, n=30, check=None):
    return [{"experiment": "probe", "task": "other", "model": "m", "condition": condition, "item_id": f"i{i:02d}",
             "metric": "correct", "value": float(i < round(p * n)), "check": check} for i in range(n)]


def run_of(*parts) -> Run:
    return Run(path=Path("r"), results=validate_results(pd.DataFrame([r for p in parts for r in p])), prompts=[])


@pytest.fixture(scope="module")
def truncation():
    run = run_of(curve_rows("forced", {0.0: 0.3, 0.5: 0.6, 1.0: 1.0}, check_at_full=True),
                 curve_rows("continued", {0.0: 0.9, 0.5: 0.95, 1.0: 0.97}))
    return run, build_chart_specs([run])


def test_the_check_flag_reaches_the_chart_points_and_the_footnote(truncation):
    _, charts = truncation
    main = next(c for c in charts if not c.backup and c.kind == "curve")
    forced = next(s for s in main.series if s.category == "forced")
    assert [p.estimate.check is not None for p in forced.points] == [False, False, True]
    continued = next(s for s in main.series if s.category == "continued")
    assert not any(p.estimate.check for p in continued.points)
    assert "Hollow point: sanity check, equal by construction unless the answer is unreadable" in main.footnote


def test_a_check_point_is_drawn_hollow(truncation):
    _, charts = truncation
    main = next(c for c in charts if not c.backup and c.kind == "curve")
    fig = draw_chart(main)
    hollow = [ln for ax in fig.axes for ln in ax.get_lines() if (ln.get_gid() or "").startswith("check-points:")]
    assert len(hollow) == 1 and list(hollow[0].get_xdata()) == [1.0]
    assert hollow[0].get_markerfacecolor() == "white"


def test_a_check_bar_is_hatched_grey():
    run = run_of(bar_rows("control", 1.0, check="cannot fail"), bar_rows("probe", 0.4))
    chart = next(c for c in build_chart_specs([run]) if not c.backup)
    fig = draw_chart(chart)
    hatched = [p for ax in fig.axes for p in ax.patches if (p.get_gid() or "").startswith("check-bar:")]
    assert [p.get_gid() for p in hatched] == ["check-bar:control"] and hatched[0].get_hatch() == "//"
    assert "Hatched grey bar: sanity check" in chart.footnote


def test_the_summary_never_quotes_a_check_as_the_slide_number(truncation):
    _, charts = truncation
    main = next(c for c in charts if not c.backup and c.kind == "curve")
    on_check = dataclasses.replace(main, highlight=dataclasses.replace(main.highlight, category="forced", x=1.0))
    e = chart_number(on_check)
    # continued (sampled here) has no check point: its 100 % point is a real measurement
    assert e is not None and e.check is None and e.value == pytest.approx(29 / 30)
    (item,) = summary_items([on_check])
    assert item.text.split(" — ")[1].startswith("Continued") and "(29/30" in item.text and "(30/30" not in item.text


GREEDY = "greedy continuation after the whole reasoning repeats the full generation"


def greedy_curve():
    """Both curves end on a check (greedy decoding), the highlight on the continued one's."""
    continued = [dict(r, check=GREEDY if r["x"] == 1.0 else None)
                 for r in curve_rows("continued", {0.0: 0.9, 0.5: 0.95, 1.0: 1.0})]
    run = run_of(curve_rows("forced", {0.0: 0.3, 0.5: 0.6, 1.0: 1.0}, check_at_full=True), continued)
    main = next(c for c in build_chart_specs([run]) if not c.backup and c.kind == "curve")
    return dataclasses.replace(main, highlight=dataclasses.replace(main.highlight, category="continued", x=1.0))


def test_a_check_highlight_quotes_the_other_condition_not_its_own_neighbour():
    chart = greedy_curve()
    e = chart_number(chart)
    # the forced curve's last point that could fail, not continued at 50 % (95 %, beside its check)
    assert e is not None and e.check is None and e.value == pytest.approx(0.6)
    (item,) = summary_items([chart])
    number = item.text.split(" — ")[1]
    assert number.startswith("Forced") and "at 50%: 60% (18/30" in number


def test_a_chart_with_only_checks_gives_way_to_charts_with_a_finding():
    run = run_of(bar_rows("control", 1.0, check="cannot fail"), bar_rows("probe", 0.4))
    chart = next(c for c in build_chart_specs([run]) if not c.backup)
    only = dataclasses.replace(chart, chart_id="only-checks", bars=[b for b in chart.bars if b.category == "control"],
                               highlight=dataclasses.replace(chart.highlight, category="control"))
    real = greedy_curve()
    items = summary_items([only, real])
    assert [i.chart_id for i in items] == [real.chart_id]
    assert not any("sanity check" in i.text for i in items)


def test_a_chart_whose_only_highlight_is_a_check_says_so_in_the_summary():
    run = run_of(bar_rows("control", 1.0, check="cannot fail"), bar_rows("probe", 0.4))
    chart = next(c for c in build_chart_specs([run]) if not c.backup)
    only = dataclasses.replace(chart, bars=[b for b in chart.bars if b.category == "control"],
                               highlight=dataclasses.replace(chart.highlight, category="control"))
    assert chart_number(only) is None
    (item,) = summary_items([only])
    assert "sanity check (equal by construction unless the answer is unreadable), not a finding" in item.text and "30/30" not in item.text


def test_lint_flags_a_takeaway_that_cites_a_check_value(truncation):
    run, charts = truncation
    deck = build_deck([run], charts)
    slides = list(deck.slides)
    i = next(i for i, s in enumerate(slides) if isinstance(s, ds.ChartSlide) and not s.backup)
    ok = ds.Deck(tuple(slides), deck.properties, deck.takeaways, deck.chart_ids)
    assert "takeaway-cites-check" not in {f.code for f in lint_deck(ok, charts, Glossary({}))}
    # "with 100% of the reasoning kept" names the x of the check, not its value: not flagged
    slides[i] = dataclasses.replace(slides[i], title="Forced answers match 60% with 100% of the reasoning kept")
    named = ds.Deck(tuple(slides), deck.properties, deck.takeaways, deck.chart_ids)
    assert "takeaway-cites-check" not in {f.code for f in lint_deck(named, charts, Glossary({}))}
    slides[i] = dataclasses.replace(slides[i], title="Forced answers reach 100% agreement with the full answer")
    cited = ds.Deck(tuple(slides), deck.properties, deck.takeaways, deck.chart_ids)
    found = [f for f in lint_deck(cited, charts, Glossary({})) if f.code == "takeaway-cites-check"]
    assert len(found) == 1 and found[0].slide == i + 1 and "100%" in found[0].message


def test_a_single_curve_takeaway_ends_at_the_last_point_that_could_fail():
    run = run_of(curve_rows("forced", {0.0: 0.1, 0.5: 0.7, 1.0: 1.0}, check_at_full=True))
    main = next(c for c in build_chart_specs([run]) if not c.backup and c.kind == "curve")
    assert "rises from 10% at 0% to 70% at 50%" in main.title and "100%" not in main.title


def test_the_rendered_deck_labels_the_check_and_its_summary_quotes_no_check(truncation, tmp_path):
    from pptx import Presentation

    from reportgen.chart.render import render_charts
    from reportgen.deck.render import render_deck

    run, charts = truncation
    images = dict(zip([c.chart_id for c in charts], render_charts(charts, tmp_path / "charts", workers=1)))
    out = render_deck(build_deck([run], charts), images, tmp_path / "deck.pptx")
    texts = ["\n".join(sh.text_frame.text for sh in s.shapes if sh.has_text_frame) for s in Presentation(out).slides]
    summary = next(t for t in texts if t.startswith("Summary"))
    assert "(30/30" not in summary  # the forced answer at 100 % kept, 30/30 by construction
    curve = next(t for t in texts if "Hollow point: sanity check" in t)
    assert "equal by construction unless the answer is unreadable" in curve
    assert any("Hatched grey bar: sanity check" in t for t in texts)  # the binned backup
