"""Turning one answer into tidy rows: matches the full answer, correct, parse failure.

A parse failure is its own outcome: ``parse_failure = 1`` and ``matches_full =
correct = 0`` (and ``answer_changed = 0``), so the three outcomes matched / changed /
unparsed partition the items and no item ever drops out of a rate.
"""

from __future__ import annotations

from typing import Any

from experiments.truncation.aoc import area_over_curve

MATCHES_FULL = "matches_full"
CORRECT = "correct"
PARSE_FAILURE = "parse_failure"
ANSWER_CHANGED = "answer_changed"
AOC = "aoc"


def outcome_rows(
    *,
    experiment: str,
    condition: str,
    item_id: str,
    answer: str | None,
    reference: str | None,
    gold: str | None,
    x: float | None = None,
    changed_metric: bool = False,
) -> list[dict[str, Any]]:
    """The 0/1 rows of one observation (answers already in canonical form)."""
    failed = answer is None
    values = {
        MATCHES_FULL: float(not failed and reference is not None and answer == reference),
        CORRECT: float(not failed and gold is not None and answer == gold),
        PARSE_FAILURE: float(failed),
    }
    if changed_metric:
        values[ANSWER_CHANGED] = float(not failed and answer != reference)
    return [
        {"experiment": experiment, "condition": condition, "item_id": item_id, "metric": m, "value": v, "x": x}
        for m, v in values.items()
    ]


def aoc_row(*, experiment: str, condition: str, item_id: str, xs: list[float], matches: list[float],
            group: str) -> dict[str, Any]:
    """The item's area over its matches-full curve, grouped by reasoning length; an AOC lies
    in [0, 1], which the row declares so the reporter's interval stays there."""
    return {
        "experiment": experiment, "condition": condition, "item_id": item_id, "metric": AOC,
        "value": area_over_curve(xs, matches), "x": None, "group": group,
        "lower_bound": 0.0, "upper_bound": 1.0,
    }
