"""The same 8-experiment sweep on ``local`` and on ``ray``, side by side (experiments stage only).

    .venv/bin/python benchmarks/bench_sweep.py [--num-cpus 2] [--keep DIR]

2 models (the organism and a seeded noisy copy) × 4 truncation configs, small enough for these
2 shared cores. Each executor runs the sweep cold (every experiment computes) and again
(every experiment is skipped), into its own runs folder. Printed side by side:

- wall time, and ray/local as a ratio;
- the mean time inside a task (model load + compute, as ``run_one`` measures it);
- per-task overhead: slot time not spent inside tasks, ``(wall × slots − Σ task time) / n``,
  as a fraction of the mean task time (worker start-up, imports, scheduling; local has one
  slot and next to no overhead);
- the warm (all skipped) submission's wall time: the fixed cost of asking the executor at all.

The report stage is identical for both executors and not timed here (see bench_weekly.py).
On N GPUs the ray column's slots become N tasks at once; docs/sweeps.md has the plan.
"""

from __future__ import annotations

import argparse
import functools
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from reportgen.cli.weekly import build_registry  # noqa: E402
from reportgen.cli.sweep import prepare_models  # noqa: E402
from reportgen.inputs.sweep_yaml import expand, load_sweep_config  # noqa: E402
from reportgen.weekly.executors import run_local, run_ray  # noqa: E402

SWEEP = {
    "project": "bench_sweep",
    "models": ["organism", {"name": "organism-noisy", "base": "organism", "noise": 0.05, "seed": 1}],
    "runners": [{
        "runner": "truncation",
        "config": {"limit": 6, "batch_size": 2, "sentence_cuts": False, "mistakes": False, "max_new_tokens": 48},
        "grid": {"fractions": [[0.0, 1.0], [0.0, 0.5, 1.0], [0.0, 0.25, 0.5, 0.75, 1.0], [0.25, 0.75]]},
    }],
}


def _measure(name: str, submit: functools.partial, slots: int) -> dict[str, float]:
    t0 = time.perf_counter()
    cold = submit()
    wall = time.perf_counter() - t0
    failed = [(o.name, o.error) for o in cold if o.status == "failed"]
    if failed:
        raise SystemExit(f"{name}: failed experiments: {failed}")
    t0 = time.perf_counter()
    warm = submit()
    warm_wall = time.perf_counter() - t0
    assert all(o.status == "skipped" for o in warm), [(o.name, o.status) for o in warm]
    inside = [o.seconds for o in cold]
    overhead = max(0.0, wall * slots - sum(inside)) / len(inside)
    return {"wall": wall, "task": statistics.mean(inside), "overhead": overhead, "warm": warm_wall, "slots": slots}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--num-cpus", type=int, default=2, help="CPUs the local Ray may use (= task slots)")
    parser.add_argument("--keep", type=Path, default=None, help="write the runs here instead of a temp dir")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one thread per task, as Ray gives its workers
    import ray
    import torch

    torch.set_num_threads(1)
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench_sweep-"))
    sweep = work / "sweep.yaml"
    work.mkdir(parents=True, exist_ok=True)
    sweep.write_text(yaml.safe_dump(SWEEP, sort_keys=False))
    cfg, base = load_sweep_config(sweep)
    quiet = lambda _: None  # noqa: E731
    results = {}
    for name in ("local", "ray"):
        runs = work / name
        prepare_models(cfg, base, runs)
        exps = expand(cfg, base, runs).experiments
        if name == "local":
            submit = functools.partial(run_local, exps, base, runs, build_registry(sweep), quiet)
            results[name] = _measure(name, submit, 1)
        else:
            ray.init(num_cpus=args.num_cpus, include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
            try:
                submit = functools.partial(run_ray, exps, base, runs, functools.partial(build_registry, sweep), quiet)
                results[name] = _measure(name, submit, args.num_cpus)
            finally:
                ray.shutdown()
    n = len(expand(cfg, base, work).experiments)
    loc, ry = results["local"], results["ray"]
    print(f"bench_sweep: {n} experiments, {args.num_cpus} Ray CPU slot(s), runs in {work}")
    print(f"{'':28}{'local':>10}{'ray':>10}{'ray/local':>11}")
    rows = [("wall, cold (s)", "wall"), ("mean time in a task (s)", "task"),
            ("overhead per task (s)", "overhead"), ("wall, all skipped (s)", "warm")]
    for label, key in rows:
        # Local's overhead is ~0, so its ratio says nothing; the fraction below does.
        ratio = f"{ry[key] / loc[key]:.2f}" if key != "overhead" and loc[key] > 0 else "-"
        print(f"{label:28}{loc[key]:>10.2f}{ry[key]:>10.2f}{ratio:>11}")
    for name, r in results.items():
        print(f"{name}: overhead per task = {r['overhead'] / r['task']:.2f} × the mean task time")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
