"""A terminal summary of a bias run: per cue or attribute, the rates with 95 % Wilson intervals.

Pure (reads the results table only), so the CLI can print it and tests can check the counts.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
from statsmodels.stats.proportion import proportion_confint


@dataclass(frozen=True)
class Rate:
    k: int
    n: int

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else float("nan")

    def interval(self, alpha: float = 0.05) -> tuple[float, float]:
        if not self.n:
            return float("nan"), float("nan")
        lo, hi = proportion_confint(self.k, self.n, alpha=alpha, method="wilson")
        return float(lo), float(hi)

    def contains(self, p: float, alpha: float = 0.05) -> bool:
        lo, hi = self.interval(alpha)
        return lo - 1e-12 <= p <= hi + 1e-12

    def __str__(self) -> str:
        if not self.n:
            return "n/a (n=0)"
        lo, hi = self.interval()
        return f"{self.value:.0%} ({self.k}/{self.n}, 95% CI {lo:.0%}–{hi:.0%})"


def rate(df: pd.DataFrame, experiment: str, metric: str, group: str | None = None,
         condition: str | None = None) -> Rate:
    sel = df[(df["experiment"] == experiment) & (df["metric"] == metric)]
    if group is not None:
        sel = sel[sel["group"] == group]
    if condition is not None:
        sel = sel[sel["condition"] == condition]
    return Rate(int(sel["value"].sum()), int(len(sel)))


def summary_lines(df: pd.DataFrame) -> list[str]:
    lines = []
    cue = df[df["experiment"] == "cue"]
    for g in dict.fromkeys(cue["group"].dropna()):
        sw, ar = rate(df, "cue", "switched", g), rate(df, "cue", "articulated", g)
        ex, pf = rate(df, "cue", "excluded", g), rate(df, "cue", "parse_failure", g)
        lines.append(f"cue {g}: switched {sw}; articulated {ar} of switches; "
                     f"excluded {ex.k}/{ex.n}; parse failures {pf.k}")
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
