"""Text normalisation and monospace layout: nothing lost, nothing off the slide."""

from __future__ import annotations

import random

import pytest
from lxml import etree

from reportgen.deck.textnorm import (
    columns,
    flow,
    line_spans,
    normalize_text,
    split_runs,
    token_spans,
    wrap_line,
    wrap_text,
)

HOSTILE = "a\r\nb\rc\x00d\x1b[0m\x7f\x85e\ufffe\ud800f\tg 😀👩‍👩‍👧 שלום عربى ```{{ x }}"


def test_normalize_makes_xml_safe_visible_text():
    out = normalize_text(HOSTILE)
    assert "\r" not in out and "\t" not in out
    assert "\\x00" in out and "\\x1b[0m" in out and "\\x7f" in out and "\\ufffe" in out and "\\ud800" in out
    assert "😀👩‍👩‍👧 שלום عربى ```{{ x }}" in out  # emoji (incl. ZWJ), RTL, backticks, braces kept
    assert out.split("\n")[:3] == ["a", "b", "c\\x00d\\x1b[0m\\x7f"]  # CRLF, CR and NEL are line breaks
    etree.fromstring(f"<t>{out}</t>".encode("utf-8", "surrogatepass"))  # valid XML 1.0
    assert normalize_text(out) == out


def test_tabs_expand_to_the_next_stop_per_line():
    assert normalize_text("ab\tc\n\td") == "ab  c\n    d"


def test_wrap_keeps_every_character_and_respects_width():
    rng = random.Random(0)
    alphabet = "ab cd  😀漢\u0301-/"
    for _ in range(500):
        line = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))
        width = rng.randint(2, 30)
        pieces = wrap_line(line, width)
        assert "".join(pieces) == line
        # One trailing space may hang past the width (absorbed by the spare column).
        assert all(columns(p) <= width + 1 for p in pieces)


def test_wrap_prefers_word_boundaries_and_breaks_long_tokens():
    assert wrap_line("hello world again", 8) == ["hello ", "world ", "again"]
    assert wrap_line("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert wrap_line("e\u0301" * 6, 3) == ["e\u0301" * 3, "e\u0301" * 3]  # accents stay on their letter


def test_flow_splits_blocks_over_pages_without_losing_lines():
    prompt = "\n".join(f"line {i} " + "w" * (i % 50) for i in range(300))
    blocks = [wrap_text(prompt, 40), wrap_text("done", 40)]
    pages = flow(blocks, page_height=200, line_height=10, block_overhead=25)
    assert len(pages) > 1
    for page in pages:
        used = sum(25 + part.n_lines * 10 for part in page)
        assert used <= 200
    rebuilt = ""
    for part in (p for page in pages for p in page if p.block == 0):
        for frag in part.fragments:
            rebuilt += frag.text if frag.continues else ("\n" if rebuilt or not part.first else "") + frag.text
    assert rebuilt == prompt
    last = pages[-1][-1]
    assert last.block == 1 and last.text == "done"


def test_flow_never_orphans_the_first_line_of_a_block():
    pages = flow([[["a"]] * 9, [["b"], ["c"], ["d"]]], page_height=100, line_height=10, block_overhead=0)
    # Page 1 has room for one line after block 0; block 1 starts on page 2 instead.
    assert [p.block for p in pages[0]] == [0] and pages[1][0].block == 1 and pages[1][0].n_lines == 3


@pytest.mark.parametrize(
    "line, tokens",
    [
        ("<|im_start|>user\n", ["<|im_start|>"]),
        ("<|begin_of_text|><|start_header_id|>system<|end_header_id|>", ["<|begin_of_text|>", "<|start_header_id|>", "<|end_header_id|>"]),
        ("[INST] hi [/INST]", ["[INST]", "[/INST]"]),
        ("<start_of_turn>user", ["<start_of_turn>"]),
        ("a | b |> c", []),
    ],
)
def test_template_tokens_are_found(line, tokens):
    assert [line[s:e] for s, e in token_spans(line)] == tokens


def test_split_runs_tints_a_token_cut_by_a_wrap():
    line = "ab<|end|>cd"
    spans = line_spans(line)
    assert split_runs(line[:5], 0, spans) == [("ab", None), ("<|e", "token")]
    assert split_runs(line[5:], 5, spans) == [("nd|>", "token"), ("cd", None)]


def test_highlight_marks_every_occurrence_and_absorbs_tokens_inside_it():
    line = "<|user|> A professor thinks ( B ) <|end|> . A professor thinks ( B )"
    cue = "A professor thinks ( B )"
    spans = line_spans(line, cue)
    assert [(line[s:e], k) for s, e, k in spans] == [
        ("<|user|>", "token"), (cue, "highlight"), ("<|end|>", "token"), (cue, "highlight")]
    short = "x <|a|> y"
    assert [(short[s:e], k) for s, e, k in line_spans(short, "<|a|> y")] == [("<|a|> y", "highlight")]
    assert split_runs(line[:20], 0, spans) == [("<|user|>", "token"), (" ", None), ("A professor", "highlight")]
