"""Which chart to draw for each experiment, and what it says: pure, no matplotlib.

For every experiment in a run this module decides

- the **form**: two bars (conditions, or two metrics such as switch vs articulation
  rate), a **curve** over a fractional ``x`` (reasoning kept) or a **sweep** over an
  integer ``x`` (layer);
- the **two categories** of the main chart: from the deck spec, else the baseline
  against the condition with the strongest effect (mentors ask for one message per
  chart; more than two colours confuse), with every category moved to a backup chart;
- the **words** (phrased by :mod:`reportgen.chart.words`): a takeaway sentence written
  from the numbers (it becomes the slide title), a one-line caption, a footnote with n
  and the interval method, and one highlight — the bar or point the arrow points at
  with a short callout.

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

from reportgen.chart.palette import (  # noqa: F401 (re-exported)
    BASELINE_COLOR,
    CALLOUT_COLOR,
    PALETTE,
    DeckColors,
)
from reportgen.chart.words import (
    METRIC_CATEGORY_LABELS,
    bar_sentence,
    breakdown_sentence,
    condition_label,
    curve_sentence,
    experiment_label,
    footnote_text,
    format_x,
    group_breakdown_sentence,
    group_label,
    group_phrase,
    humanize,
    infer_x_format,
    metric_axis,
    metric_noun,
    pair_sentence,
    sweep_sentence,
    x_breakdown_sentence,
)
from reportgen.inputs.deck_yaml import DeckSpec, ExperimentSpec, PromptChoice, SpecError
from reportgen.numbers import stats
from reportgen.numbers.summarize import ExperimentKey, experiments, metric_kinds, summarize
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import PromptRecord

ChartKind = Literal["bars", "curve", "sweep"]
CategoryField = Literal["condition", "metric"]

# ------------------------------------------------------------------ decisions

#: Conditions that serve as the reference a change is measured from, by preference.
BASELINE_NAMES = ("baseline", "control", "unsteered", "uncued", "no_cue", "original", "clean", "none",
                  "continued", "flipped")
#: Metrics that usually carry an experiment's message, by preference.
PRIMARY_METRICS = ("refusal", "matches_full", "switched", "changed", "answer_changed", "correct", "articulated",
                   "cross_entropy", "kl", "refusal_score")
#: Bookkeeping metrics: counted in footnotes and tables, never given a chart of their own.
DIAGNOSTIC_METRICS = ("parse_failure", "excluded", "judge_parse_failure", "articulated_rules")
#: Pairs of metrics compared as the two categories of one chart (bias: does it say so?).
METRIC_PAIRS = (("switched", "articulated"), ("changed", "articulated"))

#: Names that mark a control condition (random-direction ablation): it is what a claim is
#: checked against, never the headline of an automatic chart.
CONTROL_MARKERS = ("random", "control", "shuffled", "placebo", "sham")


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
    callout_color: str = CALLOUT_COLOR
    size_in: tuple[float, float] | None = None
    """Drawn at this size instead of the full chart box (a chart sharing its slide with the prompt)."""
    models: tuple[str, ...] = ()
    """Every model the deck covers, when more than one: each result slide names its own."""

    @property
    def estimates(self) -> list[stats.Estimate]:
        out = [b.estimate for b in self.bars]
        out += [p.estimate for s in self.series for p in s.points]
        out += [r.estimate for r in self.references]
        return out


# ------------------------------------------------------------------ building


#: Kept for callers that built colours per experiment; the deck shares one instance.
_Colors = DeckColors  # noqa: N816


#: More distinct fractional x values than this (a sentence cut gives every item its own
#: fraction) are binned: a curve of single items zig-zags and its intervals span the axis.
MAX_FRACTIONS = 12
FRACTION_BINS = 4


def bin_fractions(df: pd.DataFrame) -> pd.DataFrame:
    """x in [0, 1] rounded to the nearest quarter when nearly every row has its own x.

    Sentence cuts (one fraction per item) then read as a curve over 0, 25, 50, 75 and
    100 % of the reasoning kept, each point with enough items for an interval.
    """
    if "x" not in df.columns or df["x"].isna().all():
        return df
    xs = df["x"].dropna().astype(float)
    if xs.nunique() <= MAX_FRACTIONS or xs.min() < 0 or xs.max() > 1 or (xs % 1 == 0).all():
        return df
    out = df.copy()
    out["x"] = (out["x"].astype(float) * FRACTION_BINS).round() / FRACTION_BINS
    return out


def is_control(condition: str) -> bool:
    """Whether a condition is a control (random direction, sham): checked against, not shown off."""
    name = condition.lower()
    return any(m in name for m in CONTROL_MARKERS)


def build_chart_specs(runs: Sequence[Run], spec: DeckSpec | None = None) -> list[ChartSpec]:
    """Main and backup chart specs for every experiment of every run.

    Order: experiments listed in the spec first (in its order), then the rest in run
    order; each main chart is followed by its backup charts (``backup=True``).
    """
    jobs: list[tuple[Run, ExperimentKey, ExperimentSpec | None]] = []
    for run in runs:
        for key in experiments(run.results):
            names = (run.run_id, run.path.name)
            override = spec.for_experiment(key.experiment, names, key.model) if spec else None
            if override is not None and override.skip:
                continue
            if spec is not None and spec.only_listed and override is None:
                continue
            jobs.append((run, key, override))
    if spec is not None and spec.experiments:
        rank = {e.experiment: i for i, e in enumerate(spec.experiments)}
        jobs.sort(key=lambda j: rank.get(j[1].experiment, len(rank)))
    colors = DeckColors()
    listed = spec is not None and bool(spec.experiments)
    models = tuple(sorted({key.model for _, key, _ in jobs}))
    charts: list[ChartSpec] = []
    compared: set[str] = set()
    for run, key, override in jobs:
        if override is not None and override.compare and override.experiment not in compared:
            # The runs (models, formats) of this experiment side by side; each run's own
            # charts follow in the backup.
            from reportgen.chart.compare import compare_chart

            compared.add(override.experiment)
            group = [(r, k) for r, k, o in jobs if o is override]
            charts.append(compare_chart(group, override, colors))
        # One palette for the deck: a condition keeps its colour on every slide.
        built = experiment_charts(run, key, override, colors)
        if override is not None and override.compare:
            for c in built:
                c.backup = True
        if listed and override is None and spec is not None and spec.unlisted == "backup":
            for c in built:  # not in the spec's story: shown in the backup, complete
                c.backup = True
        charts.extend(built)
    for c in charts:
        if spec is not None:
            c.callout_color = spec.callout_color
        c.models = models if len(models) > 1 else ()
    charts = dedupe_charts(charts)
    from reportgen.deck.plan import (  # deckplan builds on deckspec, which imports this module
        plan_shared_slides,
    )

    plan_shared_slides(runs, charts)
    return charts


def dedupe_charts(charts: Sequence[ChartSpec]) -> list[ChartSpec]:
    """Drop a backup chart that draws exactly what an earlier chart draws.

    A breakdown of an experiment with only the two charted conditions repeats its main
    chart; two slides with the same bars make the audience look for a difference.
    """
    seen: set[tuple[object, ...]] = set()
    out = []
    for c in charts:
        sig = chart_signature(c)
        if c.backup and sig in seen:
            continue
        seen.add(sig)
        out.append(c)
    return out


def chart_signature(c: ChartSpec) -> tuple[object, ...]:
    """What a chart draws (marks and their values), independent of its words."""
    bars = tuple(sorted((b.category, b.group or "", round(b.estimate.value, 9), b.estimate.n) for b in c.bars))
    series = tuple(sorted((s.category, s.group or "", tuple((p.x, round(p.estimate.value, 9)) for p in s.points))
                          for s in c.series))
    return (c.run_id, c.experiment, c.model, c.metric, c.kind, bars, series)


def experiment_charts(
    run: Run,
    key: ExperimentKey,
    override: ExperimentSpec | None = None,
    colors: DeckColors | None = None,
) -> list[ChartSpec]:
    """The main chart of one experiment and its backup charts."""
    colors = colors or DeckColors()
    ctx = _Context(run, key, override, colors)
    main = ctx.main_chart()
    charts = [main]
    if override is None or override.backup:
        charts.extend(ctx.backup_charts(main))
    return charts


class _Context:
    """One experiment's rows plus the decisions shared by its main and backup charts."""

    def __init__(self, run: Run, key: ExperimentKey, override: ExperimentSpec | None, colors: DeckColors):
        self.run = run
        self.key = key
        self.o = override or ExperimentSpec(experiment=key.experiment)
        self.colors = colors
        df = run.results
        self.df = bin_fractions(df[(df["experiment"] == key.experiment) & (df["model"] == key.model)])
        self.kinds = metric_kinds(self.df)
        self.metrics = list(dict.fromkeys(self.df["metric"].astype(str)))
        self.conditions = list(dict.fromkeys(self.df["condition"].astype(str)))
        self.has_group = "group" in self.df.columns and self.df["group"].notna().any()
        # Without a baseline, a control (random direction) is what the effect is read against.
        self.baseline = _baseline(self.conditions) or next((c for c in self.conditions if is_control(c)), None)
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
        useful = [m for m in self.metrics if m not in DIAGNOSTIC_METRICS] or self.metrics
        rates = [m for m in useful if self.kinds.get((self.key.experiment, m)) == "rate"]
        return rates[0] if rates else useful[0]

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
        title, callout = bar_sentence(bars, metric, target, self.baseline, group)
        # One bar has nothing to compare with: an arrow would only repeat its label.
        highlight = Highlight(target, self.o.callout or callout) if target and len(bars) > 1 else None
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
        title, callout = pair_sentence(bars, group, self.key.experiment)
        highlight = Highlight(target, self.o.callout or callout)
        caption = f"{experiment_label(self.key.experiment)}: " + " vs ".join(metric_noun(m) for m in cats)
        if group:
            kind_of = "attributes" if "attribute" in self.key.experiment else "cues" if self.key.task == "bias" else "groups"
            caption += f", {group_phrase(group)}" + (f"; other {kind_of} in backup" if self.has_group else "")
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
        # A group that varies within a condition along x (a sweep's window widths) makes
        # separate lines; pooling them would average different interventions.
        split = bool(self.has_group and group is None
                     and with_x.groupby("condition")["group"].nunique(dropna=False).max() > 1)
        by_key: dict[tuple[str, str | None], list[Point]] = {}
        for c in summarize(with_x, by=("condition", "group", "x") if split else ("condition", "x")):
            by_key.setdefault((str(c.condition), c.group), []).append(Point(float(c.x), c.estimate))  # type: ignore[arg-type]
        order = sorted(by_key, key=lambda k: self.conditions.index(k[0]) if k[0] in self.conditions else 99)
        if self.o.categories:
            keys = [k for c in self.o.categories for k in order if k[0] == c][:2]
        else:
            keys = self._auto_series(by_key, order)
        series = []
        for cond, grp in keys:
            label = condition_label(cond) + (f", {group_label(grp)}" if split and grp else "")
            # Same key as the backup bars (the condition), so a condition keeps its colour
            # across an experiment's slides; the reference condition is grey everywhere.
            color = self.colors(label) if split else self.colors(cond, cond == self.baseline)
            series.append(Series(cond, label, tuple(by_key[(cond, grp)]), color, grp))
        refs: list[Reference] = []
        ref_source = None
        if kind == "sweep":
            refs = [Reference(c.condition or "reference", condition_label(c.condition or "reference"), c.estimate)
                    for c in summarize(without_x, by=("condition",))]
            if not refs:
                refs, ref_source = self._borrowed_reference(metric, with_x)
        x_names = self._x_names(with_x) if kind == "sweep" else {}
        x_format = infer_x_format(series)
        hgroup = None
        if kind == "sweep":
            title, callout, hx, target, hgroup = sweep_sentence(series, refs, metric, x_names)
        else:
            title, callout, hx, target = curve_sentence(series, metric, self.x_label(kind), x_format)
            hgroup = next((s.group for s in series if s.category == target), None)
        if self.o.highlight and self.o.highlight in {k[0] for k in keys}:
            target = self.o.highlight
        highlight = Highlight(target, self.o.callout or callout, x=hx, group=hgroup) if target else None
        caption = f"{experiment_label(self.key.experiment)}: {metric_noun(metric)} by {self.x_label(kind).lower()}"
        if len(series) == 2 and series[0].category == series[1].category and split:
            caption += f", {condition_label(series[0].category).lower()} of a {group_label(series[0].group or '')}" \
                       f" vs a {group_label(series[1].group or '')}"
        elif len(series) == 2:
            caption += f", {series[0].label.lower()} vs {series[1].label.lower()}"
        if group:
            caption += f", {group_label(group)}"
        if ref_source:
            caption += f"; {refs[0].label.lower()} measured in '{ref_source}'"
        chart = self._chart(
            "main", metric, kind, title, caption=caption, series=series, references=refs,
            highlight=highlight, categories=tuple(dict.fromkeys(k[0] for k in keys)), group=group,
        )
        chart.x_label = self.x_label(kind)
        chart.x_format = x_format
        chart.x_names = x_names
        others = [k[0] for k in keys if k[0] != target]
        contrast = others[0] if kind == "curve" and len(keys) == 2 and others else None
        chart.prompt = self._prompt_choice(metric, target, [], x=hx, contrast=contrast)
        return chart

    def _borrowed_reference(self, metric: str, with_x: pd.DataFrame) -> tuple[list[Reference], str | None]:
        """A sweep without its own baseline borrows the baseline measured on the same items
        in another experiment of the run (the steering runner measures it once, in
        ``harmful``), so the chart still shows what the sweep is compared with."""
        df = self.run.results
        items = set(with_x["item_id"].astype(str)) if "item_id" in with_x.columns else set()
        best: tuple[int, str, str] | None = None
        for name in BASELINE_NAMES:
            cand = df[(df["condition"] == name) & (df["metric"] == metric) & (df["model"] == self.key.model)
                      & (df["experiment"] != self.key.experiment)]
            if "x" in cand.columns:
                cand = cand[cand["x"].isna()]
            for exp, part in cand.groupby("experiment", sort=False):
                overlap = len(items & set(part["item_id"].astype(str))) if "item_id" in part.columns else 0
                if overlap and (best is None or overlap > best[0]):
                    best = (overlap, str(exp), name)
            if best:
                break
        if best is None:
            return [], None
        _, exp, name = best
        part = df[(df["experiment"] == exp) & (df["condition"] == name) & (df["metric"] == metric)
                  & (df["model"] == self.key.model)]
        (cell,) = summarize(part, by=())
        return [Reference(name, condition_label(name), cell.estimate)], exp

    def x_label(self, kind: ChartKind) -> str:
        if self.key.task == "truncation":
            return "Reasoning kept"
        if kind == "sweep":
            windows = "group" in self.df.columns and self.df["group"].astype(str).str.contains("window").any()
            return "First layer of the window" if windows else "Layer"
        return "x"

    def _x_names(self, rows: pd.DataFrame) -> dict[float, str]:
        """Group labels that name each x one-to-one (a sweep's layer windows, e.g. 'L12–14')."""
        if "group" not in rows.columns or rows["group"].isna().all():
            return {}
        pairs = rows.loc[:, ["x", "group"]].dropna().drop_duplicates()
        if pairs["x"].duplicated().any() or pairs["group"].duplicated().any():
            return {}
        return {float(x): str(g) for x, g in pairs.itertuples(index=False)}

    def _auto_categories(self, cells: dict[str, stats.Estimate], order: list[str]) -> list[str]:
        """Baseline vs the condition that moves the metric most (two at most)."""
        if len(order) <= 2:
            base = self.baseline if self.baseline in order else order[0]
            return [base] + [c for c in order if c != base]
        base = self.baseline if self.baseline in order else order[0]
        others = [c for c in order if c != base and not is_control(c)] or [c for c in order if c != base]
        strongest = max(others, key=lambda c: abs(cells[c].value - cells[base].value))
        return [base, strongest]

    def _auto_series(self, by_key: dict[tuple[str, str | None], list[Point]],
                     order: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
        """All lines when there are two or fewer; else the baseline and the line furthest from it."""
        if len(order) <= 2:
            return order
        base = next((k for k in order if k[0] == self.baseline), order[0])

        def gap(k: tuple[str, str | None]) -> float:
            ref = {p.x: p.estimate.value for p in by_key[base]}
            diffs = [abs(p.estimate.value - ref[p.x]) for p in by_key[k] if p.x in ref]
            return sum(diffs) / len(diffs) if diffs else 0.0

        return [base, max((k for k in order if k != base), key=gap)]

    def _highlight_target(self, cats: list[str]) -> str | None:
        if self.o.highlight:
            return self.o.highlight
        if not cats:
            return None
        non_base = [c for c in cats if c != self.baseline and not is_control(c)]
        if non_base:
            return non_base[-1]
        rest = [c for c in cats if c != self.baseline]
        return rest[-1] if rest else cats[-1]

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
            if m in shown or m in DIAGNOSTIC_METRICS:
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
        # Reference condition first, as on the main chart.
        bars.sort(key=lambda b: b.category != self.baseline)
        conds = list(dict.fromkeys(b.category for b in bars))
        title = breakdown_sentence(bars, metric, self.baseline)
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
        title = group_breakdown_sentence(bars, pair)
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
                            format_x(float(c.x), fmt)))  # type: ignore[arg-type]
        xs = sorted({float(c) for c in rows["x"]})
        xorder = {format_x(x, fmt): i for i, x in enumerate(xs)}
        conds = list(dict.fromkeys(b.category for b in bars))
        bars.sort(key=lambda b: (xorder[b.group or ""], conds.index(b.category)))
        xl = self.x_label("curve").lower()
        title = x_breakdown_sentence(bars, conds, xs, fmt, xl)
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
            footnote=footnote_text(bars, series, references, kind) + self._parse_failure_note(
                [b.category for b in bars] + [s.category for s in series], category_field, group,
                {p.x for s in series for p in s.points}),
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

    def _parse_failure_note(self, categories: Sequence[str], category_field: CategoryField,
                            group: str | None, xs: set[float]) -> str:
        """' Parse failures: 3 of 240 (counted as outcomes).' for the cells a chart shows.

        Runners count an unparseable answer as an outcome (e.g. not matching) instead of
        dropping it; the footnote says how many there were so nobody has to ask.
        """
        rows = self.df[self.df["metric"] == "parse_failure"]
        if rows.empty or "value" not in rows.columns:
            return ""
        if category_field == "condition":
            rows = rows[rows["condition"].isin(categories)]
        if group is not None and "group" in rows.columns:
            rows = rows[rows["group"] == group]
        if xs and "x" in rows.columns:
            rows = rows[rows["x"].isin(xs)]
        if rows.empty:
            return ""
        k = int(rows["value"].sum())
        if k == 0:
            return ""
        return f" Parse failures: {k} of {len(rows)} (counted as outcomes, not dropped)."

    def _prompt_choice(self, metric: str, target: str | None, bars: Sequence[Bar], *,
                       x: float | None = None, want: float | None = None,
                       group: str | None = None, contrast: str | None = None) -> PromptChoice | None:
        """The prompt to show verbatim: the spec's, else one item that shows the message.

        Default: an item of the highlighted condition whose outcome goes the way of the
        takeaway (a harmful prompt that is no longer refused after ablation; a switched
        cued item), so the mentor sees an example of the effect, not a random row.
        """
        spec = self.o.prompt
        if spec is not None and spec.item_id is not None:
            return spec
        prompts = [p for p in self.run.prompts if p.experiment == self.key.experiment]
        if not prompts:
            return spec
        condition = target if target in self.conditions else None
        if spec is not None:
            # A spec that names only the condition/group/x narrows the choice; within it the
            # item is still one that shows the message (a switched item, not simply the first).
            condition = spec.condition or condition
            group = spec.group or group
            x = spec.x if spec.x is not None else x
            prompts = [p for p in prompts if (spec.condition is None or p.condition == spec.condition)
                       and (spec.group is None or p.group == spec.group)] or prompts
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
        if contrast is not None and condition is not None and "value" in rows.columns:
            rows = self._contrasting(rows, metric, condition, contrast, x)
        items = list(dict.fromkeys(rows["item_id"].dropna().astype(str))) if "item_id" in rows.columns else []
        for item in items:
            for p in prompts:
                if p.item_id == item and (condition is None or p.condition == condition) and (
                    x is None or p.x is None or p.x == x
                ) and (group is None or p.group is None or p.group == group):
                    return PromptChoice(condition=p.condition, item_id=p.item_id, group=p.group, x=p.x)
        p = next((p for p in prompts if (condition is None or p.condition == condition)
                  and (group is None or p.group is None or p.group == group)), prompts[0])
        return PromptChoice(condition=p.condition, item_id=p.item_id, group=p.group, x=p.x)

    def _contrasting(self, rows: pd.DataFrame, metric: str, condition: str, contrast: str,
                     x: float | None) -> pd.DataFrame:
        """Rows of items whose outcome differs between the two charted conditions at ``x``, the
        way the curves differ (forced wrong where continued still matches): an item where both
        agree shows nothing."""
        other = self.rows(metric)
        other = other[other["condition"] == contrast]
        if x is not None and "x" in other.columns:
            other = other[other["x"] == x]
        theirs = other.groupby("item_id")["value"].first()
        mine = rows.groupby("item_id")["value"].first()
        common = mine.index.intersection(theirs.index)
        if common.empty:
            return rows
        higher = mine[common].mean() >= theirs[common].mean()
        shows = [i for i in common if (mine[i] > theirs[i] if higher else mine[i] < theirs[i])]
        picked = rows[rows["item_id"].isin(shows)]
        return picked if not picked.empty else rows


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


def _baseline(conditions: Sequence[str]) -> str | None:
    for name in BASELINE_NAMES:
        if name in conditions:
            return name
    return None
