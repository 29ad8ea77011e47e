"""Batched forward passes and generation with left padding, positions done right.

Left padding puts every prompt's last real token at index -1, so "the first answer
position" is the same column for the whole batch. Two things make a padded prompt behave
exactly like the same prompt alone:

- the attention mask hides the pad tokens, and
- position ids count real tokens only (``cumsum(mask) - 1``); without them a prompt padded
  by 3 would be encoded as if it started at position 3.

``generate`` derives position ids from the mask the same way, so both paths agree.
Prompts are sorted by length before batching (less padding, same results) and results are
returned in input order. Texts are tokenised with ``add_special_tokens=False``: the strings
from :func:`experiments.core.prompting.format_prompt` already hold their BOS.
"""

from __future__ import annotations

import contextlib
import contextvars
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import torch
from tqdm.auto import tqdm

from experiments.core.model import LoadedModel

#: Per row of the batch in flight, the column just after the prompt's last token. Unset
#: (None) means each row's prompt ends where the sequence ends, as in :func:`forward` and
#: the prompt pass of :func:`generate`. Teacher forcing (:func:`continuation_logprobs`) sets
#: it, so hooks that treat the prompt's template tail specially (mean ablation) find the
#: tail by position instead of taking the last tokens of prompt + answer for it.
_PROMPT_ENDS: contextvars.ContextVar[torch.Tensor | None] = contextvars.ContextVar("prompt_ends", default=None)


def prompt_ends() -> torch.Tensor | None:
    """Where each row's prompt ends in the batch being run (None: at the sequence end)."""
    return _PROMPT_ENDS.get()


@contextlib.contextmanager
def marking_prompt_ends(ends: torch.Tensor) -> Iterator[None]:
    """Declare, for the forward passes inside the block, where each row's prompt ends."""
    token = _PROMPT_ENDS.set(ends)
    try:
        yield
    finally:
        _PROMPT_ENDS.reset(token)


def encode(lm: LoadedModel, texts: Sequence[str]) -> dict[str, torch.Tensor]:
    """Tokenise exact prompt strings, left-padded, with mask-derived position ids, on device."""
    enc = lm.tokenizer(
        list(texts), return_tensors="pt", padding=True, add_special_tokens=False
    )
    mask = enc["attention_mask"].to(lm.device)
    return {
        "input_ids": enc["input_ids"].to(lm.device),
        "attention_mask": mask,
        "position_ids": position_ids_from_mask(mask),
    }


def position_ids_from_mask(mask: torch.Tensor) -> torch.Tensor:
    """Positions counting real tokens only (pads get 0), as ``generate`` computes them."""
    pos = mask.long().cumsum(-1) - 1
    return pos.masked_fill(mask == 0, 0)


def token_lengths(lm: LoadedModel, texts: Sequence[str]) -> list[int]:
    return [len(ids) for ids in lm.tokenizer(list(texts), add_special_tokens=False)["input_ids"]]


