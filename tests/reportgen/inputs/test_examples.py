"""The committed example run directories are valid and exactly what the generator writes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from reportgen.rundir.reader import load_run

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
RUNS = ("steering", "truncation", "bias", "aggregated")


@pytest.fixture(scope="module")
def generator():
    spec = importlib.util.spec_from_file_location("make_examples", EXAMPLES / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", RUNS)
def test_generator_reproduces_the_committed_examples(generator, tmp_path, name):
    make = getattr(generator, f"make_{name}")
    out = make(tmp_path / name)
    for file in ("results.csv", "prompts.jsonl", "run.json"):
        committed = EXAMPLES / name / file
        if committed.exists():
            assert (out / file).read_bytes() == committed.read_bytes(), f"{name}/{file} is stale: rerun make_examples.py"
    pd.testing.assert_frame_equal(pd.read_parquet(out / "results.parquet"),
                                  pd.read_parquet(EXAMPLES / name / "results.parquet"))


@pytest.mark.parametrize("name", RUNS)
def test_examples_are_valid_and_marked_synthetic(name):
    run = load_run(EXAMPLES / name)
    assert run.info is not None and run.info.model_extra.get("synthetic") is True
    assert run.run_id.startswith("example-")


def test_examples_have_the_shapes_the_reporter_handles():
    steering = load_run(EXAMPLES / "steering").results
    assert {"harmful", "harmless", "layer_sweep"} <= set(steering["experiment"])
    assert steering.loc[steering["experiment"] == "layer_sweep", "x"].nunique() > 10
    truncation = load_run(EXAMPLES / "truncation").results
    assert set(truncation["condition"]) >= {"forced", "continued", "mistake"}
    bias = load_run(EXAMPLES / "bias")
    assert {"switched", "articulated"} <= set(bias.results["metric"])
    assert {p.prompt_format for p in bias.prompts} == {"chat", "completion"}
    assert {"k", "n"} <= set(load_run(EXAMPLES / "aggregated").results.columns)


def test_benchmark_set_has_twenty_experiments(generator, tmp_path):
    runs = generator.make_benchmark_runs(tmp_path, 20)
    assert sum(load_run(r).results["experiment"].nunique() for r in runs) == 20
