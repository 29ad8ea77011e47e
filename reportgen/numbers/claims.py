"""Claims of a hypothetical abstract: a guessed number, how to measure it, and a verdict rule.

The "paper speedrun": before running anything, write the abstract with the numbers you
expect and decide whether the result would be interesting. Each number is a *claim*
with

- ``hypothetical``: the guess, written as a researcher writes it (``58%``, ``-40 pp``,
  ``0.48``);
- ``measure``: where the real number comes from in tidy results — one cell
  (experiment/metric/condition[/x/group]) as a rate or mean, or the difference between
  two cells (``minus:`` overrides some fields, e.g. ``{condition: baseline}``);
- ``expect`` (optional): the rule that decides whether the hypothesis held, a
  direction and a threshold (``above: 50%``), judged on the 95 % interval so noise is
  "inconclusive", not "held".

Pure: measuring reads already-validated run tables and uses :mod:`reportgen.numbers.summarize`
(the numbers the deck shows) and statsmodels for difference intervals.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, field_validator, model_validator
from statsmodels.stats.proportion import confint_proportions_2indep
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW

from reportgen.numbers.stats import (
    CONFIDENCE,
    Estimate,
    format_number,
    sampling_note,
    format_percent,
    paired_rate_difference,
)
from reportgen.numbers.summarize import summarize
from reportgen.rundir.errors import UserError
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import CHECK_COLUMN, is_aggregated
from reportgen.rundir.strict import Strict as _Strict

Unit = Literal["percent", "number"]


class ClaimError(UserError, ValueError):
    """A claim cannot be measured from the given results; the message says why and where."""


# ------------------------------------------------------------------ quantities

_QUANTITY = re.compile(r"^\s*([+-−]?\s*\d+(?:\.\d*)?|[+-−]?\s*\.\d+)\s*(%|pp|percent|points?)?\s*$")


@dataclass(frozen=True)
class Quantity:
    """A number as written in the spec: ``value`` is a fraction when ``unit`` is percent."""

    value: float
    unit: Unit


def parse_quantity(raw: Any) -> Quantity:
    """``"58%"`` → 0.58 percent; ``"-40 pp"`` → -0.40 percent; ``0.48`` → 0.48 number."""
    if isinstance(raw, bool):
        raise ValueError("expected a number like 58%, -40 pp or 0.48")
    if isinstance(raw, (int, float)):
        if not math.isfinite(raw):
            raise ValueError("must be finite")
        return Quantity(float(raw), "number")
    if isinstance(raw, str):
        m = _QUANTITY.match(raw)
        if m:
            number = float(m.group(1).replace("−", "-").replace(" ", ""))
            return Quantity(number / 100, "percent") if m.group(2) else Quantity(number, "number")
    raise ValueError(f"expected a number like 58%, -40 pp or 0.48, got {raw!r}")


def format_quantity(value: float, unit: Unit, difference: bool = False) -> str:
    """58% / +12 pp (percentage points for a difference of rates) / 0.482."""
    if unit == "percent":
        if difference:
            return f"{value * 100:+.0f} pp".replace("-", "−")
        return format_percent(value)
    text = format_number(value)
    return (("+" if value > 0 else "") + text).replace("-", "−") if difference else text


# ------------------------------------------------------------------ spec models


class Cell(_Strict):
    """Selects rows of a results table; unset optional fields match every row."""

    experiment: str | None = None
    metric: str | None = None
    condition: str | None = None
    x: float | None = None
    group: str | None = None
    model: str | None = None
    run: str | None = Field(None, description="run id or run directory name")


class Measure(Cell):
    """A cell (``experiment`` and ``metric`` required), optionally minus another cell."""

    experiment: str = Field(min_length=1)
    metric: str = Field(min_length=1)
    minus: Cell | None = Field(None, description="fields that differ for the subtracted cell")

    def other(self) -> Cell | None:
        """The subtracted cell: this cell with the ``minus`` fields replaced."""
        if self.minus is None:
            return None
        base = self.model_dump(exclude={"minus"})
        base.update(self.minus.model_dump(exclude_unset=True))
        return Cell(**base)


class Expectation(_Strict):
    """The hypothesis holds if the measured value is above / below a threshold."""

    above: Quantity | None = None
    below: Quantity | None = None

    @field_validator("above", "below", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        return None if v is None or isinstance(v, Quantity) else parse_quantity(v)

    @model_validator(mode="after")
    def _one(self) -> Expectation:
        if (self.above is None) == (self.below is None):
            raise ValueError("give exactly one of 'above' or 'below'")
        return self

    @property
    def threshold(self) -> Quantity:
        return self.above if self.above is not None else self.below  # type: ignore[return-value]


class Claim(_Strict):
    """One number of the abstract."""

    id: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", description="referenced as {id} in the text")
    label: str = Field(min_length=1, description="what the number is, for the tables")
    hypothetical: Quantity | None = None
    measure: Measure | None = None
    expect: Expectation | None = None

    @field_validator("hypothetical", mode="before")
    @classmethod
    def _parse(cls, v: Any) -> Any:
        return None if v is None or isinstance(v, Quantity) else parse_quantity(v)

    @model_validator(mode="after")
    def _something_to_show(self) -> Claim:
        if self.hypothetical is None and self.measure is None:
            raise ValueError("a claim needs a 'hypothetical' value, a 'measure', or both")
        return self

    @property
    def is_difference(self) -> bool:
        return self.measure is not None and self.measure.minus is not None


# ------------------------------------------------------------------ measuring


@dataclass(frozen=True)
class Measured:
    """A measured claim: value and 95 % interval in the claim's unit, and how it was got."""

    value: float
    low: float
    high: float
    unit: Unit
    difference: bool
    n: str  # "40" or "40 vs 40" for a difference
    method: str
    runs: tuple[str, ...]

    def text(self) -> str:
        return format_quantity(self.value, self.unit, self.difference)

    def interval(self) -> str:
        lo, hi = (format_quantity(v, self.unit, self.difference) for v in (self.low, self.high))
        return f"{lo} to {hi}"


def _select(runs: Sequence[Run], cell: Cell, where: str) -> tuple[pd.DataFrame, str]:
    """The rows of ``cell`` from the one run that has them."""
    hits: list[tuple[pd.DataFrame, str]] = []
    for run in runs:
        if cell.run is not None and cell.run not in (run.run_id, run.path.name):
            continue
        df = run.results
        mask = pd.Series(True, index=df.index)
        for col in ("experiment", "metric", "condition", "group", "model"):
            value = getattr(cell, col)
            if value is not None:
                mask &= df[col].astype(str) == value if col in df.columns else False
        if cell.x is not None:
            if "x" not in df.columns:
                continue
            xs = df["x"].astype(float)
            mask &= xs.notna() & np.isclose(xs.fillna(math.inf), cell.x)
        if mask.any():
            hits.append((df[mask], run.run_id))
    if not hits:
        raise ClaimError(f"{where}: no rows match {_describe(cell)}{_available(runs, cell)}")
    if len(hits) > 1:
        names = ", ".join(h[1] for h in hits)
        raise ClaimError(f"{where}: {_describe(cell)} matches rows in several runs ({names}); add 'run:'")
    rows, run_id = hits[0]
    models = rows["model"].astype(str).unique()
    if len(models) > 1:
        raise ClaimError(f"{where}: {_describe(cell)} matches several models ({', '.join(models)}); add 'model:'")
    return rows, run_id


def _describe(cell: Cell) -> str:
    parts = [f"{k}={v!r}" for k, v in cell.model_dump(exclude_none=True).items()]
    return ", ".join(parts) or "everything"


def _available(runs: Sequence[Run], cell: Cell) -> str:
    """Hint: the values that do exist for the first field that matched nothing."""
    frames = [r.results for r in runs]
    if not frames:
        return " (no results given)"
    for col in ("experiment", "metric", "condition", "group"):
        value = getattr(cell, col)
        present = sorted({str(v) for f in frames if col in f.columns for v in f[col].dropna().unique()})
        if value is not None and value not in present:
            return f" (no {col} {value!r}; the results have: {', '.join(present[:12]) or 'none'})"
    return ""


def _estimate(rows: pd.DataFrame) -> Estimate:
    cells = summarize(rows, by=())
    if len(cells) != 1:
        raise ClaimError("internal: expected one cell")  # model/metric were pinned above
    return cells[0].estimate


def measure_claim(claim: Claim, runs: Sequence[Run], where: str = "") -> Measured:
    """The claim's measured value from the runs' results.

    A single cell is a rate (Wilson) or a mean (t), exactly as the deck shows it. A
    difference is paired when both cells hold one value for the same items (the same
    prompts under two conditions): Newcombe's paired score interval for rates, t on the
    per-item differences for means; otherwise Newcombe's independent interval or Welch. When a
    cell holds several rows of an item (``samples: k``), the same is done on per-item means.
    A cell whose rows are all sanity checks (the ``check`` column: it cannot fail by
    construction) is never evidence, so a claim on it is refused.
    """
    assert claim.measure is not None
    where = where or f"claim '{claim.id}'"
    rows_a, run_a = _select(runs, claim.measure, f"{where}, measure")
    _not_a_check(rows_a, f"{where}, measure")
    a = _estimate(rows_a)
    unit: Unit = "percent" if a.kind == "rate" else "number"
    other = claim.measure.other()
    if other is None:
        return Measured(a.value, a.low, a.high, unit, False, str(a.n_items), _with_sampling(a.method, a), (run_a,))
    rows_b, run_b = _select(runs, other, f"{where}, measure.minus")
    _not_a_check(rows_b, f"{where}, measure.minus")
    b = _estimate(rows_b)
    if a.kind != b.kind:
        raise ClaimError(f"{where}: cannot subtract a {b.kind} from a {a.kind}")
    alpha = 1 - CONFIDENCE
    if _repeats_items(rows_a) or _repeats_items(rows_b):
        # k samples of an item are one item: compare per-item means (paired when the items match).
        low, high, method = _mean_difference(_per_item(rows_a), _per_item(rows_b), alpha)
        method += " on per-item means (clustered by item)"
    elif a.kind == "rate":
        paired = _paired_values(rows_a, rows_b)
        if paired is not None:
            low, high = paired_rate_difference(*paired)
            method = "95% paired Newcombe"
        else:
            low, high = confint_proportions_2indep(a.k, a.n, b.k, b.n, method="newcomb", compare="diff", alpha=alpha)
            method = "95% Newcombe"
    else:
        low, high, method = _mean_difference(rows_a, rows_b, alpha)
    runs_used = tuple(dict.fromkeys((run_a, run_b)))
    return Measured(a.value - b.value, float(low), float(high), unit, True, f"{a.n_items} vs {b.n_items}",
                    _with_sampling(method, a, b), runs_used)


def _with_sampling(method: str, *estimates: Estimate) -> str:
    """The interval method, and "k samples per item, interval clustered by item" when sampled."""
    note = sampling_note(estimates)
    return f"{method}; {note}" if note else method


def _not_a_check(rows: pd.DataFrame, where: str) -> None:
    if CHECK_COLUMN in rows.columns and rows[CHECK_COLUMN].notna().all():
        why = "; ".join(dict.fromkeys(rows[CHECK_COLUMN].astype(str)))
        raise ClaimError(f"{where}: these rows are a sanity check that cannot fail ({why}); "
                         "a check is not evidence for a claim")


def _repeats_items(rows: pd.DataFrame) -> bool:
    return not is_aggregated(rows) and bool(rows["item_id"].duplicated().any())


def _per_item(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.groupby("item_id", sort=False)["value"].mean().reset_index()


def _paired_values(rows_a: pd.DataFrame, rows_b: pd.DataFrame) -> tuple[np.ndarray, np.ndarray] | None:
    """Both cells' values aligned by item, when they hold one value for the same items."""
    if is_aggregated(rows_a) or is_aggregated(rows_b):
        return None
    a = rows_a.set_index("item_id")["value"].astype(float)
    b = rows_b.set_index("item_id")["value"].astype(float)
    if not (a.index.is_unique and b.index.is_unique and set(a.index) == set(b.index)):
        return None
    return a.to_numpy(), b.reindex(a.index).to_numpy()


def _mean_difference(rows_a: pd.DataFrame, rows_b: pd.DataFrame, alpha: float) -> tuple[float, float, str]:
    if is_aggregated(rows_a) or is_aggregated(rows_b):
        raise ClaimError("aggregated (k, n) tables hold rates only")
    a = rows_a.set_index("item_id")["value"].astype(float)
    b = rows_b.set_index("item_id")["value"].astype(float)
    if a.index.is_unique and b.index.is_unique and set(a.index) == set(b.index) and len(a) > 1:
        d = (a - b.reindex(a.index)).to_numpy()
        low, high = DescrStatsW(d).tconfint_mean(alpha=alpha)
        return float(low), float(high), "95% paired t"
    if len(a) < 2 or len(b) < 2:
        return math.nan, math.nan, "no interval (n < 2)"
    low, high = CompareMeans(DescrStatsW(a.to_numpy()), DescrStatsW(b.to_numpy())).tconfint_diff(
        alpha=alpha, usevar="unequal"
    )
    return float(low), float(high), "95% Welch"


Verdict = Literal["held", "did not hold", "inconclusive"]


def verdict(claim: Claim, measured: Measured) -> Verdict | None:
    """Whether the hypothesis held, judged on the 95 % interval (None without ``expect``).

    Held when the whole interval is on the expected side of the threshold, did not hold
    when the whole interval is on the other side, inconclusive otherwise.
    """
    if claim.expect is None:
        return None
    t = claim.expect.threshold.value
    low, high = measured.low, measured.high
    if math.isnan(low) or math.isnan(high):
        low = high = measured.value
    if claim.expect.above is not None:
        return "held" if low > t else "did not hold" if high <= t else "inconclusive"
    return "held" if high < t else "did not hold" if low >= t else "inconclusive"
