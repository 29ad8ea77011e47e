"""The answer parser on real SmolLM2-135M-Instruct completions (data files; no model needed).

The completions in ``data/`` were generated once by the model (provenance in each line and
in ``data/extract_completions.py``); the expected answers were read off by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from experiments.core.answer_parsing import parse_choice
from experiments.truncation.config import PromptStyle, resolve_style
from experiments.truncation.prompts import split_reasoning

pytestmark = pytest.mark.real_model

DATA = Path(__file__).parent / "data"
STYLE = resolve_style(PromptStyle(preset="cot"), "smollm2")


def _records(name: str) -> dict[str, dict]:
    lines = (DATA / name).read_text(encoding="utf-8").splitlines()
    recs = {r["item_id"]: r for r in map(json.loads, lines)}
    # --model smollm2 or the GGUF file itself: the same weights, by the file's hash.
    assert all(r["model"] in ("smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")
               and r["model_revision"] == "gguf-sha256:b179c9523d0e6a0f" for r in recs.values())
    return recs


def _stated(rec: dict) -> str | None:
    """What the runner reads as the generated answer: the parse of the text after the reasoning."""
    tail = split_reasoning(rec["completion"], STYLE).tail
    return parse_choice(tail, rec["labels"], options=rec["options"], answer_prefix=STYLE.answer_prefix)


@pytest.mark.parametrize(
    ("item_id", "expected"),
    [
        ("global_facts/2", "D"),  # generation ran out of tokens on "The answer is (D"
        ("global_facts/4", "D"),  # "The answer is (D)."
        ("global_facts/0", "D"),  # "The answer is (D) 80" (the option text cut off)
        ("navigate/3", "A"),
        ("navigate/1", None),  # "The answer is (L).": no option L, a parse failure, not a guess
        ("navigate/0", None),  # "The answer is (E)." then a cut-off sentence
        ("global_facts/8", "D"),  # "The answer is (78)." for the option "78%"
        ("global_facts/15", "D"),  # "The answer is (46%)." then an echo "(D) 46%", "(E) 27%"
        ("global_facts/9", "B"),  # "The answer is (B) because 26% …" then a stray "(C) 41%" line
        ("global_facts/11", None),  # the generation ended on "The answer is ("
        ("navigate/6", None),  # "(L)" again: not an option
    ],
)
def test_truncation_completions_parse_as_read_by_hand(item_id: str, expected: str | None) -> None:
    assert _stated(_records("smollm2_truncation.jsonl")[item_id]) == expected


def test_cut_off_answer_bracket_is_read_not_lost() -> None:
    rec = _records("smollm2_truncation.jsonl")["global_facts/2"]
    assert rec["completion"].endswith("The answer is (D")
    assert parse_choice(rec["completion"], rec["labels"], options=rec["options"]) == "D"
