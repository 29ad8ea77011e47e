"""Main bar charts: two conditions of one metric, or two metrics side by side.

Two bars, because a mentor reads one message per chart: the baseline against the
condition the spec names (else the run's headline condition, else the one with the
strongest effect), or for the bias runners the switch rate against the articulation rate.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen.chart.builders.assemble import assemble
from reportgen.chart.builders.context import Context
from reportgen.chart.builders.prompts import prompt_choice
from reportgen.chart.model import Bar, ChartSpec, Highlight
from reportgen.chart.words import bar_sentence, group_phrase, pair_sentence
from reportgen.inputs.deck_yaml import SpecError
from reportgen.numbers.summarize import summarize


def condition_bars(ctx: Context, metric: str) -> ChartSpec:
    rows, group = ctx.group_filter(ctx.rows(metric))
    cells = {str(c.condition): c.estimate for c in summarize(rows, by=("condition",))}
    order = [c for c in ctx.conditions if c in cells]
    cats = list(ctx.o.categories) if ctx.o.categories else ctx.auto_categories(cells, order)
    missing = [c for c in cats if c not in cells]
    if missing:
        raise SpecError([
            f"experiment '{ctx.key.experiment}': no '{metric}' rows for condition(s) {missing}"
        ])
    names = ctx.names
    bars = [Bar(c, names.condition_label(c), cells[c], ctx.colors(c, c == ctx.baseline)) for c in cats]
    target = ctx.highlight_target(cats)
    title, callout = bar_sentence(bars, metric, target, ctx.baseline, group, names)
    # One bar has nothing to compare with: an arrow would only repeat its label.
    highlight = Highlight(target, ctx.o.callout or callout) if target and len(bars) > 1 else None
    return assemble(
        ctx, "main", metric, "bars", title,
        caption=f"{names.experiment_label(ctx.key.experiment)}: {names.metric_noun(metric)} by condition"
        + (f", {group}" if group else ""),
        bars=bars, highlight=highlight, categories=tuple(cats), group=group,
        prompt=prompt_choice(ctx, metric, target, bars),
    )


def metric_bars(ctx: Context, pair: Sequence[str]) -> ChartSpec:
    first = pair[0]
    rows_all = ctx.df[ctx.df["metric"].isin(pair)]
    group = None
    if ctx.o.group is not None:
        rows_all, group = ctx.group_filter(rows_all)
    elif ctx.has_group:
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
    names = ctx.names
    cells = {c.metric: c.estimate for c in summarize(rows_all, by=())}
    cats = [m for m in pair if m in cells]
    bars = [Bar(m, names.metric_category_label(m), cells[m], ctx.colors(m)) for m in cats]
    target = ctx.o.highlight or cats[-1]
    title, callout = pair_sentence(bars, group, ctx.key.experiment, names)
    highlight = Highlight(target, ctx.o.callout or callout)
    caption = f"{names.experiment_label(ctx.key.experiment)}: " + " vs ".join(names.metric_noun(m) for m in cats)
    if group:
        kind_of = "attributes" if "attribute" in ctx.key.experiment else "cues" if ctx.key.task == "bias" else "groups"
        caption += f", {group_phrase(group, names)}" + (f"; other {kind_of} in backup" if ctx.has_group else "")
    return assemble(
        ctx, "main", first, "bars", title, caption=caption, bars=bars, highlight=highlight,
        categories=tuple(cats), group=group, category_field="metric",
        y_label="Rate" if all(b.estimate.kind == "rate" for b in bars) else "Value",
        prompt=prompt_choice(ctx, first, None, bars, want=1.0, group=group),
    )
