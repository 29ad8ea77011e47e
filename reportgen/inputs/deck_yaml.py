"""The deck spec (``deck.yaml``): what the researcher wants said about this week's runs.

Everything is optional except the project name: without a spec, or for experiments it
does not mention, the reporter picks categories and writes takeaways from the numbers
(:mod:`reportgen.chart.spec`). The spec only overrides — which two categories to show,
the takeaway sentence, the caption, the callout, which prompt to show verbatim.

Models are pydantic with ``extra="forbid"`` so a misspelt key (``catagories:``) is an
error naming the file and the field instead of being silently ignored. Loading errors
are :class:`SpecError` (the CLI turns them into exit code 2 without a traceback).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from reportgen.rundir.strict import Strict as _Strict
from reportgen.rundir.strict import StrictYamlError, load_yaml_model


class SpecError(StrictYamlError):
    """An invalid spec. ``problems`` lists every problem as ``file: field: message``.

    Also raised when a valid spec names something the results lack (a metric, a
    condition, a group), which is only known once the runs are loaded.
    """


class PromptChoice(_Strict):
    """Which prompt to show verbatim for an experiment; unset fields match anything."""

    condition: str | None = None
    item_id: str | None = None
    group: str | None = None
    x: float | None = None


class ExperimentSpec(_Strict):
    """Overrides for one experiment's slides. Only ``experiment`` is required."""

    experiment: str = Field(min_length=1, description="experiment name as in the results table")
    run: str | None = Field(
        None, description="run id or run directory name, when several runs share an experiment name"
    )
    model: str | None = Field(None, description="model, when a run holds several")
    metric: str | None = Field(None, description="the metric the main chart shows")
    categories: list[str] | None = Field(
        None,
        description="the two categories of the main chart: conditions (baseline, ablation) "
        "or metrics (switched, articulated)",
    )
    group: str | None = Field(
        None, description="show one group (cue type, attribute) in the main chart; 'all' pools them"
    )
    highlight: str | None = Field(None, description="the category the callout arrow points at")
    takeaway: str | None = Field(None, description="the chart title; default is written from the numbers")
    caption: str | None = None
    callout: str | None = Field(None, description="the short text beside the arrow")
    prompt: PromptChoice | None = None
    compare: Literal["model", "prompt_format"] | None = Field(
        None, description="make the models (or chat vs raw-completion formats) the two categories of one chart"
    )
    backup: bool = Field(True, description="add breakdown charts to the backup section")
    skip: bool = Field(False, description="leave this experiment out of the deck")

    @field_validator("categories")
    @classmethod
    def _two_categories(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        if len(v) not in (1, 2):
            raise ValueError(
                f"a main chart shows one or two categories, got {len(v)}; "
                "the full breakdown goes to the backup slides automatically"
            )
        if len(set(v)) != len(v):
            raise ValueError("categories must differ")
        return v

    @field_validator("takeaway", "caption", "callout")
    @classmethod
    def _one_line(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            raise ValueError("must not be blank (leave it out to use the default)")
        return v.strip() if v is not None else v


class DeckSpec(_Strict):
    """The whole deck: title-slide facts, per-experiment overrides, next steps."""

    project: str = Field(min_length=1)
    author: str = ""
    week: str | None = Field(None, description="e.g. '2025-W14' or 'Week 3'")
    date: dt.date | None = Field(None, description="defaults to the day the deck is built")
    title: str | None = Field(None, description="title-slide headline; defaults to the project name")
    experiments: list[ExperimentSpec] = Field(
        default_factory=list,
        description="slide order and overrides; experiments not listed follow with defaults",
    )
    only_listed: bool = Field(False, description="leave out experiments the spec does not list")
    unlisted: Literal["backup", "main"] = Field(
        "backup", description="where experiments the spec does not list go (when it lists any)"
    )
    question: str | None = Field(None, description="the week's question (slide 2 in a first week, slide 3)")
    plan: list[str] = Field(default_factory=list, description="what was planned to answer it (first week)")
    callout_color: str = Field("#C00000", description="colour of the callout arrows and their text (#RRGGBB)")
    main_budget: int = Field(15, ge=1, description="most slides the main results section may take")
    compare: Literal["model"] | None = Field(
        None, description="compare the models on each runner's headline experiment: one chart per sweep grid "
        "point with the models as its categories (a sweep's default deck); other experiments go to the backup",
    )
    next_steps: list[str] = Field(default_factory=list)

    @field_validator("callout_color")
    @classmethod
    def _hex(cls, v: str) -> str:
        if not re.fullmatch(r"#[0-9A-Fa-f]{6}", v):
            raise ValueError(f"'{v}' is not a #RRGGBB colour")
        return v.upper()

    @field_validator("week", "project", "author", "title", mode="before")
    @classmethod
    def _as_text(cls, v: Any) -> Any:
        # YAML reads `week: 23` as an int and `week: 2025-06-02` as a date.
        return str(v) if isinstance(v, (int, float, dt.date)) and not isinstance(v, bool) else v

    def for_experiment(
        self, experiment: str, run: str | tuple[str, ...] | None = None, model: str | None = None
    ) -> ExperimentSpec | None:
        """The override for one experiment, matching ``run``/``model`` when the spec sets them.

        ``run`` may give several names for the same run (its id and its directory name).
        """
        names = (run,) if isinstance(run, str) else run
        for e in self.experiments:
            if e.experiment != experiment:
                continue
            if e.run is not None and names is not None and e.run not in names:
                continue
            if e.model is not None and model is not None and e.model != model:
                continue
            return e
        return None


def load_deck_spec(path: Path | str) -> DeckSpec:
    """Load and validate ``deck.yaml``."""
    return load_yaml_model(path, DeckSpec, error=SpecError)

