"""Sweeps: the grid's expansion, the noisy second organism, and Ray against a local run.

The Ray test is the issue's acceptance check: a 2 models × 2 configs sweep on a local Ray
(``num_cpus=2``), one worker killed by a real SIGKILL mid-task, and every run's results equal
to the same sweep run in-process; a second submission recomputes nothing.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from experiments.organism import MODEL_DIR
from reportgen.cli.sweep import prepare_models
from reportgen.cli.weekly import build_registry
from reportgen.inputs.deck_yaml import SpecError
from reportgen.inputs.sweep_yaml import MODELS_DIR, SweepConfig, expand, load_sweep_config
from reportgen.rundir.writer import JOURNAL
from reportgen.weekly.executors import run_local, task_gpus
from reportgen.weekly.job import load_runs

IDENT = ["experiment", "condition", "item_id", "metric", "x", "group"]
needs_organism = pytest.mark.skipif(not (MODEL_DIR / "model.safetensors").exists(), reason="organism not trained")


def _sweep(tmp_path: Path) -> Path:
    # Many one-item batches, so a kill lands between two journaled batches.
    truncation = {"limit": 6, "batch_size": 1, "sentence_cuts": False, "mistakes": False, "max_new_tokens": 48}
    data = {
        "project": "Sweep test",
        "runs_dir": "runs",
        "reports_dir": "reports",
        "models": ["organism", {"name": "organism-noisy", "base": "organism", "noise": 0.05, "seed": 1}],
        "runners": [{"runner": "truncation", "config": truncation, "grid": {"fractions": [[0.0, 1.0], [0.0, 0.5, 1.0]]}}],
    }
    path = tmp_path / "sweep.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_expand_names_each_grid_point_and_applies_dotted_overrides(tmp_path):
    (tmp_path / "steering.yaml").write_text("data: {n_train: 8}\nsweep: {widths: [1]}\n")
    cfg = SweepConfig.model_validate({
        "models": ["organism", "Qwen/Qwen2.5-1.5B-Instruct", {"name": "noisy", "base": "organism"}],
        "runners": [{"runner": "steering", "config": Path("steering.yaml"),
                     "grid": {"sweep.widths": [[1], [2, 3]], "data.n_val": [4]}}],
    })
    weekly = expand(cfg, tmp_path, tmp_path / "runs")
    names = [e.name for e in weekly.experiments]
    assert names == [
        "steering-organism-widths1-nval4", "steering-organism-widths2_3-nval4",
        "steering-Qwen2.5-1.5B-Instruct-widths1-nval4", "steering-Qwen2.5-1.5B-Instruct-widths2_3-nval4",
        "steering-noisy-widths1-nval4", "steering-noisy-widths2_3-nval4",
    ]
    second = weekly.experiments[1]
    # The override replaces one key of a section and keeps the file's others.
    assert second.config == {"data": {"n_train": 8, "n_val": 4}, "sweep": {"widths": [2, 3]}}
    assert weekly.experiments[0].config["sweep"] == {"widths": [1]}  # grid points do not share dicts
    assert weekly.experiments[2].model == "Qwen/Qwen2.5-1.5B-Instruct"
    assert weekly.experiments[4].model == str(tmp_path / "runs" / MODELS_DIR / "noisy")
    # What the report needs travels with each experiment into run.json: the sweep's model name
    # (not the copy's folder) and the grid point; without `deck:` the models are compared.
    assert [(e.model_label, e.grid_point) for e in weekly.experiments[3:5]] == [
        ("Qwen2.5-1.5B-Instruct", {"sweep.widths": [2, 3], "data.n_val": 4}),
        ("noisy", {"sweep.widths": [1], "data.n_val": 4})]
    assert weekly.deck is not None and not isinstance(weekly.deck, Path) and weekly.deck.compare == "model"


def test_sweep_file_errors_name_the_field(tmp_path):
    bad = tmp_path / "sweep.yaml"
    bad.write_text("models: [organism]\nrunners: [{runner: truncation, grid: {limit: []}}]\n")
    with pytest.raises(SpecError, match=r"limit.*no values"):
        load_sweep_config(bad)
    cfg = SweepConfig.model_validate({"models": ["organism"],
                                      "runners": [{"runner": "truncation", "config": {"limit": 3},
                                                   "grid": {"limit.deep": [1]}}]})
    with pytest.raises(SpecError, match="'limit' is not a section"):
        expand(cfg, tmp_path, tmp_path / "runs")


def test_task_gpus_follow_the_config():
    assert task_gpus({"device": "cuda:0"}, None) == 1.0
    assert task_gpus({"device": "cpu"}, None) == 0.0
    assert task_gpus(None, None) == 0.0
    assert task_gpus(None, None, gpus_in_cluster=True) == 1.0  # no device set: the runner takes CUDA
    assert task_gpus({"device": "cpu"}, None, gpus_in_cluster=True) == 0.0
    assert task_gpus({"device": "cpu"}, 0.5) == 0.5


@needs_organism
def test_noisy_organism_is_deterministic_and_differs(tmp_path):
    from safetensors.torch import load_file

    cfg, base = load_sweep_config(_sweep(tmp_path))
    prepare_models(cfg, base, tmp_path / "a")
    prepare_models(cfg, base, tmp_path / "b")
    a = tmp_path / "a" / MODELS_DIR / "organism-noisy" / "model.safetensors"
    assert a.read_bytes() == (tmp_path / "b" / MODELS_DIR / "organism-noisy" / "model.safetensors").read_bytes()
    noisy, shipped = load_file(str(a)), load_file(str(MODEL_DIR / "model.safetensors"))
    assert noisy.keys() == shipped.keys()
    name = next(k for k in shipped if shipped[k].ndim == 2)
    assert not noisy[name].equal(shipped[name])
    assert not (a.parent / "planted.json").exists()  # the planted rates are the shipped model's


def _results(run_dir: Path) -> pd.DataFrame:
    """The measured rows; ``run_id`` (a timestamp) is the one column two runs may not share."""
    df = pd.read_parquet(run_dir / "results.parquet").drop(columns=["run_id"])
    return df.sort_values(IDENT, na_position="first").reset_index(drop=True)


def _kill_mid_task(runs: Path, name: str, killed: list[int], stop: threading.Event) -> None:
    """SIGKILL the Ray worker running ``name`` once its journal holds a batch and it is unfinished."""
    journal = runs / name / JOURNAL
    while not stop.is_set():
        if journal.exists() and journal.read_bytes().count(b"\n") >= 1:
            for pid in os.listdir("/proc"):
                if not pid.isdigit():
                    continue
                try:
                    title = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
                except OSError:
                    continue
                if title.startswith(f"ray::{name}".encode()):
                    os.kill(int(pid), signal.SIGKILL)
                    killed.append(int(pid))
                    return
        time.sleep(0.02)


@pytest.mark.slow
@needs_organism
def test_ray_sweep_survives_a_killed_worker_and_equals_local(tmp_path):
    ray = pytest.importorskip("ray")
    from reportgen.weekly.executors import run_ray

    sweep = _sweep(tmp_path)
    cfg, base = load_sweep_config(sweep)
    local_runs, ray_runs = tmp_path / "local", tmp_path / "ray"
    prepare_models(cfg, base, ray_runs)
    experiments = expand(cfg, base, ray_runs).experiments
    assert len(experiments) == 4
    factory = functools.partial(build_registry, sweep)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        target = experiments[-1].name
        killed: list[int] = []
        stop = threading.Event()
        killer = threading.Thread(target=_kill_mid_task, args=(ray_runs, target, killed, stop), daemon=True)
        killer.start()
        outcomes = run_ray(experiments, base, ray_runs, factory, log=lambda _: None, max_retries=2)
        stop.set()
        killer.join()
        assert killed, f"{target} finished before its worker could be killed"
        assert [o.status for o in outcomes] == ["ran", "ran", "ran", "resumed"], [(o.name, o.error) for o in outcomes]
        again = run_ray(experiments, base, ray_runs, factory, log=lambda _: None)
        assert [o.status for o in again] == ["skipped"] * 4

        # Without retries, a killed task fails alone and the report's "missing" list says so.
        doomed = tmp_path / "doomed"
        killed.clear()
        killer = threading.Thread(target=_kill_mid_task, args=(doomed, experiments[0].name, killed, threading.Event()),
                                  daemon=True)
        killer.start()
        (lost,) = run_ray(experiments[:1], base, doomed, factory, log=lambda _: None, max_retries=0)
        killer.join(timeout=60)
        assert killed and lost.status == "failed" and "after 0 retries" in lost.error, lost
        missing: list[str] = []
        assert load_runs([lost, *outcomes[1:]], missing) and missing[0].startswith(f"{lost.name} (truncation) failed")
    finally:
        ray.shutdown()

    info = json.loads((ray_runs / target / "run.json").read_text())
    assert info["executor"]["name"] == "ray" and info["executor"]["gpu"] == "cpu" and info["executor"]["node"]

    # The same sweep in this process, on the same model files, gives the same numbers.
    local_exps = [e.model_copy() for e in experiments]  # models point at ray_runs/_models: identical bytes
    local = run_local(local_exps, base, local_runs, build_registry(sweep), log=lambda _: None)
    assert [o.status for o in local] == ["ran"] * 4
    for exp in experiments:
        got, want = _results(ray_runs / exp.name), _results(local_runs / exp.name)
        assert not got.duplicated(IDENT).any(), exp.name
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    # The two models measure differently (otherwise the comparison would show nothing).
    assert not _results(ray_runs / experiments[0].name).equals(_results(ray_runs / experiments[2].name))

    # The report: per grid point one chart, the two models' labels its categories, numbers from
    # each run's tidy rows; no absolute path on a slide; Ray's deck says what the local one says.
    noisy = json.loads((ray_runs / target / "run.json").read_text())
    assert noisy["model_label"] == "organism-noisy" and noisy["grid_point"] == {"fractions": [0.0, 0.5, 1.0]}
    deck_spec = expand(cfg, base, ray_runs).deck
    # The headline experiment (the grid also changes paraphrasing, filler, … which get charts of their own).
    ray_main = [c for c in _main_charts(ray_runs, experiments, deck_spec, tmp_path) if c.experiment == "early_answering"]
    local_main = [c for c in _main_charts(local_runs, experiments, deck_spec, tmp_path)
                  if c.experiment == "early_answering"]
    assert [c.grid_label for c in ray_main] == ["cut points 0, 1", "cut points 0, 0.5, 1"]
    for chart, runs in zip(ray_main, (experiments[0::2], experiments[1::2])):
        assert chart.categories == ("organism", "organism-noisy") == tuple(s.category for s in chart.series)
        headline = noisy["vocabulary"]["headline"]
        for series, exp in zip(chart.series, runs):
            df = pd.read_parquet(ray_runs / exp.name / "results.parquet")
            rows = df[(df["experiment"] == chart.experiment) & (df["metric"] == headline["metric"])
                      & (df["condition"] == headline["condition"])]
            want = rows.groupby("x")["value"].agg(["mean", "size"])
            got = {p.x: (p.estimate.value, p.estimate.n) for p in series.points}
            assert got == {x: (pytest.approx(m), n) for x, (m, n) in want.iterrows()}, exp.name
    assert [_drawn(c) for c in ray_main] == [_drawn(c) for c in local_main]


def _main_charts(runs_dir: Path, experiments: list, deck_spec: object, tmp_path: Path) -> list:
    """The deck's main charts over these runs, after checking no slide names a path of this test."""
    import datetime as dt

    from reportgen import report as rp
    from reportgen.deck.spec import slide_words
    from reportgen.inputs.deck_yaml import DeckSpec

    assert isinstance(deck_spec, DeckSpec) and deck_spec.compare == "model"  # the sweep's default deck
    report = rp.Report(rp.load_runs([runs_dir / e.name for e in experiments]))
    rp.build_charts(report, deck_spec)
    deck = rp.build_deck(report, deck_spec, None, None, dt.date(2025, 6, 2))
    text = "\n".join(slide_words(s, True) for s in deck.slides)
    assert str(tmp_path) not in text and MODELS_DIR not in text
    return [c for c in report.charts if not c.backup]


def _drawn(chart: object) -> tuple:
    return (chart.title, chart.categories,
            [(s.category, [(p.x, p.estimate.value, p.estimate.n) for p in s.points]) for s in chart.series])


def test_cli_sweep_bad_file_exits_2_naming_the_field(tmp_path):
    import subprocess
    import sys

    bad = tmp_path / "sweep.yaml"
    bad.write_text("models: [organism]\nrunners: [{runner: truncation}]\nexecutor: slurm\n")
    proc = subprocess.run([sys.executable, "-c", "from reportgen.cli.entry import main; main()", "sweep", str(bad)],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "sweep.yaml" in proc.stderr and "executor" in proc.stderr


def test_weekly_file_takes_the_executor_key():
    from reportgen.inputs.weekly_yaml import WeeklyConfig

    exps = [{"name": "t", "runner": "truncation"}]
    assert WeeklyConfig.model_validate({"experiments": exps, "executor": "ray"}).executor == "ray"
    assert WeeklyConfig.model_validate({"experiments": exps}).executor == "local"
    with pytest.raises(ValueError, match="executor"):
        WeeklyConfig.model_validate({"experiments": exps, "executor": "slurm"})
