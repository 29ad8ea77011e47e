"""Cut positions: fraction cuts keep round_half_up(f·T) tokens; sentence cuts end on sentence ends."""

from __future__ import annotations

import re

import pytest

from experiments.truncation.segment import (
    count_sentences,
    fraction_cuts,
    kept_tokens,
    sentence_cuts,
    sentence_spans,
)


def word_offsets(text: str) -> list[tuple[int, int]]:
    """A stand-in tokenizer: every non-space run is a token."""
    return [m.span() for m in re.finditer(r"\S+", text)]


@pytest.mark.parametrize(
    ("fraction", "total", "expected"),
    [
        (0.0, 10, 0), (1.0, 10, 10), (0.25, 10, 3),  # 2.5 rounds half up
        (0.35, 10, 4),  # 3.5 exactly, although 0.35 * 10 == 3.4999999999999996 in floats
        (0.5, 3, 2), (0.25, 4, 1), (0.75, 4, 3), (0.1, 5, 1), (0.09, 5, 0),
        (0.5, 0, 0), (1.0, 0, 0), (1 / 3, 3, 1), (2 / 3, 3, 2),
    ],
)
def test_kept_tokens_rounds_half_up_on_the_decimal_value(fraction, total, expected):
    assert kept_tokens(fraction, total) == expected


@pytest.mark.parametrize("bad", [-0.01, 1.01, float("nan")])
def test_kept_tokens_rejects_fractions_outside_unit_interval(bad):
    with pytest.raises(ValueError):
        kept_tokens(bad, 10)


def test_fraction_cuts_keep_a_literal_prefix_ending_at_a_token_end():
    text = "one two three four five six seven eight"
    offsets = word_offsets(text)
    cuts = fraction_cuts(offsets, [0, 0.25, 0.5, 0.75, 1.0])
    assert [c.n_tokens for c in cuts] == [0, 2, 4, 6, 8]
    assert [c.kept(text) for c in cuts] == [
        "", "one two", "one two three four", "one two three four five six", text,
    ]
    for c in cuts:
        assert word_offsets(c.kept(text)) == offsets[: c.n_tokens]
        assert c.total_tokens == 8
    assert cuts[2].token_fraction == 0.5


def test_fraction_cut_of_an_empty_reasoning_keeps_nothing():
    cuts = fraction_cuts([], [0, 0.5, 1.0])
    assert [(c.n_tokens, c.n_chars) for c in cuts] == [(0, 0)] * 3


def test_sentence_spans_split_on_terminators_and_lines_not_decimals():
    text = "We start at 3.5 km. Then walk 2 km!\n(1) Left turn\nSo it is 5.5 . Done"
    spans = sentence_spans(text)
    assert [text[s:e] for s, e in spans] == [
        "We start at 3.5 km.", "Then walk 2 km!", "(1) Left turn", "So it is 5.5 .", "Done",
    ]
    assert count_sentences(text) == 5


def test_sentence_spans_ignore_blank_lines_and_surrounding_space():
    text = "  First.\n\n\n  Second?  "
    assert [text[s:e] for s, e in sentence_spans(text)] == ["First.", "Second?"]
    assert sentence_spans("") == [] and sentence_spans("   \n ") == []


def test_sentence_cuts_land_on_sentence_ends_with_both_end_points():
    text = "3 plus 4 is 7 . 7 minus 2 is 5 . 5 plus 0 is 5 ."
    offsets = word_offsets(text)
    cuts = sentence_cuts(text, offsets)
    assert [c.x for c in cuts] == [0.0, 1 / 3, 2 / 3, 1.0]
    assert [c.kept(text) for c in cuts] == [
        "", "3 plus 4 is 7 .", "3 plus 4 is 7 . 7 minus 2 is 5 .", text,
    ]
    assert [c.n_tokens for c in cuts] == [0, 6, 12, 18]
    for c in cuts[1:]:
        assert c.kept(text).endswith(".")


def test_sentence_cut_counts_only_tokens_ending_within_the_sentence():
    # A token that straddles the sentence end (".Next" as one token) is not counted as kept.
    text = "Alpha beta. Gamma"
    offsets = [(0, 5), (6, 10), (10, 11), (12, 17)]
    cuts = sentence_cuts(text, offsets)
    assert [c.n_tokens for c in cuts] == [0, 3, 4]
    straddling = [(0, 5), (6, 13), (14, 17)]  # "beta. G" as one token
    assert [c.n_tokens for c in sentence_cuts(text, straddling)] == [0, 1, 3]
