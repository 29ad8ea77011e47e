"""Tidy results → one :class:`~reportgen.numbers.stats.Estimate` per cell (condition, group, x …).

Pure: takes the validated results table of :mod:`reportgen.rundir.schema` and returns typed
cells; charts, decks and abstracts all quote these same numbers, so a rate is counted in
exactly one place.

Whether a metric is a rate or a mean is decided once per (experiment, metric) over the
whole table: all values in {0, 1} and no declared bound → rate (Wilson); otherwise → mean
(t), clipped to the metric's ``lower_bound``/``upper_bound`` when the rows declare one. Aggregated tables
(``k`` of ``n``) are always rates, and rows falling in the same cell are pooled. A cell holding more
than one row of an item (``samples: k``, several random directions, or groups pooled together) is
averaged per item and its interval clustered by item (:func:`reportgen.numbers.stats.clustered`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd

from reportgen.numbers import stats
from reportgen.rundir.schema import BOUND_COLUMNS, CHECK_COLUMN, SAMPLE_COLUMN, is_aggregated

#: The breakdown dimensions a caller may keep; the rest are pooled.
Dimension = Literal["condition", "group", "x", "metric"]
_IDENTITY = ("experiment", "task", "model")


@dataclass(frozen=True)
class Cell:
    """One estimate. ``group``/``x``/``condition`` are None when pooled (or absent)."""

    experiment: str
    task: str
    model: str
    metric: str
    condition: str | None
    group: str | None
    x: float | None
    estimate: stats.Estimate
    check: str | None = None
    """Why this cell cannot fail, when every row in it is a sanity check (the ``check``
    column): it shows the pipeline works, and is never evidence for a takeaway or claim."""


@dataclass(frozen=True)
class ExperimentKey:
    """One experiment on one model: the unit that gets its own chart(s)."""

    experiment: str
    task: str
    model: str


def experiments(results: pd.DataFrame) -> list[ExperimentKey]:
    """The experiments in a table, in order of first appearance (the runner's order)."""
    keys = results.loc[:, list(_IDENTITY)].drop_duplicates()
    return [ExperimentKey(*(str(v) for v in row)) for row in keys.itertuples(index=False)]


def metric_kinds(results: pd.DataFrame) -> dict[tuple[str, str], Literal["rate", "mean"]]:
    """Rate or mean for every (experiment, metric), decided over all of its rows."""
    if is_aggregated(results):
        pairs = results.loc[:, ["experiment", "metric"]].drop_duplicates()
        return {(str(e), str(m)): "rate" for e, m in pairs.itertuples(index=False)}
    binary = results["value"].isin((0.0, 1.0))
    # A declared bound marks a continuous metric: an AOC that happens to be 0 or 1 on
    # every item is still an area, not a success count.
    for col in BOUND_COLUMNS:
        if col in results.columns:
            binary &= results[col].isna()
    per_metric = binary.groupby([results["experiment"], results["metric"]], sort=False).all()
    return {(str(key[0]), str(key[1])): ("rate" if b else "mean")
            for key, b in per_metric.items() if isinstance(key, tuple)}


def summarize(
    results: pd.DataFrame,
    by: Sequence[Dimension] = ("condition",),
    *,
    experiment: str | None = None,
    metric: str | None = None,
    model: str | None = None,
) -> list[Cell]:
    """Estimates per experiment × model × metric × the ``by`` dimensions.

    ``metric`` is always kept (a rate and a KL never pool); ``by`` lists which of
    condition, group and x to keep, the others being pooled. The optional filters
    select one experiment / metric / model first. Cells come out in the table's
    order of first appearance, except x, which is sorted numerically.
    """
    df = results
    if experiment is not None:
        df = df[df["experiment"] == experiment]
    if metric is not None:
        df = df[df["metric"] == metric]
    if model is not None:
        df = df[df["model"] == model]
    if df.empty:
        return []
    kinds = metric_kinds(df)
    keep = [d for d in ("condition", "group", "x") if d in by and d in df.columns]
    keys = [*_IDENTITY, "metric", *keep]
    aggregated = is_aggregated(df)
    # Missing group/x are a real level ("pooled" rows such as a sweep's baseline), so keep
    # them rather than letting groupby drop NaN keys.
    grouped = df.groupby(keys, sort=False, dropna=False)
    cells: list[Cell] = []
    for key, part in grouped:
        values = dict(zip(keys, key if isinstance(key, tuple) else (key,)))
        kind = kinds[(str(values["experiment"]), str(values["metric"]))]
        if aggregated:
            est = stats.pooled_rate(part["k"], part["n"])
        elif part["item_id"].duplicated().any():
            # k samples of an item (or an item under several pooled groups) are not k items.
            est = stats.clustered(part["value"].to_numpy(dtype=float), part["item_id"].astype(str).tolist(),
                                  binary=kind == "rate", samples=_samples(part), **_bounds(part))
        else:
            est = stats.estimate(part["value"].to_numpy(dtype=float), binary=kind == "rate", **_bounds(part))
        check = _check(part)
        if check is not None:
            est = replace(est, check=check)
        cells.append(
            Cell(
                experiment=str(values["experiment"]),
                task=str(values["task"]),
                model=str(values["model"]),
                metric=str(values["metric"]),
                condition=_text(values.get("condition")),
                group=_text(values.get("group")),
                x=_number(values.get("x")),
                estimate=est,
                check=check,
            )
        )
    if "x" in keep:
        # Series keep their first-appearance order; points within a series sort by x
        # (a missing x, e.g. a sweep's un-windowed baseline, goes last).
        first: dict[tuple, int] = {}
        for c in cells:
            first.setdefault(_series_key(c), len(first))
        cells.sort(key=lambda c: (first[_series_key(c)], math.inf if c.x is None else c.x))
    return cells


def summary_frame(cells: Sequence[Cell]) -> pd.DataFrame:
    """Cells as a table (for backup slides, Markdown summaries and tests)."""
    rows = []
    for c in cells:
        e = c.estimate
        rows.append(
            {
                "experiment": c.experiment,
                "model": c.model,
                "metric": c.metric,
                "condition": c.condition,
                "group": c.group,
                "x": c.x,
                "kind": e.kind,
                "value": e.value,
                "low": e.low,
                "high": e.high,
                "k": e.k,
                "n": e.n,
                "method": e.method,
                "items": e.items,
                "label": e.label(),
            }
        )
    return pd.DataFrame(rows)


def _bounds(part: pd.DataFrame) -> dict[str, float | None]:
    """The metric's declared range over the cell's rows (the loosest, should rows disagree)."""
    out: dict[str, float | None] = {"lower": None, "upper": None}
    for col, key, pick in zip(BOUND_COLUMNS, ("lower", "upper"), (min, max)):
        if col in part.columns and part[col].notna().any():
            out[key] = float(pick(part[col].dropna()))
    return out


def _samples(part: pd.DataFrame) -> int:
    """Distinct samples per item (the most any item has); 1 without a ``sample`` column."""
    if SAMPLE_COLUMN not in part.columns:
        return 1
    return int(part.groupby("item_id", sort=False)[SAMPLE_COLUMN].nunique().max())


def _check(part: pd.DataFrame) -> str | None:
    if CHECK_COLUMN not in part.columns or not part[CHECK_COLUMN].notna().all():
        return None
    return "; ".join(dict.fromkeys(part[CHECK_COLUMN].astype(str)))


def _series_key(c: Cell) -> tuple:
    return (c.experiment, c.model, c.metric, c.condition, c.group)


def _text(v: object) -> str | None:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return None
    return str(v)


def _number(v: object) -> float | None:
    if v is None or v is pd.NA:
        return None
    f = float(v)  # type: ignore[arg-type]
    return None if np.isnan(f) else f
