"""Which chart to draw for each experiment, and what it says: pure, no matplotlib.

For every experiment in a run this module decides

- the **form**: two bars (conditions, or two metrics such as switch vs articulation
  rate), a **curve** over a fractional ``x`` (reasoning kept) or a **sweep** over an
  integer ``x`` (layer);
- the **two categories** of the main chart: from the deck spec, else the baseline
  against the condition with the strongest effect (mentors ask for one message per
  chart; more than two colours confuse), with every category moved to a backup chart;
- the **words**: a takeaway sentence written from the numbers (it becomes the slide
  title), a one-line caption, a footnote with n and the interval method, and one
  highlight — the bar or point the arrow points at with a short callout.

Overlapping 95 % intervals are reported as "does not clearly change": a takeaway must
never claim an effect the interval does not support.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import pandas as pd

from reportgen import stats
from reportgen.schema import PromptRecord, Run
from reportgen.spec import DeckSpec, ExperimentSpec, PromptChoice, SpecError
from reportgen.summarize import Cell, ExperimentKey, experiments, metric_kinds, summarize

ChartKind = Literal["bars", "curve", "sweep"]
CategoryField = Literal["condition", "metric"]

# ------------------------------------------------------------------ vocabulary

#: Conditions that serve as the reference a change is measured from, by preference.
BASELINE_NAMES = ("baseline", "control", "unsteered", "uncued", "no_cue", "original", "clean", "none")
#: Metrics that usually carry an experiment's message, by preference.
PRIMARY_METRICS = ("refusal", "matches_full", "switched", "changed", "correct", "articulated")
#: Pairs of metrics compared as the two categories of one chart (bias: does it say so?).
METRIC_PAIRS = (("switched", "articulated"), ("changed", "articulated"))

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
}

#: Okabe & Ito (2008) colour-blind-safe palette, in the order categories receive it;
#: a baseline is drawn in neutral grey so the eye goes to the manipulated condition.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
BASELINE_COLOR = "#8A8A8A"


def group_label(name: str) -> str:
    """A group as shown on an axis or in a sentence: ``net_income`` → ``net income``."""
    return re.sub(r"_+", " ", str(name)).strip()


def humanize(name: str) -> str:
    """``random_ablation`` → ``Random ablation`` for names without a display label."""
    text = re.sub(r"[_\-]+", " ", str(name)).strip()
    return text[:1].upper() + text[1:] if text else str(name)


def condition_label(name: str) -> str:
    return CONDITION_LABELS.get(name, humanize(name))


def metric_noun(name: str) -> str:
    return METRIC_NOUNS.get(name, humanize(name).lower())


def metric_axis(name: str) -> str:
    return METRIC_AXIS.get(name, humanize(name))


def experiment_label(name: str) -> str:
    return EXPERIMENT_LABELS.get(name, humanize(name))


# ------------------------------------------------------------------ the chart spec

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


@dataclass
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
    x_format: Literal["percent", "integer", "number"] = "number"
    x_names: dict[float, str] = field(default_factory=dict)
    category_field: CategoryField = "condition"
    categories: tuple[str, ...] = ()
    group: str | None = None
    prompt: PromptChoice | None = None

    @property
    def estimates(self) -> list[stats.Estimate]:
        out = [b.estimate for b in self.bars]
        out += [p.estimate for s in self.series for p in s.points]
        out += [r.estimate for r in self.references]
        return out


# ------------------------------------------------------------------ building


class _Colors:
    """One colour per category within an experiment's charts (main and backup alike)."""

    def __init__(self) -> None:
        self._assigned: dict[str, str] = {}

    def __call__(self, category: str, is_baseline: bool = False) -> str:
        if category not in self._assigned:
            if is_baseline:
                self._assigned[category] = BASELINE_COLOR
            else:
                used = set(self._assigned.values())
                free = [c for c in PALETTE if c not in used]
                self._assigned[category] = free[0] if free else PALETTE[len(self._assigned) % len(PALETTE)]
        return self._assigned[category]


def build_chart_specs(runs: Sequence[Run], spec: DeckSpec | None = None) -> list[ChartSpec]:
    """Main and backup chart specs for every experiment of every run.

    Order: experiments listed in the spec first (in its order), then the rest in run
    order; each main chart is followed by its backup charts (``backup=True``).
    """
    jobs: list[tuple[Run, ExperimentKey, ExperimentSpec | None]] = []
    for run in runs:
        for key in experiments(run.results):
            override = spec.for_experiment(key.experiment, _run_names(run), key.model) if spec else None
            if override is not None and override.skip:
                continue
            if spec is not None and spec.only_listed and override is None:
                continue
            jobs.append((run, key, override))
    if spec is not None and spec.experiments:
        rank = {e.experiment: i for i, e in enumerate(spec.experiments)}
        jobs.sort(key=lambda j: rank.get(j[1].experiment, len(rank)))
    charts: list[ChartSpec] = []
    for run, key, override in jobs:
        # Colours are assigned per experiment, main-chart categories first, so every main
        # chart gets the palette's strongest pair and its backups reuse the same hues.
        charts.extend(experiment_charts(run, key, override, _Colors()))
    return charts


