"""What one chart shows, as data: the frozen dataclasses every chart module shares.

Kept apart from the builders (:mod:`reportgen.chart.builders`) and the words
(:mod:`reportgen.chart.words`) so both import the shapes without importing each other.
A :class:`ChartSpec` is frozen: a builder decides every field before it constructs one,
and a later step that changes a chart (moving it to the backup, narrowing it beside its
prompt) makes a new one with :func:`dataclasses.replace`, so no chart changes under a
caller that already holds it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reportgen.chart.palette import BASELINE_COLOR, CALLOUT_COLOR
from reportgen.inputs.deck_yaml import PromptChoice
from reportgen.numbers import stats

ChartKind = Literal["bars", "curve", "sweep"]
CategoryField = Literal["condition", "metric"]
XFormat = Literal["percent", "integer", "number"]


@dataclass(frozen=True)
class Bar:
    """One bar: a category (condition or metric), optionally within a group cluster."""

    category: str
    label: str
    estimate: stats.Estimate
    color: str
    group: str | None = None


@dataclass(frozen=True)
class Point:
    x: float
    estimate: stats.Estimate


@dataclass(frozen=True)
class Series:
    """One line of a curve or sweep."""

    category: str
    label: str
    points: tuple[Point, ...]
    color: str
    group: str | None = None


@dataclass(frozen=True)
class Reference:
    """A horizontal reference line, e.g. the un-ablated baseline of a layer sweep."""

    category: str
    label: str
    estimate: stats.Estimate
    color: str = BASELINE_COLOR


@dataclass(frozen=True)
class Highlight:
    """The one thing to look at: a bar (``category``/``group``) or a point (``x``)."""

    category: str
    text: str
    x: float | None = None
    group: str | None = None


@dataclass(frozen=True)
class ChartSpec:
    """Everything needed to draw one chart and to put it on a slide."""

    chart_id: str
    experiment: str
    task: str
    metric: str
    model: str
    run_id: str
    kind: ChartKind
    title: str
    caption: str
    footnote: str
    value_kind: Literal["rate", "mean"]
    y_label: str
    bars: list[Bar] = field(default_factory=list)
    series: list[Series] = field(default_factory=list)
    references: list[Reference] = field(default_factory=list)
    highlight: Highlight | None = None
    backup: bool = False
    n_total: int = 0
    x_label: str | None = None
    x_format: XFormat = "number"
    x_names: dict[float, str] = field(default_factory=dict)
    category_field: CategoryField = "condition"
    categories: tuple[str, ...] = ()
    group: str | None = None
    prompt: PromptChoice | None = None
    callout_color: str = CALLOUT_COLOR
    size_in: tuple[float, float] | None = None
    """Drawn at this size instead of the full chart box (a chart sharing its slide with the prompt)."""
    models: tuple[str, ...] = ()
    """Every model the deck covers, when more than one: each result slide names its own."""
    model_label: str = ""
    """How slides name ``model`` (run.json ``model_label``; never an absolute path); '' = ``model``."""
    grid_label: str = ""
    """The sweep grid point the chart's run(s) stand for ('layer window 1'); '' outside a sweep."""

    @property
    def shown_model(self) -> str:
        return self.model_label or self.model

    @property
    def estimates(self) -> list[stats.Estimate]:
        out = [b.estimate for b in self.bars]
        out += [p.estimate for s in self.series for p in s.points]
        out += [r.estimate for r in self.references]
        return out
