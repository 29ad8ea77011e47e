"""`reportgen deck` and `reportgen abstract`: the weekly deck and the abstract draft.

Composition only: load and validate inputs, call the pure builders, then the
renderers. Every input problem becomes a :class:`~reportgen.cli.entry.UserError` naming the
file and field (exit code 2, no traceback).
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from reportgen.cli.entry import UserError, app
from reportgen.cli.outputs import check_outputs
from reportgen.rundir.atomic import write_text_atomic


@app.command("deck")
def deck_command(
    run_dirs: list[Path] = typer.Argument(..., metavar="RUN_DIR", help="Run directories (tidy results)."),
    out: Path = typer.Option(..., "-o", "--out", help="The deck to write (.pptx)."),
    spec: Path | None = typer.Option(None, "--spec", help="deck.yaml: project, order, takeaways, next steps."),
    recap: Path | None = typer.Option(None, "--recap", help="Last week's takeaways.yaml (recap slide)."),
    glossary: Path | None = typer.Option(
        None, "--glossary", help="glossary.yaml (term: definition); only terms used in the deck are shown."
    ),
    takeaways_out: Path | None = typer.Option(
        None, "--takeaways-out",
        help="Where to write this deck's takeaways (next week's --recap); default: takeaways.yaml next to the deck.",
    ),
) -> None:
    """Build the weekly 16:9 deck: title, recap, glossary, chart + prompt per result, next steps, backup."""
    from reportgen import report as rp
    from reportgen.inputs.deck_yaml import load_deck_spec
    from reportgen.inputs.recap import load_glossary, load_takeaways

    if out.suffix.lower() != ".pptx":
        raise UserError(f"{out}: the deck must be a .pptx file")
    takeaways_path = takeaways_out or out.parent / "takeaways.yaml"
    check_outputs(files=[out, takeaways_path])
    t0 = time.perf_counter()
    try:
        report = rp.Report(rp.load_runs(run_dirs))
        deck_spec = load_deck_spec(spec) if spec else None
        last_week = load_takeaways(recap) if recap else None
        terms = load_glossary(glossary) if glossary else None
        if not rp.build_charts(report, deck_spec, spec):
            raise UserError("nothing to show: every experiment is skipped (check 'skip'/'only_listed' in the spec)")
        slides = rp.build_deck(report, deck_spec, last_week, terms)
    except rp.REPORT_ERRORS as exc:
        raise UserError(str(exc)) from None
    rp.render_deck_with_charts(report, out)
    rp.write_takeaways(report, takeaways_path)
    typer.echo(
        f"wrote {out} ({len(slides.slides)} slides, {len(report.charts)} charts) and {takeaways_path} "
        f"in {time.perf_counter() - t0:.1f} s"
    )


@app.command("abstract")
def abstract_command(
    spec: Path = typer.Argument(..., metavar="SPEC", help="abstract.yaml: prose, claims, hypothetical numbers."),
    run_dirs: list[Path] | None = typer.Argument(
        None, metavar="RUN_DIR", help="Run directories to measure the claims from (after --results)."
    ),
    results: bool = typer.Option(
        False, "--results", help="Measure claims from the RUN_DIRs that follow (--results RUN_DIR…)."
    ),
    out: Path = typer.Option(..., "-o", "--out", help="The Markdown draft to write."),
    template: Path | None = typer.Option(
        None, "--template", help="A Jinja2 template to use instead of templates/abstract.md.j2."
    ),
) -> None:
    """Render a hypothetical-abstract draft (Markdown); measured numbers replace guesses with --results."""
    from reportgen import report as rp
    from reportgen.abstract.render import load_abstract_spec

    if results and not run_dirs:
        raise UserError("--results needs at least one RUN_DIR")
    check_outputs(files=[out])
    try:
        report = rp.Report(rp.load_runs(run_dirs or []))
        text = rp.build_abstract(report, out.name, load_abstract_spec(spec), spec, template=template)
    except rp.REPORT_ERRORS as exc:
        raise UserError(str(exc)) from None
    write_text_atomic(out, text)
    measured = "measured numbers" if report.runs else "hypothetical numbers only"
    typer.echo(f"wrote {out} ({measured})")
