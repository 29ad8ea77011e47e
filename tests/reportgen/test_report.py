"""The one composition (reportgen/report.py), on the shipped example runs."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen import report as rp
from reportgen.inputs.deck_yaml import load_deck_spec
from reportgen.inputs.recap import load_glossary

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_a_spec_naming_a_metric_the_results_lack_is_a_user_error_naming_the_spec(tmp_path):
    spec_path = tmp_path / "deck.yaml"
    spec_path.write_text("project: P\nexperiments:\n  - experiment: harmful\n    metric: refusl\n")
    report = rp.Report(rp.load_runs([EXAMPLES / "steering"]))
    with pytest.raises(rp.REPORT_ERRORS) as info:
        rp.build_charts(report, load_deck_spec(spec_path), spec_path)
    assert str(spec_path) in str(info.value) and "refusl" in str(info.value)


def test_the_stages_compose_into_a_linted_summary(tmp_path):
    runs = rp.load_runs([EXAMPLES / d for d in ("steering", "truncation", "bias")])
    report = rp.Report(runs)
    glossary = load_glossary(EXAMPLES / "glossary.yaml")
    spec = load_deck_spec(EXAMPLES / "deck.yaml")
    charts = rp.build_charts(report, spec, EXAMPLES / "deck.yaml")
    rp.render_charts(report, tmp_path / "charts")
    deck = rp.build_deck(report, spec, None, glossary, missing=["broken (bias) failed: boom"])
    rp.render_deck(report, tmp_path / "deck.pptx")
    findings = rp.lint_report(report, glossary)
    summary = rp.write_summary(report, tmp_path / "summary.md", missing=["broken (bias) failed: boom"]).read_text()

    assert set(report.images) == {c.chart_id for c in charts}
    assert deck.slides[1].title.startswith("Not in this deck")  # failures come right after the title
    assert "broken (bias) failed: boom" in summary
    assert all(f"charts/{p.name}" in summary for cid, p in report.images.items()
               if any(getattr(s, "chart_id", None) == cid for s in deck.slides))
    assert [str(f) for f in findings] == [str(f) for f in report.lint]
    assert set(report.timings) == {"chart specs", "charts", "deck spec", "deck"}


def test_the_summary_points_at_the_chart_slides_when_failures_are_listed_first():
    import re

    from reportgen.deck.spec import ChartSlide

    report = rp.Report(rp.load_runs([EXAMPLES / d for d in ("steering", "truncation", "bias")]))
    spec = load_deck_spec(EXAMPLES / "deck.yaml")
    rp.build_charts(report, spec, EXAMPLES / "deck.yaml")
    deck = rp.build_deck(report, spec, None, None, missing=["broken (bias) failed: boom"])
    summary = next(s for s in deck.slides if s.title == "Summary")
    refs = [(b, int(m.group(1))) for b in summary.bullets if (m := re.search(r"\(slide (\d+)\)$", b))]
    assert refs, summary.bullets
    for bullet, number in refs:
        slide = deck.slides[number - 1]
        assert isinstance(slide, ChartSlide) and bullet.startswith(slide.title), (bullet, slide.title)
    assert deck.main_budget == spec.main_budget