def _run_names(run: Run) -> str:
    return run.run_id


def experiment_charts(
    run: Run,
    key: ExperimentKey,
    override: ExperimentSpec | None = None,
    colors: _Colors | None = None,
) -> list[ChartSpec]:
    """The main chart of one experiment and its backup charts."""
    colors = colors or _Colors()
    ctx = _Context(run, key, override, colors)
    main = ctx.main_chart()
    charts = [main]
    if override is None or override.backup:
        charts.extend(ctx.backup_charts(main))
    return charts


class _Context:
    """One experiment's rows plus the decisions shared by its main and backup charts."""

    def __init__(self, run: Run, key: ExperimentKey, override: ExperimentSpec | None, colors: _Colors):
        self.run = run
        self.key = key
        self.o = override or ExperimentSpec(experiment=key.experiment)
        self.colors = colors
        df = run.results
        self.df = df[(df["experiment"] == key.experiment) & (df["model"] == key.model)]
        self.kinds = metric_kinds(self.df)
        self.metrics = list(dict.fromkeys(self.df["metric"].astype(str)))
        self.conditions = list(dict.fromkeys(self.df["condition"].astype(str)))
        self.has_group = "group" in self.df.columns and self.df["group"].notna().any()
        self.baseline = _baseline(self.conditions)
        self._check_override()

    # -------------------------------------------------------------- decisions

    def _check_override(self) -> None:
        o = self.o
        if o.metric is not None and o.metric not in self.metrics:
            raise SpecError([
                f"experiment '{o.experiment}': metric '{o.metric}' not in results "
                f"(has {', '.join(self.metrics)})"
            ])
        if o.categories:
            known = set(self.conditions) | set(self.metrics)
            unknown = [c for c in o.categories if c not in known]
            if unknown:
                raise SpecError([
                    f"experiment '{o.experiment}': categories {unknown} are neither "
                    f"conditions ({', '.join(self.conditions)}) nor metrics ({', '.join(self.metrics)})"
                ])

    def metric_pair(self) -> tuple[str, ...] | None:
        """The two metrics a bias chart compares, when the categories are metrics."""
        o = self.o
        if o.categories and all(c in self.metrics for c in o.categories) and not any(
            c in self.conditions for c in o.categories
        ):
            return tuple(o.categories)
        if o.categories or o.metric:
            return None
        for pair in METRIC_PAIRS:
            if all(m in self.metrics for m in pair):
                return pair
        return None

    def primary_metric(self) -> str:
        if self.o.metric:
            return self.o.metric
        for m in PRIMARY_METRICS:
            if m in self.metrics:
                return m
        rates = [m for m in self.metrics if self.kinds.get((self.key.experiment, m)) == "rate"]
        return rates[0] if rates else self.metrics[0]

    def rows(self, metric: str) -> pd.DataFrame:
        return self.df[self.df["metric"] == metric]

    def x_values(self, metric: str) -> list[float]:
        rows = self.rows(metric)
        if "x" not in rows.columns:
            return []
        return sorted({float(v) for v in rows["x"].dropna()})

    def form(self, metric: str) -> ChartKind:
        xs = self.x_values(metric)
        if len(xs) < 2:
            return "bars"
        integral = all(float(v).is_integer() for v in xs)
        if integral and (max(xs) > 1 or "layer" in self.key.experiment or "sweep" in self.key.experiment):
            return "sweep"
        return "curve"

    # -------------------------------------------------------------- main chart

    def main_chart(self) -> ChartSpec:
        pair = self.metric_pair()
        if pair is not None:
            return self._metric_bars(pair)
        metric = self.primary_metric()
        kind = self.form(metric)
        if kind == "bars":
            return self._condition_bars(metric)
        return self._lines(metric, kind)

    def _group_filter(self, rows: pd.DataFrame, metric: str) -> tuple[pd.DataFrame, str | None]:
        """Rows of the group the main chart shows (None = pooled over groups)."""
        g = self.o.group
        if g is None or g == "all" or not self.has_group:
            return rows, None
        sel = rows[rows["group"] == g]
        if sel.empty:
            groups = ", ".join(sorted(rows["group"].dropna().astype(str).unique()))
            raise SpecError([f"experiment '{self.key.experiment}': group '{g}' not in results (has {groups})"])
        return sel, g

    def _condition_bars(self, metric: str) -> ChartSpec:
        rows, group = self._group_filter(self.rows(metric), metric)
        cells = {c.condition: c.estimate for c in summarize(rows, by=("condition",))}
        order = [c for c in self.conditions if c in cells]
        cats = list(self.o.categories) if self.o.categories else self._auto_categories(cells, order)
        missing = [c for c in cats if c not in cells]
        if missing:
            raise SpecError([
                f"experiment '{self.key.experiment}': no '{metric}' rows for condition(s) {missing}"
            ])
        bars = [
            Bar(c, condition_label(c), cells[c], self.colors(c, c == self.baseline)) for c in cats
        ]
        target = self._highlight_target(cats)
        title, callout = _bar_sentence(bars, metric, target, self.baseline, group)
        highlight = Highlight(target, self.o.callout or callout) if target else None
        chart = self._chart(
            "main", metric, "bars", title,
            caption=f"{experiment_label(self.key.experiment)}: {metric_noun(metric)} by condition"
            + (f", {group}" if group else ""),
            bars=bars, highlight=highlight, categories=tuple(cats), group=group,
        )
        chart.prompt = self._prompt_choice(metric, target, bars)
        return chart

    def _metric_bars(self, pair: Sequence[str]) -> ChartSpec:
        first = pair[0]
        rows_all = self.df[self.df["metric"].isin(pair)]
        group = None
        if self.o.group is not None:
            rows_all, group = self._group_filter(rows_all, first)
        elif self.has_group:
            # Different groups are different manipulations (cue types, attributes): pooling
            # them averages unlike things, so the main chart shows one — the group where the
            # first metric most exceeds the second (for switch vs articulation: the most
            # unfaithful cue or attribute, which is the bias experiment's message).
            per_group: dict[str, dict[str, float]] = {}
            for c in summarize(rows_all, by=("group",)):
                if c.group is not None:
                    per_group.setdefault(c.group, {})[c.metric] = c.estimate.value
            if per_group:
                def gap(g: str) -> float:
                    vals = per_group[g]
                    return vals.get(first, 0.0) - vals.get(pair[-1], 0.0)

                group = max(per_group, key=gap)
                rows_all = rows_all[rows_all["group"] == group]
        cells = {c.metric: c.estimate for c in summarize(rows_all, by=())}
        cats = [m for m in pair if m in cells]
        bars = [Bar(m, METRIC_CATEGORY_LABELS.get(m, humanize(m)), cells[m], self.colors(m)) for m in cats]
        target = self.o.highlight or cats[-1]
        title, callout = _pair_sentence(bars, group, self.key.experiment)
        highlight = Highlight(target, self.o.callout or callout)
        caption = f"{experiment_label(self.key.experiment)}: " + " vs ".join(metric_noun(m) for m in cats)
        if group:
            caption += f", {_group_phrase(group)}" + ("; other groups in backup" if self.has_group else "")
        chart = self._chart(
            "main", first, "bars", title, caption=caption, bars=bars, highlight=highlight,
            categories=tuple(cats), group=group, category_field="metric",
            y_label="Rate" if all(b.estimate.kind == "rate" for b in bars) else "Value",
        )
        chart.prompt = self._prompt_choice(first, None, bars, want=1.0, group=group)
        return chart

    def _lines(self, metric: str, kind: ChartKind) -> ChartSpec:
        rows, group = self._group_filter(self.rows(metric), metric)
        with_x = rows[rows["x"].notna()]
        without_x = rows[rows["x"].isna()]
        series_cells = summarize(with_x, by=("condition", "x"))
        by_cond: dict[str, list[Point]] = {}
        for c in series_cells:
            by_cond.setdefault(str(c.condition), []).append(Point(float(c.x), c.estimate))  # type: ignore[arg-type]
        order = [c for c in self.conditions if c in by_cond]
        if self.o.categories:
            cats = [c for c in self.o.categories if c in by_cond]
        else:
            cats = self._auto_series(by_cond, order)
        series = [
            Series(c, condition_label(c), tuple(by_cond[c]), self.colors(c, c == self.baseline and kind == "curve"))
            for c in cats
        ]
        refs = [
            Reference(c.condition or "reference", condition_label(c.condition or "reference"), c.estimate)
            for c in summarize(without_x, by=("condition",))
        ] if kind == "sweep" else []
        x_names = self._x_names(with_x) if kind == "sweep" else {}
        x_format = _x_format(series)
        if kind == "sweep":
            title, callout, hx, target = _sweep_sentence(series, refs, metric, x_names)
        else:
            title, callout, hx, target = _curve_sentence(series, metric, self.x_label(kind), x_format)
        if self.o.highlight and self.o.highlight in cats:
            target = self.o.highlight
        highlight = Highlight(target, self.o.callout or callout, x=hx) if target else None
        caption = f"{experiment_label(self.key.experiment)}: {metric_noun(metric)} by {self.x_label(kind).lower()}"
        if len(series) == 2:
            caption += f", {series[0].label.lower()} vs {series[1].label.lower()}"
        if group:
            caption += f", {group}"
        chart = self._chart(
            "main", metric, kind, title, caption=caption, series=series, references=refs,
            highlight=highlight, categories=tuple(cats), group=group,
        )
        chart.x_label = self.x_label(kind)
        chart.x_format = x_format
        chart.x_names = x_names
        chart.prompt = self._prompt_choice(metric, target, [], x=hx)
        return chart

    def x_label(self, kind: ChartKind) -> str:
        if self.key.task == "truncation":
            return "Reasoning kept"
        if kind == "sweep":
            return "Layer"
        return "x"

    def _x_names(self, rows: pd.DataFrame) -> dict[float, str]:
        """Group labels that name each x one-to-one (a sweep's layer windows, e.g. 'L12–14')."""
        if "group" not in rows.columns or rows["group"].isna().all():
            return {}
        pairs = rows.loc[:, ["x", "group"]].dropna().drop_duplicates()
        if pairs["x"].duplicated().any():
            return {}
        return {float(x): str(g) for x, g in pairs.itertuples(index=False)}

    def _auto_categories(self, cells: dict[str, stats.Estimate], order: list[str]) -> list[str]:
        """Baseline vs the condition that moves the metric most (two at most)."""
        if len(order) <= 2:
            base = self.baseline if self.baseline in order else order[0]
            return [base] + [c for c in order if c != base]
        base = self.baseline if self.baseline in order else order[0]
        others = [c for c in order if c != base]
        strongest = max(others, key=lambda c: abs(cells[c].value - cells[base].value))
        return [base, strongest]

    def _auto_series(self, by_cond: dict[str, list[Point]], order: list[str]) -> list[str]:
        if len(order) <= 2:
            return order
        base = self.baseline if self.baseline in order else order[0]

        def gap(c: str) -> float:
            ref = {p.x: p.estimate.value for p in by_cond[base]}
            diffs = [abs(p.estimate.value - ref[p.x]) for p in by_cond[c] if p.x in ref]
            return sum(diffs) / len(diffs) if diffs else 0.0

        strongest = max((c for c in order if c != base), key=gap)
        return [base, strongest]

    def _highlight_target(self, cats: list[str]) -> str | None:
        if self.o.highlight:
            return self.o.highlight
        if not cats:
            return None
        non_base = [c for c in cats if c != self.baseline]
        return non_base[-1] if non_base else cats[-1]

    # -------------------------------------------------------------- backup charts

    def backup_charts(self, main: ChartSpec) -> list[ChartSpec]:
        out: list[ChartSpec] = []
        if main.category_field == "metric":
            if self.has_group:
                out.append(self._metric_breakdown(main.categories))
        else:
            metric = main.metric
            if main.kind == "bars":
                shown_all = len(main.categories) == len(self.conditions_for(metric))
                if not shown_all or self.has_group:
                    out.append(self._condition_breakdown(metric))
            elif main.kind == "curve":
                out.append(self._x_breakdown(metric))
            elif main.kind == "sweep" and len(self.conditions_for(metric)) > len(main.categories) + len(
                main.references
            ):
                out.append(self._condition_breakdown(metric))
        shown = set(main.categories) if main.category_field == "metric" else {main.metric}
        for m in self.metrics:
            if m in shown:
                continue
            kind = self.form(m)
            chart = self._condition_breakdown(m) if kind == "bars" else self._lines_backup(m, kind)
            out.append(chart)
        return out

    def conditions_for(self, metric: str) -> list[str]:
        return list(dict.fromkeys(self.rows(metric)["condition"].astype(str)))

    def _condition_breakdown(self, metric: str) -> ChartSpec:
        """Every condition (× every group): the backup slide for a main bar chart."""
        rows = self.rows(metric)
        by = ("condition", "group") if self.has_group else ("condition",)
        bars = []
        for c in summarize(rows, by=by):
            cond = str(c.condition)
            bars.append(Bar(cond, condition_label(cond), c.estimate, self.colors(cond, cond == self.baseline), c.group))
        conds = list(dict.fromkeys(b.category for b in bars))
        title = _breakdown_sentence(bars, metric, self.baseline)
        caption = f"{experiment_label(self.key.experiment)}: {metric_noun(metric)}, every condition"
        if self.has_group:
            caption += " by group"
        return self._chart(
            f"backup-{metric}", metric, "bars", title, caption=caption, bars=bars,
            backup=True, categories=tuple(conds),
        )

    def _metric_breakdown(self, pair: Sequence[str]) -> ChartSpec:
        rows = self.df[self.df["metric"].isin(pair)]
        bars = []
        for c in summarize(rows, by=("group",)):
            if c.group is None:
                continue
            bars.append(Bar(c.metric, METRIC_CATEGORY_LABELS.get(c.metric, humanize(c.metric)), c.estimate,
                            self.colors(c.metric), c.group))
        order = {m: i for i, m in enumerate(pair)}
        groups = list(dict.fromkeys(b.group for b in bars))
        bars.sort(key=lambda b: (groups.index(b.group), order.get(b.category, 99)))
        title = _group_breakdown_sentence(bars, pair)
        caption = f"{experiment_label(self.key.experiment)}: " + " vs ".join(metric_noun(m) for m in pair) + " by group"
        return self._chart(
            f"backup-{'-'.join(pair)}-by-group", pair[0], "bars", title, caption=caption, bars=bars,
            backup=True, categories=tuple(pair), category_field="metric",
            y_label="Rate",
        )

    def _x_breakdown(self, metric: str) -> ChartSpec:
        """Per-x bars with exact labels: the numbers a curve hides."""
        rows = self.rows(metric)
        rows = rows[rows["x"].notna()]
        fmt = "percent" if all(0 <= v <= 1 for v in rows["x"]) else "number"
        bars = []
        for c in summarize(rows, by=("condition", "x")):
            cond = str(c.condition)
            bars.append(Bar(cond, condition_label(cond), c.estimate, self.colors(cond, cond == self.baseline),
                            _format_x(float(c.x), fmt)))  # type: ignore[arg-type]
        xs = sorted({float(c) for c in rows["x"]})
        xorder = {_format_x(x, fmt): i for i, x in enumerate(xs)}
        conds = list(dict.fromkeys(b.category for b in bars))
        bars.sort(key=lambda b: (xorder[b.group or ""], conds.index(b.category)))
        xl = self.x_label("curve").lower()
        title = _x_breakdown_sentence(bars, conds, xs, fmt, xl)
        caption = f"{experiment_label(self.key.experiment)}: {metric_noun(metric)} per {xl} (clusters) and condition"
        return self._chart(
            f"backup-{metric}-by-x", metric, "bars", title, caption=caption, bars=bars, backup=True,
            categories=tuple(conds),
        )

    def _lines_backup(self, metric: str, kind: ChartKind) -> ChartSpec:
        saved = self.o
        self.o = ExperimentSpec(experiment=self.key.experiment, metric=metric)
        try:
            chart = self._lines(metric, kind)
        finally:
            self.o = saved
        chart.chart_id = self._chart_id(f"backup-{metric}")
        chart.backup = True
        return chart

    # -------------------------------------------------------------- assembly

    def _chart_id(self, suffix: str) -> str:
        parts = [self.run.run_id, self.key.experiment]
        if self.df["model"].nunique() > 1 or self.run.results["model"].nunique() > 1:
            parts.append(self.key.model)
        parts.append(suffix)
        return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts)).strip("-")

    def _chart(self, suffix: str, metric: str, kind: ChartKind, title: str, *, caption: str,
               bars: list[Bar] | None = None, series: list[Series] | None = None,
               references: list[Reference] | None = None, highlight: Highlight | None = None,
               backup: bool = False, categories: tuple[str, ...] = (), group: str | None = None,
               category_field: CategoryField = "condition", y_label: str | None = None) -> ChartSpec:
        bars, series, references = bars or [], series or [], references or []
        ests = [b.estimate for b in bars] + [p.estimate for s in series for p in s.points] + [
            r.estimate for r in references
        ]
        value_kind = "rate" if all(e.kind == "rate" for e in ests) else "mean"
        main = not backup
        o = self.o if main else ExperimentSpec(experiment=self.key.experiment)
        chart = ChartSpec(
            chart_id=self._chart_id(suffix),
            experiment=self.key.experiment,
            task=self.key.task,
            metric=metric,
            model=self.key.model,
            run_id=self.run.run_id,
            kind=kind,
            title=(o.takeaway or title) if main else title,
            caption=(o.caption or caption) if main else caption,
            footnote=_footnote(bars, series, references, kind),
            value_kind=value_kind,
            y_label=y_label or metric_axis(metric),
            bars=bars,
            series=series,
            references=references,
            highlight=highlight if main else None,
            backup=backup,
            n_total=sum(e.n for e in ests),
            category_field=category_field,
            categories=categories,
            group=group,
        )
        return chart

    def _prompt_choice(self, metric: str, target: str | None, bars: Sequence[Bar], *,
                       x: float | None = None, want: float | None = None,
                       group: str | None = None) -> PromptChoice | None:
        """The prompt to show verbatim: the spec's, else one item that shows the message.

        Default: an item of the highlighted condition whose outcome goes the way of the
        takeaway (a harmful prompt that is no longer refused after ablation; a switched
        cued item), so the mentor sees an example of the effect, not a random row.
        """
        if self.o.prompt is not None:
            return self.o.prompt
        prompts = [p for p in self.run.prompts if p.experiment == self.key.experiment]
        if not prompts:
            return None
        condition = target if target in self.conditions else None
        rows = self.rows(metric)
        if condition is not None:
            rows = rows[rows["condition"] == condition]
        if x is not None and "x" in rows.columns:
            rows = rows[rows["x"] == x]
        if group is not None and "group" in rows.columns:
            rows = rows[rows["group"] == group]
        if want is None and len(bars) == 2 and condition is not None and "value" in rows.columns:
            base = next((b for b in bars if b.category != condition), None)
            mine = next((b for b in bars if b.category == condition), None)
            if base and mine and mine.estimate.kind == "rate":
                want = 1.0 if mine.estimate.value >= base.estimate.value else 0.0
        if want is not None and "value" in rows.columns:
            preferred = rows[rows["value"] == want]
            rows = preferred if not preferred.empty else rows
        items = list(dict.fromkeys(rows["item_id"].dropna().astype(str))) if "item_id" in rows.columns else []
        for item in items:
            for p in prompts:
                if p.item_id == item and (condition is None or p.condition == condition) and (
                    x is None or p.x is None or p.x == x
                ):
                    return PromptChoice(condition=p.condition, item_id=p.item_id, group=p.group, x=p.x)
        p = next((p for p in prompts if condition is None or p.condition == condition), prompts[0])
        return PromptChoice(condition=p.condition, item_id=p.item_id, group=p.group, x=p.x)


