"""`reportgen validate` and `reportgen chart`: check run directories, draw their charts.

Composition only: :mod:`reportgen.rundir.schema` validates, :mod:`reportgen.chart.spec`
decides, :mod:`reportgen.chart.render` draws. ``validate`` checks *every* directory and lists
*every* problem before exiting with code 2, so one run fixes them all.
"""

from __future__ import annotations

import time
from pathlib import Path

import typer

from reportgen.cli.entry import UserError, app
from reportgen.cli.outputs import check_outputs
from reportgen.inputs.deck_yaml import SpecError
from reportgen.rundir.reader import Run, load_run
from reportgen.rundir.schema import PROMPTS_JSONL, ResultsError, shown_problems


def _consistency_warnings(run: Run) -> list[str]:
    """Cross-file slips that do not invalidate the numbers but will surprise on a slide."""
    warnings: list[str] = []
    df = run.results
    # Prompts of a condition without rows are normal (e.g. the full-reasoning generation a
    # truncation run caches); prompts of an experiment without rows are usually a typo.
    experiments = set(df["experiment"].astype(str))
    orphans = sorted({p.experiment for p in run.prompts} - experiments)
    for exp in orphans:
        warnings.append(f"prompts.jsonl: experiment '{exp}' has no rows in the results")
    if run.info is not None and "run_id" in df.columns:
        ids = set(df["run_id"].dropna().astype(str))
        if ids and run.info.run_id not in ids:
            warnings.append(f"run.json: run_id '{run.info.run_id}' differs from the results' run_id {sorted(ids)}")
    if run.info is None:
        warnings.append("run.json missing: the deck will have no provenance for this run")
    if not run.prompts and (run.path / PROMPTS_JSONL).exists():
        warnings.append(f"{PROMPTS_JSONL} is empty: no slide can show what the model was asked")
    return warnings


@app.command("validate")
def validate_command(
    run_dirs: list[Path] = typer.Argument(..., metavar="RUN_DIR", help="Run directories to check."),
) -> None:
    """Check run directories against the tidy-results schema; list every problem (exit 2 if any)."""
    bad = 0
    for d in run_dirs:
        try:
            run = load_run(d)
        except ResultsError as exc:
            bad += 1
            typer.secho(f"FAIL {d} ({len(exc.problems)} problem{'s' if len(exc.problems) != 1 else ''})",
                        fg=typer.colors.RED, err=True)
            for line in shown_problems(exc.problems):
                typer.echo(f"  {line}", err=True)
            continue
        df = run.results
        kind = "aggregated k/n" if "k" in df.columns and "n" in df.columns else "per-item"
        typer.secho(
            f"OK   {d}: {len(df)} {kind} rows, {df['experiment'].nunique()} experiment(s), "
            f"{len(run.prompts)} prompt(s), run {run.run_id}",
            fg=typer.colors.GREEN,
        )
        for w in _consistency_warnings(run):
            typer.secho(f"  warning: {w}", fg=typer.colors.YELLOW, err=True)
    if bad:
        typer.secho(f"error: {bad} of {len(run_dirs)} run director{'ies' if len(run_dirs) != 1 else 'y'} invalid",
                    fg=typer.colors.RED, err=True)
        raise typer.Exit(2)


@app.command("chart")
def chart_command(
    run_dirs: list[Path] = typer.Argument(..., metavar="RUN_DIR", help="Run directories (tidy results)."),
    out: Path = typer.Option(..., "-o", "--out", help="Directory for the PNGs (created)."),
    spec: Path | None = typer.Option(None, "--spec", help="deck.yaml: categories, takeaways, callouts."),
    backup: bool = typer.Option(True, "--backup/--no-backup", help="Also draw the breakdown (backup) charts."),
    text: bool = typer.Option(
        True, "--text/--bare", help="Draw the takeaway title and footnote into the PNG (--bare: chart only, as on a slide)."
    ),
) -> None:
    """Draw each experiment's annotated chart (and backups) as PNGs sized for a 16:9 slide."""
    from reportgen.chart.render import render_charts
    from reportgen.chart.spec import build_chart_specs
    from reportgen.inputs.deck_yaml import load_deck_spec

    check_outputs(dirs=[out])
    t0 = time.perf_counter()
    problems: list[str] = []
    runs: list[Run] = []
    for d in run_dirs:
        try:
            runs.append(load_run(d))
        except ResultsError as exc:
            problems.extend(str(p) for p in exc.problems)
    if problems:
        raise UserError("\n".join(problems))
    try:
        deck_spec = load_deck_spec(spec) if spec else None
        charts = build_chart_specs(runs, deck_spec)
    except SpecError as exc:
        raise UserError("\n".join(f"{spec}: {p}" if spec and not p.startswith(str(spec)) else p
                                  for p in exc.problems)) from None
    if not backup:
        charts = [c for c in charts if not c.backup]
    if not charts:
        raise UserError("nothing to draw: every experiment is skipped (check 'skip'/'only_listed' in the spec)")
    paths = render_charts(charts, out, with_text=text)
    for c, p in zip(charts, paths):
        typer.echo(f"{'backup' if c.backup else 'main  '} {p}  {c.title}")
    typer.echo(f"wrote {len(paths)} chart(s) to {out} in {time.perf_counter() - t0:.1f} s")
