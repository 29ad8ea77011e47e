"""Time `make weekly` after install, split by stage (goal: <= 3 minutes on these 2 cores).

    .venv/bin/python benchmarks/bench_weekly.py [--weekly examples/weekly/weekly.yaml] [--keep DIR]

Runs `reportgen weekly` twice on the same file, side by side in one process tree, into a
temporary runs/ and reports/ folder: first cold (every experiment runs on the organism),
then again (every experiment is skipped: its config, code and model are unchanged). Prints
each run's wall time, the pipeline's own split (each experiment; chart specs, charts, deck,
abstract), the warm/cold ratio, and whether the cold run met the goal. Interpreter start-up
and model loading are inside the numbers, as they are for a user.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 180.0
_STEP = re.compile(r"^\[\d+/\d+\] (?P<name>\S+): (?P<status>\w+) in (?P<s>[\d.]+) s")
_TIME = re.compile(r"^\s*time: (?P<stages>.*)$")


def run_weekly(weekly: Path, work: Path) -> tuple[float, dict[str, float], dict[str, str], str]:
    """One `reportgen weekly` run: wall seconds, per-stage seconds, per-experiment status, output."""
    cmd = [sys.executable, "-c", "from reportgen.cli.entry import main; main()", "weekly", str(weekly),
           "--runs-dir", str(work / "runs"), "--reports-dir", str(work / "reports")]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    out = proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise SystemExit(f"reportgen weekly failed (exit {proc.returncode}):\n{out}")
    stages: dict[str, float] = {}
    status: dict[str, str] = {}
    for line in out.splitlines():
        if m := _STEP.match(line):
            stages[f"experiment {m['name']}"] = float(m["s"])
            status[m["name"]] = m["status"]
        elif m := _TIME.match(line):
            for part in m["stages"].split(", "):  # "chart specs 0.4 s"
                name, secs, _ = part.rsplit(" ", 2)
                if name != "experiments":  # the sum of the per-experiment lines
                    stages[name] = float(secs)
    return wall, stages, status, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weekly", type=Path, default=ROOT / "examples" / "weekly" / "weekly.yaml")
    parser.add_argument("--keep", type=Path, default=None, help="write runs and reports here instead of a temp dir")
    args = parser.parse_args(argv)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"bench_weekly: {args.weekly}, {cores} core(s) available")
    with tempfile.TemporaryDirectory(prefix="bench-weekly-") as tmp:
        work = args.keep or Path(tmp)
        cold, cold_stages, cold_status, _ = run_weekly(args.weekly, work)
        warm, warm_stages, warm_status, _ = run_weekly(args.weekly, work)
    names = list(dict.fromkeys([*cold_stages, *warm_stages]))
    width = max(len(n) for n in names + ["total (wall, incl. start-up)"])
    print(f"  {'stage':<{width}}  {'cold':>8}  {'again':>8}")
    for n in names:
        print(f"  {n:<{width}}  {cold_stages.get(n, 0):6.1f} s  {warm_stages.get(n, 0):6.1f} s")
    print(f"  {'total (wall, incl. start-up)':<{width}}  {cold:6.1f} s  {warm:6.1f} s")
    print(f"  experiments cold: {', '.join(f'{k} {v}' for k, v in cold_status.items())}; "
          f"again: {', '.join(f'{k} {v}' for k, v in warm_status.items())}")
    print(f"  again / cold: {warm / cold:.2f}  (an unchanged week only rebuilds the report)")
    print(f"  goal <= {GOAL_S:.0f} s cold: {'met' if cold <= GOAL_S else 'NOT met'} "
          f"(load average {os.getloadavg()[0]:.1f}; above the core count, timings inflate)")
    return 0 if cold <= GOAL_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
