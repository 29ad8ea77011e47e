"""THE composition: run directories -> chart specs -> deck -> abstracts -> lint -> summary.md.

``reportgen deck``, ``abstract``, ``lint`` and ``weekly`` are argument parsing plus calls
into this module, so the order of the stages, what each consumes and which errors mean
"your input is wrong" are written once. Each stage is a function (pure where it can be;
the ``render_*``/``write_*`` ones write files) so a command takes only the stages it needs.

User errors: every stage raises only the classes in :data:`REPORT_ERRORS` for bad input
(each message names the file and field); commands catch exactly that tuple.
"""

from __future__ import annotations

import datetime as dt
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from reportgen.rundir.atomic import write_text_atomic
from reportgen.rundir.errors import UserError
from reportgen.rundir.reader import Run, load_run

if TYPE_CHECKING:
    from reportgen.abstract.render import AbstractSpec
    from reportgen.chart.spec import ChartSpec
    from reportgen.deck.spec import Deck
    from reportgen.inputs.deck_yaml import DeckSpec
    from reportgen.inputs.recap import Glossary, Takeaways
    from reportgen.weekly.lint import Finding


class ReportInputError(UserError):
    """The runs and specs cannot make a report (two runs sharing an id, a spec naming a metric
    the results lack); one line naming the file or field."""


#: Every user error the composition raises: the seam's one root for bad input (spec, claim,
#: abstract, results and run-directory errors all sit beneath it).
REPORT_ERRORS: tuple[type[Exception], ...] = (UserError,)

T = TypeVar("T")


@dataclass
class Report:
    """What one report is made of; filled stage by stage (``timings`` in seconds per stage)."""

    runs: list[Run]
    charts: list[ChartSpec] = field(default_factory=list)
    deck: Deck | None = None
    images: dict[str, Path] = field(default_factory=dict)
    abstracts: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)  # file name -> (context, text)
    lint: list[Finding] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)

    def timed(self, stage: str, fn: Callable[[], T]) -> T:
        t0 = time.perf_counter()
        value = fn()
        self.timings[stage] = self.timings.get(stage, 0.0) + time.perf_counter() - t0
        return value


def load_runs(run_dirs: Sequence[Path]) -> list[Run]:
    """Load and validate every run directory (:class:`ResultsError` lists every problem)."""
    runs = [load_run(d) for d in run_dirs]
    seen: dict[str, Path] = {}
    for run in runs:
        if run.run_id in seen:
            # Charts, notes and measured claims are keyed by run id; two runs sharing one
            # would silently borrow each other's provenance.
            raise ReportInputError(f"{run.path} and {seen[run.run_id]} have the same run id '{run.run_id}' "
                                   "(run.json 'run_id'); give each run its own")
        seen[run.run_id] = run.path
    return runs


def build_charts(report: Report, deck_spec: DeckSpec | None, spec_path: Path | None = None) -> list[ChartSpec]:
    """The chart specs of ``report.runs`` (none without runs)."""
    from reportgen.chart.spec import build_chart_specs

    if not report.runs:
        return []
    try:
        report.charts = report.timed("chart specs", lambda: build_chart_specs(report.runs, deck_spec))
    except ValueError as exc:  # a spec naming a metric/condition/group the results lack (SpecError too)
        raise ReportInputError(f"{spec_path}: {exc}" if spec_path else str(exc)) from None
    return report.charts


def build_deck(report: Report, deck_spec: DeckSpec | None, recap: Takeaways | None, glossary: Glossary | None,
               today: dt.date | None = None, missing: Sequence[str] = ()) -> Deck:
    """Every slide; ``missing`` (failed experiments) becomes a slide right after the title."""
    from reportgen.deck.build import build_deck

    deck = report.timed("deck spec", lambda: build_deck(report.runs, report.charts, deck_spec, recap, glossary,
                                                        today, missing))
    report.deck = deck
    return deck


def render_charts(report: Report, chart_dir: Path) -> dict[str, Path]:
    from reportgen.chart.render import render_charts as render

    paths = report.timed("charts", lambda: render(report.charts, chart_dir)) if report.charts else []
    report.images = {c.chart_id: p for c, p in zip(report.charts, paths)}
    return report.images


def render_deck(report: Report, out: Path) -> Path:
    """The .pptx, with the images :func:`render_charts` drew."""
    from reportgen.deck.render import render_deck as render

    deck = report.deck
    assert deck is not None, "build_deck first"
    return report.timed("deck", lambda: render(deck, report.images, out))


def render_deck_with_charts(report: Report, out: Path) -> Path:
    """Charts drawn in a temporary folder (only the .pptx is kept), then the deck."""
    with tempfile.TemporaryDirectory(prefix="reportgen-charts-") as tmp:
        render_charts(report, Path(tmp))
        return render_deck(report, out)


def write_takeaways(report: Report, out: Path) -> Path:
    from reportgen.inputs.recap import write_takeaways as write

    assert report.deck is not None, "build_deck first"
    return write(out, report.deck.takeaways)


def build_abstract(report: Report, name: str, spec: AbstractSpec, source: Path, *, today: dt.date | None = None,
                   template: Path | None = None, missing: list[str] | None = None) -> str:
    """Render one abstract from ``report.runs`` (hypothetical numbers when there are none).

    With ``missing`` (the weekly job), a claim that cannot be measured (its experiment
    failed) falls back to the guesses and is listed there instead of failing the report.
    """
    from reportgen.abstract.render import build_context, render_abstract

    runs = report.runs or None
    try:
        context = build_context(spec, runs, str(source), today)
    except Exception as exc:
        if missing is None:
            raise
        missing.append(f"{name}: measured numbers unavailable ({exc}); showing hypothetical numbers")
        context = build_context(spec, None, str(source), today)
    text = report.timed("abstract", lambda: render_abstract(context, template))
    report.abstracts[name] = (context, text)
    return text


def lint_report(report: Report, glossary: Glossary | None) -> list[Finding]:
    """Slide-practice findings for the deck and every abstract built so far."""
    from reportgen.weekly.lint import lint_abstract, lint_deck

    findings = lint_deck(report.deck, report.charts, glossary) if report.deck is not None else []
    for name, (context, text) in report.abstracts.items():
        findings += lint_abstract(name, context, text)
    report.lint = findings
    return findings


def write_summary(report: Report, out: Path, *, missing: Sequence[str] = (), abstract_files: Sequence[str] = ()) -> Path:
    """summary.md: the deck as Markdown, with chart paths relative to ``out``'s folder."""
    from reportgen.weekly.summary_md import deck_markdown

    assert report.deck is not None, "build_deck first"
    summary = deck_markdown(
        report.deck, {cid: Path("charts") / p.name for cid, p in report.images.items()},
        missing=missing, lint=[str(f) for f in report.lint], abstracts=list(abstract_files),
    )
    return write_text_atomic(out, summary)
