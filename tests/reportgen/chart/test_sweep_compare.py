"""Issue 16: the deck over a sweep compares the models per grid point, naming them as the sweep does.

Runs are built in memory with the run.json facts the weekly job records (``model_label``,
``grid_point``); the organism end to end is in tests/reportgen/weekly/test_sweep.py.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from reportgen.chart.runlabel import grid_label, model_label
from reportgen.chart.spec import build_chart_specs
from reportgen.deck.build import build_deck
from reportgen.deck.spec import slide_words
from reportgen.inputs.deck_yaml import DeckSpec
from reportgen.inputs.weekly_yaml import WeeklyExperiment
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import RunInfo, validate_results
from reportgen.weekly.job import record_labels

VOCAB = {"task": "steering", "labels": {"sweep.widths": "layer window"},
         "headline": {"metric": "refusal", "condition": "ablation"}}
NOISY = "/abs/runs/sweep/_models/organism-noisy"


def _rates(experiment: str, condition: str, k: int, n: int, model: str, x: float | None = None) -> list[dict]:
    return [{"experiment": experiment, "task": "steering", "model": model, "condition": condition,
             "item_id": f"i{i:02d}", "metric": "refusal", "value": float(i < k), "x": x} for i in range(n)]


def _run(label: str, model: str, widths: list[int], ablated: int, *, sweep_k: tuple[int, ...] = (0, 0)) -> Run:
    """A steering-like run: harmful (baseline 20/20, ablation ``ablated``/20) and a layer sweep."""
    rows = _rates("harmful", "baseline", 20, 20, model) + _rates("harmful", "ablation", ablated, 20, model)
    for x, k in enumerate(sweep_k):
        rows += _rates("layer_sweep", "ablation", k, 10, model, x=float(x))
    name = f"steering-{label}-widths{widths[0]}"
    info = RunInfo(run_id=f"{name}-20250602", model_id=model, model_label=label,
                   grid_point={"sweep.widths": widths}, vocabulary=VOCAB)
    return Run(path=Path("runs") / name, results=validate_results(pd.DataFrame(rows)), prompts=[], info=info)


def _grid(models: dict[str, str], ablated: dict[tuple[str, int], int]) -> list[Run]:
    return [_run(label, model, [w], ablated[(label, w)]) for label, model in models.items() for w in (1, 2)]


MODELS = {"organism": "organism", "organism-noisy": NOISY}
ABLATED = {("organism", 1): 2, ("organism", 2): 4, ("organism-noisy", 1): 12, ("organism-noisy", 2): 16}


def test_one_chart_per_grid_point_with_the_two_model_labels_as_categories():
    runs = _grid(MODELS, ABLATED)
    charts = build_chart_specs(runs, DeckSpec(project="p", compare="model"))
    main = [c for c in charts if not c.backup]
    assert [c.grid_label for c in main] == ["layer window 1", "layer window 2"]
    for chart, width in zip(main, (1, 2)):
        assert chart.experiment == "harmful"  # the runner's headline experiment
        assert chart.categories == ("organism", "organism-noisy")
        assert chart.title.startswith(f"Layer window {width}: ")
        assert f"layer window {width}" in chart.caption
        ablation = {b.category: b.estimate for b in chart.bars if b.group == "Ablation"}
        # The numbers are each run's own rows at this grid point, not pooled over grid points.
        assert {m: (e.k, e.n) for m, e in ablation.items()} == {
            "organism": (ABLATED[("organism", width)], 20), "organism-noisy": (ABLATED[("organism-noisy", width)], 20)}
    # Everything else (the per-run charts, the layer sweep) is in the backup.
    assert {c.experiment for c in charts if c.backup} == {"harmful", "layer_sweep"}


def test_no_slide_shows_an_absolute_path_and_backup_slides_name_model_and_grid_point():
    runs = _grid(MODELS, ABLATED)
    spec = DeckSpec(project="p", compare="model")
    charts = build_chart_specs(runs, spec)
    deck = build_deck(runs, charts, spec, today=dt.date(2025, 6, 2))
    text = "\n".join(slide_words(s, True) for s in deck.slides)
    assert "/abs" not in text and "_models" not in text
    captions = [s.caption for s in deck.slides if getattr(s, "backup", False) and hasattr(s, "caption")]
    assert any("model: organism-noisy" in c and "layer window 2" in c for c in captions), captions
    tables = " | ".join(s.title for s in deck.slides if s.title.startswith("Numbers: "))
    assert "Harmful prompts (organism-noisy, layer window 1)" in tables, tables


def test_more_than_two_models_keep_two_in_main_and_every_model_in_backup():
    models = {**MODELS, "organism-b": "/abs/runs/sweep/_models/organism-b"}
    ablated = {**ABLATED, ("organism-b", 1): 5, ("organism-b", 2): 5}
    charts = build_chart_specs(_grid(models, ablated), DeckSpec(project="p", compare="model"))
    main = [c for c in charts if not c.backup]
    assert [c.categories for c in main] == [("organism", "organism-noisy")] * 2
    every = [c for c in charts if c.backup and c.categories == tuple(models)]
    assert [c.grid_label for c in every] == ["layer window 1", "layer window 2"]


def test_an_experiment_over_x_is_compared_as_one_line_per_model_not_pooled():
    runs = [_run("organism", "organism", [1], 2, sweep_k=(0, 9, 1)),
            _run("organism-noisy", NOISY, [1], 12, sweep_k=(0, 1, 1))]
    spec = DeckSpec(project="p", experiments=[{"experiment": "layer_sweep", "compare": "model"}])
    (main,) = [c for c in build_chart_specs(runs, spec) if not c.backup]
    assert main.kind == "sweep"
    assert [s.category for s in main.series] == ["organism", "organism-noisy"]
    assert [p.estimate.k for p in main.series[0].points] == [0, 9, 1]
    assert main.highlight is not None and main.highlight.x == 1.0  # where the models differ


def test_a_grid_point_with_one_model_left_keeps_its_charts_in_the_story():
    runs = _grid(MODELS, ABLATED)[:3]  # organism-noisy at layer window 2 failed
    main = [c for c in build_chart_specs(runs, DeckSpec(project="p", compare="model")) if not c.backup]
    assert (main[0].grid_label, main[0].categories) == ("layer window 1", ("organism", "organism-noisy"))
    assert not any(c.grid_label == "layer window 1" and c.model == "organism" for c in main)
    assert any(c.grid_label == "layer window 2" and c.model == "organism" for c in main)


def test_labels_fall_back_without_run_json_facts():
    run = _run("organism-noisy", NOISY, [2, 3], 1)
    assert model_label(run, NOISY) == "organism-noisy"
    bare = Run(path=run.path, results=run.results, prompts=[], info=RunInfo(run_id="x", grid_point={"data.n_val": 16}))
    assert model_label(bare, NOISY) == "organism-noisy"  # the folder's name, not its path
    assert grid_label(bare) == "n val 16"
    assert grid_label(run) == "layer window width 2, 3"


@pytest.mark.parametrize("label", ["organism-noisy", None])
def test_weekly_job_records_model_label_and_grid_point_in_run_json(tmp_path, label):
    (tmp_path / "run.json").write_text(json.dumps({"run_id": "r", "model_label": "stale", "model_id": NOISY}))
    exp = WeeklyExperiment(name="r", runner="steering", model=NOISY, model_label=label,
                           grid_point={"sweep.widths": [1]})
    record_labels(tmp_path, exp)
    info = json.loads((tmp_path / "run.json").read_text())
    assert info.get("model_label") == label and info["grid_point"] == {"sweep.widths": [1]}
    assert info["model_id"] == NOISY


def test_grid_points_that_measured_the_same_share_one_chart_and_backup_titles_say_whose():
    same = {("organism", 1): 2, ("organism", 2): 2, ("organism-noisy", 1): 12, ("organism-noisy", 2): 12}
    spec = DeckSpec(project="p", compare="model")
    runs = _grid(MODELS, same)
    charts = build_chart_specs(runs, spec)
    (main,) = [c for c in charts if not c.backup]
    assert main.grid_label == "layer window 1 and layer window 2"
    assert main.title.startswith("Layer window 1 and layer window 2: ")
    assert "layer window 1 and layer window 2" in main.caption
    # The two models' layer sweeps read the same; their titles say whose they are.
    sweeps = sorted(c.title for c in charts if c.backup and c.experiment == "layer_sweep")
    assert [t.split(": ")[0] for t in sweeps] == ["organism, layer window 1 and layer window 2",
                                                  "organism-noisy, layer window 1 and layer window 2"]
    deck = build_deck(runs, charts, spec, today=dt.date(2025, 6, 2))
    titles = [s.title for s in deck.slides]
    assert len(titles) == len(set(titles)), titles


def test_the_default_deck_also_compares_what_the_grid_changed():
    runs = [_run(label, model, [w], 2, sweep_k=(w, 5 * w)) for label, model in MODELS.items() for w in (1, 2)]
    main = [c for c in build_chart_specs(runs, DeckSpec(project="p", compare="model")) if not c.backup]
    # harmful: the same at both grid points (one chart); layer_sweep: changed by the widths (one per point)
    assert [(c.experiment, c.grid_label) for c in main] == [
        ("harmful", "layer window 1 and layer window 2"),
        ("layer_sweep", "layer window 1"), ("layer_sweep", "layer window 2")]
    assert all(c.categories == ("organism", "organism-noisy") for c in main)
    assert [p.estimate.k for p in main[2].series[1].points] == [2, 10]
