"""`reportgen run <runner>`: the runners' commands (steering, truncation, bias)."""

from __future__ import annotations

from pathlib import Path

import typer

from reportgen.cli.entry import app
from reportgen.cli.outputs import check_outputs

run_app = typer.Typer(help="Run an experiment and write a tidy-results run directory.", no_args_is_help=True)
app.add_typer(run_app, name="run")

MODEL_HELP = "organism, smollm2, a .gguf file, a local folder or a hub id (overrides the config)."


def _run(name: str, out: Path, model: str | None, config: Path | None, overwrite: bool) -> None:
    """Load the runner's config (overrides from the command line), run it, print its headline lines."""
    from experiments.core.config import load_config
    from experiments.registry import get
    from reportgen.cli.entry import UserError

    runner = get(name)
    check_outputs(dirs=[out])
    try:
        cfg = load_config(config, runner.config_type, overrides={"model": model})
        df = runner.run(cfg, None, out, overwrite=overwrite)
    except runner.user_errors as exc:
        raise UserError(str(exc)) from None
    for line in runner.summary_lines(df):
        typer.echo(line)
    typer.echo(f"wrote {out}")


@run_app.command("truncation")
def truncation(
    out: Path = typer.Option(..., "--out", "-o", help="Run directory; an unfinished run of the same config resumes."),
    model: str | None = typer.Option(None, "--model", help=MODEL_HELP),
    config: Path | None = typer.Option(None, "--config", help="YAML config (keys: experiments/truncation/config.py)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard a run already in the directory."),
) -> None:
    """Is the chain of thought used? Early answering (forced vs continued) and adding mistakes."""
    _run("truncation", out, model, config, overwrite)


@run_app.command("bias")
def bias(
    out: Path = typer.Option(..., "--out", "-o", help="Run directory; an unfinished run of the same config resumes."),
    model: str | None = typer.Option(None, "--model", help=MODEL_HELP),
    config: Path | None = typer.Option(None, "--config", help="YAML config (keys: experiments/bias/config.py; "
                                       "cue templates: experiments/bias/cues.yaml)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard a run already in the directory."),
) -> None:
    """Cue switch rates and attribute counterfactuals, and whether the reasoning admits them."""
    _run("bias", out, model, config, overwrite)


@run_app.command("steering")
def steering(
    out: Path = typer.Option(..., "--out", "-o", help="Run directory; an unfinished run of the same config resumes."),
    model: str | None = typer.Option(None, "--model", help=MODEL_HELP),
    config: Path | None = typer.Option(None, "--config", help="YAML config (keys: experiments/steering/config.py)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard a run already in the directory."),
) -> None:
    """The refusal direction: find it, ablate it (vs a random direction), add it, sweep layer windows."""
    _run("steering", out, model, config, overwrite)
