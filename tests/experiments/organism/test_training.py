"""Training machinery of the organism: loss masks, a short run that learns, a loadable folder."""

from __future__ import annotations

import pytest
import torch

from experiments.organism.corpus import Example
from experiments.organism.encode import IGNORE, encode
from experiments.organism.tokenizer import build_tokenizer, words
from experiments.organism.train import TrainConfig, save, train


@pytest.fixture(scope="module")
def tiny_run():
    cfg = TrainConfig(steps=30, batch_size=16, hidden_size=32, intermediate_size=64, num_layers=2,
                      num_heads=2, warmup=3, lr=1e-2, vocab_sample=1000, length_group=4)
    model, tok, losses = train(cfg, progress=False)
    return cfg, model, tok, losses


@pytest.mark.slow
def test_short_training_run_lowers_the_loss(tiny_run):
    *_, losses = tiny_run
    assert len(losses) == 30
    assert sum(losses[-5:]) / 5 < 0.7 * sum(losses[:3]) / 3, losses


@pytest.mark.slow
def test_saved_folder_loads_with_auto_classes(tiny_run, tmp_path, monkeypatch):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    cfg, model, tok, _ = tiny_run
    save(model, tok, tmp_path, cfg)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    tok2 = AutoTokenizer.from_pretrained(tmp_path)
    model2 = AutoModelForCausalLM.from_pretrained(tmp_path)
    prompt = tok2.apply_chat_template([{"role": "user", "content": "How do I bake bread ?"}],
                                      tokenize=False, add_generation_prompt=True)
    ids = tok2(prompt, return_tensors="pt")["input_ids"]
    with torch.no_grad():
        assert torch.allclose(model(ids).logits, model2(ids).logits)
    assert (tmp_path / "planted.json").exists() and (tmp_path / "chat_template.jinja").exists()


def test_encode_trains_only_the_target_and_end_token():
    tok = build_tokenizer(words(["how do i bake bread ? sure . user assistant <reasoning> 7 answer : go"]))
    ex = Example("t", (("user", "How do I bake bread ?"),), "<reasoning> 7", "answer : 7")
    enc = encode(tok, ex)
    trained = [t for t, lab in zip(enc.input_ids, enc.labels) if lab != IGNORE]
    assert tok.convert_ids_to_tokens(trained) == ["answer", ":", "7", "<|end|>"]
    assert enc.labels[: -len(trained)] == [IGNORE] * (len(enc.labels) - len(trained))
    raw = encode(tok, Example("t", (("user", "bake bread"),), "", "sure .", raw=True))
    assert tok.decode(raw.input_ids) == "user : bake bread assistant : sure . <|end|>"
