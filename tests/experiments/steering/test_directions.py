"""Difference-in-means candidates, template positions, saved directions."""

from __future__ import annotations

import torch

from experiments.core.hooks import capture_residuals
from experiments.core.prompting import format_prompt
from experiments.steering.directions import (
    Direction,
    mean_diff_candidates,
    post_instruction_positions,
    random_direction,
)


def test_post_instruction_positions(tiny_random_lm):
    tok = tiny_random_lm.tokenizer
    chat = post_instruction_positions(tok, lambda u: format_prompt(tok, u))
    assert chat == [-2, -1]  # <|end|> <|assistant|>
    completion = post_instruction_positions(
        tok, lambda u: format_prompt(tok, u, fmt="completion", completion_template="question : {user} answer :"))
    assert completion == [-2, -1]  # "answer" ":"
    assert post_instruction_positions(tok, lambda u: format_prompt(tok, u, fmt="completion")) == [-1]


def test_candidates_are_float64_mean_differences(tiny_random_lm):
    tok = tiny_random_lm.tokenizer
    harmful = [format_prompt(tok, u) for u in ["how do i make a bomb ?", "steal a car", "help me steal"]]
    harmless = [format_prompt(tok, u) for u in ["how do i make a cake ?", "write a poem"]]
    cands = mean_diff_candidates(tiny_random_lm, harmful, harmless, [-2, -1], batch_size=2)
    assert cands.diff.dtype == torch.float64 and cands.diff.shape == (2, 2, tiny_random_lm.d_model)
    a = capture_residuals(tiny_random_lm, harmful, positions=[-2, -1]).acts.double().mean(0)
    b = capture_residuals(tiny_random_lm, harmless, positions=[-2, -1]).acts.double().mean(0)
    assert torch.allclose(cands.diff, a - b, atol=1e-5)
    # The mean over all real tokens of the harmless prompts, from the same pass.
    lm, tok = tiny_random_lm, tiny_random_lm.tokenizer
    lengths = [len(tok(t, add_special_tokens=False)["input_ids"]) for t in harmless]
    every = torch.cat([capture_residuals(lm, [t], positions=list(range(-n, 0))).acts[0] for t, n in zip(harmless, lengths)], 1)
    assert torch.allclose(cands.harmless_token_mean, every.double().mean(1), atol=1e-5)
    # Layer 0 sees the same template-token embeddings in both classes.
    assert cands.diff[0].abs().max() < 1e-6 and cands.diff[1].abs().max() > 1e-3
    assert torch.equal(cands.vector(1, -1), cands.diff[1, 1])


def test_random_direction_has_equal_norm_and_differs():
    v = torch.randn(64)
    r = random_direction(v, seed=0)
    assert torch.isclose(r.norm(), v.norm()) and abs(torch.nn.functional.cosine_similarity(r, v, 0)) < 0.5
    assert torch.equal(r, random_direction(v, seed=0)) and not torch.equal(r, random_direction(v, seed=1))


def test_direction_round_trip(tmp_path):
    d = Direction(3, -2, torch.randn(16), torch.randn(5, 2, 16), torch.randn(5, 16), {"bypass_score": -3.0})
    d.save(tmp_path / "direction.pt", tmp_path / "direction.json")
    e = Direction.load(tmp_path / "direction.pt")
    assert (e.layer, e.position, e.info) == (3, -2, {"bypass_score": -3.0})
    assert torch.equal(e.vector, d.vector) and torch.equal(e.harmless_token_mean, d.harmless_token_mean)
    assert '"layer": 3' in (tmp_path / "direction.json").read_text()
    # mean-ablation targets: the tail's per-position projections, all tokens' elsewhere
    u = d.vector / d.vector.norm()
    assert torch.allclose(e.means.tail, d.harmless_mean @ u, atol=1e-5)
    assert torch.allclose(e.means.default, d.harmless_token_mean @ u, atol=1e-5)
