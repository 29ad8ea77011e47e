"""Fixtures for the truncation runner's tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def organism_tokenizer():
    """The organism's word-level tokenizer, built from its task texts (no weights needed)."""
    from experiments.organism.tasks.reasoning import reasoning_items, render_reasoning
    from experiments.organism.tokenizer import build_tokenizer, words

    items = reasoning_items("eval", n=60) + reasoning_items("train", n=60)
    texts = [f"{it.question} {render_reasoning(it.steps, it.answer)}" for it in items]
    texts.append("You are a helpful assistant . User Assistant Question yes no True False ( A ) ( B )")
    return build_tokenizer(words(texts))


@pytest.fixture(scope="session")
def random_organism_lm(organism_tokenizer):
    """A random two-layer Llama with the organism's tokenizer: for runner mechanics only.

    Its answers are noise, which is the point for mechanics tests: unparseable and
    mismatching answers must flow through as outcomes. Not to be modified by tests.
    """
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    from experiments.core.model import wrap_model

    # One thread: a model this small gains nothing from intra-op parallelism, and on a
    # shared 2-core machine a second thread makes it ~10x slower (measured).
    torch.set_num_threads(1)
    torch.manual_seed(0)
    tok = organism_tokenizer
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=512, eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
    )
    return wrap_model(LlamaForCausalLM(cfg), tok, "organism")
