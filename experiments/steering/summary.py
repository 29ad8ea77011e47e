"""A few plain-language lines summarising a steering run's table (pure; for the CLI)."""

from __future__ import annotations

import pandas as pd


def _mean(df: pd.DataFrame, experiment: str, condition: str, metric: str) -> float | None:
    sel = df[(df["experiment"] == experiment) & (df["condition"] == condition) & (df["metric"] == metric)]
    return None if sel.empty else float(sel["value"].mean())


def _fmt(v: float | None) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def summary_lines(df: pd.DataFrame) -> list[str]:
    """E.g. ``harmful prompts, refusal rate: baseline 1.00 -> ablation 0.03 (random direction 0.97)``."""
    lines = []
    if (df["experiment"] == "harmful").any():
        line = (f"harmful prompts, refusal rate: baseline {_fmt(_mean(df, 'harmful', 'baseline', 'refusal'))}"
                f" -> ablation {_fmt(_mean(df, 'harmful', 'ablation', 'refusal'))}")
        rnd = _mean(df, "harmful", "random_ablation", "refusal")
        lines.append(line + (f" (random direction {_fmt(rnd)})" if rnd is not None else ""))
    if (df["experiment"] == "harmless").any():
        lines.append(f"harmless prompts, refusal rate: baseline {_fmt(_mean(df, 'harmless', 'baseline', 'refusal'))}"
                     f" -> addition {_fmt(_mean(df, 'harmless', 'addition', 'refusal'))}")
    sweep = df[(df["experiment"] == "layer_sweep") & (df["metric"] == "refusal")]
    if sweep.empty:
        sweep = df[(df["experiment"] == "layer_sweep") & (df["metric"] == "refusal_score")]
    if not sweep.empty:
        means = sweep.groupby(["group", "x"], dropna=False)["value"].mean()
        (group, x), best = means.idxmin(), means.min()
        lines.append(f"layer sweep: lowest {sweep['metric'].iloc[0]} {best:.2f} with a {group} starting at layer {int(x)}")
    kl = _mean(df, "cost", "ablation", "kl")
    if kl is not None:
        ce_b, ce_a = _mean(df, "cost", "baseline", "cross_entropy"), _mean(df, "cost", "ablation", "cross_entropy")
        extra = f"; cross-entropy on own answers {_fmt(ce_b)} -> {_fmt(ce_a)}" if ce_b is not None else ""
        lines.append(f"cost on harmless prompts: next-token KL {kl:.3f}{extra}")
    return lines
