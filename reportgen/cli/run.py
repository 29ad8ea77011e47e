"""`reportgen run <runner>`: the runners' commands (steering, truncation, bias)."""

from __future__ import annotations

from pathlib import Path

import typer

from reportgen.cli.entry import app
from reportgen.cli.outputs import check_outputs

run_app = typer.Typer(help="Run an experiment and write a tidy-results run directory.", no_args_is_help=True)
app.add_typer(run_app, name="run")


@run_app.command("truncation")
def truncation(
    out: Path = typer.Option(..., "--out", "-o", help="Run directory; an unfinished run of the same config resumes."),
    model: str | None = typer.Option(None, "--model", help="organism, a local folder or a hub id (overrides the config)."),
    config: Path | None = typer.Option(None, "--config", help="YAML config (keys: experiments/truncation/config.py)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard a run already in the directory."),
) -> None:
    """Is the chain of thought used? Early answering (forced vs continued) and adding mistakes."""
    from reportgen.rundir.errors import UserError as ExperimentError  # RunDirError is the seam's
    from experiments.truncation.runner import run_truncation
    from experiments.truncation.summary import summary_lines
    from reportgen.cli.entry import UserError

    check_outputs(dirs=[out])
    try:
        df = run_truncation(config, out, overrides={"model": model}, overwrite=overwrite)
    except ExperimentError as exc:
        raise UserError(str(exc)) from None
    for line in summary_lines(df):
        typer.echo(line)
    typer.echo(f"wrote {out}")


@run_app.command("bias")
def bias(
    out: Path = typer.Option(..., "--out", "-o", help="Run directory; an unfinished run of the same config resumes."),
    model: str | None = typer.Option(None, "--model", help="organism, a local folder or a hub id (overrides the config)."),
    config: Path | None = typer.Option(None, "--config", help="YAML config (keys: experiments/bias/config.py; "
                                       "cue templates: experiments/bias/cues.yaml)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard a run already in the directory."),
) -> None:
    """Cue switch rates and attribute counterfactuals, and whether the reasoning admits them."""
    from experiments.bias.config import BiasConfig
    from experiments.bias.runner import run_bias
    from experiments.bias.summary import summary_lines as bias_summary
    from experiments.core.config import load_config
    from reportgen.rundir.errors import UserError as ExperimentError  # RunDirError is the seam's
    from reportgen.cli.entry import UserError

    check_outputs(dirs=[out])
    try:
        cfg = load_config(config, BiasConfig, overrides={"model": model})
        df = run_bias(cfg, out, overwrite=overwrite)
    except ExperimentError as exc:
        raise UserError(str(exc)) from None
    for line in bias_summary(df):
        typer.echo(line)
    typer.echo(f"wrote {out}")


@run_app.command("steering")
def steering(
    out: Path = typer.Option(..., "--out", "-o", help="Run directory; an unfinished run of the same config resumes."),
    model: str | None = typer.Option(None, "--model", help="organism, a local folder or a hub id (overrides the config)."),
    config: Path | None = typer.Option(None, "--config", help="YAML config (keys: experiments/steering/config.py)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard a run already in the directory."),
) -> None:
    """The refusal direction: find it, ablate it (vs a random direction), add it, sweep layer windows."""
    from reportgen.rundir.errors import UserError as ExperimentError  # RunDirError is the seam's
    from experiments.steering.runner import run_steering
    from experiments.steering.summary import summary_lines as steering_summary
    from reportgen.cli.entry import UserError

    check_outputs(dirs=[out])
    try:
        df = run_steering(config, out, overrides={"model": model}, overwrite=overwrite)
    except ExperimentError as exc:
        raise UserError(str(exc)) from None
    for line in steering_summary(df):
        typer.echo(line)
    typer.echo(f"wrote {out}")
