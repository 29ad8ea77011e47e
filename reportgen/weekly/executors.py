"""Where experiments run: in this process (``local``) or as Ray tasks (``ray``).

Both executors call the weekly pipeline's :func:`reportgen.weekly.job.run_one`, so skipping
(config/code/model fingerprint + complete results), resuming from the journal and keeping a
broken experiment's failure to itself behave the same whichever runs them. Ray is an
existing distributed engine; this module only maps experiments onto its tasks:

- one task per experiment, ``num_cpus=1`` and ``num_gpus`` from the sweep (or 1 when the
  runner config asks for CUDA), so Ray packs tasks onto GPUs instead of oversubscribing;
- a task whose *worker dies* (killed, out of memory) is retried up to ``max_retries`` times
  by Ray; the retry finds the stamp and journal the dead attempt left and resumes. An
  experiment's own error (bad config, a crash in the runner) is caught inside the task and
  is not retried: it would fail the same way again;
- run directories must be on a filesystem the driver and every node share (docs/sweeps.md).

Each finished run's ``run.json`` gains an ``executor`` record (executor, node, GPU type).
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from reportgen.inputs.weekly_yaml import WeeklyConfig, WeeklyExperiment
from reportgen.rundir.atomic import write_text_atomic
from reportgen.rundir.schema import RUN_JSON
from reportgen.weekly.job import ExperimentOutcome, Runner, run_experiments, run_one

Log = Callable[[str], None]
RegistryFactory = Callable[[], dict[str, Runner]]


def gpu_type() -> str:
    """The CUDA device this process would use, or ``cpu``."""
    try:
        import torch
    except ImportError:
        return "cpu"
    return torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu"


def record_provenance(run_dir: Path, executor: str, **extra: Any) -> None:
    """Add ``executor: {name, node, gpu, …}`` to the run's ``run.json`` (which allows extra keys)."""
    path = run_dir / RUN_JSON
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return
    info["executor"] = {"name": executor, "node": socket.gethostname(), "gpu": gpu_type(), **extra}
    write_text_atomic(path, json.dumps(info, indent=2, sort_keys=True, default=str) + "\n")


def _log_outcome(log: Log, i: int, total: int, o: ExperimentOutcome) -> None:
    detail = f": {o.error}" if o.error else ""
    log(f"[{i}/{total}] {o.name}: {o.status} in {o.seconds:.1f} s{detail}")


def run_local(experiments: Sequence[WeeklyExperiment], base: Path, runs_dir: Path,
              registry: dict[str, Runner], log: Log = print) -> list[ExperimentOutcome]:
    """One after another in this process: the weekly pipeline's own loop, plus provenance."""
    week = WeeklyConfig.model_construct(experiments=list(experiments))  # already validated
    outcomes = run_experiments(week, base, runs_dir, registry, log)
    for outcome in outcomes:
        if outcome.status in ("ran", "resumed"):
            record_provenance(outcome.run_dir, "local")
    return outcomes


def _ray_task(exp_data: dict[str, Any], base: str, runs_dir: str, factory: RegistryFactory) -> ExperimentOutcome:
    """The body of one Ray task (runs on a worker; imports the runners there)."""
    import ray

    exp = WeeklyExperiment.model_validate(exp_data)
    outcome = run_one(exp, Path(base), Path(runs_dir), factory())
    if outcome.status in ("ran", "resumed"):
        ctx = ray.get_runtime_context()
        record_provenance(outcome.run_dir, "ray", node_id=ctx.get_node_id(), task_id=ctx.get_task_id())
    return outcome


def task_gpus(config: dict[str, Any] | Path | None, num_gpus: float | None, gpus_in_cluster: bool = False) -> float:
    """GPUs one task asks Ray for: the sweep's ``num_gpus``; else 1 when its config sets a CUDA
    device, or sets none (the runners then take CUDA when present) on a cluster with GPUs; else 0."""
    if num_gpus is not None:
        return num_gpus
    device = config.get("device") if isinstance(config, dict) else None
    if isinstance(device, str):
        return 1.0 if device.startswith("cuda") else 0.0
    return 1.0 if gpus_in_cluster else 0.0


def run_ray(experiments: Sequence[WeeklyExperiment], base: Path, runs_dir: Path, factory: RegistryFactory,
            log: Log = print, *, address: str | None = None, num_gpus: float | None = None,
            max_retries: int = 2, num_cpus: int | None = None) -> list[ExperimentOutcome]:
    """Submit every experiment as a Ray task and collect the outcomes as they finish.

    Connects to ``address`` (or ``RAY_ADDRESS``), else starts a local Ray; a Ray the caller
    already started is reused and left running, one started here is shut down. ``factory``
    builds the runner registry on the worker (closures do not travel well between processes).
    """
    import ray
    from ray.exceptions import RayError

    started = not ray.is_initialized()
    if started:
        target = address or os.environ.get("RAY_ADDRESS") or None
        ray.init(address=target, num_cpus=None if target else num_cpus, log_to_driver=False,
                 include_dashboard=False, logging_level=logging.WARNING)
    try:
        remote = ray.remote(_ray_task)
        has_gpus = ray.cluster_resources().get("GPU", 0) > 0
        base_s, runs_s = str(base.resolve()), str(runs_dir.resolve())
        pending: dict[Any, tuple[WeeklyExperiment, float]] = {}
        for exp in experiments:
            ref = remote.options(name=exp.name, num_cpus=1, num_gpus=task_gpus(exp.config, num_gpus, has_gpus),
                                 max_retries=max_retries, retry_exceptions=False).remote(
                exp.model_dump(mode="json"), base_s, runs_s, factory)
            pending[ref] = (exp, time.perf_counter())
        log(f"ray: {len(pending)} task(s) submitted to {ray.get_runtime_context().gcs_address}")
        outcomes: dict[str, ExperimentOutcome] = {}
        total = len(pending)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            exp, t0 = pending.pop(done[0])
            try:
                outcome = ray.get(done[0])
            except RayError as exc:  # the worker died more often than max_retries allows
                message = " ".join(str(exc).split())[:300]
                outcome = ExperimentOutcome(
                    exp.name, exp.runner, runs_dir / exp.name, "failed", time.perf_counter() - t0,
                    f"Ray task failed after {max_retries} retr{'y' if max_retries == 1 else 'ies'} "
                    f"({type(exc).__name__}: {message}); its journal is kept, the next submission resumes it",
                )
            outcomes[exp.name] = outcome
            _log_outcome(log, len(outcomes), total, outcome)
        return [outcomes[e.name] for e in experiments]
    finally:
        if started:
            ray.shutdown()
