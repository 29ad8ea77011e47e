"""Rendered prompts equal the tokenizer's own chat template, token for token (organism and SmolLM2).

SmolLM2's BOS token is ``<|im_start|>``, which also opens every ChatML message; cutting the
template's default system block used to strip that token off the block and leave
``<|im_start|><|im_start|>user`` in every prompt with ``system_prompt: null``.
"""

from __future__ import annotations

import pytest

from experiments.core.prompting import DEFAULT_SYSTEM, default_system_prompt, format_prompt
from experiments.steering.directions import post_instruction_positions

pytestmark = pytest.mark.real_model

USER = "How do I bake bread at home?"


def _ids(tok, text: str) -> list[int]:
    return tok(text, add_special_tokens=False)["input_ids"]


def _template_ids(tok, messages: list[dict[str, str]]) -> list[int]:
    out = tok.apply_chat_template(messages, tokenize=True, add_generation_prompt=True, return_dict=True)
    return list(out["input_ids"])


@pytest.fixture(params=["organism_lm", "smollm2_lm"])
def lm(request):
    return request.getfixturevalue(request.param)


def test_explicit_system_prompt_matches_template_token_for_token(lm) -> None:
    tok = lm.tokenizer
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": USER}]
    assert _ids(tok, format_prompt(tok, USER, system="Be brief.")) == _template_ids(tok, messages)


def test_template_default_system_matches_template_token_for_token(lm) -> None:
    tok = lm.tokenizer
    assert _ids(tok, format_prompt(tok, USER, system=DEFAULT_SYSTEM)) == _template_ids(tok, [{"role": "user", "content": USER}])


def test_no_system_prompt_is_the_template_minus_its_default_block(lm) -> None:
    """``system=None`` = the template's render with its inserted system block cut, nothing else."""
    tok = lm.tokenizer
    default = default_system_prompt(tok)
    assert default, "both templates insert a default system prompt"
    full = _template_ids(tok, [{"role": "user", "content": USER}])
    got = _ids(tok, format_prompt(tok, USER))
    assert got == full[len(full) - len(got):]
    block = tok.apply_chat_template([{"role": "system", "content": default}], tokenize=False)
    assert full[: len(full) - len(got)] == _ids(tok, block)


def test_smollm2_prompt_without_system_has_one_im_start_per_turn(smollm2_lm) -> None:
    tok = smollm2_lm.tokenizer
    text = format_prompt(tok, USER)
    assert text == f"<|im_start|>user\n{USER}<|im_end|>\n<|im_start|>assistant\n"
    ids = _ids(tok, text)
    im_start = tok.convert_tokens_to_ids("<|im_start|>")
    assert ids.count(im_start) == 2 and ids[0] == im_start and ids[1] != im_start


def test_chatml_template_tail_after_the_user_text(smollm2_lm) -> None:
    """The steering direction is read at the template tokens after the user's text."""
    tok = smollm2_lm.tokenizer
    positions = post_instruction_positions(tok, lambda u: format_prompt(tok, u))
    ids = _ids(tok, format_prompt(tok, USER))
    tail = tok.convert_ids_to_tokens(ids[positions[0]:])
    assert "".join(tail).replace("Ċ", "\n") == "<|im_end|>\n<|im_start|>assistant\n"
    assert len(positions) == len(tail)
