"""`reportgen import <source>`: turn results produced by other tools into a tidy run directory."""

from __future__ import annotations

from pathlib import Path

import typer

from reportgen.cli.entry import app

import_app = typer.Typer(help="Import results produced by other tools as a tidy run directory.", no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("inspect")
def inspect_log(
    log: Path = typer.Argument(..., metavar="LOG", help="An inspect_ai eval log (.eval or .json)."),
    out: Path = typer.Option(..., "--out", "-o", help="Run directory to write."),
    condition: str = typer.Option("baseline", "--condition", help="The condition column of every row."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard a run already in the directory."),
) -> None:
    """Samples -> rows, scores -> metrics, model/task -> columns, messages -> prompts.jsonl."""
    from experiments.importers.inspect_log import import_inspect_log
    from reportgen.cli.entry import UserError
    from reportgen.rundir.errors import UserError as ExperimentError  # RunDirError is the seam's

    try:
        result = import_inspect_log(log, out, condition=condition, overwrite=overwrite)
    except ExperimentError as exc:
        raise UserError(str(exc)) from None
    for name, kind in result.metrics.items():
        typer.echo(f"metric {name}: {kind}, {int((result.table['metric'] == name).sum())} rows")
    for reason in result.skipped:
        typer.echo(f"skipped {reason}")
    if result.status not in (None, "success"):
        typer.echo(f"note: the eval's status is '{result.status}': only the samples it logged were imported")
    typer.echo(f"wrote {out}")
