"""Which chart to draw for each experiment, and what it says: pure, no matplotlib.

For every experiment in a run the builders (:mod:`reportgen.chart.builders`) decide

- the **form**: two bars (conditions, or two metrics such as switch vs articulation
  rate), a **curve** over a fractional ``x`` (reasoning kept) or a **sweep** over an
  integer ``x`` (layer);
- the **two categories** of the main chart: from the deck spec, else the baseline
  against the run's headline condition or the condition with the strongest effect
  (mentors ask for one message per chart; more than two colours confuse), with every
  category moved to a backup chart;
- the **words** (phrased by :mod:`reportgen.chart.words`, names from the run's
  vocabulary via :mod:`reportgen.chart.names`): a takeaway sentence written from the
  numbers (it becomes the slide title), a one-line caption, a footnote with n and the
  interval method, and one highlight — the bar or point the arrow points at with a
  short callout.

Overlapping 95 % intervals are reported as "does not clearly change": a takeaway must
never claim an effect the interval does not support. This module orders the charts of
a deck and keeps the names callers import from it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace

import pandas as pd

from reportgen.chart.builders.backups import backup_charts
from reportgen.chart.builders.bars import condition_bars, metric_bars
from reportgen.chart.builders.context import Context, bin_fractions, make_context
from reportgen.chart.builders.lines import lines
from reportgen.chart.builders.prompts import select_prompt
from reportgen.chart.compare import compare_chart
from reportgen.chart.model import (
    Bar,
    CategoryField,
    ChartKind,
    ChartSpec,
    Highlight,
    Point,
    Reference,
    Series,
)
from reportgen.chart.names import (
    condition_label,
    experiment_label,
    group_label,
    humanize,
    is_control,
    metric_axis,
    metric_noun,
    names_of,
)
from reportgen.chart.palette import DeckColors
from reportgen.chart.runlabel import grid_key, grid_point
from reportgen.chart.words import sentence_case
from reportgen.inputs.deck_yaml import DeckSpec, ExperimentSpec
from reportgen.numbers.summarize import ExperimentKey, experiments
from reportgen.rundir.reader import Run


def build_chart_specs(runs: Sequence[Run], spec: DeckSpec | None = None) -> list[ChartSpec]:
    """Main and backup chart specs for every experiment of every run.

    Order: experiments listed in the spec first (in its order), then the rest in run
    order; each main chart is followed by its backup charts (``backup=True``).
    """
    spec = with_default_comparisons(runs, spec)
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
    compared: set[tuple[str, str]] = set()
    alone: set[tuple[str, str]] = set()
    for run, key, override in jobs:
        point = (key.experiment, grid_key(run))
        if override is not None and override.compare and point not in compared | alone:
            # The runs (models, formats) of this experiment side by side, one chart per sweep
            # grid point; each run's own charts follow in the backup.
            group = [(r, k) for r, k, o in jobs if o is override and grid_key(r) == point[1]]
            if len(group) < 2:
                alone.add(point)  # the other model failed: this run's own charts stay in the story
            else:
                compared.add(point)
                charts.extend(comparison_charts(group, override, colors))
        # One palette for the deck: a condition keeps its colour on every slide.
        built = experiment_charts(run, key, override, colors)
        to_backup = (override is not None and override.compare and point not in alone) or (
            listed and override is None and spec is not None and spec.unlisted == "backup"
        )  # not in the spec's story: shown in the backup, complete
        charts.extend(replace(c, backup=True) if to_backup else c for c in built)
    shown_models = models if len(models) > 1 else ()
    charts = [replace(c, models=shown_models, callout_color=spec.callout_color if spec is not None else c.callout_color)
              for c in charts]
    charts = name_duplicate_titles(merge_grid_points(dedupe_charts(charts)))
    from reportgen.deck.plan import (  # deckplan builds on deckspec, which imports this module
        plan_shared_slides,
    )

    return plan_shared_slides(runs, charts)


def with_default_comparisons(runs: Sequence[Run], spec: DeckSpec | None) -> DeckSpec | None:
    """The spec with its top-level ``compare`` spelled out: a compare entry for each runner's headline
    experiment the spec does not list (the experiment holding the run's headline metric and condition)."""
    if spec is None or spec.compare is None:
        return spec
    listed = {e.experiment for e in spec.experiments}
    added: list[ExperimentSpec] = []
    for experiment in [*(headline_experiment(run) for run in runs), *grid_dependent_experiments(runs)]:
        if experiment is not None and experiment not in listed:
            listed.add(experiment)
            added.append(ExperimentSpec(experiment=experiment, compare=spec.compare))
    return spec.model_copy(update={"experiments": [*spec.experiments, *added]})


_ROW_KEY = ("condition", "item_id", "metric", "value", "x", "group", "k", "n")


def grid_dependent_experiments(runs: Sequence[Run]) -> list[str]:
    """Experiments whose rows differ between two grid points of one model: what the sweep changed
    (the layer-sweep widths change the layer sweep, not the harmful prompts)."""
    seen: dict[tuple[str, str], set[int]] = {}
    for run in runs:
        if not grid_point(run):
            continue
        df = run.results
        cols = [c for c in _ROW_KEY if c in df.columns]
        for (experiment, model), part in df.groupby(["experiment", "model"], sort=False):
            rows = part[cols].astype(str).sort_values(cols).reset_index(drop=True)
            digest = int(pd.util.hash_pandas_object(rows, index=False).sum())
            seen.setdefault((str(experiment), str(model)), set()).add(digest)
    return list(dict.fromkeys(e for (e, _), digests in seen.items() if len(digests) > 1))


def headline_experiment(run: Run) -> str | None:
    """The first experiment with the run's headline metric under its headline condition, else the first."""
    names = names_of(run)
    df = run.results
    hit = df[(df["metric"] == names.headline_metric) & (df["condition"] == names.headline_condition)]
    found = hit if not hit.empty else df
    return str(found["experiment"].iloc[0]) if not found.empty else None


def comparison_charts(group: Sequence[tuple[Run, ExperimentKey]], override: ExperimentSpec,
                      colors: DeckColors) -> list[ChartSpec]:
    """The main comparison (the first two models: two categories) and, with more models, a backup
    chart of every model."""
    charts = [compare_chart(group[:2], override, colors)]
    if len(group) > 2:
        charts.append(compare_chart(group, override, colors, backup=True))
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


def merge_grid_points(charts: Sequence[ChartSpec]) -> list[ChartSpec]:
    """One chart for sweep grid points that measured exactly the same (an override the experiment
    does not depend on, such as the layer-sweep widths for the harmful prompts), naming them all."""
    first: dict[tuple[object, ...], int] = {}
    labels: dict[int, list[str]] = {}
    out: list[ChartSpec | None] = []
    for c in charts:
        sig = (c.backup, *chart_signature(c)[1:])
        if c.grid_label and sig in first:
            labels[first[sig]].append(c.grid_label)
            out.append(None)
            continue
        if c.grid_label:
            first[sig] = len(out)
            labels[len(out)] = [c.grid_label]
        out.append(c)
    for i, found in labels.items():
        kept = out[i]
        if kept is None or len(found) < 2:
            continue
        merged = " and ".join(dict.fromkeys(found))
        old, new = sentence_case(kept.grid_label), sentence_case(merged)
        title = new + kept.title[len(old):] if kept.title.startswith(old) else kept.title
        out[i] = replace(kept, grid_label=merged, title=title, caption=kept.caption.replace(kept.grid_label, merged))
    return [c for c in out if c is not None]


def name_duplicate_titles(charts: Sequence[ChartSpec]) -> list[ChartSpec]:
    """Charts of several runs that would share a title say whose they are first
    ('organism-noisy, layer window 2: …'; a model keeps its spelling): two slides with one title read
    as a repeat."""
    counts = Counter(c.title for c in charts)
    out = []
    for c in charts:
        model = c.shown_model if c.models or c.model_label else ""
        who = ", ".join(x for x in (model, c.grid_label) if x) if model else sentence_case(c.grid_label)
        named = counts[c.title] > 1 and who and not c.title.startswith(who)
        out.append(replace(c, title=f"{who}: {c.title}") if named else c)
    # Two experiments can also measure the same thing alike (AOC by fraction and by sentence cuts):
    # each such title then names its experiment.
    experiments_of: dict[str, set[str]] = {}
    for c in out:
        experiments_of.setdefault(c.title, set()).add(c.experiment)
    return [replace(c, title=f"{experiment_label(c.experiment)}: {c.title}") if len(experiments_of[c.title]) > 1 else c
            for c in out]


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
    ctx = make_context(run, key, override, colors or DeckColors())
    main = main_chart(ctx)
    charts = [main]
    if override is None or override.backup:
        charts.extend(backup_charts(ctx, main))
    return charts


def main_chart(ctx: Context) -> ChartSpec:
    """Two metrics side by side when the experiment compares a pair, else the primary metric in its form."""
    pair = ctx.metric_pair()
    if pair is not None:
        return metric_bars(ctx, pair)
    metric = ctx.primary_metric()
    kind = ctx.form(metric)
    if kind == "bars":
        return condition_bars(ctx, metric)
    return lines(ctx, metric, kind)


__all__ = [
    "Bar", "CategoryField", "ChartKind", "ChartSpec", "Highlight", "Point", "Reference", "Series",
    "bin_fractions", "build_chart_specs", "chart_signature", "condition_label", "dedupe_charts",
    "experiment_charts", "experiment_label", "group_label", "humanize", "is_control", "main_chart",
    "metric_axis", "metric_noun", "select_prompt",
]
