"""The weekly pipeline: run the week's experiments, then write the report.

``reportgen weekly`` = :func:`run_experiments` then :func:`write_report`. The runners
are *injected* (a :class:`Runner` per name, built by the CLI, the one module allowed
to import ``experiments/``), so this module stays on the reporter's side of the seam.

Robustness rules, because a researcher runs this on Friday evening and reads it on
Monday morning:

- an experiment whose config and code are unchanged and whose results are complete is
  skipped; an interrupted one resumes (the runners write batch by batch); a changed
  one reruns from scratch. A stamp (``weekly.json`` in the run directory) records
  which config and code fingerprint the directory holds;
- a broken experiment (bad config, a crash) fails alone with its message; the report
  is still written from the rest and says what is missing;
- the report goes to ``reports/<YYYY-MM-DD>/``: ``deck.pptx``, ``abstract.md``,
  ``charts/``, ``summary.md`` and ``takeaways.yaml`` (next week's recap).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from reportgen.inputs.weekly_yaml import WeeklyConfig, WeeklyExperiment, resolve
from reportgen.rundir.atomic import write_text_atomic
from reportgen.rundir.reader import Run, load_run
from reportgen.rundir.schema import RUN_JSON, ResultsError

STAMP = "weekly.json"
_DATE_DIR = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class ExperimentFailed(Exception):
    """An experiment could not run; the message says why (shown in the report)."""


@dataclass(frozen=True)
class Runner:
    """How the pipeline runs one kind of experiment.

    ``load_config`` validates a config (a YAML path, an inline mapping or None for the
    defaults, plus overrides such as the model) and raises with a message naming the
    file and field; ``run`` writes the run directory (``overwrite`` discards an older
    run there); ``fingerprint`` hashes the code and model files the results depend on;
    ``user_errors`` are the runner's "your input is wrong" exceptions (reported without
    a code location). Built from :mod:`experiments.registry` by the CLI.
    """

    name: str
    load_config: Callable[[Path | dict[str, Any] | None, dict[str, Any]], BaseModel]
    run: Callable[[BaseModel, Path, bool], Any]
    fingerprint: Callable[[BaseModel], str]
    user_errors: tuple[type[Exception], ...] = ()


Status = Literal["ran", "resumed", "skipped", "failed"]


@dataclass
class ExperimentOutcome:
    name: str
    runner: str
    run_dir: Path
    status: Status
    seconds: float = 0.0
    error: str | None = None


@dataclass
class ReportOutcome:
    out_dir: Path
    files: dict[str, Path] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    lint: list[Any] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)


Log = Callable[[str], None]


# ------------------------------------------------------------------ experiments stage

def resolved(base: Path, p: Path) -> Path:
    """:func:`~reportgen.inputs.weekly_yaml.resolve` for a path that is set (None only passes through)."""
    found = resolve(base, p)
    assert found is not None
    return found


def _fingerprint(runner: Runner, config: BaseModel) -> str:
    blob = json.dumps(
        {"runner": runner.name, "config": config.model_dump(mode="json"), "code": runner.fingerprint(config)},
        sort_keys=True, default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def _complete(run_dir: Path) -> bool:
    info = _read_json(run_dir / RUN_JSON)
    return bool(info and info.get("finished_at")) and any(
        (run_dir / n).exists() for n in ("results.parquet", "results.csv")
    )


def _write_stamp(run_dir: Path, fingerprint: str, state: str) -> None:
    run_dir.mkdir(parents=True, exist_ok=True)
    write_text_atomic(run_dir / STAMP, json.dumps({"fingerprint": fingerprint, "state": state}) + "\n")


def record_labels(run_dir: Path, exp: WeeklyExperiment) -> None:
    """Write the experiment's display facts into run.json (``model_label``, ``grid_point``).

    The reporter reads only the run directory, so how a slide names the model (a sweep's
    noisy copy lives in an absolute folder) and which grid point the run stands for must
    travel there. Done on every run and skip: the weekly file is their source, and
    relabelling a model must not rerun it.
    """
    path = run_dir / RUN_JSON
    info = _read_json(path)
    if info is None:
        return
    wanted = {"model_label": exp.model_label, "grid_point": exp.grid_point}
    updated = {k: v for k, v in info.items() if k not in wanted}
    updated.update({k: v for k, v in wanted.items() if v is not None})
    if updated != info:
        write_text_atomic(path, json.dumps(updated, indent=2, sort_keys=True, default=str) + "\n")


def run_one(exp: WeeklyExperiment, base: Path, runs_dir: Path, registry: dict[str, Runner]) -> ExperimentOutcome:
    """Run, resume or skip one experiment; never raises for the experiment's own errors."""
    run_dir = runs_dir / exp.name
    t0 = time.perf_counter()
    runner = registry.get(exp.runner)
    try:
        if runner is None:
            raise ExperimentFailed(f"unknown runner '{exp.runner}' (known: {', '.join(sorted(registry))})")
        source = resolve(base, exp.config) if isinstance(exp.config, Path) else exp.config
        config = runner.load_config(source, {"model": exp.model} if exp.model else {})
        fp = _fingerprint(runner, config)
        stamp = _read_json(run_dir / STAMP)
        if stamp and stamp.get("fingerprint") == fp and stamp.get("state") == "done" and _complete(run_dir):
            record_labels(run_dir, exp)
            return ExperimentOutcome(exp.name, exp.runner, run_dir, "skipped", time.perf_counter() - t0)
        # A stamp with another fingerprint means the config or code changed: start over.
        # No stamp but files present: someone else's run; resume it, never delete it.
        overwrite = stamp is not None and stamp.get("fingerprint") != fp
        resumed = not overwrite and (run_dir / RUN_JSON).exists()
        _write_stamp(run_dir, fp, "running")
        runner.run(config, run_dir, overwrite)
        _write_stamp(run_dir, fp, "done")
        record_labels(run_dir, exp)
        status: Status = "resumed" if resumed else "ran"
        return ExperimentOutcome(exp.name, exp.runner, run_dir, status, time.perf_counter() - t0)
    except KeyboardInterrupt:
        raise
    except Exception as exc:  # one experiment's failure must not sink the report
        message = _one_line(exc)
        expected = (ExperimentFailed, ValueError, OSError, ResultsError, ValidationError, *(runner.user_errors if runner else ()))
        if not isinstance(exc, expected):
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            message = f"{type(exc).__name__}: {message} (at {Path(frame.filename).name}:{frame.lineno})"
        return ExperimentOutcome(exp.name, exp.runner, run_dir, "failed", time.perf_counter() - t0, message)


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"field '{'.'.join(str(p) for p in e['loc']) or '(top level)'}': "
            + ("unknown key" if e["type"] == "extra_forbidden" else e["msg"])
            for e in exc.errors()
        )
    return " ".join(str(exc).split()) or type(exc).__name__


