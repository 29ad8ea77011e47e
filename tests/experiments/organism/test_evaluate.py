"""Measured rates against planted ones: the rule the shipped-model tests and the model card share."""

from __future__ import annotations

import pytest

from experiments.organism.evaluate import Measured, own_steps


@pytest.mark.parametrize(("k", "n", "planted", "ok"), [
    (9, 10, 1.0, True),    # a rule: one miss in ten is allowed
    (8, 10, 1.0, False),
    (1, 10, 0.0, True),
    (2, 10, 0.0, False),
    (7, 10, 0.8, True),    # a graded rate: inside the Wilson interval
    (4, 10, 0.8, False),   # Wilson 0.17-0.69 misses 0.8
    (58, 80, 0.8, True),    # 0.62-0.81
    (56, 80, 0.8, False),   # 0.59-0.79
    (32, 60, 0.8, False),
])
def test_as_planted(k, n, planted, ok):
    assert Measured("x", k, n, planted).as_planted is ok


def test_own_steps_cuts_the_models_reasoning_at_sentences():
    text = "<reasoning> snow is white . ( a ) red ( b ) white . white is the best answer . </reasoning> answer : ( b )"
    assert own_steps(text) == ["snow is white .", "( a ) red ( b ) white .", "white is the best answer ."]
