"""``compare: model`` / ``compare: prompt_format``: two runs as the two categories of one chart.

The same experiment run on two models (run directories that differ only in the model, as
a sweep over models writes them), or in chat vs raw-completion format, answers "does it
replicate?" only when both sit side by side on one chart in the same colours. Each
condition the chart shows is a cluster; the two models (formats) are its two bars; an
experiment over ``x`` (reasoning kept, layers) gets one line per model instead. Models are
named as run.json ``model_label`` says (:mod:`reportgen.chart.runlabel`), and the runs of a
sweep are compared per grid point, whose label leads the title. The per-run charts still go
to the backup, complete.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from reportgen.chart.builders.context import Context, make_context
from reportgen.chart.builders.prompts import prompt_choice
from reportgen.chart.model import Bar, ChartKind, ChartSpec, Highlight, Point, Series
from reportgen.chart.names import BUILTIN, Names
from reportgen.chart.palette import DeckColors
from reportgen.chart.runlabel import grid_label, model_label
from reportgen.chart.words import curve_sentence, footnote_text, infer_x_format, sentence_case, sweep_where
from reportgen.inputs.deck_yaml import ExperimentSpec, SpecError
from reportgen.numbers.summarize import ExperimentKey, summarize
from reportgen.rundir.reader import Run


def compared_value(run: Run, key: ExperimentKey, field: str) -> str:
    """The model (as slides name it), or the prompt format, that distinguishes this run."""
    if field == "model":
        return model_label(run, key.model)
    fmts: set[str] = {p.prompt_format for p in run.prompts if p.experiment == key.experiment}
    if not fmts and run.info is not None:
        fmts = {str((run.info.config or {}).get("prompt_format", ""))} - {""}
    if len(fmts) != 1:
        raise SpecError([f"experiment '{key.experiment}' in run {run.run_id}: compare: prompt_format needs one "
                         f"prompt format per run, found {sorted(fmts) or 'none'}"])
    return "chat template" if fmts == {"chat"} else "raw completion"


def compare_chart(jobs: Sequence[tuple[Run, ExperimentKey]], o: ExperimentSpec, colors: DeckColors, *,
                  backup: bool = False) -> ChartSpec:
    """One chart: per shown condition, one bar per compared model (format); over ``x`` (a curve
    or a layer sweep) one line per model for the headline condition, pooling no x.

    The jobs share one sweep grid point (the caller groups them): its label leads the title so
    the charts of two grid points read apart.
    """
    field = o.compare or "model"
    if len(jobs) < 2:
        raise SpecError([f"experiment '{o.experiment}': compare: {field} needs it in two runs or models, "
                         f"found {len(jobs)}"])
    first_run, first_key = jobs[0]
    ctx = make_context(first_run, first_key, o.model_copy(update={"categories": None, "compare": None}), colors)
    names = ctx.names
    metric = ctx.primary_metric()
    frames: list[pd.DataFrame] = []
    compared: list[str] = []
    for run, key in jobs:
        value = compared_value(run, key, field)
        df = run.results
        part = df[(df["experiment"] == key.experiment) & (df["model"] == key.model) & (df["metric"] == metric)]
        if o.group and "group" in part.columns:
            part = part[part["group"] == o.group]
        frames.append(part.assign(condition=part["condition"].astype(str) + "\x1f" + value))
        compared.append(value)
    if len(set(compared)) != len(compared):
        raise SpecError([f"experiment '{o.experiment}': compare: {field} found the same {field} twice ({compared}); "
                         "runs of a sweep are compared per grid point (run.json 'grid_point')"])
    rows = pd.concat(frames, ignore_index=True)
    base = [c.split("\x1f")[0] for c in rows["condition"]]
    rows = rows.assign(base_condition=base)
    conds = [c for c in (o.categories or []) if c in ctx.conditions] or [
        c for c in (ctx.baseline, ctx.highlight_target([c for c in ctx.conditions if c != ctx.baseline]))
        if c is not None]
    target = next((c for c in reversed(conds) if not names.is_control(c) and c != ctx.baseline), conds[-1])
    grid = grid_label(first_run, names)
    kind = ctx.form(metric)
    with_x = rows[(rows["base_condition"] == target) & rows["x"].notna()] if "x" in rows.columns else rows.iloc[:0]
    if kind != "bars" and not with_x.empty:
        return _compare_lines(ctx, jobs, o, colors, with_x, compared, metric, target, kind, grid, backup)
    bars: list[Bar] = []
    for cell in summarize(rows[rows["base_condition"].isin(conds)].drop(columns="base_condition"), by=("condition",)):
        cond, value = str(cell.condition).split("\x1f")
        bars.append(Bar(value, value, cell.estimate, colors(value), names.condition_label(cond)))
    bars.sort(key=lambda b: ([names.condition_label(c) for c in conds].index(b.group or ""),
                             compared.index(b.category)))
    shown = [b for b in bars if b.group == names.condition_label(target)]
    title, callout = _sentence(shown, metric, target, names)
    highlight = Highlight(shown[-1].category, o.callout or callout, group=shown[-1].group) if len(shown) == 2 else None
    return ChartSpec(
        chart_id=_chart_id(jobs, o, field, backup), experiment=o.experiment, task=first_key.task, metric=metric,
        model=" vs ".join(compared), run_id=first_run.run_id, kind="bars",
        title=_with_grid(grid, title if backup else o.takeaway or title),
        caption=_caption(o, names, metric, compared, grid, backup),
        footnote=footnote_text(bars, [], [], "bars", names),
        value_kind="rate" if all(b.estimate.kind == "rate" for b in bars) else "mean",
        y_label=names.metric_axis(metric), bars=bars, highlight=highlight, backup=backup,
        n_total=sum(b.estimate.n_items for b in bars), category_field="condition",
        categories=tuple(compared), group=o.group, prompt=prompt_choice(ctx, metric, target, []),
        model_label=" vs ".join(compared), grid_label=grid,
    )


def _compare_lines(ctx: Context, jobs: Sequence[tuple[Run, ExperimentKey]], o: ExperimentSpec,
                   colors: DeckColors, rows: pd.DataFrame, compared: list[str], metric: str, target: str,
                   kind: ChartKind, grid: str, backup: bool) -> ChartSpec:
    """The comparison of an experiment measured over ``x``: one line per model, target condition only."""
    names = ctx.names
    group = None
    if "group" in rows.columns and rows["group"].nunique() > 1:
        # Two window widths in one run are two interventions: compare the first, never their pool.
        group = str(rows["group"].dropna().iloc[0])
        rows = rows[rows["group"] == group]
    elif "group" in rows.columns and rows["group"].notna().any():
        group = str(rows["group"].dropna().iloc[0])
    points: dict[str, list[Point]] = {}
    for cell in summarize(rows.drop(columns="base_condition"), by=("condition", "x")):
        model = str(cell.condition).split("\x1f")[1]
        points.setdefault(model, []).append(Point(float(cell.x), cell.estimate))  # type: ignore[arg-type]
    series = [Series(v, v, tuple(sorted(points[v], key=lambda p: p.x)), colors(v)) for v in compared if v in points]
    x_label = ctx.x_label(kind)
    x_format = infer_x_format(series)
    under = names.condition_label(target).lower()
    if kind == "sweep" and len(series) == 2:
        title, callout, hx, hcat = _sweep_sentence(series, metric, under, group, names)
    else:
        title, callout, hx, hcat = curve_sentence(series, metric, x_label, x_format, names)
        title = f"{title} ({under})"
    highlight = Highlight(hcat, o.callout or callout, x=hx) if hcat is not None and hx is not None else None
    detail = f"under {under}" + (f" ({names.group_label(group)})" if group else "") + f", by {x_label.lower()}"
    first_run, first_key = jobs[0]
    return ChartSpec(
        chart_id=_chart_id(jobs, o, o.compare or "model", backup), experiment=o.experiment, task=first_key.task,
        metric=metric, model=" vs ".join(compared), run_id=first_run.run_id, kind=kind,
        title=_with_grid(grid, title if backup else o.takeaway or title),
        caption=_caption(o, names, metric, compared, grid, backup, detail),
        footnote=footnote_text([], series, [], kind, names),
        value_kind="rate" if all(p.estimate.kind == "rate" for s in series for p in s.points) else "mean",
        y_label=names.metric_axis(metric), series=series, highlight=highlight, backup=backup,
        n_total=sum(p.estimate.n_items for s in series for p in s.points), x_label=x_label, x_format=x_format,
        category_field="condition", categories=tuple(compared), group=o.group,
        prompt=prompt_choice(ctx, metric, target, [], x=hx), model_label=" vs ".join(compared), grid_label=grid,
    )


def _sweep_sentence(series: Sequence[Series], metric: str, under: str, group: str | None,
                    names: Names) -> tuple[str, str, float | None, str | None]:
    """Takeaway of two models' layer sweeps: the layer (window) where they differ most, if anywhere."""
    a, b = series[0], series[1]
    other = {p.x: p.estimate for p in b.points}
    gaps = [(abs(other[p.x].value - p.estimate.value), p.x, p.estimate, other[p.x])
            for p in a.points if p.x in other and not p.estimate.overlaps(other[p.x])]
    noun = names.metric_noun(metric)
    if not gaps:
        windows = "layer window" if group and "window" in group else "layer"
        return (f"{a.label} and {b.label} do not clearly differ in {noun} under {under} at any {windows}",
                "same within the interval", b.points[len(b.points) // 2].x, b.category)
    _, x, ea, eb = max(gaps, key=lambda g: g[0])
    where = sweep_where(x, group, {})
    comp = "higher" if eb.value > ea.value else "lower"
    return (f"{sentence_case(noun)} under {under} at {where} is {comp} on {b.label} than on {a.label}: "
            f"{eb.short()} vs {ea.short()}", f"{comp} on {b.label}", x, b.category)


def _chart_id(jobs: Sequence[tuple[Run, ExperimentKey]], o: ExperimentSpec, field: str, backup: bool) -> str:
    raw = f"{jobs[0][0].run_id}-{o.experiment}-compare-{field}" + ("-all" if backup else "")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-")


def _with_grid(grid: str, title: str) -> str:
    """'Layer window 1: …': the grid point leads, so two grid points' charts never share a title."""
    return f"{sentence_case(grid)}: {title}" if grid else title


def _caption(o: ExperimentSpec, names: Names, metric: str, compared: Sequence[str], grid: str, backup: bool,
             detail: str = "") -> str:
    if o.caption and not backup:
        return o.caption
    parts = [f"{names.experiment_label(o.experiment)}: {names.metric_noun(metric)}" + (f" {detail}" if detail else ""),
             " vs ".join(compared), *(x for x in (o.group, grid) if x)]
    return ", ".join(parts) + (" (every model)" if backup else "")


def _sentence(bars: Sequence[Bar], metric: str, condition: str, names: Names = BUILTIN) -> tuple[str, str]:
    noun = names.metric_noun(metric)
    under = names.condition_label(condition).lower()
    if len(bars) != 2:
        return f"{sentence_case(noun)} under {under} by {bars[0].category if bars else 'run'}", ""
    a, b = bars[0], bars[1]
    if a.estimate.overlaps(b.estimate):
        return (f"{a.category} and {b.category} do not clearly differ in {noun} under {under} "
                f"({a.estimate.short()} vs {b.estimate.short()})", "same within the interval")
    comp = "higher" if b.estimate.value > a.estimate.value else "lower"
    return (f"{sentence_case(noun)} under {under} is {comp} on {b.category} than on {a.category}: "
            f"{b.estimate.short()} vs {a.estimate.short()}", f"{comp} on {b.category}")