def run_experiments(cfg: WeeklyConfig, base: Path, runs_dir: Path, registry: dict[str, Runner],
                    log: Log = print) -> list[ExperimentOutcome]:
    outcomes = []
    total = len(cfg.experiments)
    for i, exp in enumerate(cfg.experiments, start=1):
        log(f"[{i}/{total}] {exp.name} ({exp.runner}) …")
        outcome = run_one(exp, base, runs_dir, registry)
        detail = f": {outcome.error}" if outcome.error else ""
        log(f"[{i}/{total}] {exp.name}: {outcome.status} in {outcome.seconds:.1f} s{detail}")
        outcomes.append(outcome)
    return outcomes


# ------------------------------------------------------------------ report stage

def check_report_inputs(cfg: WeeklyConfig, base: Path) -> None:
    """Load every spec the report will need, before any experiment runs.

    A typo in ``deck.yaml`` or an abstract found after an hour of experiments costs the
    hour; raised here it costs nothing (:class:`reportgen.inputs.deck_yaml.SpecError`, naming the file).
    """
    from reportgen.abstract.render import load_abstract_spec
    from reportgen.inputs.deck_yaml import load_deck_spec
    from reportgen.inputs.recap import load_glossary, load_takeaways

    if isinstance(cfg.deck, Path):
        load_deck_spec(resolved(base, cfg.deck))
    if cfg.glossary:
        load_glossary(resolved(base, cfg.glossary))
    if cfg.recap and cfg.recap != "auto":
        load_takeaways(resolved(base, Path(cfg.recap)))
    for path in cfg.abstracts:
        load_abstract_spec(resolved(base, path))


