"""Prompt strings: system-prompt control, completion templates, exactly one BOS."""

from __future__ import annotations

import pytest

from experiments.core.batching import encode
from experiments.core.errors import ChatTemplateError
from experiments.core.prompting import DEFAULT_SYSTEM, default_system_prompt, format_prompt


def test_default_system_prompt_is_detected_and_removed(tiny_random_lm):
    tok = tiny_random_lm.tokenizer
    assert default_system_prompt(tok) == "you are a helpful assistant ."
    text = format_prompt(tok, "help me")
    assert text == "<s><|user|> help me <|end|><|assistant|>"
    kept = format_prompt(tok, "help me", system=DEFAULT_SYSTEM)
    assert kept == "<s><|system|> you are a helpful assistant . <|end|><|user|> help me <|end|><|assistant|>"


def test_explicit_and_empty_system(tiny_random_lm):
    tok = tiny_random_lm.tokenizer
    assert format_prompt(tok, "hi", system="be brief").startswith("<s><|system|> be brief <|end|><|user|> hi")
    assert format_prompt(tok, "hi", system="").startswith("<s><|system|>  <|end|><|user|>")


def test_history_and_assistant_prefix(tiny_random_lm):
    tok = tiny_random_lm.tokenizer
    text = format_prompt(
        tok, "why", history=[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
        assistant_prefix=" reasoning",
    )
    assert text == "<s><|user|> a <|end|><|assistant|> b <|end|><|user|> why <|end|><|assistant|> reasoning"


def test_template_without_system_role_raises_clearly(tiny_random_lm):
    import copy

    tok = copy.deepcopy(tiny_random_lm.tokenizer)
    tok.chat_template = (
        "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}"
        "{% endif %}<|{{ m['role'] }}|> {{ m['content'] }} <|end|>{% endfor %}"
        "{% if add_generation_prompt %}<|assistant|>{% endif %}"
    )
    assert format_prompt(tok, "hi") == "<|user|> hi <|end|><|assistant|>"
    with pytest.raises(ChatTemplateError):
        format_prompt(tok, "hi", system="x")


def test_no_chat_template_raises(tiny_random_lm):
    import copy

    tok = copy.deepcopy(tiny_random_lm.tokenizer)
    tok.chat_template = None
    with pytest.raises(ChatTemplateError):
        format_prompt(tok, "hi")


def test_completion_template(tiny_random_lm):
    tok = tiny_random_lm.tokenizer
    # The tokenizer adds a BOS by itself, so the completion string carries it visibly.
    assert format_prompt(tok, "cake", fmt="completion") == "<s>cake"
    assert format_prompt(tok, "{system}", fmt="completion", completion_template="q : {user} a :") == "<s>q : {system} a :"
    assert format_prompt(tok, "x", fmt="completion", system="s", completion_template="{system} | {user}") == "<s>s | x"
    with pytest.raises(ValueError):
        format_prompt(tok, "x", fmt="completion", completion_template="no placeholder")
    with pytest.raises(ValueError):
        format_prompt(tok, "x", fmt="completion", system="s")


@pytest.mark.parametrize("fmt", ["chat", "completion"])
def test_exactly_one_bos_after_tokenisation(tiny_random_lm, fmt):
    tok = tiny_random_lm.tokenizer
    assert tok("help")["input_ids"][0] == tok.bos_token_id  # the tokenizer would add one itself
    ids = encode(tiny_random_lm, [format_prompt(tok, "help me", fmt=fmt)])["input_ids"][0].tolist()
    assert ids.count(tok.bos_token_id) == 1 and ids[0] == tok.bos_token_id
