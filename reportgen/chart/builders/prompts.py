"""Which prompt a chart shows verbatim, and finding its record again for the slide.

The default is an item that shows the chart's message (a harmful prompt no longer
refused after ablation, a cued item that switched), not simply the first row: a mentor
reads one example, and a random one often shows nothing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from reportgen.chart.builders.context import Context
from reportgen.chart.model import Bar, ChartSpec
from reportgen.inputs.deck_yaml import PromptChoice
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import PromptRecord


def prompt_choice(ctx: Context, metric: str, target: str | None, bars: Sequence[Bar], *,
                  x: float | None = None, want: float | None = None,
                  group: str | None = None, contrast: str | None = None) -> PromptChoice | None:
    """The prompt to show verbatim: the spec's, else one item that shows the message.

    Default: an item of the highlighted condition whose outcome goes the way of the
    takeaway (a harmful prompt that is no longer refused after ablation; a switched
    cued item), so the mentor sees an example of the effect, not a random row.
    """
    spec = ctx.o.prompt
    if spec is not None and spec.item_id is not None:
        return spec
    prompts = [p for p in ctx.run.prompts if p.experiment == ctx.key.experiment]
    if not prompts:
        return spec
    condition = target if target in ctx.conditions else None
    if spec is not None:
        # A spec that names only the condition/group/x narrows the choice; within it the
        # item is still one that shows the message (a switched item, not simply the first).
        condition = spec.condition or condition
        group = spec.group or group
        x = spec.x if spec.x is not None else x
        prompts = [p for p in prompts if (spec.condition is None or p.condition == spec.condition)
                   and (spec.group is None or p.group == spec.group)] or prompts
    rows = ctx.rows(metric)
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
        rows = contrasting(ctx, rows, metric, contrast, x)
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


def contrasting(ctx: Context, rows: pd.DataFrame, metric: str, contrast: str, x: float | None) -> pd.DataFrame:
    """Rows of items whose outcome differs between the two charted conditions at ``x``, the
    way the curves differ (forced wrong where continued still matches): an item where both
    agree shows nothing."""
    other = ctx.rows(metric)
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
