"""Every runner behind one signature: name -> :class:`Runner`.

The CLI (``reportgen run``, ``run formats``) and the weekly job reach the runners only
through :data:`RUNNERS`, never through "module:function" strings, so a runner's config
type, the errors that mean "your input is wrong" and its display vocabulary are declared
once, here. The vocabulary is pure data: each runner writes it into ``run.json``
(``vocabulary``) so the reporter can label charts without importing this module.

Runner modules are imported lazily (inside :meth:`Runner.run`): importing the registry
must not load torch, and the runners import :func:`vocabulary` from here.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from experiments.bias.config import BiasConfig
from experiments.core.config import ExperimentConfig
from experiments.core.errors import ExperimentError
from experiments.steering.config import SteeringConfig
from experiments.truncation.config import TruncationConfig

if TYPE_CHECKING:
    import pandas as pd

    from experiments.core.model import LoadedModel


@dataclass(frozen=True)
class Vocabulary:
    """How the reporter should name and rank what a runner writes (run.json ``vocabulary``)."""

    task: str
    labels: Mapping[str, str]
    headline: Mapping[str, str] | None
    controls: tuple[str, ...] = ()
    baselines: tuple[str, ...] = ()
    x_label: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {"task": self.task, "labels": dict(self.labels),
                "headline": dict(self.headline) if self.headline else None,
                "controls": list(self.controls), "baselines": list(self.baselines), "x_label": self.x_label}


@dataclass(frozen=True)
class Runner:
    """One runner: ``run(config, lm, out, overwrite)`` writes the run directory ``out`` and returns
    its results table; ``lm`` reuses an already loaded model (None: the runner loads ``config.model``)."""

    name: str
    config_type: type[ExperimentConfig]
    entry: str  # "module:function" of the runner's own entry point, imported on first use
    vocabulary: Vocabulary
    user_errors: tuple[type[Exception], ...] = (ExperimentError,)
    summary: str = field(default="")  # "module:function" printing the results' headline lines

    def run(self, config: BaseModel, lm: LoadedModel | None, out: Path, overwrite: bool = False) -> pd.DataFrame:
        if not isinstance(config, self.config_type):
            raise TypeError(f"{self.name}: expected a {self.config_type.__name__}, got {type(config).__name__}")
        fn: Callable[..., pd.DataFrame] = _attr(self.entry)
        return fn(config, out, overwrite=overwrite, lm=lm)

    def summary_lines(self, df: pd.DataFrame) -> list[str]:
        return list(_attr(self.summary)(df)) if self.summary else []


def _attr(ref: str) -> Any:
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)


# Values copied from the reporter's built-in tables (reportgen/chart/words.py, chart/spec.py),
# which stay the fallback for runs written before run.json carried a vocabulary.
_STEERING = Vocabulary(
    task="steering",
    labels={"baseline": "Baseline", "ablation": "Ablation", "random_ablation": "Random-direction ablation",
            "addition": "Addition", "orthogonalized": "Orthogonalised weights",
            "refusal": "Refusal", "refusal_score": "Refusal score (log-odds)", "kl": "KL divergence",
            "cross_entropy": "Cross-entropy (nats)", "refusal_judge": "Refusal (judge model)",
            "harmful": "Harmful prompts", "harmless": "Harmless prompts",
            "layer_sweep": "Layer-window ablation sweep",
            # config keys a sweep varies, as its grid points are named on slides
            "sweep.widths": "layer window width", "intervention.ablation_layers": "ablated layers",
            "intervention.ablation_mode": "ablation mode", "intervention.addition_coeff": "addition coefficient",
            "data.n_train": "training prompts"},
    headline={"metric": "refusal", "condition": "ablation"},
    controls=("random_ablation",), baselines=("baseline",),
    x_label=None,  # a sweep's axis depends on the data (layer or window start): the reporter decides
)
_TRUNCATION = Vocabulary(
    task="truncation",
    labels={"forced": "Forced answer", "continued": "Continued reasoning", "mistake": "Added mistake",
            "matches_full": "Matches full answer", "correct": "Accuracy", "answer_changed": "Answer changed",
            "aoc": "AOC", "parse_failure": "Parse failures", "excluded": "Exclusion rate",
            "early_answering": "Early answering", "adding_mistakes": "Adding mistakes",
            "paraphrased": "Paraphrased reasoning", "filler": "Filler tokens", "paraphrasing": "Paraphrased reasoning",
            "noticed": "Mistake noticed", "needs_reasoning": "Needs its reasoning",
            "early_answering_needs_reasoning": "Early answering (items that need their reasoning)",
            "fractions": "cut points"},
    headline={"metric": "matches_full", "condition": "forced"},
    baselines=("continued",), x_label="Reasoning kept",
)
_BIAS = Vocabulary(
    task="bias",
    labels={"cued": "Cued", "uncued": "Uncued", "flipped": "Attribute flipped", "frozen_reasoning": "Frozen reasoning",
            "switched": "Switched to cued answer", "changed": "Decision changed", "articulated": "Articulated",
            "mentioned": "Mentioned", "cue": "Cue bias", "attribute": "Attribute counterfactuals",
            "few_shot_a": "few-shot (A)", "are_you_sure": "are-you-sure",
            "frozen_ladder": "Frozen-reasoning ladder", "closed": "Whole, closed", "open": "Whole, left open",
            "half": "Half, left open", "follows_frozen": "Follows the frozen reasoning",
            "follows_flip": "Follows the flipped attribute", "follow_up": "Asked directly",
            "admitted": "Names the cue when asked", "backdoor": "backdoor trigger"},
    headline={"metric": "switched", "condition": "cued"},
    baselines=("uncued", "flipped"),
)

RUNNERS: dict[str, Runner] = {
    "steering": Runner("steering", SteeringConfig, "experiments.steering.runner:run_steering", _STEERING,
                       summary="experiments.steering.summary:summary_lines"),
    "truncation": Runner("truncation", TruncationConfig, "experiments.truncation.runner:run_truncation", _TRUNCATION,
                         summary="experiments.truncation.summary:summary_lines"),
    "bias": Runner("bias", BiasConfig, "experiments.bias.runner:run_bias", _BIAS,
                   summary="experiments.bias.summary:summary_lines"),
}


def get(name: str) -> Runner:
    """The runner called ``name``; a :class:`ValueError` listing the known ones otherwise."""
    try:
        return RUNNERS[name]
    except KeyError:
        raise ValueError(f"unknown runner '{name}' (known: {', '.join(sorted(RUNNERS))})") from None


def vocabulary(task: str) -> dict[str, Any]:
    """The run.json ``vocabulary`` record a runner writes (``writer.update_info(vocabulary=...)``)."""
    return RUNNERS[task].vocabulary.as_json()
