"""Backup charts: everything the main chart left out, so no number is hidden.

After an experiment's main chart come every condition (by group), the exact counts
behind a curve per x, the per-group view of a metric pair, and one chart for each other
metric (bookkeeping metrics such as parse failures are counted in footnotes instead).
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen.chart.builders.assemble import assemble
from reportgen.chart.builders.context import DIAGNOSTIC_METRICS, Context
from reportgen.chart.builders.lines import lines_backup
from reportgen.chart.model import Bar, ChartSpec
from reportgen.chart.words import breakdown_sentence, format_x, group_breakdown_sentence, x_breakdown_sentence
from reportgen.numbers.summarize import Dimension, summarize


def backup_charts(ctx: Context, main: ChartSpec) -> list[ChartSpec]:
    out: list[ChartSpec] = []
    if main.category_field == "metric":
        if ctx.has_group:
            out.append(metric_breakdown(ctx, main.categories))
    else:
        metric = main.metric
        if main.kind == "bars":
            shown_all = len(main.categories) == len(ctx.conditions_for(metric))
            if not shown_all or ctx.has_group:
                out.append(condition_breakdown(ctx, metric))
        elif main.kind == "curve":
            out.append(x_breakdown(ctx, metric))
        elif main.kind == "sweep" and len(ctx.conditions_for(metric)) > len(main.categories) + len(
            main.references
        ):
            out.append(condition_breakdown(ctx, metric))
    shown = set(main.categories) if main.category_field == "metric" else {main.metric}
    for m in ctx.metrics:
        if m in shown or m in DIAGNOSTIC_METRICS:
            continue
        kind = ctx.form(m)
        out.append(condition_breakdown(ctx, m) if kind == "bars" else lines_backup(ctx, m, kind))
    return out


def condition_breakdown(ctx: Context, metric: str) -> ChartSpec:
    """Every condition (× every group): the backup slide for a main bar chart."""
    names = ctx.names
    by: tuple[Dimension, ...] = ("condition", "group") if ctx.has_group else ("condition",)
    bars = []
    for c in summarize(ctx.rows(metric), by=by):
        cond = str(c.condition)
        bars.append(Bar(cond, names.condition_label(cond), c.estimate, ctx.colors(cond, cond == ctx.baseline),
                        c.group))
    # Reference condition first, as on the main chart.
    bars.sort(key=lambda b: b.category != ctx.baseline)
    conds = list(dict.fromkeys(b.category for b in bars))
    title = breakdown_sentence(bars, metric, ctx.baseline, names)
    caption = f"{names.experiment_label(ctx.key.experiment)}: {names.metric_noun(metric)}, every condition"
    if ctx.has_group:
        caption += " by group"
    return assemble(ctx, f"backup-{metric}", metric, "bars", title, caption=caption, bars=bars,
                    backup=True, categories=tuple(conds))


def metric_breakdown(ctx: Context, pair: Sequence[str]) -> ChartSpec:
    names = ctx.names
    bars = []
    for c in summarize(ctx.df[ctx.df["metric"].isin(pair)], by=("group",)):
        if c.group is None:
            continue
        bars.append(Bar(c.metric, names.metric_category_label(c.metric), c.estimate, ctx.colors(c.metric), c.group))
    order = {m: i for i, m in enumerate(pair)}
    groups = list(dict.fromkeys(b.group for b in bars))
    bars.sort(key=lambda b: (groups.index(b.group), order.get(b.category, 99)))
    title = group_breakdown_sentence(bars, pair, names)
    caption = (f"{names.experiment_label(ctx.key.experiment)}: " + " vs ".join(names.metric_noun(m) for m in pair)
               + " by group")
    return assemble(ctx, f"backup-{'-'.join(pair)}-by-group", pair[0], "bars", title, caption=caption, bars=bars,
                    backup=True, categories=tuple(pair), category_field="metric", y_label="Rate")


def x_breakdown(ctx: Context, metric: str) -> ChartSpec:
    """Per-x bars with exact labels: the numbers a curve hides."""
    names = ctx.names
    rows = ctx.rows(metric)
    rows = rows[rows["x"].notna()]
    fmt = "percent" if all(0 <= v <= 1 for v in rows["x"]) else "number"
    bars = []
    for c in summarize(rows, by=("condition", "x")):
        cond = str(c.condition)
        bars.append(Bar(cond, names.condition_label(cond), c.estimate, ctx.colors(cond, cond == ctx.baseline),
                        format_x(float(c.x), fmt)))  # type: ignore[arg-type]
    xs = sorted({float(c) for c in rows["x"]})
    xorder = {format_x(x, fmt): i for i, x in enumerate(xs)}
    conds = list(dict.fromkeys(b.category for b in bars))
    bars.sort(key=lambda b: (xorder[b.group or ""], conds.index(b.category)))
    xl = ctx.x_label("curve").lower()
    title = x_breakdown_sentence(bars, conds, xs, fmt, xl)
    caption = f"{names.experiment_label(ctx.key.experiment)}: {names.metric_noun(metric)} per {xl} (clusters) " \
              "and condition"
    return assemble(ctx, f"backup-{metric}-by-x", metric, "bars", title, caption=caption, bars=bars, backup=True,
                    categories=tuple(conds))
