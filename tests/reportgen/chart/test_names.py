"""The run's own vocabulary (run.json ``vocabulary``) names and ranks what its charts show."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from reportgen.chart.names import BUILTIN, Names, names_of
from reportgen.chart.palette import BASELINE_COLOR
from reportgen.chart.spec import build_chart_specs
from reportgen.rundir.reader import load_run
from reportgen.rundir.schema import ResultsError

#: The strongest effect is in 'scrambled', which only the runner knows to be a control.
RATES = {"baseline": 0.95, "ablation": 0.4, "scrambled": 0.0}


def with_vocabulary(run_dir: Path, vocabulary: object) -> Path:
    info = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**info, "vocabulary": vocabulary}))
    return run_dir


def vocabulary(**kw: object) -> dict[str, object]:
    return {"task": "steering", "labels": {}, "headline": None, "controls": [], "baselines": ["baseline"],
            "x_label": None, **kw}


def main_of(charts):
    (chart,) = [c for c in charts if not c.backup]
    return chart


def test_without_a_vocabulary_the_strongest_effect_is_the_headline(make_run):
    main = main_of(build_chart_specs([load_run(make_run(rates=RATES))]))
    assert [b.category for b in main.bars] == ["baseline", "scrambled"]


def test_the_vocabulary_renames_a_condition_and_keeps_its_control_out_of_the_headline(make_run):
    run_dir = with_vocabulary(make_run(rates=RATES), vocabulary(
        labels={"ablation": "Refusal-direction ablation", "harmful": "Harmful requests", "refusal": "Refusal rate"},
        controls=["scrambled"]))
    charts = build_chart_specs([load_run(run_dir)])
    main = main_of(charts)
    assert [(b.category, b.label) for b in main.bars] == [("baseline", "Baseline"),
                                                          ("ablation", "Refusal-direction ablation")]
    assert main.title == "Refusal-direction ablation drops refusal rate from 95% to 40%"
    assert main.caption == "Harmful requests: refusal rate by condition"
    assert main.y_label == "Refusal rate"
    assert main.highlight is not None and main.highlight.category == "ablation"
    (backup,) = [c for c in charts if c.backup]
    assert "Refusal-direction ablation" in {b.label for b in backup.bars}


def test_the_headline_condition_is_charted_against_the_vocabularys_baseline(make_run):
    rates = {"ablation": 0.05, "addition": 0.5, "reference": 0.9}
    plain = main_of(build_chart_specs([load_run(make_run("plain", rates=rates))]))
    assert plain.categories == ("ablation", "reference")  # no known baseline: the first condition
    run_dir = with_vocabulary(make_run("named", rates=rates), vocabulary(
        baselines=["reference"], headline={"metric": "refusal", "condition": "addition"}))
    main = main_of(build_chart_specs([load_run(run_dir)]))
    assert main.categories == ("reference", "addition")
    assert main.bars[0].color == BASELINE_COLOR


def _curve_run(path: Path, x_label: str | None) -> Path:
    path.mkdir()
    rows = [{"experiment": "early_answering", "task": "truncation", "model": "m", "condition": cond,
             "item_id": f"i{i}", "metric": "matches_full", "value": float(i < k), "x": x}
            for cond, ks in (("forced", (4, 10, 20)), ("continued", (12, 16, 20)))
            for x, k in zip((0.0, 0.5, 1.0), ks) for i in range(20)]
    pd.DataFrame(rows).to_csv(path / "results.csv", index=False)
    (path / "run.json").write_text(json.dumps({"run_id": path.name, "vocabulary": vocabulary(
        task="truncation", baselines=["continued"], x_label=x_label)}))
    return path


def test_the_x_label_comes_from_the_vocabulary_else_from_the_built_in_rule(tmp_path):
    named = main_of(build_chart_specs([load_run(_curve_run(tmp_path / "a", "fraction of the chain of thought"))]))
    assert named.kind == "curve" and named.x_label == "Fraction of the chain of thought"
    assert "fraction of the chain of thought" in named.caption
    fallback = main_of(build_chart_specs([load_run(_curve_run(tmp_path / "b", None))]))
    assert fallback.x_label == "Reasoning kept"


def test_a_malformed_vocabulary_names_the_file_and_the_field(make_run):
    run = load_run(with_vocabulary(make_run(rates=RATES), vocabulary(labels=["ablation"])))
    with pytest.raises(ResultsError, match=r"run\.json: vocabulary\.labels"):
        build_chart_specs([run])


def test_names_fall_back_to_the_built_in_tables_name_by_name():
    names = Names(labels={"kl": "KL divergence (nats)", "refusal": "Refusal rate"}, controls=("scrambled",))
    assert names.metric_noun("refusal") == "refusal rate"
    assert names.metric_noun("kl") == "KL divergence (nats)"  # an acronym keeps its capitals
    assert names.metric_noun("switched") == BUILTIN.metric_noun("switched") == "switch rate"
    assert names.condition_label("random_ablation") == "Random-direction ablation"
    assert names.is_control("scrambled") and names.is_control("random_ablation") and not names.is_control("ablation")
    assert names.baseline(["ablation", "scrambled"]) == "scrambled"  # no baseline: the control is the reference


def test_a_run_without_run_json_uses_the_built_in_names(tmp_path, make_run):
    run_dir = make_run(rates=RATES)
    (run_dir / "run.json").unlink()
    assert names_of(load_run(run_dir)) is BUILTIN