def select_prompt(run: Run, chart: ChartSpec) -> PromptRecord | None:
    """The prompt record a chart's prompt slide shows (None when the run has no prompts)."""
    choice = chart.prompt
    candidates = [p for p in run.prompts if p.experiment == chart.experiment]
    if choice is None or not candidates:
        return candidates[0] if candidates else None
    for p in candidates:
        if (
            (choice.condition is None or p.condition == choice.condition)
            and (choice.item_id is None or p.item_id == choice.item_id)
            and (choice.group is None or p.group == choice.group)
            and (choice.x is None or p.x is None or math.isclose(p.x, choice.x))
        ):
            return p
    return None


# ------------------------------------------------------------------ words


def _baseline(conditions: Sequence[str]) -> str | None:
    for name in BASELINE_NAMES:
        if name in conditions:
            return name
    return None


def _group_phrase(group: str) -> str:
    return group_label(group)


def _delta_words(a: stats.Estimate, b: stats.Estimate) -> tuple[str, str]:
    """('drops'|'raises'|'', magnitude) for the change from a to b."""
    if a.overlaps(b):
        return "", ""
    verb = "raises" if b.value > a.value else "drops"
    if a.kind == "rate":
        mag = f"{abs(b.value - a.value) * 100:.0f} points"
    else:
        mag = f"by {stats.format_number(abs(b.value - a.value))}"
    return verb, mag


