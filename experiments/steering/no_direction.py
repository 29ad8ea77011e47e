"""The finding of a steering run whose model barely refuses: no direction to ablate.

A small chat model such as SmolLM2-135M-Instruct refuses about 1 in 32 harmful prompts.
The refusal filter (harmful prompts need a positive first-token refusal score) then keeps
almost none, and the difference in means is noise: the runner skips the candidate search
(:func:`barely_refuses`), or the search finds no passing candidate. That is a result, not
a crash: the run finishes with its baseline rows, the filter's per-prompt
``kept`` rows (experiment :data:`FILTER_EXPERIMENT`) and this one-line finding in
``run.json`` (``direction.finding``).
"""

from __future__ import annotations

from typing import Any

#: Experiment name of the refusal filter's per-prompt 0/1 ``kept`` rows.
FILTER_EXPERIMENT = "refusal_filter"
#: Below this share of harmful prompts kept, the model is said to barely refuse.
BARELY_REFUSES = 0.25
#: Columns of ``candidates.csv``, also written (empty) when no search was run.
CANDIDATE_COLUMNS = ["layer", "position", "norm", "bypass_score", "induce_score", "kl", "passes", "rejected_because"]


def _fraction(kept: str) -> tuple[int, int]:
    k, n = kept.split("/")
    return int(k), int(n)


def barely_refuses(notes: dict[str, Any]) -> bool:
    """Whether the refusal filter kept under :data:`BARELY_REFUSES` of the harmful train prompts."""
    if "train_kept" not in notes:
        return False
    k, n = _fraction(notes["train_kept"]["harmful"])
    return n > 0 and k / n < BARELY_REFUSES


def no_direction_finding(notes: dict[str, Any], reason: str) -> str:
    """One sentence for the deck: why there is no refusal direction, from the filter counts."""
    counts = [_fraction(notes[k]["harmful"]) for k in ("train_kept", "val_kept") if k in notes]
    if counts:
        k, n = sum(c[0] for c in counts), sum(c[1] for c in counts)
        if n and k / n < BARELY_REFUSES:
            return (f"the model refuses {k}/{n} harmful prompts (first-token refusal score > 0); "
                    "there is little refusal to remove, so there is no refusal direction to ablate")
        return f"the model refuses {k}/{n} harmful prompts, yet no candidate direction passed selection: {reason}"
    return f"no candidate direction passed selection: {reason}"
