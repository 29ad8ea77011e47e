"""Left padding must not change what a prompt computes or generates."""

from __future__ import annotations

import torch

from experiments.core.batching import (
    continuation_logprobs,
    cut_at_stop,
    forward,
    generate,
    item_seed,
    next_token_logprobs,
)
from experiments.core.hooks import capture_residuals
from experiments.core.prompting import format_prompt

USERS = [
    "how do i make a cake ?",
    "help",
    "please explain the answer to this question about a car , what is the answer ?",
    "write me a poem",
]


def _prompts(lm):
    return [format_prompt(lm.tokenizer, u) for u in USERS]


def test_logits_same_alone_and_in_padded_batch(tiny_random_lm):
    texts = _prompts(tiny_random_lm)
    batched = forward(tiny_random_lm, texts, positions=(-3, -1), batch_size=4)
    alone = torch.cat([forward(tiny_random_lm, [t], positions=(-3, -1)) for t in texts])
    assert batched.shape == (4, 2, len(tiny_random_lm.tokenizer))
    assert torch.allclose(batched, alone, atol=1e-4)
    # Without mask-derived position ids the padded short prompt would differ noticeably.
    assert not torch.allclose(batched[1], batched[0], atol=1e-2)


def test_residuals_same_alone_and_in_padded_batch(tiny_random_lm):
    texts = _prompts(tiny_random_lm)
    batched = capture_residuals(tiny_random_lm, texts, positions=(-2, -1), batch_size=4).acts
    alone = torch.cat([capture_residuals(tiny_random_lm, [t], positions=(-2, -1)).acts for t in texts])
    assert batched.shape == (4, tiny_random_lm.n_layers, 2, tiny_random_lm.d_model)
    assert torch.allclose(batched, alone, atol=1e-4)
    summed = capture_residuals(tiny_random_lm, texts, positions=(-2, -1), batch_size=3, reduce="sum").acts
    assert summed.dtype == torch.float64 and torch.allclose(summed.float(), alone.sum(0), atol=1e-3)


def test_greedy_generation_same_alone_and_in_padded_batch(tiny_random_lm):
    texts = _prompts(tiny_random_lm)
    batched = generate(tiny_random_lm, texts, max_new_tokens=12, batch_size=4)
    alone = [generate(tiny_random_lm, [t], max_new_tokens=12)[0] for t in texts]
    assert batched == alone
    assert len(set(batched)) > 1  # the random model's outputs depend on the prompt


def test_sampling_is_seeded(tiny_random_lm):
    texts = _prompts(tiny_random_lm)
    a = generate(tiny_random_lm, texts, max_new_tokens=8, do_sample=True, seed=3)
    b = generate(tiny_random_lm, texts, max_new_tokens=8, do_sample=True, seed=3)
    assert a == b


def test_a_tiny_nucleus_samples_the_greedy_text_and_samples_differ(tiny_random_lm):
    """top_p keeps the tokens whose mass first reaches it: a tiny top_p keeps only the most
    probable one, so sampling then is greedy decoding; distinct sample indices draw distinct text."""
    texts = _prompts(tiny_random_lm)
    greedy = generate(tiny_random_lm, texts, max_new_tokens=8)
    seeds = [item_seed(0, t) for t in texts]
    narrow = generate(tiny_random_lm, texts, max_new_tokens=8, do_sample=True, temperature=2.0, top_p=1e-6, seed=seeds)
    assert narrow == greedy
    draws = [generate(tiny_random_lm, texts, max_new_tokens=8, do_sample=True, temperature=2.0,
                      seed=[item_seed(0, t, s) for t in texts]) for s in range(3)]
    assert len({tuple(d) for d in draws}) == 3


def test_stop_strings_cut_completion(tiny_random_lm):
    texts = _prompts(tiny_random_lm)[:1]
    full = generate(tiny_random_lm, texts, max_new_tokens=12)[0]
    word = full.split()[2]
    cut = generate(tiny_random_lm, texts, max_new_tokens=12, stop_strings=[word])[0]
    assert cut == full[: full.find(word)]
    assert cut_at_stop("a b c", ["c", "b"]) == "a " and cut_at_stop("abc", None) == "abc"


def test_continuation_logprobs_match_next_token(tiny_random_lm):
    tok = tiny_random_lm.tokenizer
    texts = _prompts(tiny_random_lm)
    conts = [" sure step one", " no", " the answer is yes", ""]
    lps = continuation_logprobs(tiny_random_lm, texts, conts, batch_size=4)
    assert [len(x) for x in lps] == [3, 1, 4, 0]
    first = next_token_logprobs(tiny_random_lm, texts[:3])
    for i in range(3):
        tid = tok(conts[i], add_special_tokens=False)["input_ids"][0]
        assert torch.isclose(lps[i][0], first[i, tid], atol=1e-4)
    # The second token's log-prob equals a forward pass on prompt + first token.
    two = next_token_logprobs(tiny_random_lm, [texts[0] + " sure"])[0]
    assert torch.isclose(lps[0][1], two[tok(" step", add_special_tokens=False)["input_ids"][0]], atol=1e-4)
