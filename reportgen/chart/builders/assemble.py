"""A chart's id, footnote and the :class:`ChartSpec` itself, from what a builder decided.

Every builder ends here, so the rules that hold for every chart live once: the spec's
words replace the automatic ones on the main chart only, the footnote gives n and the
interval method plus the parse failures among the rows shown, and the id is unique in
the deck and safe as a file name.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Literal

from reportgen.chart.builders.context import Context
from reportgen.chart.model import Bar, CategoryField, ChartKind, ChartSpec, Highlight, Reference, Series, XFormat
from reportgen.chart.runlabel import grid_label, model_label
from reportgen.chart.words import footnote_text
from reportgen.inputs.deck_yaml import PromptChoice


def chart_id(ctx: Context, suffix: str) -> str:
    parts = [ctx.run.run_id, ctx.key.experiment]
    if ctx.df["model"].nunique() > 1 or ctx.run.results["model"].nunique() > 1:
        parts.append(ctx.key.model)
    parts.append(suffix)
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts)).strip("-")


def assemble(ctx: Context, suffix: str, metric: str, kind: ChartKind, title: str, *, caption: str,
             bars: Sequence[Bar] = (), series: Sequence[Series] = (), references: Sequence[Reference] = (),
             highlight: Highlight | None = None, backup: bool = False, categories: tuple[str, ...] = (),
             group: str | None = None, category_field: CategoryField = "condition", y_label: str | None = None,
             x_label: str | None = None, x_format: XFormat = "number", x_names: dict[float, str] | None = None,
             prompt: PromptChoice | None = None) -> ChartSpec:
    """The chart; on a main chart (not ``backup``) the spec's takeaway and caption win over the automatic ones."""
    ests = [b.estimate for b in bars] + [p.estimate for s in series for p in s.points] + [
        r.estimate for r in references
    ]
    value_kind: Literal["rate", "mean"] = "rate" if all(e.kind == "rate" for e in ests) else "mean"
    o = ctx.o
    return ChartSpec(
        chart_id=chart_id(ctx, suffix),
        experiment=ctx.key.experiment,
        task=ctx.key.task,
        metric=metric,
        model=ctx.key.model,
        run_id=ctx.run.run_id,
        kind=kind,
        title=title if backup else (o.takeaway or title),
        caption=caption if backup else (o.caption or caption),
        footnote=footnote_text(bars, series, references, kind, ctx.names) + parse_failure_note(
            ctx, [b.category for b in bars] + [s.category for s in series], category_field, group,
            {p.x for s in series for p in s.points}),
        value_kind=value_kind,
        y_label=y_label or ctx.names.metric_axis(metric),
        bars=list(bars),
        series=list(series),
        references=list(references),
        highlight=highlight,
        backup=backup,
        n_total=sum(e.n_items for e in ests),
        x_label=x_label,
        x_format=x_format,
        x_names=dict(x_names or {}),
        category_field=category_field,
        categories=categories,
        group=group,
        prompt=prompt,
        model_label=_label_if_other(model_label(ctx.run, ctx.key.model), ctx.key.model),
        grid_label=grid_label(ctx.run, ctx.names),
    )


def _label_if_other(label: str, model: str) -> str:
    return "" if label == model else label


def parse_failure_note(ctx: Context, categories: Sequence[str], category_field: CategoryField,
                       group: str | None, xs: set[float]) -> str:
    """' Parse failures: 3 of 240 (counted as outcomes).' for the cells a chart shows.

    Runners count an unparseable answer as an outcome (e.g. not matching) instead of
    dropping it; the footnote says how many there were so nobody has to ask.
    """
    rows = ctx.df[ctx.df["metric"] == "parse_failure"]
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
