"""Display names and roles of a run's experiments, conditions, metrics and groups.

The runner knows its own names, so a run directory declares them: run.json's
``vocabulary`` (labels, the headline metric and condition, which conditions are controls
or baselines, the x-axis label; format in docs/results-schema.md). :func:`names_of` reads
it into :class:`Names`, which every chart builder asks instead of hard-coding runner
names. The built-in tables below fill the gaps: they name whatever a vocabulary leaves
out and everything in run directories written before runners declared one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from reportgen.rundir.reader import Run
from reportgen.rundir.schema import RUN_JSON, Problem, ResultsError

# ------------------------------------------------------------------ built-in tables (the fallback)

#: Display names: plain words on the slide instead of column values.
CONDITION_LABELS = {
    "baseline": "Baseline",
    "ablation": "Ablation",
    "random_ablation": "Random-direction ablation",
    "addition": "Addition",
    "orthogonalized": "Orthogonalised weights",
    "orthogonalised": "Orthogonalised weights",
    "forced": "Forced answer",
    "continued": "Continued reasoning",
    "mistake": "Added mistake",
    "cued": "Cued",
    "uncued": "Uncued",
    "flipped": "Attribute flipped",
    "frozen_reasoning": "Frozen reasoning",
    "paraphrased": "Paraphrased reasoning",
    "filler": "Filler tokens",
    "closed": "Whole, closed",
    "open": "Whole, left open",
    "half": "Half, left open",
}
#: Metric nouns as a sentence uses them ("Ablation drops refusal from …").
METRIC_NOUNS = {
    "refusal": "refusal",
    "refusal_score": "refusal score",
    "kl": "KL divergence",
    "cross_entropy": "cross-entropy",
    "matches_full": "agreement with the full answer",
    "correct": "accuracy",
    "switched": "switch rate",
    "changed": "decision change rate",
    "articulated": "articulation rate",
    "parse_failure": "parse failures",
    "answer_changed": "answer change rate",
    "mentioned": "mention rate",
    "aoc": "area over the early-answering curve",
    "excluded": "exclusion rate",
    "refusal_judge": "refusal (judge model)",
    "follows_frozen": "share following the frozen reasoning",
    "follows_flip": "share following the flipped attribute",
    "noticed": "share of mistakes noticed",
    "needs_reasoning": "share of items that need their reasoning",
    "admitted": "share naming the cue when asked",
}
#: Axis labels (short).
METRIC_AXIS = {
    "refusal": "Refusal",
    "refusal_score": "Refusal score (log-odds)",
    "kl": "KL divergence",
    "matches_full": "Matches full answer",
    "correct": "Accuracy",
    "switched": "Switched to cued answer",
    "changed": "Decision changed",
    "articulated": "Articulated",
    "answer_changed": "Answer changed",
    "mentioned": "Mentioned",
    "aoc": "AOC",
    "cross_entropy": "Cross-entropy (nats)",
    "follows_frozen": "Follows the frozen reasoning",
    "follows_flip": "Follows the flipped attribute",
    "noticed": "Mistake noticed",
    "needs_reasoning": "Needs its reasoning",
    "admitted": "Names the cue when asked",
}
#: Category labels when the categories are metrics.
METRIC_CATEGORY_LABELS = {
    "switched": "Switch rate",
    "changed": "Decision changes",
    "articulated": "Articulation rate\n(among switches)",
}
EXPERIMENT_LABELS = {
    "harmful": "Harmful prompts",
    "harmless": "Harmless prompts",
    "layer_sweep": "Layer-window ablation sweep",
    "early_answering": "Early answering",
    "adding_mistakes": "Adding mistakes",
    "cue": "Cue bias",
    "attribute": "Attribute counterfactuals",
    "paraphrasing": "Paraphrased reasoning",
    "filler": "Filler tokens",
    "needs_reasoning": "Items that need their reasoning",
    "early_answering_needs_reasoning": "Early answering (items that need their reasoning)",
    "frozen_ladder": "Frozen-reasoning ladder",
    "follow_up": "Asked directly",
}
#: Config keys a sweep varies, as a grid point's label names them ("layer window width 1").
CONFIG_KEY_LABELS = {
    "sweep.widths": "layer window width",
    "intervention.ablation_layers": "ablated layers",
    "intervention.ablation_mode": "ablation mode",
    "intervention.addition_coeff": "addition coefficient",
    "data.n_train": "training prompts",
    "fractions": "cut points",
}
#: Groups the runners write whose plain spelling reads badly on a slide.
GROUP_LABELS = {
    "few_shot_a": "few-shot (A)",
    "are_you_sure": "are-you-sure",
    "backdoor": "backdoor trigger",
}
#: Conditions that serve as the reference a change is measured from, by preference.
BASELINE_NAMES = ("baseline", "control", "unsteered", "uncued", "no_cue", "original", "clean", "none",
                  "continued", "flipped")
#: Names that mark a control condition (random-direction ablation): it is what a claim is
#: checked against, never the headline of an automatic chart.
CONTROL_MARKERS = ("random", "control", "shuffled", "placebo", "sham")


def humanize(name: str) -> str:
    """``random_ablation`` → ``Random ablation`` for names without a display label."""
    text = re.sub(r"[_\-]+", " ", str(name)).strip()
    return text[:1].upper() + text[1:] if text else str(name)


def group_label(name: str) -> str:
    """A group as shown on an axis or in a sentence: ``net_income`` → ``net income``."""
    return GROUP_LABELS.get(str(name), re.sub(r"_+", " ", str(name)).strip())


def condition_label(name: str) -> str:
    return CONDITION_LABELS.get(name, humanize(name))


def metric_noun(name: str) -> str:
    return METRIC_NOUNS.get(name, humanize(name).lower())


def metric_axis(name: str) -> str:
    return METRIC_AXIS.get(name, humanize(name))


def experiment_label(name: str) -> str:
    return EXPERIMENT_LABELS.get(name, humanize(name))


def is_control(condition: str) -> bool:
    """Whether a condition's name marks a control (random direction, sham): checked against, not shown off."""
    name = condition.lower()
    return any(m in name for m in CONTROL_MARKERS)


