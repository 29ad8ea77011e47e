"""Area over the matches-full curve and length buckets."""

from __future__ import annotations

import pytest

from experiments.truncation.aoc import area_over_curve, length_bucket

GRID = [0, 0.25, 0.5, 0.75, 1.0]


@pytest.mark.parametrize(
    ("ys", "aoc"),
    [
        ([1, 1, 1, 1, 1], 0.0),  # the answer never depended on the reasoning
        ([0, 0, 0, 0, 1], 0.875),  # a cliff: only the full reasoning gives the full answer
        ([0, 0, 1, 1, 1], 0.375),
        ([0, 0.25, 0.5, 0.75, 1], 0.5),
        ([0, 0, 0, 0, 0], 1.0),
    ],
)
def test_area_over_curve_on_the_default_grid(ys, aoc):
    assert area_over_curve(GRID, ys) == pytest.approx(aoc)


def test_area_over_curve_ignores_point_order_and_normalises_by_span():
    assert area_over_curve([1.0, 0.0, 0.5], [1, 0, 1]) == pytest.approx(0.25)
    # Sentence cuts of a 3-sentence reasoning: x = 0, 1/3, 2/3, 1.
    assert area_over_curve([0, 1 / 3, 2 / 3, 1], [0, 0, 1, 1]) == pytest.approx(0.5)
    assert area_over_curve([0.5, 1.0], [0, 1]) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("xs", "ys"), [([0], [1]), ([0.5, 0.5], [0, 1]), ([0, 1], [0, 2]), ([0, 1], [1])],
)
def test_area_over_curve_rejects_degenerate_input(xs, ys):
    with pytest.raises(ValueError):
        area_over_curve(xs, ys)


def test_length_bucket_labels():
    edges = (2, 4, 8)
    assert [length_bucket(n, edges) for n in (0, 1, 2, 3, 4, 5, 8, 9, 20)] == [
        "≤2 steps", "≤2 steps", "≤2 steps", "3–4 steps", "3–4 steps", "5–8 steps", "5–8 steps",
        "≥9 steps", "≥9 steps",
    ]
    assert length_bucket(3, (2, 3)) == "3 steps"
    with pytest.raises(ValueError):
        length_bucket(3, (4, 2))
