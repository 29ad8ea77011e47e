"""One experiment's rows plus the decisions its main and backup charts share.

A :class:`Context` is built once per experiment (:func:`make_context` checks the deck
spec's override against the results) and never changes: a builder that needs the same
rows under another override (a backup line chart drawn without the spec's words) asks
for :meth:`Context.with_override`, a new context over the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import pandas as pd

from reportgen.chart.model import ChartKind
from reportgen.chart.names import Names, names_of
from reportgen.chart.palette import DeckColors
from reportgen.chart.words import sentence_case
from reportgen.inputs.deck_yaml import ExperimentSpec, SpecError
from reportgen.numbers import stats
from reportgen.numbers.summarize import ExperimentKey, metric_kinds
from reportgen.rundir.reader import Run

#: Metrics that usually carry an experiment's message, by preference.
PRIMARY_METRICS = ("refusal", "matches_full", "switched", "changed", "answer_changed", "follows_frozen", "admitted",
                   "needs_reasoning", "noticed", "correct", "articulated", "cross_entropy", "kl", "refusal_score")
#: Bookkeeping metrics: counted in footnotes and tables, never given a chart of their own.
DIAGNOSTIC_METRICS = ("parse_failure", "excluded", "judge_parse_failure", "articulated_rules")
#: Pairs of metrics compared as the two categories of one chart (bias: does it say so?).
METRIC_PAIRS = (("switched", "articulated"), ("changed", "articulated"))

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


@dataclass(frozen=True, eq=False)
class Context:
    """One experiment of one run: its rows, the deck spec's override and the run's names."""

    run: Run
    key: ExperimentKey
    o: ExperimentSpec
    colors: DeckColors
    """Shared by the whole deck (a condition keeps its colour on every slide); fills as charts are built."""
    names: Names
    df: pd.DataFrame
    kinds: Mapping[tuple[str, str], str]
    metrics: tuple[str, ...]
    conditions: tuple[str, ...]
    has_group: bool
    baseline: str | None

    def with_override(self, o: ExperimentSpec) -> Context:
        return replace(self, o=o)

    # -------------------------------------------------------------- what to chart

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
        """The spec's metric, else the run's headline metric, else the usual message carriers."""
        if self.o.metric:
            return self.o.metric
        headline = self.names.headline_metric
        if headline is not None and headline in self.metrics:
            return headline
        for m in PRIMARY_METRICS:
            if m in self.metrics:
                return m
        useful = [m for m in self.metrics if m not in DIAGNOSTIC_METRICS] or list(self.metrics)
        rates = [m for m in useful if self.kinds.get((self.key.experiment, m)) == "rate"]
        return rates[0] if rates else useful[0]

    def rows(self, metric: str) -> pd.DataFrame:
        return self.df[self.df["metric"] == metric]

    def conditions_for(self, metric: str) -> list[str]:
        return list(dict.fromkeys(self.rows(metric)["condition"].astype(str)))

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

    def x_label(self, kind: ChartKind) -> str:
        if self.names.x_label:
            return sentence_case(self.names.x_label)
        if self.key.task == "truncation":  # runs written before runners declared their x label
            return "Reasoning kept"
        if kind == "sweep":
            windows = "group" in self.df.columns and self.df["group"].astype(str).str.contains("window").any()
            return "First layer of the window" if windows else "Layer"
        return "x"

    def group_filter(self, rows: pd.DataFrame) -> tuple[pd.DataFrame, str | None]:
        """Rows of the group the main chart shows (None = pooled over groups)."""
        g = self.o.group
        if g is None or g == "all" or not self.has_group:
            return rows, None
        sel = rows[rows["group"] == g]
        if sel.empty:
            groups = ", ".join(sorted(rows["group"].dropna().astype(str).unique()))
            raise SpecError([f"experiment '{self.key.experiment}': group '{g}' not in results (has {groups})"])
        return sel, g

    # -------------------------------------------------------------- which categories

    def auto_categories(self, cells: dict[str, stats.Estimate], order: list[str]) -> list[str]:
        """Baseline vs the headline condition, else the one that moves the metric most (two at most)."""
        base = self.baseline if self.baseline in order else order[0]
        if len(order) <= 2:
            return [base] + [c for c in order if c != base]
        headline = self.names.headline_condition
        if headline is not None and headline in order and headline != base:
            return [base, headline]
        others = [c for c in order if c != base and not self.names.is_control(c)] or [c for c in order if c != base]
        strongest = max(others, key=lambda c: abs(cells[c].value - cells[base].value))
        return [base, strongest]

    def highlight_target(self, cats: Sequence[str]) -> str | None:
        if self.o.highlight:
            return self.o.highlight
        if not cats:
            return None
        non_base = [c for c in cats if c != self.baseline and not self.names.is_control(c)]
        if non_base:
            return non_base[-1]
        rest = [c for c in cats if c != self.baseline]
        return rest[-1] if rest else cats[-1]


def make_context(run: Run, key: ExperimentKey, override: ExperimentSpec | None, colors: DeckColors) -> Context:
    """The context of one experiment; a spec naming a metric or category the results lack is a SpecError."""
    df = run.results
    rows = bin_fractions(df[(df["experiment"] == key.experiment) & (df["model"] == key.model)])
    names = names_of(run)
    conditions = tuple(dict.fromkeys(rows["condition"].astype(str)))
    ctx = Context(
        run=run, key=key, o=override or ExperimentSpec(experiment=key.experiment), colors=colors, names=names,
        df=rows, kinds=metric_kinds(rows), metrics=tuple(dict.fromkeys(rows["metric"].astype(str))),
        conditions=conditions, has_group=bool("group" in rows.columns and rows["group"].notna().any()),
        baseline=names.baseline(conditions),
    )
    _check_override(ctx)
    return ctx


def _check_override(ctx: Context) -> None:
    o = ctx.o
    if o.metric is not None and o.metric not in ctx.metrics:
        raise SpecError([
            f"experiment '{o.experiment}': metric '{o.metric}' not in results (has {', '.join(ctx.metrics)})"
        ])
    if o.categories:
        known = set(ctx.conditions) | set(ctx.metrics)
        unknown = [c for c in o.categories if c not in known]
        if unknown:
            raise SpecError([
                f"experiment '{o.experiment}': categories {unknown} are neither "
                f"conditions ({', '.join(ctx.conditions)}) nor metrics ({', '.join(ctx.metrics)})"
            ])