def previous_takeaways(reports_dir: Path, today: dt.date) -> Path | None:
    """The most recent earlier report's ``takeaways.yaml`` (the automatic recap)."""
    if not reports_dir.is_dir():
        return None
    earlier = sorted(
        (d for d in reports_dir.iterdir()
         if d.is_dir() and _DATE_DIR.match(d.name) and d.name < today.isoformat() and (d / "takeaways.yaml").is_file()),
        key=lambda d: d.name,
    )
    return earlier[-1] / "takeaways.yaml" if earlier else None


def load_runs(outcomes: Sequence[ExperimentOutcome], missing: list[str]) -> list[Run]:
    runs = []
    for o in outcomes:
        if o.status == "failed":
            missing.append(f"{o.name} ({o.runner}) failed: {o.error}")
            continue
        try:
            runs.append(load_run(o.run_dir))
        except ResultsError as exc:
            missing.append(f"{o.name} ({o.runner}): its results are invalid: {exc}")
    return runs


def write_report(
    cfg: WeeklyConfig,
    base: Path,
    runs: Sequence[Run],
    out_dir: Path,
    *,
    missing: list[str],
    today: dt.date,
    reports_dir: Path,
    log: Log = print,
) -> ReportOutcome:
    """Charts, deck, takeaways, abstracts, summary and lint for the runs that exist (see :mod:`reportgen.report`)."""
    from reportgen import report as rp
    from reportgen.abstract.render import load_abstract_spec
    from reportgen.inputs.deck_yaml import DeckSpec, load_deck_spec
    from reportgen.inputs.recap import load_glossary, load_takeaways

    result = ReportOutcome(out_dir=out_dir, missing=missing)
    out_dir.mkdir(parents=True, exist_ok=True)

    if isinstance(cfg.deck, Path):
        deck_spec = load_deck_spec(resolved(base, cfg.deck))
    else:
        deck_spec = cfg.deck or DeckSpec(project=cfg.project)
    updates = {k: v for k, v in (("project", cfg.project), ("author", cfg.author)) if v and not getattr(deck_spec, k, None)}
    if "project" in deck_spec.model_fields_set:
        updates.pop("project", None)
    deck_spec = deck_spec.model_copy(update=updates)
    glossary = load_glossary(resolved(base, cfg.glossary)) if cfg.glossary else None
    if cfg.recap == "auto":
        recap_path = previous_takeaways(reports_dir, today)
    else:
        recap_path = resolved(base, Path(cfg.recap)) if cfg.recap else None
    recap = load_takeaways(recap_path) if recap_path else None
    if recap_path:
        log(f"recap: {recap_path}")

    report = rp.Report(list(runs))
    rp.build_charts(report, deck_spec, resolved(base, cfg.deck) if isinstance(cfg.deck, Path) else None)
    chart_dir = out_dir / "charts"
    rp.render_charts(report, chart_dir)
    rp.build_deck(report, deck_spec, recap, glossary, today, missing)
    result.files["deck"] = rp.render_deck(report, out_dir / "deck.pptx")
    result.files["takeaways"] = rp.write_takeaways(report, out_dir / "takeaways.yaml")

    abstract_files = []
    for spec_path in cfg.abstracts:
        path = resolved(base, spec_path)
        name = "abstract.md" if len(cfg.abstracts) == 1 else f"abstract-{path.stem}.md"
        text = rp.build_abstract(report, name, load_abstract_spec(path), path, today=today, missing=missing)
        write_text_atomic(out_dir / name, text)
        abstract_files.append(out_dir / name)
    for i, p in enumerate(abstract_files):
        result.files[f"abstract{'' if i == 0 else i + 1}"] = p
    result.lint = list(rp.lint_report(report, glossary))
    result.timings = report.timings

    result.files["summary"] = rp.write_summary(report, out_dir / "summary.md", missing=missing,
                                               abstract_files=[p.name for p in abstract_files])
    result.files["charts"] = chart_dir
    return result
