"""The steering runner's config (YAML; unknown keys are errors).

Defaults run offline on the organism with its own harmful/harmless prompt sets. To use the
refusal_direction data, point the ``data`` paths at its JSON files, e.g.::

    model: Qwen/Qwen1.5-1.8B-Chat
    data:
      harmful_train: ../shared/datasets/refusal_direction/harmful_train.json
      harmless_train: my_harmless_train.json
      harmful_eval: ../shared/datasets/refusal_direction/jailbreakbench.json
      harmless_eval: ../shared/datasets/refusal_direction/harmless_val.json
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from experiments.core.config import Decoding, ExperimentConfig, StrictModel, check_samples
from experiments.steering.judge import JudgeConfig
from experiments.steering.scoring import REFUSAL_SUBSTRINGS, REFUSAL_TOKENS


class DataConfig(StrictModel):
    """Where prompts come from (see :func:`experiments.core.datasets.load_instructions`).

    Directions are computed on the first ``n_train`` prompts of each train set and selected
    on the next ``n_val`` (disjoint); experiments run on ``n_eval`` prompts of the eval sets.
    """

    harmful_train: str = "organism:harmful:train"
    harmless_train: str = "organism:harmless:train"
    harmful_eval: str = "organism:harmful:eval"
    harmless_eval: str = "organism:harmless:eval"
    n_train: int = Field(64, ge=1)
    n_val: int = Field(32, ge=1)
    n_eval: int = Field(32, ge=1)
    filter_train: bool = Field(
        True, description="keep only harmful prompts the model refuses and harmless ones it answers"
    )


class SelectionConfig(StrictModel):
    """How the direction is chosen among (layer, position) candidates."""

    layer: int | None = Field(None, description="pin the layer (skip the layer search)")
    position: int | None = Field(None, description="pin the position (negative, from the prompt's end)")
    positions: list[int] | None = Field(None, description="candidate positions; default: the template tail")
    kl_max: float = Field(0.1, ge=0)
    induce_min: float = 0.0
    max_layer_fraction: float = Field(0.8, gt=0, le=1, description="exclude layers in the last 20 %")

    @field_validator("positions")
    @classmethod
    def _negative(cls, v: list[int] | None) -> list[int] | None:
        if v is not None and (not v or any(p >= 0 for p in v)):
            raise ValueError("positions must be a non-empty list of negative integers (-1 = last token)")
        return v


class InterventionConfig(StrictModel):
    """How the direction is applied.

    ``ablation_mode``: ``mean`` sets the direction's component to the harmless mean
    (robust on small models, where zeroing can overshoot); ``zero`` removes it (Arditi et
    al.; identical to weight orthogonalisation). ``addition_scope``: ``prompt`` adds only on
    the prompt's positions; ``all`` also on generated tokens (Arditi et al.).
    """

    ablation_mode: Literal["zero", "mean"] = "mean"
    ablation_layers: list[int] | None = Field(None, description="layer window; default all layers")
    addition_coeff: float = 1.0
    addition_scope: Literal["all", "prompt"] = "prompt"
    addition_layer: int | None = Field(None, description="default: the direction's own layer")


class SweepConfig(StrictModel):
    """Ablation restricted to windows of consecutive layers (which layers suffice?)."""

    enabled: bool = True
    widths: list[int] = Field(default_factory=lambda: [1, 2])
    generate: bool = Field(True, description="also generate and score substrings (else first-token only)")


class CostConfig(StrictModel):
    """What ablation costs on harmless prompts: next-token KL and cross-entropy on the
    model's own baseline answers."""

    enabled: bool = True
    cross_entropy: bool = True


class ScoringConfig(StrictModel):
    refusal_substrings: list[str] = Field(default_factory=lambda: list(REFUSAL_SUBSTRINGS))
    refusal_tokens: list[str] = Field(default_factory=lambda: list(REFUSAL_TOKENS))
    judge: JudgeConfig | None = None


class SteeringConfig(ExperimentConfig, Decoding):
    """Everything that determines a steering run (hashed into run.json).

    Completions are greedy by default; with ``do_sample`` and ``samples: k`` every prompt is
    completed k times under each condition (``refusal`` rows per sample; the first-token
    ``refusal_score`` once, it does not depend on sampling).
    """

    data: DataConfig = Field(default_factory=DataConfig)
    selection: SelectionConfig = Field(default_factory=SelectionConfig)
    intervention: InterventionConfig = Field(default_factory=InterventionConfig)
    sweep: SweepConfig = Field(default_factory=SweepConfig)
    cost: CostConfig = Field(default_factory=CostConfig)
    scoring: ScoringConfig = Field(default_factory=ScoringConfig)
    random_controls: bool = Field(True, description="random direction of equal norm as a control")
    random_directions: int = Field(1, ge=1, description="how many random directions the control draws; each is "
                                   "one sample of the control (sample column), so its interval carries their spread")
    samples: int = Field(1, ge=1, description="completions per prompt and condition (needs do_sample)")
    save_orthogonalized: bool = Field(False, description="write the orthogonalised model to RUN_DIR/orthogonalized_model")

    @model_validator(mode="after")
    def _samples_are_sampled(self) -> SteeringConfig:
        check_samples(self.samples, self.do_sample)
        return self

    @model_validator(mode="after")
    def _orthogonalisation_is_zero_ablation(self) -> SteeringConfig:
        """Refuse to export a model the run did not measure.

        Orthogonalised weights equal hooked *zero* ablation only; mean ablation sets a
        per-position target (the template tail gets its own values) that no weight edit
        reproduces, so the exported model would differ from the one measured (logit
        differences up to 0.93 on the organism).
        """
        if self.save_orthogonalized and self.intervention.ablation_mode != "zero":
            raise ValueError(
                "save_orthogonalized: true needs intervention.ablation_mode: zero; orthogonalised "
                f"weights are exact for zero ablation only, not for {self.intervention.ablation_mode!r} "
                "ablation (set ablation_mode: zero, or drop save_orthogonalized)"
            )
        return self

