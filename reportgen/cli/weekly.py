"""`reportgen weekly` and `reportgen lint`: the whole Friday job, and the slide-practice checks.

This module composes both halves: it builds the runner registry from ``experiments/``
and hands it to :mod:`reportgen.weekly.job`, which knows nothing about the runners.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib
import time
from pathlib import Path
from typing import Any, Optional

import typer
from pydantic import BaseModel

from reportgen.cli.entry import UserError, app
from reportgen.inputs.deck_yaml import SpecError
from reportgen.inputs.weekly_yaml import WeeklyConfig

#: runner name → (config class, run function), as "module:attribute".
RUNNERS = {
    "steering": ("experiments.steering.config:SteeringConfig", "experiments.steering.runner:run_steering"),
    "truncation": ("experiments.truncation.config:TruncationConfig", "experiments.truncation.runner:run_truncation"),
    "bias": ("experiments.bias.config:BiasConfig", "experiments.bias.runner:run_bias"),
}
DEFAULT_WEEKLY = Path("examples/weekly/weekly.yaml")


def _attr(ref: str) -> Any:
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


def _hash_files(h: Any, root: Path, patterns: tuple[str, ...]) -> None:
    for pattern in patterns:
        for path in sorted(root.rglob(pattern)):
            if "__pycache__" in path.parts or not path.is_file():
                continue
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())


def code_fingerprint(runner: str, config: BaseModel) -> str:
    """Hash of the code a run depends on (core + runner package) and, for a local model, its files."""
    import experiments

    root = Path(experiments.__file__).parent
    h = hashlib.sha256()
    for package in ("core", runner):
        _hash_files(h, root / package, ("*.py", "*.yaml", "*.jsonl", "*.json"))
    model = getattr(config, "model", None)
    if model:
        from experiments.organism import resolve

        local = Path(resolve(model))
        if local.is_dir():
            _hash_files(h, local, ("*.json", "*.safetensors", "*.txt", "*.jinja"))
    return h.hexdigest()[:16]


def _shown(path: Path) -> str:
    """A path as the user would type it: relative to the working directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def build_registry(weekly_file: Path) -> dict[str, Any]:
    from experiments.core.config import load_config, validate_config
    from reportgen.weekly.job import Runner

    registry = {}
    for name, (config_ref, run_ref) in RUNNERS.items():
        def load(source: Path | dict[str, Any] | None, overrides: dict[str, Any], _name=name, _ref=config_ref) -> BaseModel:
            cls = _attr(_ref)
            if isinstance(source, dict):
                where = f"{weekly_file}: the inline {_name} config"
                return validate_config({**source, **overrides}, cls, where)
            return load_config(source, cls, overrides)

        def run(config: BaseModel, out: Path, overwrite: bool, _ref=run_ref) -> Any:
            return _attr(_ref)(config, out, overwrite=overwrite)

        registry[name] = Runner(name, load, run, lambda cfg, _name=name: code_fingerprint(_name, cfg))
    return registry


@app.command("weekly")
def weekly_command(
    weekly_file: Path = typer.Argument(DEFAULT_WEEKLY, metavar="WEEKLY_YAML", help="The week's experiments and report."),
    runs_dir: Optional[Path] = typer.Option(None, "--runs-dir", help="Where run directories go (default: runs_dir in the file)."),
    reports_dir: Optional[Path] = typer.Option(None, "--reports-dir", help="Where reports/<date>/ goes (default: reports_dir in the file)."),
    date: Optional[str] = typer.Option(None, "--date", help="Report date YYYY-MM-DD (default: today)."),
) -> None:
    """Run the week's experiments (skipping unchanged ones, resuming interrupted ones) and write reports/<date>/."""
    from reportgen.inputs.weekly_yaml import load_weekly_config, resolve

    t0 = time.perf_counter()
    try:
        today = dt.date.fromisoformat(date) if date else dt.date.today()
    except ValueError:
        raise UserError(f"--date: expected YYYY-MM-DD, got {date!r}") from None
    try:
        cfg, base = load_weekly_config(weekly_file)
    except SpecError as exc:
        raise UserError(str(exc)) from None
    runs_root = runs_dir or resolve(base, cfg.runs_dir)
    reports_root = reports_dir or resolve(base, cfg.reports_dir)
    run_week(cfg, base, weekly_file, runs_root, reports_root, today, t0)