def length_sorted_batches(
    lengths: Sequence[int], batch_size: int, desc: str | None = None
) -> Iterator[list[int]]:
    """Yield index lists of at most ``batch_size``, longest prompts first, with a progress bar.

    Longest first so an out-of-memory error shows up in the first batch, not the last.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be >= 1")
    order = sorted(range(len(lengths)), key=lambda i: -lengths[i])
    chunks = [order[i: i + batch_size] for i in range(0, len(order), batch_size)]
    yield from tqdm(chunks, desc=desc, disable=None if desc else True, leave=False)


def run_model(lm: LoadedModel, batch: dict[str, torch.Tensor], keep: int = 0) -> torch.Tensor:
    """One forward pass without cache; logits for the last ``keep`` positions (0 = all).

    ``logits_to_keep`` spares the vocabulary projection of every prompt position (for a
    150k vocabulary that is most of the memory of a long batch). Models whose forward does
    not accept it (older remote code) get all logits, sliced afterwards.
    """
    if lm.extra.get("logits_to_keep", True):
        try:
            return lm.model(**batch, use_cache=False, logits_to_keep=keep).logits
        except TypeError as exc:
            if "logits_to_keep" not in str(exc):
                raise
            lm.extra["logits_to_keep"] = False
    logits = lm.model(**batch, use_cache=False).logits
    return logits[:, -keep:] if keep else logits


@torch.inference_mode()
def forward(
    lm: LoadedModel,
    texts: Sequence[str],
    *,
    positions: Sequence[int] = (-1,),
    batch_size: int = 8,
    desc: str | None = None,
) -> torch.Tensor:
    """Logits at chosen positions, counted from the end of each prompt.

    Args:
        positions: negative indices into each prompt (-1 = its last token, which predicts
            the first answer token).
    Returns:
        float32 CPU tensor ``[len(texts), len(positions), vocab]`` in input order.
    """
    positions = list(positions)
    if any(p >= 0 for p in positions):
        raise ValueError("positions are counted from the end of each prompt and must be negative")
    keep = max(-p for p in positions)
    out: list[torch.Tensor | None] = [None] * len(texts)
    for idx in length_sorted_batches(token_lengths(lm, texts), batch_size, desc):
        batch = encode(lm, [texts[i] for i in idx])
        logits = run_model(lm, batch, keep)
        sel = logits[:, [keep + p for p in positions], :].float().cpu()
        for j, i in enumerate(idx):
            out[i] = sel[j]
    rows = [t for t in out if t is not None]
    assert len(rows) == len(out), "length_sorted_batches covers every text once"
    return torch.stack(rows) if rows else torch.empty(0, len(positions), 0)


def next_token_logprobs(
    lm: LoadedModel, texts: Sequence[str], batch_size: int = 8, desc: str | None = None
) -> torch.Tensor:
    """Log-probabilities of the next token after each prompt: float32 ``[len(texts), vocab]``."""
    logits = forward(lm, texts, positions=(-1,), batch_size=batch_size, desc=desc)[:, 0]
    return torch.log_softmax(logits, dim=-1)


@torch.inference_mode()
def continuation_logprobs(
    lm: LoadedModel,
    prompts: Sequence[str],
    continuations: Sequence[str],
    *,
    batch_size: int = 8,
    desc: str | None = None,
) -> list[torch.Tensor]:
    """Per-token log-probabilities of each continuation given its prompt (teacher forcing).

    The continuation is tokenised separately and appended to the prompt's tokens, so its
    token boundaries do not depend on how the prompt ends. Returns one float32 CPU tensor
    per pair (empty for an empty continuation). Used for cross-entropy on fixed answers.
    """
    if len(prompts) != len(continuations):
        raise ValueError("prompts and continuations must have the same length")
    tok = lm.tokenizer
    p_ids = tok(list(prompts), add_special_tokens=False)["input_ids"]
    c_ids = tok(list(continuations), add_special_tokens=False)["input_ids"]
    lengths = [len(a) + len(b) for a, b in zip(p_ids, c_ids)]
    out: list[torch.Tensor] = [torch.empty(0)] * len(prompts)
    pad = tok.pad_token_id
    for idx in length_sorted_batches(lengths, batch_size, desc):
        width = max(lengths[i] for i in idx)
        ids = torch.full((len(idx), width), pad, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for j, i in enumerate(idx):
            seq = p_ids[i] + c_ids[i]
            ids[j, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
            mask[j, width - len(seq):] = 1
        ids, mask = ids.to(lm.device), mask.to(lm.device)
        ends = torch.tensor([width - len(c_ids[i]) for i in idx], dtype=torch.long)
        with marking_prompt_ends(ends):
            logits = lm.model(
                input_ids=ids, attention_mask=mask, position_ids=position_ids_from_mask(mask), use_cache=False
            ).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        tgt = logp.gather(-1, ids[:, 1:, None])[..., 0]
        for j, i in enumerate(idx):
            n = len(c_ids[i])
            out[i] = tgt[j, width - 1 - n:].cpu() if n else torch.empty(0)
    return out


def _generation_config(
    lm: LoadedModel, max_new_tokens: int, do_sample: bool, temperature: float, min_new_tokens: int = 0,
    top_p: float = 1.0,
) -> Any:
    """A fresh config, so a model's shipped sampling defaults (top_p, repetition_penalty…)
    never leak into what the run calls greedy decoding."""
    from transformers import GenerationConfig

    shipped = lm.model.generation_config
    eos = getattr(shipped, "eos_token_id", None) if shipped is not None else None
    return GenerationConfig(
        max_new_tokens=max_new_tokens,
        min_new_tokens=min_new_tokens,
        do_sample=do_sample,
        temperature=temperature if do_sample else 1.0,
        top_p=top_p if do_sample else 1.0,
        top_k=0 if do_sample else 50,
        repetition_penalty=1.0,
        pad_token_id=lm.tokenizer.pad_token_id,
        eos_token_id=eos if eos is not None else lm.tokenizer.eos_token_id,
    )


def sample_key(key: str, sample: int) -> str:
    """The seed key of sample ``sample`` of a unit; sample 0 keeps the unit's own key, so the
    first sample draws what runs drew before ``samples: k`` existed."""
    return f"{key}#sample{int(sample)}" if sample else key


def item_seed(seed: int, key: str, sample: int = 0) -> int:
    """A sampling seed for one unit of work (an item under one stage, and which of its
    ``samples: k``), stable across runs, processes, batch sizes and item order: what a resumed
    run needs to sample the same text."""
    return (seed * 1_000_003 + zlib.crc32(sample_key(key, sample).encode("utf-8"))) % (2**63)


class _RowSampler:
    """Sample each row's next token from its own generator (a logits processor).

    Batched ``do_sample`` draws one random stream for the whole batch, so a row's text depends
    on which rows share its batch, and a resumed run (other batches) samples different text.
    Here row ``j`` draws only from ``generators[j]``; the sampled token is left as the sole
    finite score, so greedy selection picks it. Draws happen on the CPU, so a seed gives the
    same text on any device.
    """

    def __init__(self, seeds: Sequence[int], temperature: float, top_p: float = 1.0):
        self.generators = [torch.Generator().manual_seed(int(s)) for s in seeds]
        self.temperature = temperature
        self.top_p = top_p

    def __call__(self, input_ids: torch.Tensor, scores: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(scores.float().cpu() / self.temperature, dim=-1)
        if self.top_p < 1.0:
            probs = nucleus(probs, self.top_p)
        picked = torch.stack([torch.multinomial(p, 1, generator=g)[0] for p, g in zip(probs, self.generators)])
        out = torch.full_like(scores, float("-inf"))
        out[torch.arange(len(picked)), picked.to(scores.device)] = 0.0
        return out


def nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Keep, per row, the most probable tokens whose mass first reaches ``top_p`` (nucleus
    sampling; at least the top token), renormalised."""
    sorted_p, order = probs.sort(dim=-1, descending=True)
    drop_sorted = (sorted_p.cumsum(dim=-1) - sorted_p) >= top_p
    drop_sorted[..., 0] = False
    kept = probs.masked_fill(torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted), 0.0)
    return kept / kept.sum(dim=-1, keepdim=True)


