"""Line charts: a curve over a fraction (reasoning kept) or a sweep over layers.

Two lines at most on a main chart (the baseline and the line furthest from it); a sweep
draws the un-intervened baseline as a reference line, borrowed from another experiment
of the run when the sweep did not measure its own.
"""

from __future__ import annotations

import pandas as pd

from reportgen.chart.builders.assemble import assemble
from reportgen.chart.builders.context import Context
from reportgen.chart.builders.prompts import prompt_choice
from reportgen.chart.model import ChartKind, ChartSpec, Highlight, Point, Reference, Series
from reportgen.chart.words import curve_sentence, infer_x_format, sweep_sentence
from reportgen.inputs.deck_yaml import ExperimentSpec
from reportgen.numbers.summarize import summarize

SeriesKey = tuple[str, str | None]
"""(condition, group) of one line."""


def lines(ctx: Context, metric: str, kind: ChartKind, *, suffix: str = "main", backup: bool = False) -> ChartSpec:
    names = ctx.names
    rows, group = ctx.group_filter(ctx.rows(metric))
    with_x = rows[rows["x"].notna()]
    without_x = rows[rows["x"].isna()]
    # A group that varies within a condition along x (a sweep's window widths) makes
    # separate lines; pooling them would average different interventions.
    split = bool(ctx.has_group and group is None
                 and with_x.groupby("condition")["group"].nunique(dropna=False).max() > 1)
    by_key: dict[SeriesKey, list[Point]] = {}
    for c in summarize(with_x, by=("condition", "group", "x") if split else ("condition", "x")):
        by_key.setdefault((str(c.condition), c.group), []).append(Point(float(c.x), c.estimate))  # type: ignore[arg-type]
    order = sorted(by_key, key=lambda k: ctx.conditions.index(k[0]) if k[0] in ctx.conditions else 99)
    if ctx.o.categories:
        keys = [k for c in ctx.o.categories for k in order if k[0] == c][:2]
    else:
        keys = auto_series(ctx, by_key, order)
    series = []
    for cond, grp in keys:
        label = names.condition_label(cond) + (f", {names.group_label(grp)}" if split and grp else "")
        # Same key as the backup bars (the condition), so a condition keeps its colour
        # across an experiment's slides; the reference condition is grey everywhere.
        color = ctx.colors(label) if split else ctx.colors(cond, cond == ctx.baseline)
        series.append(Series(cond, label, tuple(by_key[(cond, grp)]), color, grp))
    refs: list[Reference] = []
    ref_source = None
    if kind == "sweep":
        refs = [Reference(c.condition or "reference", names.condition_label(c.condition or "reference"), c.estimate)
                for c in summarize(without_x, by=("condition",))]
        if not refs:
            refs, ref_source = borrowed_reference(ctx, metric, with_x)
    x_names = named_xs(with_x) if kind == "sweep" else {}
    x_format = infer_x_format(series)
    x_label = ctx.x_label(kind)
    hgroup = None
    if kind == "sweep":
        title, callout, hx, target, hgroup = sweep_sentence(series, refs, metric, x_names, names)
    else:
        title, callout, hx, target = curve_sentence(series, metric, x_label, x_format, names)
        hgroup = next((s.group for s in series if s.category == target), None)
    if ctx.o.highlight and ctx.o.highlight in {k[0] for k in keys}:
        target = ctx.o.highlight
    highlight = Highlight(target, ctx.o.callout or callout, x=hx, group=hgroup) if target else None
    caption = f"{names.experiment_label(ctx.key.experiment)}: {names.metric_noun(metric)} by {x_label.lower()}"
    if len(series) == 2 and series[0].category == series[1].category and split:
        caption += f", {names.condition_label(series[0].category).lower()} of a " \
                   f"{names.group_label(series[0].group or '')} vs a {names.group_label(series[1].group or '')}"
    elif len(series) == 2:
        caption += f", {series[0].label.lower()} vs {series[1].label.lower()}"
    if group:
        caption += f", {names.group_label(group)}"
    if ref_source:
        caption += f"; {refs[0].label.lower()} measured in '{ref_source}'"
    others = [k[0] for k in keys if k[0] != target]
    contrast = others[0] if kind == "curve" and len(keys) == 2 and others else None
    return assemble(
        ctx, suffix, metric, kind, title, caption=caption, series=series, references=refs,
        highlight=highlight, categories=tuple(dict.fromkeys(k[0] for k in keys)), group=group, backup=backup,
        x_label=x_label, x_format=x_format, x_names=x_names,
        prompt=prompt_choice(ctx, metric, target, [], x=hx, contrast=contrast),
    )


def lines_backup(ctx: Context, metric: str, kind: ChartKind) -> ChartSpec:
    """A metric's line chart for the backup: automatic choices and words, not the spec's."""
    plain = ctx.with_override(ExperimentSpec(experiment=ctx.key.experiment, metric=metric))
    return lines(plain, metric, kind, suffix=f"backup-{metric}", backup=True)


def auto_series(ctx: Context, by_key: dict[SeriesKey, list[Point]], order: list[SeriesKey]) -> list[SeriesKey]:
    """All lines when there are two or fewer; else the baseline and the headline condition's
    line, or the line furthest from the baseline."""
    if len(order) <= 2:
        return order
    base = next((k for k in order if k[0] == ctx.baseline), order[0])

    def gap(k: SeriesKey) -> float:
        ref = {p.x: p.estimate.value for p in by_key[base]}
        diffs = [abs(p.estimate.value - ref[p.x]) for p in by_key[k] if p.x in ref]
        return sum(diffs) / len(diffs) if diffs else 0.0

    candidates = [k for k in order if k != base]
    headline = [k for k in candidates if k[0] == ctx.names.headline_condition]
    return [base, max(headline or candidates, key=gap)]


def borrowed_reference(ctx: Context, metric: str, with_x: pd.DataFrame) -> tuple[list[Reference], str | None]:
    """A sweep without its own baseline borrows the baseline measured on the same items
    in another experiment of the run (the steering runner measures it once, in
    ``harmful``), so the chart still shows what the sweep is compared with."""
    df = ctx.run.results
    model = ctx.key.model
    items = set(with_x["item_id"].astype(str)) if "item_id" in with_x.columns else set()
    best: tuple[int, str, str] | None = None
    for name in ctx.names.baseline_names:
        cand = df[(df["condition"] == name) & (df["metric"] == metric) & (df["model"] == model)
                  & (df["experiment"] != ctx.key.experiment)]
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
              & (df["model"] == model)]
    (cell,) = summarize(part, by=())
    return [Reference(name, ctx.names.condition_label(name), cell.estimate)], exp


def named_xs(rows: pd.DataFrame) -> dict[float, str]:
    """Group labels that name each x one-to-one (a sweep's layer windows, e.g. 'L12–14')."""
    if "group" not in rows.columns or rows["group"].isna().all():
        return {}
    pairs = rows.loc[:, ["x", "group"]].dropna().drop_duplicates()
    if pairs["x"].duplicated().any() or pairs["group"].duplicated().any():
        return {}
    return {float(x): str(g) for x, g in pairs.itertuples(index=False)}