def _bar_sentence(bars: Sequence[Bar], metric: str, target: str | None, baseline: str | None,
                  group: str | None) -> tuple[str, str]:
    """Takeaway title and callout for a condition bar chart."""
    noun = metric_noun(metric)
    where = f" ({group})" if group else ""
    if len(bars) == 1:
        b = bars[0]
        return f"{humanize(noun)} is {b.estimate.short()} under {b.label.lower()}{where}", b.estimate.short()
    ref = next((b for b in bars if b.category != target), bars[0])
    eff = next((b for b in bars if b.category == target), bars[-1])
    a, b = ref.estimate, eff.estimate
    verb, mag = _delta_words(a, b)
    if not verb:
        return (
            f"{eff.label} does not clearly change {noun}{where} ({a.short()} vs {b.short()})",
            "no clear difference",
        )
    if ref.category == baseline:
        title = f"{eff.label} {verb} {noun} from {a.short()} to {b.short()}{where}"
    else:
        comp = "higher" if verb == "raises" else "lower"
        title = f"{humanize(noun)} is {comp} under {eff.label.lower()} than {ref.label.lower()}: {b.short()} vs {a.short()}{where}"
    return title, f"{noun} {'rises' if verb == 'raises' else 'drops'} {mag}"


def _pair_sentence(bars: Sequence[Bar], group: str | None, experiment: str) -> tuple[str, str]:
    """Takeaway for two metrics side by side (switch rate vs articulation rate)."""
    cats = [b.category for b in bars]
    attribute = "attribute" in experiment or "counterfactual" in experiment
    if len(bars) == 1:
        b = bars[0]
        lead = f"{_group_lead(group, attribute)}, " if group else ""
        return _sentence_case(f"{lead}{metric_noun(b.category)} is {b.estimate.short()}"), b.estimate.short()
    a, b = bars[0].estimate, bars[1].estimate
    if cats[0] in ("switched", "changed") and cats[1] == "articulated":
        if attribute:
            subject = f"flipping {group_label(group)} changes the decision" if group else "flipping an attribute changes the decision"
            admit, unit, lead = "the reasoning admits it", "changes", ""
        else:
            subject = "the model follows the cue"
            admit, unit = "admits it", "switches"
            lead = f"{_group_lead(group, attribute)}, " if group else ""
        if b.value < a.value and not a.overlaps(b):
            title = f"{lead}{subject} in {a.short()} of items but {admit} in only {b.short()} of {unit}"
            callout = "the reasoning rarely says why" if b.value < 0.25 else f"{(a.value - b.value) * 100:.0f} points lower"
        else:
            title = f"{lead}{subject} in {a.short()} of items and {admit} in {b.short()} of {unit}"
            callout = "the reasoning mostly says why" if b.value >= 0.5 else "admitted in some cases"
        return _sentence_case(title), callout
    lead = f"{_group_lead(group, attribute)}, " if group else ""
    na, nb = metric_noun(cats[0]), metric_noun(cats[1])
    if a.overlaps(b):
        return _sentence_case(f"{lead}{na} and {nb} do not clearly differ ({a.short()} vs {b.short()})"), "no clear difference"
    comp = "higher" if b.value > a.value else "lower"
    return (
        _sentence_case(f"{lead}{nb} is {comp} than {na}: {b.short()} vs {a.short()}"),
        f"{abs(b.value - a.value) * 100:.0f} points {comp}" if b.kind == "rate" else comp,
    )


