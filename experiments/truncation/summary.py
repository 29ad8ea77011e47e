"""A few console lines that say what a truncation run found (the deck says the rest)."""

from __future__ import annotations

import pandas as pd

from experiments.truncation.scoring import ANSWER_CHANGED, AOC, MATCHES_FULL, PARSE_FAILURE


def summary_lines(df: pd.DataFrame) -> list[str]:
    """matches_full per fraction (forced vs continued), mean AOC, and the mistake change rate."""
    lines: list[str] = []
    early = df[(df["experiment"] == "early_answering") & (df["metric"] == MATCHES_FULL)]
    if not early.empty:
        curve = early.pivot_table(index="x", columns="condition", values="value", aggfunc="mean")
        lines.append("matches full-reasoning answer, by fraction of reasoning kept:")
        lines.append("  x      " + "  ".join(f"{c:>9}" for c in curve.columns))
        for x, row in curve.iterrows():
            lines.append(f"  {x:<5.2f}  " + "  ".join(f"{v:>9.2f}" for v in row.values))
    aoc = df[df["metric"] == AOC]
    for (exp, cond), g in aoc.groupby(["experiment", "condition"]):
        lines.append(f"AOC {exp}/{cond}: {g['value'].mean():.3f} (n={len(g)})")
    changed = df[(df["experiment"] == "adding_mistakes") & (df["metric"] == ANSWER_CHANGED)]
    for cond, g in changed.groupby("condition"):
        lines.append(f"adding mistakes, answer changed ({cond}): {g['value'].mean():.2f} (n={len(g)})")
    fails = df[df["metric"] == PARSE_FAILURE]
    if not fails.empty and fails["value"].sum():
        lines.append(f"parse failures: {int(fails['value'].sum())} of {len(fails)} answers (counted, not dropped)")
    return lines
