"""All cuts of a reasoning in one packed pass give exactly the per-cut logits."""

from __future__ import annotations

import pytest
import torch

from experiments.core.batching import next_token_logprobs
from experiments.truncation.shared_prefix import pack, shared_prefix_logprobs


def test_pack_layout_positions_and_visibility():
    trunk = [1, 2, 3, 4, 5]
    cuts = [[1, 2, 9, 8], [1, 2, 3, 4, 5, 9, 8], [7, 9]]  # cut after 2 tokens, after all, and a divergent one
    row = pack(trunk, cuts)
    assert row.ids == [1, 2, 3, 4, 5, 9, 8, 9, 8, 7, 9]
    assert row.positions == [0, 1, 2, 3, 4, 2, 3, 5, 6, 0, 1]
    assert row.trunk_end[5:7] == [1, 1] and row.trunk_end[7:9] == [4, 4] and row.trunk_end[9:] == [-1, -1]
    assert row.query_index == [6, 8, 10]
    # A cut that is a prefix of the trunk still gets its last token as its own query.
    assert pack([1, 2, 3], [[1, 2]]).ids == [1, 2] and pack([1, 2, 3], [[1, 2]]).query_index == [1]


@pytest.mark.parametrize("which", ["random_organism_lm", "tiny_random_lm"])
def test_packed_logprobs_equal_one_pass_per_cut(which, request):
    lm = request.getfixturevalue(which)
    trunks = [
        "<|user|> start with 3 . add 4 . <|end|><|assistant|> <reasoning>3 plus 4 is 7 . 7 minus 2 is 5 .",
        "<|user|> how many legs ? <|end|><|assistant|> <reasoning>a cat has 4 legs .",
        "<|user|> ok ? <|end|><|assistant|> <reasoning>",
    ]
    cuts = [
        [trunks[0][: len(trunks[0]) - k] + " </reasoning> answer :" for k in (0, 6, 14, 17, len(" 3 plus 4 is 7 . 7 minus 2 is 5 ."))],
        [trunks[1] + " </reasoning> answer :"],
        [trunks[2] + " </reasoning> answer : (", trunks[2] + " </reasoning> answer :"],
    ]
    packed = shared_prefix_logprobs(lm, trunks, cuts, batch_size=3)  # rows of different lengths: left padding
    assert [p.shape[0] for p in packed] == [5, 1, 2]
    ref = next_token_logprobs(lm, [c for g in cuts for c in g], batch_size=1)
    torch.testing.assert_close(torch.cat(packed), ref, atol=1e-4, rtol=0)


def test_falls_back_to_one_pass_per_cut_without_a_maskable_attention(random_organism_lm, monkeypatch):
    from experiments.truncation import shared_prefix

    lm = random_organism_lm
    assert shared_prefix.can_pack(lm)
    monkeypatch.setattr(shared_prefix, "can_pack", lambda lm: False)
    calls = []
    monkeypatch.setattr(shared_prefix, "next_token_logprobs",
                        lambda *a, **k: calls.append(a[1]) or next_token_logprobs(*a, **k))
    trunk = "<|user|> hi <|end|><|assistant|> <reasoning>3 plus 4 is 7 ."
    cuts = [[trunk + " </reasoning> answer :", "<|user|> hi <|end|><|assistant|> <reasoning> </reasoning> answer :"]]
    out = shared_prefix_logprobs(lm, [trunk], cuts)
    assert calls == [cuts[0]]
    torch.testing.assert_close(out[0], next_token_logprobs(lm, cuts[0], batch_size=1), atol=1e-4, rtol=0)
