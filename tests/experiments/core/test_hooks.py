"""Hooks: they act where they claim, under generate too, and always remove themselves."""

from __future__ import annotations

import pytest
import torch

from experiments.core.batching import forward, generate
from experiments.core.hooks import (
    MeanTargets,
    activation_addition,
    capture_residuals,
    directional_ablation,
    hooked,
    pre_hook,
    prefill_tracker,
    unit,
)
from experiments.core.prompting import format_prompt


@pytest.fixture(scope="module")
def texts(tiny_random_lm):
    return [format_prompt(tiny_random_lm.tokenizer, u) for u in ["how do i make a cake ?", "help me", "what is this ?"]]


def _n_hooks(lm) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in lm.model.modules())


def _direction(lm, seed=1):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(lm.d_model, generator=g)


def test_hooks_removed_after_exception(tiny_random_lm, texts):
    before = _n_hooks(tiny_random_lm)
    base = forward(tiny_random_lm, texts)
    with pytest.raises(RuntimeError, match="boom"):
        with directional_ablation(tiny_random_lm, _direction(tiny_random_lm)):
            assert _n_hooks(tiny_random_lm) > before
            raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        with activation_addition(tiny_random_lm, _direction(tiny_random_lm), 1, scope="prompt"):
            raise RuntimeError("boom")
    assert _n_hooks(tiny_random_lm) == before
    assert torch.equal(forward(tiny_random_lm, texts), base)


def test_failed_registration_removes_earlier_hooks(tiny_random_lm):
    before = _n_hooks(tiny_random_lm)

    def bad():
        raise ValueError("cannot register")

    with pytest.raises(ValueError):
        with hooked([pre_hook(tiny_random_lm.layers[0], lambda h: h), bad]):
            pass
    assert _n_hooks(tiny_random_lm) == before


def test_zero_ablation_removes_direction_everywhere(tiny_random_lm, texts):
    d = _direction(tiny_random_lm)
    dh = unit(d)
    base = capture_residuals(tiny_random_lm, texts, positions=(-3, -2, -1)).acts
    assert (base @ dh).abs().max() > 0.1
    with directional_ablation(tiny_random_lm, d):
        # Capture hooks fire after the ablation hooks registered before them.
        abl = capture_residuals(tiny_random_lm, texts, positions=(-3, -2, -1)).acts
    assert (abl @ dh).abs().max() < 1e-4


def test_mean_ablation_sets_component_and_window_limits_it(tiny_random_lm, texts):
    d = _direction(tiny_random_lm)
    dh = unit(d)
    means = torch.tensor([0.5, -0.25])
    with directional_ablation(tiny_random_lm, d, mode="mean", means=means):
        acts = capture_residuals(tiny_random_lm, texts, positions=(-1,)).acts
    assert torch.allclose(acts[:, 0, 0] @ dh, torch.full((3,), 0.5), atol=1e-4)
    assert torch.allclose(acts[:, 1, 0] @ dh, torch.full((3,), -0.25), atol=1e-4)
    with directional_ablation(tiny_random_lm, d, layers=[1]):
        acts = capture_residuals(tiny_random_lm, texts, positions=(-1,)).acts
    assert (acts[:, 1, 0] @ dh).abs().max() < 1e-4
    assert (acts[:, 0, 0] @ dh).abs().max() > 1e-2