def run_week(cfg: WeeklyConfig, base: Path, weekly_file: Path, runs_root: Path, reports_root: Path,
             today: dt.date, t0: float, *, num_gpus: float | None = None, max_retries: int = 2) -> None:
    """Experiments on ``cfg.executor``, then the report; shared by ``weekly`` and ``sweep``."""
    from reportgen.cli.outputs import check_outputs
    from reportgen.weekly.executors import run_local, run_ray
    from reportgen.weekly.job import check_report_inputs, load_runs, write_report

    out_dir = reports_root / today.isoformat()
    # Everything that can be checked without running anything is, before anything runs.
    check_outputs(dirs=[runs_root, *(runs_root / e.name for e in cfg.experiments), out_dir, out_dir / "charts"])
    try:
        check_report_inputs(cfg, base)
    except SpecError as exc:
        raise UserError(str(exc)) from None
    log = typer.echo
    log(f"{weekly_file.name}: {len(cfg.experiments)} experiment(s) on {cfg.executor} → {_shown(out_dir)}")

    t_exp = time.perf_counter()
    if cfg.executor == "ray":
        outcomes = run_ray(cfg.experiments, base, runs_root, functools.partial(build_registry, weekly_file), log,
                           address=cfg.address, num_gpus=num_gpus, max_retries=max_retries)
    else:
        outcomes = run_local(cfg.experiments, base, runs_root, build_registry(weekly_file), log)
    t_exp = time.perf_counter() - t_exp
    missing: list[str] = []
    runs = load_runs(outcomes, missing)
    log("report: charts, deck, abstract, summary …")
    try:
        report = write_report(cfg, base, runs, out_dir, missing=missing, today=today, reports_dir=reports_root, log=log)
    except SpecError as exc:
        raise UserError(str(exc)) from None
    for finding in report.lint:
        log(f"lint: {finding}")
    for m in missing:
        typer.secho(f"missing: {m}", fg=typer.colors.YELLOW, err=True)
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ran", "resumed", "skipped", "failed")}
    stages = {"experiments": t_exp, **report.timings}
    files = ", ".join(_shown(p) for k, p in report.files.items() if k != "charts")
    log(
        f"done in {time.perf_counter() - t0:.1f} s — "
        + ", ".join(f"{n} {s}" for s, n in counts.items() if n)
        + f"; {len(report.lint)} lint finding(s)\n  files: {files}, {_shown(report.files['charts'])}/\n  time: "
        + ", ".join(f"{k} {v:.1f} s" for k, v in stages.items())
    )
    if counts["failed"]:
        raise typer.Exit(1)


@app.command("lint")
def lint_command(
    run_dirs: list[Path] = typer.Argument(..., metavar="RUN_DIR", help="Run directories (tidy results)."),
    spec: Optional[Path] = typer.Option(None, "--spec", help="deck.yaml, as for `reportgen deck`."),
    glossary: Optional[Path] = typer.Option(None, "--glossary", help="glossary.yaml; jargon must be defined there."),
    abstract: Optional[list[Path]] = typer.Option(None, "--abstract", help="Abstract spec(s) to check, measured from RUN_DIRs."),
) -> None:
    """Check the deck these runs make against the slide practices; exit 1 if anything is found."""
    from reportgen.abstract.render import build_context, load_abstract_spec, render_abstract
    from reportgen.chart.spec import build_chart_specs
    from reportgen.deck.build import build_deck
    from reportgen.inputs.deck_yaml import load_deck_spec
    from reportgen.inputs.recap import load_glossary
    from reportgen.numbers.claims import ClaimError
    from reportgen.rundir.schema import load_run
    from reportgen.weekly.lint import lint_abstract, lint_deck

    runs = [load_run(d) for d in run_dirs]
    try:
        deck_spec = load_deck_spec(spec) if spec else None
        terms = load_glossary(glossary) if glossary else None
        charts = build_chart_specs(runs, deck_spec)
        findings = lint_deck(build_deck(runs, charts, deck_spec, None, terms), charts, terms)
        for path in abstract or []:
            context = build_context(load_abstract_spec(path), runs, str(path))
            findings += lint_abstract(path.name, context, render_abstract(context))
    except (SpecError, ClaimError, ValueError) as exc:
        raise UserError(str(exc)) from None
    for f in findings:
        typer.echo(str(f))
    typer.echo(f"{len(findings)} finding(s)")
    if findings:
        raise typer.Exit(1)
