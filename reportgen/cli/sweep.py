"""`reportgen sweep`: a grid of models × runners × config overrides, locally or on Ray.

The sweep file expands into a weekly config (:func:`reportgen.inputs.sweep_yaml.expand`) and the
weekly composition runs it (:func:`reportgen.cli.weekly.run_week`), so a sweep skips, resumes,
fails and reports exactly as ``reportgen weekly`` does; only the executor differs.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import typer

from reportgen.cli.entry import UserError, app
from reportgen.inputs.deck_yaml import SpecError
from reportgen.inputs.sweep_yaml import MODELS_DIR, SweepConfig
from reportgen.weekly.job import resolved


def prepare_models(cfg: SweepConfig, base: Path, runs_dir: Path) -> None:
    """Build the noisy copies once, on the driver, before any task needs them (shared filesystem).

    Here, not in :mod:`reportgen.inputs.sweep_yaml`: building a model is the runners' work, and
    only the CLI may import ``experiments``."""
    from experiments.organism import resolve as resolve_model
    from experiments.organism.variant import make_variant

    for m in cfg.models:
        if m.base:
            source = resolve_model(m.base)
            local = Path(source) if Path(source).is_absolute() else resolved(base, Path(source))
            if not local.is_dir():
                raise SpecError([f"models: '{m.name}': base '{m.base}' is not a local model folder"])
            make_variant(runs_dir / MODELS_DIR / m.name, noise=m.noise, seed=m.seed, base=local)


@app.command("sweep")
def sweep_command(
    sweep_file: Path = typer.Argument(..., metavar="SWEEP_YAML", help="The grid: models × runners × overrides."),
    executor: str | None = typer.Option(None, "--executor", help="local | ray (default: executor in the file)."),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address (default: RAY_ADDRESS, "
                                          "else a local Ray)."),
    runs_dir: Path | None = typer.Option(None, "--runs-dir", help="Where run directories go (shared by all nodes)."),
    reports_dir: Path | None = typer.Option(None, "--reports-dir", help="Where reports/<date>/ goes."),
    date: str | None = typer.Option(None, "--date", help="Report date YYYY-MM-DD (default: today)."),
) -> None:
    """Run every experiment of the sweep (each in its own run directory) and write one report over them."""
    from reportgen.cli.weekly import run_week
    from reportgen.inputs.sweep_yaml import expand, load_sweep_config

    t0 = time.perf_counter()
    if executor not in (None, "local", "ray"):
        raise UserError(f"--executor: expected local or ray, got {executor!r}")
    try:
        today = dt.date.fromisoformat(date) if date else dt.date.today()
    except ValueError:
        raise UserError(f"--date: expected YYYY-MM-DD, got {date!r}") from None
    try:
        cfg, base = load_sweep_config(sweep_file)
        runs_root = (runs_dir or resolved(base, cfg.runs_dir)).resolve()
        weekly = expand(cfg, base, runs_root)
        prepare_models(cfg, base, runs_root)
    except (SpecError, ValueError, OSError) as exc:
        raise UserError(str(exc)) from None
    weekly = weekly.model_copy(update={"executor": executor or cfg.executor, "address": address or cfg.address})
    reports_root = reports_dir or resolved(base, cfg.reports_dir)
    run_week(weekly, base, sweep_file, runs_root, reports_root, today, t0,
             num_gpus=cfg.num_gpus, max_retries=cfg.max_retries)
