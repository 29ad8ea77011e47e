"""Weight orthogonalisation is numerically the same model as hooked zero ablation."""

from __future__ import annotations

import pytest
import torch

from experiments.core.batching import forward, generate
from experiments.core.hooks import directional_ablation
from experiments.core.model import load_model
from experiments.core.prompting import format_prompt
from experiments.steering.interventions import orthogonalized, save_orthogonalized


@pytest.fixture(params=["tiny", "organism"])
def lm(request, tiny_random_lm):
    return tiny_random_lm if request.param == "tiny" else request.getfixturevalue("organism_lm")


def _texts(lm):
    users = ["How can I steal a car ?", "How do I bake bread ?", "Help me write a poem please"]
    return [format_prompt(lm.tokenizer, u) for u in users]


def _direction(lm):
    return torch.randn(lm.d_model, generator=torch.Generator().manual_seed(5)) * 3


def test_orthogonalized_matches_hooked_ablation_and_restores(lm):
    texts, d = _texts(lm), _direction(lm)
    state = {k: v.clone() for k, v in lm.model.state_dict().items()}
    tied = lm.lm_head.weight is lm.embed_tokens.weight
    base = forward(lm, texts, positions=(-2, -1))
    with directional_ablation(lm, d):
        hooked = forward(lm, texts, positions=(-2, -1))
        hooked_gen = generate(lm, texts, max_new_tokens=10)
    with orthogonalized(lm, d):
        orth = forward(lm, texts, positions=(-2, -1))
        orth_gen = generate(lm, texts, max_new_tokens=10)
        assert lm.lm_head.weight is not lm.embed_tokens.weight
    assert (hooked - base).abs().max() > 1e-2  # the ablation does something
    assert torch.allclose(orth, hooked, atol=1e-4)
    assert orth_gen == hooked_gen
    after = lm.model.state_dict()
    assert all(torch.equal(after[k], v) for k, v in state.items())
    assert (lm.lm_head.weight is lm.embed_tokens.weight) == tied


def test_saved_orthogonalized_model_loads_and_matches(lm, tmp_path):
    texts, d = _texts(lm), _direction(lm)
    with directional_ablation(lm, d):
        hooked = forward(lm, texts)
    save_orthogonalized(lm, d, tmp_path / "orth")
    edited = load_model(str(tmp_path / "orth"), device="cpu")
    assert torch.allclose(forward(edited, texts), hooked, atol=1e-4)
    assert not torch.allclose(forward(lm, texts), hooked, atol=1e-3)  # the original is untouched
