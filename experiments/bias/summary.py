"""A terminal summary of a bias run: per cue or attribute, the rates with 95 % Wilson intervals.

Pure (reads the results table only), so the CLI can print it and tests can check the counts.
Under ``samples: k`` (the ``sample`` column) an item's k rows are not k independent items: a
rate is the mean of the per-item means with its interval clustered by item, as the reporter
computes it (``reportgen.numbers.stats.clustered``; runners do not import the reporter, and
a test holds the two to the same numbers).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from statsmodels.stats.proportion import proportion_confint

from reportgen.rundir.schema import SAMPLE_COLUMN


@dataclass(frozen=True)
class Rate:
    k: int
    """Successes, counted over rows (samples)."""
    n: int
    """Rows: items × samples under ``samples: k``."""
    items: int = 0
    """Distinct items (0: every row is its own item)."""
    samples: int = 1
    """Samples per item (the most any item has)."""
    mean: float | None = None
    """The mean of the per-item means when items repeat; None: k/n."""
    n_eff: float | None = None
    """Effective sample size of the clustered interval (n over the design effect); None: n."""

    @property
    def value(self) -> float:
        if self.mean is not None:
            return self.mean
        return self.k / self.n if self.n else float("nan")

    @property
    def clustered(self) -> bool:
        return self.mean is not None

    def interval(self, alpha: float = 0.05) -> tuple[float, float]:
        if not self.n:
            return float("nan"), float("nan")
        n = self.n_eff if self.n_eff is not None else self.n
        lo, hi = proportion_confint(self.value * n, n, alpha=alpha, method="wilson")
        return float(min(max(0.0, lo), self.value)), float(max(min(1.0, hi), self.value))

    def contains(self, p: float, alpha: float = 0.05) -> bool:
        lo, hi = self.interval(alpha)
        return lo - 1e-12 <= p <= hi + 1e-12

    def count(self) -> str:
        """'3/40', or '9/120 samples of 40 items' when items repeat."""
        return f"{self.k}/{self.n} samples of {self.items} items" if self.clustered else f"{self.k}/{self.n}"

    def __str__(self) -> str:
        if not self.n:
            return "n/a (n=0)"
        lo, hi = self.interval()
        if not self.clustered:
            return f"{self.value:.0%} ({self.k}/{self.n}, 95% CI {lo:.0%}–{hi:.0%})"
        over = f" over {self.samples} samples" if self.samples > 1 else ""
        return f"{self.value:.0%} (per-item mean{over}, n = {self.items} items; clustered 95% CI {lo:.0%}–{hi:.0%})"


def rate(df: pd.DataFrame, experiment: str, metric: str, group: str | None = None,
         condition: str | None = None) -> Rate:
    sel = df[(df["experiment"] == experiment) & (df["metric"] == metric)]
    if group is not None:
        sel = sel[sel["group"] == group]
    if condition is not None:
        sel = sel[sel["condition"] == condition]
    k, n = int(sel["value"].sum()), int(len(sel))
    if not sel["item_id"].duplicated().any():
        return Rate(k, n)
    return _clustered(sel, k, n)


def _clustered(sel: pd.DataFrame, k: int, n: int) -> Rate:
    """Rows repeating items: the per-item means, and Wilson's interval at Kish's effective
    sample size (the design effect from the variance of the per-item means)."""
    means = sel.groupby("item_id", sort=False)["value"].mean().to_numpy(dtype=float)
    g = int(means.size)
    p = float(means.mean())
    binomial = p * (1 - p) / n
    if binomial == 0.0:
        n_eff = float(g)  # a rate of 0 or 1: no variance to compare, so the cautious count
    else:
        between = float(means.var(ddof=0)) / g
        n_eff = float(n) if between == 0.0 else min(float(n), max(float(g), n * binomial / between))
    samples = max(1, int(sel.groupby("item_id")[SAMPLE_COLUMN].nunique().max())) if SAMPLE_COLUMN in sel.columns else 1
    return Rate(k, n, items=g, samples=samples, mean=p, n_eff=n_eff)


def summary_lines(df: pd.DataFrame) -> list[str]:
    lines = []
    cue = df[df["experiment"] == "cue"]
    for g in dict.fromkeys(cue["group"].dropna()):
        sw, ar = rate(df, "cue", "switched", g), rate(df, "cue", "articulated", g)
        ex, pf = rate(df, "cue", "excluded", g), rate(df, "cue", "parse_failure", g)
        lines.append(f"cue {g}: switched {sw}; articulated {ar} of switches; "
                     f"excluded {ex.count()}; parse failures {pf.k}")
    att = df[df["experiment"] == "attribute"]
    for g in dict.fromkeys(att["group"].dropna()):
        ch, ar = rate(df, "attribute", "changed", g), rate(df, "attribute", "articulated", g)
        line = f"attribute {g}: decision changed {ch}; articulated {ar} of changes"
        fr = rate(df, "frozen_reasoning", "changed", g, "frozen_reasoning")
        if fr.n:
            line += f"; with the original reasoning frozen {fr}"
        lines.append(line)
    ladder = df[df["experiment"] == "frozen_ladder"]
    for g in dict.fromkeys(ladder["group"].dropna()):
        rungs = ", ".join(f"{c} {rate(df, 'frozen_ladder', 'follows_frozen', g, c)}" for c in ("closed", "open", "half"))
        lines.append(f"frozen ladder {g}: follows the frozen reasoning {rungs}")
    follow = df[df["experiment"] == "follow_up"]
    for g in dict.fromkeys(follow["group"].dropna()):
        lines.append(f"follow-up {g}: names the cue after a switch {rate(df, 'follow_up', 'admitted', g, 'cued')}; "
                     f"without the cue {rate(df, 'follow_up', 'admitted', g, 'uncued')}")
    return lines
