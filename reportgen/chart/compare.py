"""``compare: model`` / ``compare: prompt_format``: two runs as the two categories of one chart.

The same experiment run on two models (run directories that differ only in the model, as
a sweep over models writes them), or in chat vs raw-completion format, answers "does it
replicate?" only when both sit side by side on one chart in the same colours. Each
condition the chart shows is a cluster; the two models (formats) are its two bars. The
per-run charts still go to the backup, complete.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from reportgen.chart.builders.context import make_context
from reportgen.chart.builders.prompts import prompt_choice
from reportgen.chart.model import Bar, ChartSpec, Highlight
from reportgen.chart.names import BUILTIN, Names
from reportgen.chart.palette import DeckColors
from reportgen.chart.words import footnote_text, sentence_case
from reportgen.inputs.deck_yaml import ExperimentSpec, SpecError
from reportgen.numbers.summarize import ExperimentKey, summarize
from reportgen.rundir.reader import Run


def compared_value(run: Run, key: ExperimentKey, field: str) -> str:
    """The model, or the prompt format, that distinguishes this run."""
    if field == "model":
        return key.model
    fmts: set[str] = {p.prompt_format for p in run.prompts if p.experiment == key.experiment}
    if not fmts and run.info is not None:
        fmts = {str((run.info.config or {}).get("prompt_format", ""))} - {""}
    if len(fmts) != 1:
        raise SpecError([f"experiment '{key.experiment}' in run {run.run_id}: compare: prompt_format needs one "
                         f"prompt format per run, found {sorted(fmts) or 'none'}"])
    return "chat template" if fmts == {"chat"} else "raw completion"


def compare_chart(jobs: Sequence[tuple[Run, ExperimentKey]], o: ExperimentSpec, colors: DeckColors) -> ChartSpec:
    """One chart: per shown condition, one bar per compared model (format)."""
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
        raise SpecError([f"experiment '{o.experiment}': compare: {field} found the same {field} twice ({compared})"])
    rows = pd.concat(frames, ignore_index=True)
    conds = [c for c in (o.categories or []) if c in ctx.conditions] or [
        c for c in (ctx.baseline, ctx.highlight_target([c for c in ctx.conditions if c != ctx.baseline]))
        if c is not None]
    bars: list[Bar] = []
    for cell in summarize(rows[rows["condition"].str.split("\x1f").str[0].isin(conds)], by=("condition",)):
        cond, value = str(cell.condition).split("\x1f")
        bars.append(Bar(value, value, cell.estimate, colors(value), names.condition_label(cond)))
    bars.sort(key=lambda b: ([names.condition_label(c) for c in conds].index(b.group or ""),
                             compared.index(b.category)))
    target = next((c for c in reversed(conds) if not names.is_control(c) and c != ctx.baseline), conds[-1])
    shown = [b for b in bars if b.group == names.condition_label(target)]
    title, callout = _sentence(shown, metric, target, names)
    highlight = Highlight(shown[-1].category, o.callout or callout, group=shown[-1].group) if len(shown) == 2 else None
    run_ids = "-".join(r.run_id for r, _ in jobs[:1])
    return ChartSpec(
        chart_id=re.sub(r"[^A-Za-z0-9._-]+", "-", f"{run_ids}-{o.experiment}-compare-{field}").strip("-"),
        experiment=o.experiment, task=first_key.task, metric=metric, model=" vs ".join(compared),
        run_id=first_run.run_id, kind="bars", title=o.takeaway or title,
        caption=o.caption or f"{names.experiment_label(o.experiment)}: {names.metric_noun(metric)}, "
        f"{' vs '.join(compared)}" + (f", {o.group}" if o.group else ""),
        footnote=footnote_text(bars, [], [], "bars", names),
        value_kind="rate" if all(b.estimate.kind == "rate" for b in bars) else "mean",
        y_label=names.metric_axis(metric), bars=bars, highlight=highlight,
        n_total=sum(b.estimate.n for b in bars), category_field="condition",
        categories=tuple(compared), group=o.group, prompt=prompt_choice(ctx, metric, target, []),
    )


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