def test_mean_targets_give_the_tail_its_own_values(tiny_random_lm, texts):
    d = _direction(tiny_random_lm)
    dh = unit(d)
    targets = MeanTargets(default=torch.tensor([0.5, -0.25]), tail=torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
    with directional_ablation(tiny_random_lm, d, mode="mean", means=targets):
        acts = capture_residuals(tiny_random_lm, texts, positions=(-3, -2, -1)).acts  # [N, L, 3, d]
        seen: list[torch.Tensor] = []
        with hooked([pre_hook(tiny_random_lm.layers[1], lambda h: seen.append(h.float() @ dh) or h)]):
            generate(tiny_random_lm, texts[:1], max_new_tokens=3)
    proj = acts @ dh
    assert torch.allclose(proj[:, 0], torch.tensor([0.5, 1.0, 2.0]).expand(3, 3), atol=1e-4)
    assert torch.allclose(proj[:, 1], torch.tensor([-0.25, 3.0, 4.0]).expand(3, 3), atol=1e-4)
    # Decode steps are not tail positions: they get the default value.
    assert all(torch.allclose(p, torch.tensor(-0.25), atol=1e-4) for p in seen[1:]) and len(seen) > 1


def test_addition_adds_raw_vector_at_its_layer_only(tiny_random_lm, texts):
    v = _direction(tiny_random_lm)
    base = capture_residuals(tiny_random_lm, texts, positions=(-1,)).acts
    with activation_addition(tiny_random_lm, v, 1, coeff=2.0):
        added = capture_residuals(tiny_random_lm, texts, positions=(-1,)).acts
    assert torch.allclose(added[:, 0], base[:, 0], atol=1e-5)
    assert torch.allclose(added[:, 1] - base[:, 1], 2 * v.expand_as(base[:, 1]), atol=1e-4)


def test_prefill_tracker_and_prompt_scope_under_generate(tiny_random_lm, texts):
    seen: list[tuple[bool, int]] = []
    with prefill_tracker(tiny_random_lm) as state:
        with hooked([pre_hook(tiny_random_lm.layers[0], lambda h: seen.append((state.prefill, h.shape[1])) or h)]):
            generate(tiny_random_lm, texts[:2], max_new_tokens=4, batch_size=2)
    assert seen[0][0] and seen[0][1] > 1
    assert all(not p and n == 1 for p, n in seen[1:]) and len(seen) >= 2

    v = 5 * _direction(tiny_random_lm)
    plain = generate(tiny_random_lm, texts, max_new_tokens=8)
    with activation_addition(tiny_random_lm, v, 0, scope="all"):
        every = generate(tiny_random_lm, texts, max_new_tokens=8)
    with activation_addition(tiny_random_lm, v, 0, scope="prompt"):
        prompt_only = generate(tiny_random_lm, texts, max_new_tokens=8)
        # During one plain forward pass (no cache) the prompt scope adds everywhere.
        fwd_prompt = forward(tiny_random_lm, texts)
    with activation_addition(tiny_random_lm, v, 0, scope="all"):
        fwd_all = forward(tiny_random_lm, texts)
    assert torch.allclose(fwd_prompt, fwd_all)
    assert every != plain and prompt_only != every


def test_ablation_applies_at_decode_steps(tiny_random_lm, texts):
    d = _direction(tiny_random_lm)
    dh = unit(d).to(tiny_random_lm.device)
    comps: list[torch.Tensor] = []
    with directional_ablation(tiny_random_lm, d):
        with hooked([pre_hook(tiny_random_lm.layers[1], lambda h: comps.append((h.float() @ dh).abs().max()) or h)]):
            generate(tiny_random_lm, texts[:2], max_new_tokens=5)
    assert len(comps) >= 2 and max(float(c) for c in comps) < 1e-4


def _decoded_step_by_step(lm, prompt: str, answer: str) -> torch.Tensor:
    """Log-probs of ``answer``'s tokens as generation sees them: the prompt in one pass,
    then one answer token per cached step (the hook places the tail by the prompt's end)."""
    tok = lm.tokenizer
    p = torch.tensor([tok(prompt, add_special_tokens=False)["input_ids"]])
    a = tok(answer, add_special_tokens=False)["input_ids"]
    out = lm.model(input_ids=p, use_cache=True)
    cache, logits, lps = out.past_key_values, out.logits[0, -1], []
    for t in a:
        lps.append(torch.log_softmax(logits.float(), -1)[t])
        out = lm.model(input_ids=torch.tensor([[t]]), past_key_values=cache, use_cache=True)
        cache, logits = out.past_key_values, out.logits[0, -1]
    return torch.stack(lps)


@torch.inference_mode()
def test_mean_ablation_tail_follows_the_prompt_not_the_sequence_end(tiny_random_lm, texts):
    """Teacher forcing prompt + answer in one padded batch must score the answer exactly as
    generation does: the template-tail targets sit on the prompt's last tokens, not on the
    answer's (issue 13 item 1: the cost understated cross-entropy by ~30 %)."""
    from experiments.core.batching import continuation_logprobs

    lm = tiny_random_lm
    targets = MeanTargets(default=torch.tensor([0.5, -0.25]), tail=torch.tensor([[4.0, -3.0], [5.0, -6.0]]))
    answers = ["i can help with that .", "sure"]
    with directional_ablation(lm, _direction(lm), mode="mean", means=targets):
        batched = continuation_logprobs(lm, texts[:2], answers, batch_size=2)
        stepwise = [_decoded_step_by_step(lm, p, a) for p, a in zip(texts[:2], answers)]
    for got, want in zip(batched, stepwise):
        assert got.shape == want.shape
        assert torch.allclose(got, want, atol=1e-4), (got - want).abs().max()
