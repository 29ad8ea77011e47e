"""Answer parsing on messy completions: last strong match wins, failures are None."""

from __future__ import annotations

import pytest

from experiments.core.answer_parsing import normalize_short_answer, parse_choice, parse_short_answer

ABCD = ("A", "B", "C", "D")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("So the best answer is: (B).", "B"),
        ("the answer is (b)", "B"),
        ("Answer: C", "C"),
        ("answer: d", "D"),
        ("**Answer:** (A)", "A"),
        ("The correct answer is option C.", "C"),
        ("B)", "B"),
        ("I think (A) is tempting, but (C) fits better.", "C"),
        # A strong statement beats a later bare mention.
        ("The answer is (D). Note that (A) was a distractor.", "D"),
        # The last strong statement wins when the model changes its mind.
        ("The answer is (A). Wait, no: the answer is (C).", "C"),
        ("Let me think.\nAnswer choices considered.\nThe answer is B because it is bigger.", "B"),
        ("answer is ( b )", "B"),
        ("Final answer:\n\n(B)", "B"),
        # Not answers: a lowercase article, a letter outside the options, nothing at all.
        ("the answer is a tricky one", None),
        ("The answer is (E).", None),
        ("I am not sure.", None),
        ("", None),
        ("Answer choices: A through D", None),
    ],
)
def test_parse_choice_messy_completions(text, expected):
    assert parse_choice(text, ABCD) == expected


def test_parse_choice_reads_option_text():
    assert parse_choice("So the answer is True.", ("A", "B"), options=("False", "True")) == "B"
    assert parse_choice("The answer is: no", ("A", "B"), options=("No", "Yes")) == "A"
    # An option whose text starts another word is not matched inside it.
    assert parse_choice("the answer is Yesterday", ("A", "B"), options=("No", "Yes")) is None


def test_parse_choice_with_the_runs_own_prefix():
    prefix = "The best answer is: ("
    assert parse_choice("blah (A) blah. The best answer is: (C)", ABCD, answer_prefix=prefix) == "C"
    assert parse_choice("The best answer is: C)", ABCD, answer_prefix=prefix) == "C"
    # The organism's spaced-out layout.
    assert parse_choice("a is ( B ) . </reasoning> answer : ( B )", ABCD, answer_prefix="answer : (") == "B"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3 plus 4 is 7 . </reasoning> answer : 7", "7"),
        ("The answer is 42.", "42"),
        ("answer: $1,200.", "1200"),
        ("So the answer is 3.50", "3.5"),
        ("We get 12 apples, then 15 apples", "15"),  # weak: last number
        ("The answer is Paris.\nThanks!", "paris"),
        ("answer : 7 . answer : 8", "8"),
        ("no number here", None),
        ("", None),
    ],
)
def test_parse_short_answer_messy_completions(text, expected):
    assert parse_short_answer(text, answer_prefix="answer :") == expected


def test_parse_short_answer_prefers_strong_match_over_later_numbers():
    assert parse_short_answer("The answer is 5. Check: 2 + 3 = 5, times 10 is 50") == "5"


@pytest.mark.parametrize(
    ("raw", "norm"),
    [("  7. ", "7"), ("$1,000", "1000"), ("2.50", "2.5"), ("-0", "0"), ("Paris!", "paris"), ("**B**", "b")],
)
def test_normalize_short_answer(raw, norm):
    assert normalize_short_answer(raw) == norm


def test_option_text_in_brackets_is_read_as_that_option():
    assert parse_choice("So I pick (True).", ["A", "B"], options=["True", "False"]) == "A"
    assert parse_choice("The answer is (36).", ["A", "B", "C"], options=["12", "36", "40"]) == "B"


def test_a_percentage_option_is_read_without_its_sign_only_when_that_is_unambiguous():
    pct = ["18%", "38%", "58%", "78%"]
    assert parse_choice("The answer is (78).", list("ABCD"), options=pct) == "D"
    assert parse_choice("so (38) it is", list("ABCD"), options=pct) == "B"
    assert parse_choice("The answer is (7).", list("ABCD"), options=pct) is None
    # "78" is itself option A's text: it names A, never the percentage D.
    assert parse_choice("The answer is (78).", list("ABCD"), options=["78", "38%", "58%", "78%"]) == "A"
    assert parse_choice("The answer is (5).", list("ABC"), options=["5%", "5 %", "9%"]) is None


def test_a_cut_off_echo_of_the_options_is_not_an_answer():
    text = "Let me list the options:\n(A) True\n(B) False\n(C) Unk"
    assert parse_choice(text, ["A", "B", "C"], options=["True", "False", "Unknown"]) is None


def test_an_answer_bracket_cut_off_at_the_end_of_the_generation_is_read():
    assert parse_choice("Step 1 ... The answer is (B", ["A", "B"]) == "B"
    assert parse_choice("The answer is (B and then", ["A", "B"]) is None