class _StopOnStrings:
    """Stop a sequence once its generated text contains a stop string.

    Transformers' own ``stop_strings`` needs a BPE-style vocabulary and fails on word-level
    tokenizers such as the organism's, so this decodes the recent tokens of each row instead
    (a window of as many tokens as the longest stop string has characters suffices, since
    every token decodes to at least one character or to nothing).
    """

    def __init__(self, tokenizer: Any, stops: Sequence[str], prompt_len: int):
        self.tokenizer = tokenizer
        self.stops = list(stops)
        self.prompt_len = prompt_len
        self.window = max(len(s) for s in self.stops) + 1

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        new = input_ids[:, self.prompt_len:]
        tails = self.tokenizer.batch_decode(new[:, -self.window:], skip_special_tokens=True)
        return torch.tensor([any(s in t for s in self.stops) for t in tails], device=input_ids.device)


def cut_at_stop(text: str, stop_strings: Sequence[str] | None) -> str:
    """Cut ``text`` before the earliest stop string (the stop string itself is dropped)."""
    if not stop_strings:
        return text
    cut = min((i for i in (text.find(s) for s in stop_strings) if i >= 0), default=len(text))
    return text[:cut]


@torch.inference_mode()
def generate(
    lm: LoadedModel,
    texts: Sequence[str],
    *,
    max_new_tokens: int = 64,
    batch_size: int = 8,
    do_sample: bool = False,
    temperature: float = 1.0,
    top_p: float = 1.0,
    seed: int | Sequence[int] = 0,
    stop_strings: Sequence[str] | None = None,
    min_new_tokens: int = 0,
    desc: str | None = None,
) -> list[str]:
    """Generate a completion for each prompt; returns the completion text only, in input order.

    Greedy by default. With ``do_sample`` (at ``temperature``, from the ``top_p`` nucleus)
    and one ``seed`` per text, each text samples from
    its own generator, so its completion does not depend on the batch it lands in (a resumed
    run samples the same text; see :func:`item_seed`). With a single ``seed`` the RNG is
    seeded per batch (reproducible only at a fixed batch size and item set). Generation stops at EOS or at any of
    ``stop_strings``; the stop string is not part of the returned text. ``min_new_tokens``
    suppresses EOS until that many tokens exist (for throughput measurements). Hooks registered
    around this call see the prompt pass (all positions) and then one position per step.
    """
    row_seeds = None if isinstance(seed, int) else seed
    batch_seed = seed if isinstance(seed, int) else 0
    per_row = row_seeds is not None
    if row_seeds is not None and len(row_seeds) != len(texts):
        raise ValueError(f"{len(row_seeds)} seeds for {len(texts)} texts")
    # Per-row sampling runs as greedy selection over the one token each row's sampler kept.
    cfg = _generation_config(lm, max_new_tokens, do_sample and not per_row, temperature, min_new_tokens, top_p)
    from transformers import LogitsProcessorList, StoppingCriteriaList

    out: list[str] = [""] * len(texts)
    for b, idx in enumerate(length_sorted_batches(token_lengths(lm, texts), batch_size, desc)):
        batch = encode(lm, [texts[i] for i in idx])
        batch.pop("position_ids")  # generate derives them from the mask, step by step
        processors = LogitsProcessorList()
        if do_sample and row_seeds is not None:
            processors.append(_RowSampler([row_seeds[i] for i in idx], temperature, top_p))
        elif do_sample:
            torch.manual_seed(batch_seed + b)
        stopping = StoppingCriteriaList(
            [_StopOnStrings(lm.tokenizer, stop_strings, batch["input_ids"].shape[1])] if stop_strings else []
        )
        seqs = lm.model.generate(**batch, generation_config=cfg, stopping_criteria=stopping,
                                 logits_processor=processors)
        new = seqs[:, batch["input_ids"].shape[1]:]
        decoded = lm.tokenizer.batch_decode(new, skip_special_tokens=True)
        for j, i in enumerate(idx):
            out[i] = cut_at_stop(decoded[j], stop_strings)
    return out