def _as_noun(label: str) -> str:
    """A display name as a sentence uses it: 'Refusal rate' → 'refusal rate', 'KL divergence' stays."""
    first = label.split(" ", 1)[0]
    return label if first[1:2].isupper() else label[:1].lower() + label[1:]


# ------------------------------------------------------------------ one run's names


@dataclass(frozen=True)
class Names:
    """A run's vocabulary, falling back to the built-in tables name by name.

    ``Names()`` (no vocabulary) answers exactly as the tables do. A vocabulary's label
    wins over the table for the name it labels; its controls are added to the names the
    control markers catch; its baselines are tried before the built-in ones.
    """

    labels: Mapping[str, str] = field(default_factory=dict)
    headline_metric: str | None = None
    headline_condition: str | None = None
    controls: tuple[str, ...] = ()
    baselines: tuple[str, ...] = ()
    x_label: str | None = None

    def condition_label(self, name: str) -> str:
        return self.labels.get(name) or condition_label(name)

    def experiment_label(self, name: str) -> str:
        return self.labels.get(name) or experiment_label(name)

    def group_label(self, name: str) -> str:
        return self.labels.get(str(name)) or group_label(name)

    def metric_noun(self, name: str) -> str:
        label = self.labels.get(name)
        return _as_noun(label) if label else metric_noun(name)

    def metric_axis(self, name: str) -> str:
        return self.labels.get(name) or metric_axis(name)

    def metric_category_label(self, name: str) -> str:
        """A metric as one category of a chart that compares metrics (switch vs articulation rate)."""
        return self.labels.get(name) or METRIC_CATEGORY_LABELS.get(name, humanize(name))

    def config_key_label(self, key: str) -> str:
        """A config key as a grid point's label names it: ``sweep.widths`` → ``layer window width``."""
        return self.labels.get(key) or CONFIG_KEY_LABELS.get(key) or group_label(key.split(".")[-1])

    def is_control(self, condition: str) -> bool:
        return condition in self.controls or is_control(condition)

    @property
    def baseline_names(self) -> tuple[str, ...]:
        """Reference conditions by preference: the vocabulary's first, then the built-in ones."""
        return tuple(dict.fromkeys((*self.baselines, *BASELINE_NAMES)))

    def baseline(self, conditions: Sequence[str]) -> str | None:
        """The reference condition among ``conditions``; without one, a control is what an effect is read against."""
        for name in self.baseline_names:
            if name in conditions:
                return name
        return next((c for c in conditions if self.is_control(c)), None)


#: The names of a run without a vocabulary: the built-in tables alone.
BUILTIN = Names()


class _Headline(BaseModel):
    model_config = ConfigDict(extra="ignore")
    metric: str | None = None
    condition: str | None = None


class _Vocabulary(BaseModel):
    """run.json ``vocabulary`` as written by the runners; keys added later are ignored, not refused."""

    model_config = ConfigDict(extra="ignore")
    task: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)
    headline: _Headline | None = None
    controls: list[str] = Field(default_factory=list)
    baselines: list[str] = Field(default_factory=list)
    x_label: str | None = None


def names_of(run: Run) -> Names:
    """The run's vocabulary from its run.json, or :data:`BUILTIN` when it declares none.

    A malformed vocabulary is a :class:`ResultsError` naming run.json and the field.
    """
    raw: Any = getattr(run.info, "vocabulary", None) if run.info is not None else None
    if raw is None:
        return BUILTIN
    if isinstance(raw, BaseModel):  # the seam may parse it into its own model
        raw = raw.model_dump()
    try:
        vocab = _Vocabulary.model_validate(raw)
    except ValidationError as exc:
        where = str(run.path / RUN_JSON)
        raise ResultsError([
            Problem(where, f"{'.'.join(['vocabulary', *map(str, e['loc'])])}: {e['msg']}") for e in exc.errors()
        ]) from None
    headline = vocab.headline or _Headline()
    return Names(labels=dict(vocab.labels), headline_metric=headline.metric, headline_condition=headline.condition,
                 controls=tuple(vocab.controls), baselines=tuple(vocab.baselines), x_label=vocab.x_label)
