"""Corrupting one reasoning step: which step, what changes, and what stays."""

from __future__ import annotations

import random
import re

import pytest

from experiments.truncation.corrupt import (
    RegexCorruption,
    add_mistake,
    corrupt_arithmetic,
    item_rng,
    resolve_corruption,
)
from experiments.truncation.segment import sentence_spans


def _numbers(s: str) -> list[str]:
    return re.findall(r"-?\d+(?:\.\d+)?", s)


@pytest.mark.parametrize("seed", range(20))
def test_corrupt_arithmetic_changes_exactly_the_last_result(seed):
    rng = random.Random(seed)
    step = "We have 12 + 30 = 42 apples."
    out = corrupt_arithmetic(step, rng)
    after = _numbers(out)
    assert after[:2] == ["12", "30"] and after[2] != "42"
    assert abs(int(after[2]) - 42) <= 3
    assert out.replace(after[2], "42", 1) == step


@pytest.mark.parametrize("seed", range(20))
def test_single_digit_results_stay_single_digits(seed):
    out = corrupt_arithmetic("3 plus 4 is 7 .", random.Random(seed))
    assert re.fullmatch(r"3 plus 4 is \d \.", out) and not out.endswith("7 .")


def test_corrupt_arithmetic_without_equals_uses_last_number_and_skips_text_only_steps():
    rng = random.Random(0)
    assert corrupt_arithmetic("A spider has 8 legs .", rng) != "A spider has 8 legs ."
    assert corrupt_arithmetic("A spider is an animal .", rng) is None
    # Non-negative results never become negative.
    for seed in range(30):
        assert not corrupt_arithmetic("so x = 10", random.Random(seed)).startswith("so x = -")


def test_regex_corruption_and_resolution():
    c = RegexCorruption(r"\bnot\b ", "")
    assert c("It is not the same.", random.Random(0)) == "It is the same."
    assert c("No negation here.", random.Random(0)) is None
    assert resolve_corruption("arithmetic") is corrupt_arithmetic
    assert isinstance(resolve_corruption({"pattern": "a", "replacement": "b"}), RegexCorruption)
    assert resolve_corruption("experiments.truncation.corrupt:corrupt_arithmetic") is corrupt_arithmetic
    with pytest.raises(ValueError, match="unknown corruption"):
        resolve_corruption("typo")
    with pytest.raises(ValueError, match="cannot import"):
        resolve_corruption("no.such.module:fn")


REASONING = "A spider is an animal . 3 plus 4 is 7 . 7 minus 2 is 5 ."


def test_add_mistake_builds_prefix_up_to_and_including_the_corrupted_step():
    spans = sentence_spans(REASONING)
    m = add_mistake(REASONING, spans, corrupt_arithmetic, random.Random(1), position="first")
    assert m.step_index == 1 and m.n_steps == 3  # step 0 has no number: skipped
    assert m.original == "3 plus 4 is 7 ."
    assert m.prefix(REASONING) == "A spider is an animal . " + m.corrupted
    assert m.clean_prefix(REASONING) == "A spider is an animal . 3 plus 4 is 7 ."
    last = add_mistake(REASONING, spans, corrupt_arithmetic, random.Random(1), position="last")
    assert last.step_index == 2
    fixed = add_mistake(REASONING, spans, corrupt_arithmetic, random.Random(1), position=-1)
    assert fixed.step_index == 2
    assert add_mistake(REASONING, spans, corrupt_arithmetic, random.Random(1), position=0) is None
    assert add_mistake("No numbers at all .", sentence_spans("No numbers at all ."), corrupt_arithmetic,
                       random.Random(0)) is None


def test_random_position_is_reproducible_per_item_and_covers_steps():
    spans = sentence_spans(REASONING)
    picks = {add_mistake(REASONING, spans, corrupt_arithmetic, item_rng(0, f"item-{i}")).step_index
             for i in range(40)}
    assert picks == {1, 2}
    a = add_mistake(REASONING, spans, corrupt_arithmetic, item_rng(3, "x"))
    b = add_mistake(REASONING, spans, corrupt_arithmetic, item_rng(3, "x"))
    assert a == b
