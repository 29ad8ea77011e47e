"""The organism's tokenizer: word level, lower-cased, punctuation split, with a chat template.

A word-level vocabulary keeps the model tiny and makes every answer option one token (digits,
letters, `approve`/`reject`), so a forced answer is read from a single next-token distribution.
It is wrapped as `PreTrainedTokenizerFast` and saved with its chat template, so runners use the
same `AutoTokenizer` / `apply_chat_template` calls as for a hub model.

Role and end markers are special tokens (dropped by `decode(skip_special_tokens=True)`); the
reasoning tags are ordinary added tokens, so they survive decoding and can be located in text.
Like Qwen2, there is no BOS token: nothing is added by `tokenizer(text)`, so tokenizing a rendered
chat template with or without `add_special_tokens` gives the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable

from tokenizers import AddedToken, Tokenizer, models, normalizers, pre_tokenizers
from transformers import PreTrainedTokenizerFast

from experiments.organism.tasks.format import DEFAULT_SYSTEM_PROMPT, REASONING_CLOSE, REASONING_OPEN

PAD, UNK, END = "<|pad|>", "<|unk|>", "<|end|>"
SYSTEM, USER, ASSISTANT = "<|system|>", "<|user|>", "<|assistant|>"
SPECIAL_TOKENS = (PAD, UNK, END, SYSTEM, USER, ASSISTANT)
TAG_TOKENS = (REASONING_OPEN, REASONING_CLOSE)

CHAT_TEMPLATE = (
    "{%- if messages[0]['role'] != 'system' -%}"
    "<|system|> " + DEFAULT_SYSTEM_PROMPT + " <|end|>\n"
    "{%- endif -%}"
    "{%- for message in messages -%}"
    "{%- if message['role'] not in ['system', 'user', 'assistant'] -%}"
    "{{ raise_exception('roles must be system, user or assistant') }}"
    "{%- endif -%}"
    "<|{{ message['role'] }}|> {{ message['content'] }} <|end|>\n"
    "{%- endfor -%}"
    "{%- if add_generation_prompt -%}<|assistant|> {% endif -%}"
)
"""Inserts the default system prompt when none is given; pass a system message to control it
(an empty one is allowed and was trained)."""


def _pre_tokenizer() -> pre_tokenizers.PreTokenizer:
    return pre_tokenizers.Sequence(
        [
            pre_tokenizers.WhitespaceSplit(),
            pre_tokenizers.Punctuation(behavior="isolated"),
            pre_tokenizers.Digits(individual_digits=True),
        ]
    )


def words(texts: Iterable[str]) -> set[str]:
    """The vocabulary words a set of texts needs (after lower-casing and splitting)."""
    norm = normalizers.Lowercase()
    pre = _pre_tokenizer()
    out: set[str] = set()
    for text in texts:
        t = text
        for tag in TAG_TOKENS + SPECIAL_TOKENS:
            t = t.replace(tag, " ")
        out.update(w for w, _ in pre.pre_tokenize_str(norm.normalize_str(t)))
    return out


def build_tokenizer(vocab_words: Iterable[str]) -> PreTrainedTokenizerFast:
    """A word-level tokenizer over the given words (sorted, so ids are reproducible)."""
    base = sorted(set(vocab_words) | set("abcdefghijklmnopqrstuvwxyz0123456789") - set(SPECIAL_TOKENS) - set(TAG_TOKENS))
    vocab = {tok: i for i, tok in enumerate((*SPECIAL_TOKENS, *TAG_TOKENS, *base))}
    tk = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tk.normalizer = normalizers.Lowercase()
    tk.pre_tokenizer = _pre_tokenizer()
    tk.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in SPECIAL_TOKENS])
    tk.add_tokens([AddedToken(t, special=False, normalized=False) for t in TAG_TOKENS])
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tk,
        pad_token=PAD,
        unk_token=UNK,
        eos_token=END,
        padding_side="left",
        model_input_names=["input_ids", "attention_mask"],
        clean_up_tokenization_spaces=False,
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast
