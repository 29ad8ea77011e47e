"""Point estimates with 95 % intervals: the numbers every chart, deck and abstract quotes.

Pure functions over plain numbers. The intervals come from statsmodels (Wilson score
interval for rates) and scipy (Student t for means) rather than hand-rolled formulas,
because a researcher sending a deck to a mentor must be able to say exactly which
interval was drawn, and the tests compare against those libraries directly.

Wilson rather than the normal ("Wald") interval because the rates here are often near
0 or 1 (refusal 98 % → 3 %), where Wald collapses to zero width and misleads.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as _scipy_stats
from statsmodels.stats.proportion import proportion_confint

CONFIDENCE = 0.95
#: How slides and footnotes say what a sanity check (``Estimate.check``) is.
SANITY_CHECK = "equal by construction unless the answer is unreadable"
WILSON = "95% Wilson"
T_INTERVAL = "95% t"
#: Qualifiers :func:`mean` appends to its method; :func:`describe_intervals` merges them.
_ALL_EQUAL = " (all values equal)"
_CLIPPED = ", clipped "
_CLUSTERED = " clustered by item"


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its interval.

    For rates ``value``, ``low`` and ``high`` are fractions in [0, 1] and ``k`` is the
    number of successes out of ``n``; for means ``k`` is None. ``method`` names the
    interval as it should appear in a footnote ("95% Wilson", "95% t", or a note that
    no interval could be computed).
    """

    value: float
    low: float
    high: float
    n: int
    k: int | None
    kind: Literal["rate", "mean"]
    method: str
    items: int | None = None
    """The number of items when the rows were clustered by item (several rows per item:
    ``samples: k`` or several random directions); None when every row is its own item."""
    samples: int = 1
    """Samples per item (the ``sample`` column; the most any item has): the k of "k samples per item"."""
    check: str | None = None
    """Why this number cannot fail by construction (its rows' ``check`` column), when it is a
    sanity check: charts mark it, and no summary, takeaway or claim quotes it as a finding."""

    @property
    def has_interval(self) -> bool:
        """False for a mean of one value (or of identical values): nothing to draw."""
        return self.kind == "rate" or self.high > self.low

    def overlaps(self, other: Estimate) -> bool:
        """Whether the two intervals overlap: the cautious reading of "no clear difference".

        Overlapping 95 % intervals do not prove equality, but non-overlapping ones are a
        difference nobody will argue with on a slide, which is the bar a takeaway needs.
        """
        return self.low <= other.high and other.low <= self.high

    @property
    def clustered(self) -> bool:
        return self.items is not None

    @property
    def n_items(self) -> int:
        """The independent observations: the items when rows repeat them, else the rows."""
        return self.items if self.items is not None else self.n

    def label(self) -> str:
        """Bar label: ``58% (58/100)`` for rates, ``0.48 (n=40)`` for means; ``20% (n=40 items)``
        when the rows repeat items (k samples each): 24/120 would claim 120 independent
        observations. The footnote says how many samples per item."""
        if self.clustered:
            return f"{self.short()} (n={self.n_items} items)"
        if self.kind == "rate":
            return f"{format_percent(self.value, self.k, self.n)} ({self.k}/{self.n})"
        return f"{format_number(self.value)} (n={self.n})"

    def short(self) -> str:
        """The value alone, as a sentence quotes it: ``58%`` or ``0.48``."""
        if self.kind == "rate":
            return format_percent(self.value, self.k, self.n)
        return format_number(self.value)


def format_percent(value: float, k: int | None = None, n: int | None = None) -> str:
    """A rate as a whole percent, never rounding a non-zero count to 0 % or a miss to 100 %.

    ``1/300`` is shown as ``<1%`` and ``299/300`` as ``>99%``: on a slide "0 %" reads as
    "never", which would be wrong.
    """
    pct = 100.0 * value
    rounded = int(math.floor(pct + 0.5))
    if k is not None and n is not None:
        if rounded == 0 and k > 0:
            return "<1%"
        if rounded == 100 and k < n:
            return ">99%"
    return f"{rounded}%"


def format_number(value: float) -> str:
    """A continuous value with three significant digits and no trailing zeros (0.0045, 0.48, 123)."""
    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    magnitude = math.floor(math.log10(abs(value)))
    decimals = max(0, 2 - magnitude)
    text = f"{value:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def rate(k: int, n: int, confidence: float = CONFIDENCE) -> Estimate:
    """``k`` successes out of ``n`` with a Wilson score interval (statsmodels)."""
    k, n = int(k), int(n)
    if n < 1:
        raise ValueError(f"a rate needs n >= 1, got n={n}")
    if not 0 <= k <= n:
        raise ValueError(f"a rate needs 0 <= k <= n, got k={k}, n={n}")
    low, high = proportion_confint(k, n, alpha=1 - confidence, method="wilson")
    method = WILSON if confidence == CONFIDENCE else f"{confidence:.0%} Wilson"
    p = k / n
    # The library returns 1 - 1e-16 for k = n (and a hair below 0 for k = 0); clamp so
    # the interval always contains the estimate and stays in [0, 1].
    return Estimate(p, float(min(max(0.0, low), p)), float(max(min(1.0, high), p)), n, k, "rate", method)


def mean(
    values: Iterable[float], confidence: float = CONFIDENCE, *, lower: float | None = None, upper: float | None = None
) -> Estimate:
    """Mean with a Student t interval (scipy), clipped to the metric's range.

    With one value there is no spread to estimate, so the interval is the point itself
    and ``method`` says so instead of pretending to a 95 % interval.

    ``lower``/``upper`` are the values the metric can take at all (a KL divergence is
    never below 0). The symmetric t interval of a skewed non-negative mean easily reaches
    below 0, which no reader can make sense of on a slide; the interval is cut at the
    bound and ``method`` says it was.
    """
    arr = np.asarray(list(values), dtype=float)
    n = int(arr.size)
    if n == 0:
        raise ValueError("a mean needs at least one value")
    if not np.all(np.isfinite(arr)):
        raise ValueError("a mean needs finite values")
    m = float(arr.mean())
    method = T_INTERVAL if confidence == CONFIDENCE else f"{confidence:.0%} t"
    if n == 1:
        return Estimate(m, m, m, 1, None, "mean", "n=1, no interval")
    sem = float(_scipy_stats.sem(arr))
    if sem == 0.0:
        return Estimate(m, m, m, n, None, "mean", f"{method}{_ALL_EQUAL}")
    low, high = (float(v) for v in _scipy_stats.t.interval(confidence, df=n - 1, loc=m, scale=sem))
    clipped = []
    if lower is not None and low < lower:
        low = float(lower)
        clipped.append(f"at {format_number(lower)}")
    if upper is not None and high > upper:
        high = float(upper)
        clipped.append(f"at {format_number(upper)}")
    if clipped:
        method = f"{method}{_CLIPPED}{' and '.join(clipped)}"
    return Estimate(m, low, high, n, None, "mean", method)


def describe_intervals(methods: Iterable[str]) -> list[str]:
    """The interval methods of several estimates as a footnote lists them: one entry per
    interval type, its qualifiers merged, so a chart of six bars reads "95% t interval
    (clipped at 0; zero width where all values are equal)" rather than three variants
    of "95% t" side by side. Notes that no interval exists ("n=1, no interval") stay as they are.
    """
    bases: dict[str, list[str]] = {}
    notes: list[str] = []
    for method in dict.fromkeys(methods):
        if "no interval" in method:
            notes.append(method)
            continue
        clustered = _CLUSTERED in method
        m = method.replace(_CLUSTERED, "")
        base, qualifier = m, ""
        if m.endswith(_ALL_EQUAL):
            base, qualifier = m.removesuffix(_ALL_EQUAL), "zero width where all values are equal"
        elif _CLIPPED in m:
            base, _, at = m.partition(_CLIPPED)
            qualifier = f"clipped {at}"
        quals = bases.setdefault(base, [])
        for q in (qualifier, _CLUSTERED.strip() if clustered else ""):
            if q and q not in quals:
                quals.append(q)
    out = [f"{b} interval" + (f" ({'; '.join(sorted(q))})" if q else "") for b, q in bases.items()]
    return out + notes


def is_binary(values: Iterable[float]) -> bool:
    """A metric is a rate when every value is 0 or 1 (the schema's rule)."""
    arr = np.asarray(list(values), dtype=float)
    return arr.size > 0 and bool(np.all((arr == 0) | (arr == 1)))


def estimate(
    values: Iterable[float], binary: bool | None = None, *, lower: float | None = None, upper: float | None = None
) -> Estimate:
    """Rate for 0/1 values, mean otherwise; ``binary`` forces the choice. ``lower`` and
    ``upper`` bound a mean's interval (see :func:`mean`); a rate's lies in [0, 1] anyway.

    Callers summarising one metric across several cells should decide ``binary`` once for
    the whole metric, so a cell that happens to be all 0/1 in a continuous metric is not
    reported as a rate next to its siblings' means.
    """
    arr = np.asarray(list(values), dtype=float)
    if binary is None:
        binary = is_binary(arr)
    if binary:
        return rate(int(arr.sum()), int(arr.size))
    return mean(arr, lower=lower, upper=upper)


def clustered(
    values: Iterable[float], items: Sequence[object], binary: bool, *, samples: int = 1,
    lower: float | None = None, upper: float | None = None,
) -> Estimate:
    """An estimate over rows that repeat items (``k`` samples per item), its interval clustered by item.

    The estimate is the average of the per-item means (each item weighs the same however
    many rows it has). The rows of one item are not independent, so counting k·n rows as n
    independent observations would shrink the interval about sqrt(k)-fold; instead:

    - a mean gets the t interval of the per-item means (scipy);
    - a rate gets the Wilson interval (statsmodels) at Kish's effective sample size
      n_eff = N / deff, the design effect deff being the variance of the mean of per-item
      means over the binomial variance of N independent rows (the effective-sample-size
      Wilson interval of Korn and Graubard for clustered proportions). With the per-item
      variance taken with ddof 0, as Wilson's own p(1-p)/n is, k identical samples per item
      give exactly the interval of one sample per item, and k independent ones that of N rows.

    A rate of 0 or 1 has no variance to compare, so n_eff is the number of items (cautious).
    ``samples`` only labels the estimate (how many of an item's rows are samples of it).
    """
    arr = np.asarray(list(values), dtype=float)
    frame = pd.DataFrame({"item": list(items), "value": arr})
    per_item = frame.groupby("item", sort=False)["value"]
    means = per_item.mean().to_numpy()
    g, total = int(means.size), int(arr.size)
    if not binary:
        est = mean(means, lower=lower, upper=upper)
        method = est.method if "no interval" in est.method else est.method.replace(
            T_INTERVAL, T_INTERVAL + _CLUSTERED, 1)
        return replace(est, n=total, method=method, items=g, samples=samples)
    p = float(means.mean())
    binomial = p * (1 - p) / total
    if binomial == 0.0:
        n_eff = float(g)
    else:
        between_items = float(means.var(ddof=0)) / g
        n_eff = float(total) if between_items == 0.0 else min(float(total), max(float(g), total * binomial / between_items))
    low, high = proportion_confint(p * n_eff, n_eff, alpha=1 - CONFIDENCE, method="wilson")
    return Estimate(p, float(min(max(0.0, low), p)), float(max(min(1.0, high), p)), total, int(round(arr.sum())),
                    "rate", WILSON + _CLUSTERED, items=g, samples=samples)


def sampling_note(estimates: Iterable[Estimate]) -> str | None:
    """"4 samples per item, interval clustered by item" when an estimate holds several samples
    of its items (a range when they differ), "interval clustered by item" when its items
    repeat otherwise (groups pooled together); None when every row is its own item."""
    est = [e for e in estimates if e.clustered]
    if not est:
        return None
    ks = sorted({e.samples for e in est if e.samples > 1})
    if not ks:
        return "interval clustered by item (items repeat across the pooled rows)"
    k = str(ks[0]) if len(ks) == 1 else f"{ks[0]}–{ks[-1]}"
    return f"{k} samples per item, interval clustered by item"


def pooled_rate(ks: Iterable[int], ns: Iterable[int]) -> Estimate:
    """Rate from aggregated rows: total successes over total trials."""
    return rate(int(sum(int(k) for k in ks)), int(sum(int(n) for n in ns)))


def paired_rate_difference(a: Iterable[float], b: Iterable[float], confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Interval for ``mean(a) - mean(b)`` when ``a[i]`` and ``b[i]`` are 0/1 outcomes of the same item.

    Newcombe's hybrid score interval for paired proportions (Newcombe 1998, method 10):
    the two Wilson intervals combined with the phi correlation of the 2x2 table. The same
    items under two conditions agree far more than independent samples do, so the
    unpaired (independent) interval is needlessly wide and can call a clear effect
    inconclusive; a paired t on 0/1 differences collapses to zero width at 0 or 100 %.
    """
    x = np.asarray(list(a), dtype=float)
    y = np.asarray(list(b), dtype=float)
    if x.shape != y.shape or x.size == 0:
        raise ValueError("paired outcomes need the same, non-zero number of items")
    n = x.size
    both, only_a = float(np.sum((x == 1) & (y == 1))), float(np.sum((x == 1) & (y == 0)))
    only_b, neither = float(np.sum((x == 0) & (y == 1))), float(np.sum((x == 0) & (y == 0)))
    ra, rb = rate(int(x.sum()), n, confidence), rate(int(y.sum()), n, confidence)
    denom = (both + only_a) * (only_b + neither) * (both + only_b) * (only_a + neither)
    phi = (both * neither - only_a * only_b) / math.sqrt(denom) if denom > 0 else 0.0
    d = ra.value - rb.value
    da_lo, da_hi = ra.value - ra.low, ra.high - ra.value
    db_lo, db_hi = rb.value - rb.low, rb.high - rb.value
    low = d - math.sqrt(max(0.0, da_lo**2 - 2 * phi * da_lo * db_hi + db_hi**2))
    high = d + math.sqrt(max(0.0, db_lo**2 - 2 * phi * db_lo * da_hi + da_hi**2))
    return max(-1.0, low), min(1.0, high)
