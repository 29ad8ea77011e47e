"""The runner registry: one signature, declared user errors, and a vocabulary that says on the
slide exactly what the reporter's built-in tables say (they stay the fallback for older runs)."""

from __future__ import annotations

import pytest

from experiments.core.errors import ConfigError, ExperimentError
from experiments.registry import RUNNERS, get, vocabulary
from reportgen.chart import names as words
from reportgen.chart.builders.context import PRIMARY_METRICS
from reportgen.chart.names import BASELINE_NAMES, CONTROL_MARKERS


def test_every_runner_is_registered_under_its_task_name():
    assert sorted(RUNNERS) == ["bias", "steering", "truncation"]
    for name, runner in RUNNERS.items():
        assert runner.name == name == runner.vocabulary.task
        assert issubclass(ConfigError, runner.user_errors)  # a bad config is the user's, never a bug
        assert runner.config_type().model  # the defaults are a valid config


def test_unknown_runner_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown runner 'stearing'.*bias, steering, truncation"):
        get("stearing")


@pytest.mark.parametrize("task", sorted(RUNNERS))
def test_vocabulary_matches_the_reporters_fallback_tables(task):
    vocab = vocabulary(task)
    assert set(vocab) == {"task", "labels", "headline", "controls", "baselines", "x_label"}
    tables = [words.CONDITION_LABELS, words.METRIC_AXIS, words.EXPERIMENT_LABELS, words.GROUP_LABELS, words.CONFIG_KEY_LABELS,
              {m: words.humanize(words.metric_noun(m)) for m in words.METRIC_NOUNS}]
    for name, label in vocab["labels"].items():
        shown = [t[name] for t in tables if name in t]
        assert label in shown, f"{task}: '{name}' is shown as {shown}, the vocabulary says '{label}'"
    assert all(any(m in c for m in CONTROL_MARKERS) for c in vocab["controls"])
    assert all(b in BASELINE_NAMES for b in vocab["baselines"])
    if vocab["headline"]:
        assert vocab["headline"]["metric"] in PRIMARY_METRICS
        assert vocab["headline"]["condition"] not in vocab["controls"] + vocab["baselines"]


def test_the_runner_refuses_another_runners_config(tmp_path):
    with pytest.raises(TypeError, match="steering: expected a SteeringConfig, got BiasConfig"):
        RUNNERS["steering"].run(RUNNERS["bias"].config_type(), None, tmp_path / "run")
    assert not (tmp_path / "run").exists()


def test_user_errors_are_experiment_errors():
    assert all(issubclass(e, ExperimentError) for r in RUNNERS.values() for e in r.user_errors)
