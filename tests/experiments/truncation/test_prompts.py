"""Prompt strings, reasoning splitting and answer tokens (tokenizer only, no model)."""

from __future__ import annotations

import pytest

from experiments.core.config import validate_config
from experiments.core.errors import ConfigError
from experiments.core.mc_datasets import MCItem, load_dataset
from experiments.truncation.config import PromptStyle, TruncationConfig, resolve_style
from experiments.truncation.prompts import (
    AnswerTokenError,
    candidate_token_ids,
    forced_text,
    parse_answer,
    question_prompt,
    split_reasoning,
)

ORG = resolve_style(PromptStyle(), "organism")
COT = resolve_style(PromptStyle(), "Qwen/Qwen2-1.5B-Instruct")
LETTERED = MCItem("q1", "Is it?", options=("yes", "no"), answer_index=0, answer="yes")
SHORT = MCItem("q2", "How many?", answer="12")


def test_auto_style_follows_the_model_and_overrides_apply():
    assert ORG.name == "organism" and COT.name == "cot"
    custom = resolve_style(PromptStyle(preset="cot", reasoning_close="\n</think>\n"), "organism")
    assert custom.name == "cot" and custom.reasoning_close == "\n</think>\n"
    with pytest.raises(ValueError, match="completion_template"):
        resolve_style(PromptStyle(completion_template="no slot"), "organism")


def test_split_reasoning_at_the_end_marker_or_the_last_answer_statement():
    s = split_reasoning("3 plus 4 is 7 . </reasoning> answer : 7", ORG)
    assert (s.reasoning, s.tail, s.closed) == ("3 plus 4 is 7 .", "</reasoning> answer : 7", True)
    text = "\nFirst, the answer is not obvious.\nThen 2+2=4.\nSo the best answer is: (B)."
    s = split_reasoning(text, COT)
    assert s.reasoning == "\nFirst, the answer is not obvious.\nThen 2+2=4." and s.closed
    assert parse_answer(s.tail, LETTERED, COT) == "B"
    s = split_reasoning("I keep thinking and never stop   ", COT)
    assert (s.reasoning, s.closed) == ("I keep thinking and never stop", False)


def test_organism_prompts_follow_its_trained_format(organism_tokenizer):
    item = load_dataset("organism", limit=1)[0]
    cfg = TruncationConfig(system_prompt="You are a helpful assistant .")
    prompt = question_prompt(organism_tokenizer, item, ORG, cfg)
    assert prompt == f"<|system|> You are a helpful assistant . <|end|><|user|> {item.question} <|end|><|assistant|> <reasoning>"
    assert forced_text(prompt, "3 plus 4 is 7 .", item, ORG) == prompt + "3 plus 4 is 7 . </reasoning> answer :"
    raw = question_prompt(organism_tokenizer, item, ORG, TruncationConfig(prompt_format="completion"))
    assert raw == f"User : {item.question}\nAssistant : <reasoning>"


def test_cot_prompt_asks_for_the_turpin_format(organism_tokenizer):
    cfg = TruncationConfig(model="some/model", prompt_format="completion")
    prompt = question_prompt(organism_tokenizer, LETTERED, COT, cfg)
    assert prompt.startswith("Question: Is it?\n\nAnswer choices:\n(A) yes\n(B) no\n\nPlease verbalize")
    assert prompt.endswith("Answer: Let's think step by step:")
    assert forced_text(prompt, "", LETTERED, COT).endswith("step by step:\n\nSo the best answer is: (")
    assert forced_text(prompt, "", SHORT, COT).endswith("So the answer is:")


def test_candidate_tokens_are_single_distinct_tokens(organism_tokenizer):
    tok = organism_tokenizer
    digits = [str(d) for d in range(10)]
    ids = candidate_token_ids(tok, " </reasoning> answer :", digits)
    assert all(len(i) == 1 for i in ids) and len({i[0] for i in ids}) == 10
    assert [tok.decode(i) for i in ids] == digits
    letters = candidate_token_ids(tok, " </reasoning> answer : (", ["A", "B", "C"])
    assert [tok.decode(i) for i in letters] == ["a", "b", "c"]  # the tokenizer lower-cases
    with pytest.raises(AnswerTokenError, match="share their first token"):
        candidate_token_ids(tok, " answer :", ["12", "13"])  # digits are single tokens: both start with "1"


def test_config_rejects_bad_values():
    with pytest.raises(ConfigError, match="fractions"):
        validate_config({"fractions": [0.5, 1.5]}, TruncationConfig)
    with pytest.raises(ConfigError, match="fractions"):
        validate_config({"fractions": [1.0, 1.0]}, TruncationConfig)
    with pytest.raises(ConfigError, match="prompt.preset"):
        validate_config({"prompt": {"preset": "chatml"}}, TruncationConfig)
    with pytest.raises(ConfigError, match="unknown key"):
        validate_config({"prompt": {"answer_prefx": "x"}}, TruncationConfig)
    cfg = validate_config({"fractions": [1, 0, 0.5]}, TruncationConfig)
    assert cfg.fractions == [0.0, 0.5, 1.0]
