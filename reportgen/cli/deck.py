"""`reportgen deck` and `reportgen abstract`: the weekly deck and the abstract draft.

Composition only: load and validate inputs, call the pure builders, then the
renderers. Every input problem becomes a :class:`~reportgen.cli.entry.UserError` naming the
file and field (exit code 2, no traceback).
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Optional

import typer

from reportgen.cli.entry import UserError, app
from reportgen.cli.outputs import check_outputs
from reportgen.inputs.deck_yaml import SpecError
from reportgen.rundir.schema import Run, load_run


def _runs(run_dirs: list[Path]) -> list[Run]:
    # load_run raises ResultsError listing every problem; main() turns it into exit 2.
    runs = [load_run(d) for d in run_dirs]
    seen: dict[str, Path] = {}
    for run in runs:
        if run.run_id in seen:
            # Charts, notes and measured claims are keyed by run id; two runs sharing one
            # would silently borrow each other's provenance.
            raise UserError(f"{run.path} and {seen[run.run_id]} have the same run id '{run.run_id}' "
                            "(run.json 'run_id'); give each run its own")
        seen[run.run_id] = run.path
    return runs


@app.command("deck")
def deck_command(
    run_dirs: list[Path] = typer.Argument(..., metavar="RUN_DIR", help="Run directories (tidy results)."),
    out: Path = typer.Option(..., "-o", "--out", help="The deck to write (.pptx)."),
    spec: Optional[Path] = typer.Option(None, "--spec", help="deck.yaml: project, order, takeaways, next steps."),
    recap: Optional[Path] = typer.Option(None, "--recap", help="Last week's takeaways.yaml (recap slide)."),
    glossary: Optional[Path] = typer.Option(
        None, "--glossary", help="glossary.yaml (term: definition); only terms used in the deck are shown."
    ),
    takeaways_out: Optional[Path] = typer.Option(
        None, "--takeaways-out",
        help="Where to write this deck's takeaways (next week's --recap); default: takeaways.yaml next to the deck.",
    ),
) -> None:
    """Build the weekly 16:9 deck: title, recap, glossary, chart + prompt per result, next steps, backup."""
    from reportgen.chart.render import render_charts
    from reportgen.chart.spec import build_chart_specs
    from reportgen.deck.render import render_deck
    from reportgen.deck.build import build_deck
    from reportgen.inputs.deck_yaml import load_deck_spec
    from reportgen.inputs.recap import load_glossary, load_takeaways, write_takeaways

    if out.suffix.lower() != ".pptx":
        raise UserError(f"{out}: the deck must be a .pptx file")
    check_outputs(files=[out, takeaways_out or out.parent / "takeaways.yaml"])
    t0 = time.perf_counter()
    runs = _runs(run_dirs)
    try:
        deck_spec = load_deck_spec(spec) if spec else None
        last_week = load_takeaways(recap) if recap else None
        terms = load_glossary(glossary) if glossary else None
    except SpecError as exc:
        raise UserError(str(exc)) from None
    try:
        charts = build_chart_specs(runs, deck_spec)
    except ValueError as exc:  # a spec naming a metric/condition/group the results lack
        raise UserError(f"{spec}: {exc}" if spec else str(exc)) from None
    if not charts:
        raise UserError("nothing to show: every experiment is skipped (check 'skip'/'only_listed' in the spec)")
    slides = build_deck(runs, charts, deck_spec, last_week, terms)
    with tempfile.TemporaryDirectory(prefix="reportgen-charts-") as tmp:
        paths = render_charts(charts, tmp)
        render_deck(slides, {c.chart_id: p for c, p in zip(charts, paths)}, out)
    takeaways_path = write_takeaways(takeaways_out or out.parent / "takeaways.yaml", slides.takeaways)
    typer.echo(
        f"wrote {out} ({len(slides.slides)} slides, {len(charts)} charts) and {takeaways_path} "
        f"in {time.perf_counter() - t0:.1f} s"
    )


@app.command("abstract")
def abstract_command(
    spec: Path = typer.Argument(..., metavar="SPEC", help="abstract.yaml: prose, claims, hypothetical numbers."),
    run_dirs: Optional[list[Path]] = typer.Argument(
        None, metavar="RUN_DIR", help="Run directories to measure the claims from (after --results)."
    ),
    results: bool = typer.Option(
        False, "--results", help="Measure claims from the RUN_DIRs that follow (--results RUN_DIR…)."
    ),
    out: Path = typer.Option(..., "-o", "--out", help="The Markdown draft to write."),
    template: Optional[Path] = typer.Option(
        None, "--template", help="A Jinja2 template to use instead of templates/abstract.md.j2."
    ),
) -> None:
    """Render a hypothetical-abstract draft (Markdown); measured numbers replace guesses with --results."""
    from reportgen.abstract.render import AbstractError, build_context, load_abstract_spec, render_abstract
    from reportgen.numbers.claims import ClaimError
    from reportgen.rundir.atomic import write_text_atomic

    if results and not run_dirs:
        raise UserError("--results needs at least one RUN_DIR")
    check_outputs(files=[out])
    runs = _runs(run_dirs or [])
    try:
        abstract_spec = load_abstract_spec(spec)
        text = render_abstract(build_context(abstract_spec, runs or None, str(spec)), template)
    except (SpecError, ClaimError, AbstractError) as exc:
        raise UserError(str(exc)) from None
    write_text_atomic(out, text)
    measured = "measured numbers" if runs else "hypothetical numbers only"
    typer.echo(f"wrote {out} ({measured})")
