"""`reportgen run <runner>`: the runners' commands (steering, truncation, bias)."""

from __future__ import annotations

import typer

from reportgen.cli import app

run_app = typer.Typer(help="Run an experiment and write a tidy-results run directory.", no_args_is_help=True)
app.add_typer(run_app, name="run")
