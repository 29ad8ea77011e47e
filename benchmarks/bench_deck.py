"""Time the reporter on 20 example experiments, stage by stage (goal: <= 10 s in all on 2 cores).

    .venv/bin/python benchmarks/bench_deck.py [--experiments 20] [--workers N] [--keep DIR]

Stages: generate the example runs (setup, not counted), load + validate, chart specs,
render charts (PNG, in parallel), then the deck. Run directories come from
``examples/make_examples.py:make_benchmark_runs`` — every chart shape (bars with
groups, curve, sweep, switch-vs-articulation) in turn — written to a temporary folder.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

GOAL_S = 10.0


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "examples" / "make_examples.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _cpu_s() -> float:
    """CPU seconds used so far by this process and its finished children (render workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Stages:
    """Wall-clock (and CPU) time per named stage, printed as a table at the end.

    CPU time is printed too because the 2 cores here are shared: when other jobs run,
    wall time inflates while CPU time stays what the work costs (wall ≈ CPU / cores used).
    """

    def __init__(self) -> None:
        self.times: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def run(self, name: str, fn: Callable[[], Any]) -> Any:
        t0, c0 = time.perf_counter(), _cpu_s()
        out = fn()
        self.times[name] = time.perf_counter() - t0
        self.cpu[name] = _cpu_s() - c0
        return out

    def report(self, counted_from: int = 0) -> float:
        names = list(self.times)
        total = sum(self.times[n] for n in names[counted_from:])
        width = max(len(n) for n in names)
        cpu = sum(self.cpu[n] for n in names[counted_from:])
        print(f"  {'stage':<{width}}  {'wall':>8}  {'cpu':>8}")
        for i, n in enumerate(names):
            note = "  (setup, not counted)" if i < counted_from else ""
            print(f"  {n:<{width}}  {self.times[n]:6.2f} s  {self.cpu[n]:6.2f} s{note}")
        print(f"  {'total':<{width}}  {total:6.2f} s  {cpu:6.2f} s   "
              f"goal <= {GOAL_S:.0f} s wall: {'met' if total <= GOAL_S else 'NOT met'}")
        print(f"  load average while running: {os.getloadavg()[0]:.1f} (above the core count, timings inflate)")
        return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=20)
    parser.add_argument("--workers", type=int, default=None, help="chart rendering processes (default: cores, max 4)")
    parser.add_argument("--keep", type=Path, default=None, help="write runs, charts and deck here instead of a temp dir")
    args = parser.parse_args(argv)

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"bench_deck: {args.experiments} experiments, {cores} core(s) available")
    with tempfile.TemporaryDirectory(prefix="bench-deck-") as tmp:
        work = args.keep or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        stages = Stages()
        # Imports are shown but not counted: the goal is about the work, not interpreter start-up.
        stages.run("import reportgen", lambda: __import__("reportgen.chart.render"))
        generator = _generator()
        run_dirs = stages.run("generate example runs",
                              lambda: generator.make_benchmark_runs(work / "runs", args.experiments))
        from reportgen.chart.render import render_charts
        from reportgen.chart.spec import build_chart_specs
        from reportgen.rundir.reader import load_run

        runs = stages.run("load + validate", lambda: [load_run(d) for d in run_dirs])
        charts = stages.run("chart specs", lambda: build_chart_specs(runs))
        paths = stages.run("render charts", lambda: render_charts(charts, work / "charts", workers=args.workers))
        # The deck stage: slide specs (pure) then python-pptx, written atomically.
        from reportgen.deck.render import render_deck
        from reportgen.deck.build import build_deck

        deck = stages.run("deck spec", lambda: build_deck(runs, charts))
        images = {c.chart_id: p for c, p in zip(charts, paths)}
        stages.run("render deck", lambda: render_deck(deck, images, work / "deck.pptx"))
        print(f"  deck: {len(deck.slides)} slides")
        n_main = sum(not c.backup for c in charts)
        print(f"  {len(runs)} runs, {sum(len(r.results) for r in runs)} rows, "
              f"{len(charts)} charts ({n_main} main, {len(charts) - n_main} backup), {len(paths)} PNGs")
        total = stages.report(counted_from=2)
    return 0 if total <= GOAL_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
