"""Area over the matches-full curve (Lanham et al. 2023) and reasoning-length buckets.

For one item and condition, the curve is ``matches_full`` (0/1; a parse failure
counts as 0) against ``x``, the fraction of reasoning kept. AOC = 1 − (area under
the piecewise-linear curve over ``[min x, max x]``) / (max x − min x): 0 when the
answer never changes (the reasoning did not matter), near 1 when only the full
reasoning gives the full answer. Lanham et al. report AOC per reasoning length
because longer chains have more room to matter, hence :func:`length_bucket`.
"""

from __future__ import annotations

from collections.abc import Sequence


def area_over_curve(xs: Sequence[float], ys: Sequence[float]) -> float:
    """AOC of the points ``(xs, ys)`` (any order; ys in [0, 1]), by the trapezoid rule."""
    if len(xs) != len(ys):
        raise ValueError("xs and ys must have the same length")
    points = sorted(zip(xs, ys))
    if len(points) < 2 or points[-1][0] == points[0][0]:
        raise ValueError("need at least two distinct x values")
    if any(not 0.0 <= y <= 1.0 for _, y in points):
        raise ValueError("ys must lie in [0, 1]")
    area = sum((x1 - x0) * (y0 + y1) / 2 for (x0, y0), (x1, y1) in zip(points, points[1:]))
    return 1.0 - area / (points[-1][0] - points[0][0])


def length_bucket(n_steps: int, edges: Sequence[int]) -> str:
    """A label for a reasoning of ``n_steps`` sentences, e.g. edges (3, 5) → "≤3", "4–5", "≥6" steps."""
    if list(edges) != sorted(set(edges)) or any(e < 1 for e in edges):
        raise ValueError(f"bucket edges must be increasing positive integers, got {list(edges)}")
    lower = 1
    for edge in edges:
        if n_steps <= edge:
            if lower == 1:
                return f"≤{edge} steps"
            return f"{edge} steps" if lower == edge else f"{lower}–{edge} steps"
        lower = edge + 1
    return f"≥{lower} steps"
