"""`reportgen run formats RUNNER`: one config run under chat and completion prompts, side by side.

The config is the runner's own, with ``prompt_format: [chat, completion]``; each format runs
as an ordinary run and the combined run directory carries a ``prompt_format`` column (see
:mod:`experiments.core.formats`).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import typer

from reportgen.cli.run import MODEL_HELP, run_app


class Runner(str, Enum):
    steering = "steering"
    truncation = "truncation"
    bias = "bias"


@run_app.command("formats")
def formats(
    runner: Runner = typer.Argument(..., help="The runner whose config to run under each prompt format."),
    out: Path = typer.Option(..., "--out", "-o", help="Combined run directory; an unfinished run resumes."),
    config: Path | None = typer.Option(None, "--config", help="The runner's YAML config; "
                                       "prompt_format: [chat, completion] (the default when absent)."),
    model: str | None = typer.Option(None, "--model", help=MODEL_HELP),
    overwrite: bool = typer.Option(False, "--overwrite", help="Discard a run already in the directory."),
) -> None:
    """The same experiment under chat-template and raw-completion prompts, rows tagged prompt_format."""
    from experiments.core.formats import format_configs, read_config_data, run_formats
    from experiments.registry import get
    from reportgen.cli.entry import UserError

    entry = get(runner.value)
    try:
        data, source = read_config_data(config)
        configs = format_configs(data, entry.config_type, source, overrides={"model": model})
        df = run_formats(configs, lambda cfg, sub: entry.run(cfg, None, sub), out, task=runner.value,
                         overwrite=overwrite)
    except entry.user_errors as exc:
        raise UserError(str(exc)) from None
    counts = df.groupby("prompt_format").size()
    for fmt, n in counts.items():
        typer.echo(f"{fmt}: {n} rows")
    typer.echo(f"wrote {out}")