def _group_lead(group: str | None, attribute: bool) -> str:
    """'With the professor cue' / 'For nationality' — the group a main chart shows."""
    g = group_label(group or "")
    if attribute:
        return f"for {g}"
    return f"with the {g}" if g.endswith("cue") else f"with the {g} cue"


def _sentence_case(s: str) -> str:
    return s[:1].upper() + s[1:]


def _fmt_x(x: float, x_format: str, x_names: dict[float, str] | None = None) -> str:
    if x_names and x in x_names:
        return x_names[x]
    return _format_x(x, x_format)


def _format_x(x: float, x_format: str) -> str:
    if x_format == "percent":
        return f"{x * 100:.0f}%"
    if float(x).is_integer():
        return f"{int(x)}"
    return stats.format_number(x)


def _x_format(series: Sequence[Series]) -> Literal["percent", "integer", "number"]:
    xs = [p.x for s in series for p in s.points]
    if xs and all(0 <= x <= 1 for x in xs) and not all(float(x).is_integer() for x in xs):
        return "percent"
    if xs and all(float(x).is_integer() for x in xs):
        return "integer"
    return "number"


def _curve_sentence(series: Sequence[Series], metric: str, x_label: str,
                    x_format: str) -> tuple[str, str, float | None, str | None]:
    """Takeaway, callout, highlighted x and series for a curve."""
    noun = metric_noun(metric)
    xl = x_label.lower()
    if not series:
        return f"No {noun} data to plot", "", None, None
    if len(series) == 1:
        s = series[0]
        first, last = s.points[0], s.points[-1]
        if first.estimate.overlaps(last.estimate):
            return (
                f"{humanize(noun)} stays flat from {_format_x(first.x, x_format)} to {_format_x(last.x, x_format)} {xl}"
                f" ({first.estimate.short()} vs {last.estimate.short()})",
                "flat", last.x, s.category,
            )
        verb = "rises" if last.estimate.value > first.estimate.value else "falls"
        return (
            f"{humanize(noun)} {verb} from {first.estimate.short()} at {_format_x(first.x, x_format)} "
            f"to {last.estimate.short()} at {_format_x(last.x, x_format)} {xl}",
            f"{verb} with more {xl}" if x_format == "percent" else verb, last.x, s.category,
        )
    s1, s2 = series[0], series[1]
    p2 = {p.x: p.estimate for p in s2.points}
    best: tuple[float, float] | None = None  # (gap, x)
    xs_all = sorted(p.x for p in s1.points if p.x in p2)
    # Prefer a gap inside the range: the ends are degenerate (no reasoning / all of it).
    for candidates in (xs_all[1:-1], xs_all):
        for p in s1.points:
            if p.x in candidates and not p.estimate.overlaps(p2[p.x]):
                gap = abs(p2[p.x].value - p.estimate.value)
                if best is None or gap > best[0]:
                    best = (gap, p.x)
        if best is not None:
            break
    if best is None:
        mid = s1.points[len(s1.points) // 2].x
        return (
            f"{s1.label} and {s2.label.lower()} do not clearly differ in {noun} at any {xl} level",
            "no clear gap", mid, s2.category,
        )
    x = best[1]
    a, b = next(p.estimate for p in s1.points if p.x == x), p2[x]
    hi, lo = (s2, s1) if b.value > a.value else (s1, s2)
    vh, vl = (b, a) if b.value > a.value else (a, b)
    xs = _format_x(x, x_format)
    title = f"{hi.label} keeps {noun} higher than {lo.label.lower()}: {vh.short()} vs {vl.short()} at {xs} {xl}"
    if xl == "reasoning kept":
        title = (f"{hi.label} keeps {noun} higher than {lo.label.lower()}: "
                 f"{vh.short()} vs {vl.short()} with {xs} of the reasoning kept")
    unit = "points" if vh.kind == "rate" else ""
    gap = f"{best[0] * 100:.0f} points" if unit else stats.format_number(best[0])
    return title, f"{gap} apart at {xs}", x, hi.category


def _sweep_sentence(series: Sequence[Series], refs: Sequence[Reference], metric: str,
                    x_names: dict[float, str]) -> tuple[str, str, float | None, str | None]:
    noun = metric_noun(metric)
    if not series:
        return f"No {noun} data to plot", "", None, None
    s = series[0]
    ref = refs[0].estimate if refs else None

    def where(x: float) -> str:
        return x_names.get(x) if x in x_names else f"layer {int(x) if float(x).is_integer() else x}"

    if ref is None:
        lo = min(s.points, key=lambda p: p.estimate.value)
        hi = max(s.points, key=lambda p: p.estimate.value)
        return (
            f"{humanize(noun)} ranges from {lo.estimate.short()} ({where(lo.x)}) to {hi.estimate.short()} ({where(hi.x)})",
            f"lowest at {where(lo.x)}", lo.x, s.category,
        )
    effect = max(s.points, key=lambda p: abs(p.estimate.value - ref.value))
    e = effect.estimate
    if e.overlaps(ref):
        return (
            f"{s.label} at any single {'window' if x_names else 'layer'} does not clearly change {noun} "
            f"(baseline {ref.short()})",
            "no clear effect", effect.x, s.category,
        )
    verb = "drops" if e.value < ref.value else "raises"
    clear = [p for p in s.points if not p.estimate.overlaps(ref) and (p.estimate.value < ref.value) == (verb == "drops")]
    title = f"{s.label} at {where(effect.x)} alone {verb} {noun} from {ref.short()} to {e.short()}"
    callout = f"{where(effect.x)}: {e.short()}"
    if len(clear) < len(s.points):
        callout = f"{where(effect.x)} matters most"
    return title, callout, effect.x, s.category


def _breakdown_sentence(bars: Sequence[Bar], metric: str, baseline: str | None) -> str:
    """Title for a backup breakdown: names the extremes (a sentence, never a noun phrase)."""
    noun = metric_noun(metric)
    if not bars:
        return f"No {noun} data"
    lo = min(bars, key=lambda b: b.estimate.value)
    hi = max(bars, key=lambda b: b.estimate.value)
    where_lo = lo.label.lower() + (f", {group_label(lo.group)}" if lo.group else "")
    where_hi = hi.label.lower() + (f", {group_label(hi.group)}" if hi.group else "")
    if lo is hi:
        return f"{humanize(noun)} is {hi.estimate.short()} under {where_hi}"
    return (
        f"{humanize(noun)} ranges from {lo.estimate.short()} ({where_lo}) to {hi.estimate.short()} ({where_hi})"
    )


def _x_breakdown_sentence(bars: Sequence[Bar], conds: Sequence[str], xs: Sequence[float], fmt: str,
                          xl: str) -> str:
    """'Forced answer goes from 29% to 97% and continued reasoning from 60% to 97% between 0% and 100% …'."""
    lo_x, hi_x = _format_x(xs[0], fmt), _format_x(xs[-1], fmt)
    parts = []
    for c in conds[:2]:
        own = {b.group: b for b in bars if b.category == c}
        if lo_x in own and hi_x in own:
            first, last = own[lo_x], own[hi_x]
            verb = " goes" if not parts else ""
            name = first.label if not parts else first.label.lower()
            parts.append(f"{name}{verb} from {first.estimate.short()} to {last.estimate.short()}")
    if not parts:
        return f"The exact counts behind the curve at each {xl} level are shown here"
    return f"{' and '.join(parts)} between {lo_x} and {hi_x} {xl}"


def _group_breakdown_sentence(bars: Sequence[Bar], pair: Sequence[str]) -> str:
    first = [b for b in bars if b.category == pair[0]]
    if not first:
        return "No data per group"
    hi = max(first, key=lambda b: b.estimate.value)
    lo = min(first, key=lambda b: b.estimate.value)
    noun = metric_noun(pair[0])
    if hi is lo:
        return f"{humanize(noun)} is {hi.estimate.short()} for {group_label(hi.group or '')}"
    return (f"{humanize(noun)} ranges from {lo.estimate.short()} ({group_label(lo.group or '')}) "
            f"to {hi.estimate.short()} ({group_label(hi.group or '')})")


def _footnote(bars: Sequence[Bar], series: Sequence[Series], refs: Sequence[Reference], kind: str) -> str:
    ests = [b.estimate for b in bars] + [p.estimate for s in series for p in s.points] + [r.estimate for r in refs]
    if not ests:
        return ""
    unit = "point" if kind != "bars" else "bar"
    ns = [e.n for e in ests]
    if len(set(ns)) == 1:
        n_text = f"n = {ns[0]} per {unit}"
    elif kind == "bars" and len(bars) <= 4:
        n_text = "n = " + ", ".join(f"{b.estimate.n} ({b.label.splitlines()[0].lower()}"
                                    + (f", {group_label(b.group)}" if b.group else "") + ")" for b in bars)
    else:
        n_text = f"n = {min(ns)}–{max(ns)} per {unit}"
    methods = list(dict.fromkeys(e.method for e in ests))
    described = [m if "no interval" in m else f"{m} interval" for m in methods]
    return f"{n_text}. Error bars: {'; '.join(described)}."
