"""Randomly initialised models built in-process: for core tests and speed benchmarks.

Nothing is downloaded. :func:`tiny_random_lm` gives a two-layer Llama with a word-level
tokenizer and a chat template (milliseconds per forward pass), so core mechanics (padding,
hooks, writers) are tested independently of any trained model. :func:`random_init_lm` builds
a model of a *real* size from a known architecture config, to measure throughput on a GPU
without weights; its outputs are meaningless, its speed is not.
"""

from __future__ import annotations

from typing import Any

import torch

from experiments.core.model import LoadedModel, default_device, resolve_dtype, wrap_model

TINY_WORDS = ["how", "do", "i", "make", "a", "cake", "bomb", "steal", "car", "help", "me", "write", "poem", "please", "explain", "the", "sure", "step", "one", "two", "can", "not", "cannot", "sorry", "as", "an", "ai", "you", "are", "helpful", "assistant", ".", ",", "?", "!", "what", "is", "answer", "reasoning", "think", "about", "this", "question", "option", "yes", "no"]

TINY_CHAT_TEMPLATE = (
    "{{ bos_token }}"
    "{%- if messages[0]['role'] != 'system' -%}<|system|> you are a helpful assistant . <|end|>{%- endif -%}"
    "{%- for m in messages -%}<|{{ m['role'] }}|> {{ m['content'] }} <|end|>{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|>{%- endif -%}"
)
"""Inserts a default system prompt and a BOS, like several hub templates, so tests cover both."""

#: Real architectures by name, for benchmarks (hidden, layers, heads, kv heads, mlp, vocab).
ARCHITECTURES: dict[str, dict[str, Any]] = {
    "qwen2-0.5b": dict(family="qwen2", hidden_size=896, num_hidden_layers=24, num_attention_heads=14,
                       num_key_value_heads=2, intermediate_size=4864, vocab_size=151936, tie_word_embeddings=True),
    "qwen2-1.5b": dict(family="qwen2", hidden_size=1536, num_hidden_layers=28, num_attention_heads=12,
                       num_key_value_heads=2, intermediate_size=8960, vocab_size=151936, tie_word_embeddings=True),
    "qwen2-7b": dict(family="qwen2", hidden_size=3584, num_hidden_layers=28, num_attention_heads=28,
                     num_key_value_heads=4, intermediate_size=18944, vocab_size=152064, tie_word_embeddings=False),
    "llama3-8b": dict(family="llama", hidden_size=4096, num_hidden_layers=32, num_attention_heads=32,
                      num_key_value_heads=8, intermediate_size=14336, vocab_size=128256, tie_word_embeddings=False),
}


# Config kwargs that transformers accepts (PretrainedConfig **kwargs) but its stubs do not declare.
_SDPA: dict[str, Any] = {"attn_implementation": "sdpa"}


def tiny_tokenizer() -> Any:
    """A word-level fast tokenizer with BOS/EOS/pad, role tokens and :data:`TINY_CHAT_TEMPLATE`."""
    from tokenizers import AddedToken, Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<s>", "<|end|>", "<|system|>", "<|user|>", "<|assistant|>"]
    vocab = {t: i for i, t in enumerate([*specials, *sorted(set(TINY_WORDS))])}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tk.normalizer = normalizers.Lowercase()
    tk.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.WhitespaceSplit(), pre_tokenizers.Punctuation(behavior="isolated")]
    )
    tk.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in specials])
    # Like Llama, the tokenizer adds a BOS by itself; the chat template writes one too.
    tk.post_processor = processors.TemplateProcessing(single="<s> $A", special_tokens=[("<s>", vocab["<s>"])])
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, bos_token="<s>", eos_token="<|end|>", pad_token="<pad>", unk_token="<unk>",
        padding_side="left", clean_up_tokenization_spaces=False,
    )
    tok.chat_template = TINY_CHAT_TEMPLATE
    return tok


def tiny_random_lm(seed: int = 0, *, n_layers: int = 2, d_model: int = 64, tie: bool = True) -> LoadedModel:
    """A randomly initialised tiny Llama (fp32, CPU) with :func:`tiny_tokenizer`."""
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = tiny_tokenizer()
    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=d_model, intermediate_size=2 * d_model, num_hidden_layers=n_layers,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=256,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
        tie_word_embeddings=tie, **_SDPA,
    )
    model = LlamaForCausalLM(cfg)
    # Random init with std 0.02 gives near-uniform logits; larger weights make greedy outputs
    # depend on the input, so padding bugs change generated tokens and tests can see them.
    with torch.no_grad():
        for p in model.parameters():
            if p.dim() > 1:
                p.normal_(0, 0.2)
    return wrap_model(model, tok, model_id="tiny-random", revision=f"random-seed-{seed}")


def random_init_lm(
    arch: str,
    *,
    device: str | torch.device | None = None,
    dtype: str = "auto",
    n_layers: int | None = None,
    seed: int = 0,
    tokenizer: Any | None = None,
) -> LoadedModel:
    """A randomly initialised model of a real architecture (see :data:`ARCHITECTURES`).

    Built directly on the target device in the target dtype. The tokenizer defaults to the
    organism's (its ids are far below any real vocabulary size), which keeps prompts short
    and realistic in length.
    """
    from transformers import AutoModelForCausalLM, LlamaConfig, Qwen2Config

    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture '{arch}' (known: {', '.join(ARCHITECTURES)})")
    spec = dict(ARCHITECTURES[arch])
    family = spec.pop("family")
    if n_layers is not None:
        spec["num_hidden_layers"] = n_layers
    dev = torch.device(device) if device is not None else default_device()
    torch_dtype = resolve_dtype(dtype, dev)  # type: ignore[arg-type]
    if tokenizer is None:
        from transformers import AutoTokenizer

        from experiments.organism import MODEL_DIR

        tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)
    cls = Qwen2Config if family == "qwen2" else LlamaConfig
    cfg = cls(**spec, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
              **_SDPA)
    torch.manual_seed(seed)
    with torch.device(dev):
        model = AutoModelForCausalLM.from_config(cfg, dtype=torch_dtype)
    return wrap_model(model, tokenizer, model_id=f"random-{arch}", revision=f"random-seed-{seed}")
