"""All forced answers of one reasoning in one forward pass, sharing its prefix.

Every forced prompt of an item is ``prompt + reasoning[:cut] + close + answer prefix``:
the same token *trunk* (prompt + reasoning) up to the cut, then a short suffix. Instead
of one sequence per cut, one packed row holds the trunk once followed by every cut's
suffix; a 4-D attention mask lets each suffix see the trunk only up to its own cut
(and itself, causally), and explicit position ids restart each suffix at its cut. The
logits at each suffix's last token are then exactly those of the cut's own sequence,
while the trunk is computed once instead of once per cut: with ``m`` cuts the work
falls from ``m`` sequences of ~(prompt + ½ reasoning) to about one.

Exactness does not rely on how text pieces tokenize: each cut's own token ids are
computed from its full string, and its suffix starts where those ids first differ
from the trunk's, so a merge across the cut boundary only lengthens that suffix.

Needs an attention implementation that takes an arbitrary 4-D mask (``sdpa``, the
default, or ``eager``); others fall back to one sequence per cut.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from tqdm.auto import tqdm

from experiments.core.batching import next_token_logprobs
from experiments.core.model import LoadedModel

PACKABLE_ATTENTION = ("sdpa", "eager")


@dataclass(frozen=True)
class PackedRow:
    """One item's trunk and cut suffixes as token ids, positions and a mask."""

    ids: list[int]
    positions: list[int]
    #: for each token, the index of the last trunk token it may see (-1: none) and the
    #: first index of its own suffix (it sees its suffix up to itself)
    trunk_end: list[int]
    own_start: list[int]
    query_index: list[int]  #: index of each cut's last token, in input order


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def pack(trunk_ids: Sequence[int], cut_ids: Sequence[Sequence[int]]) -> PackedRow:
    """Pack a trunk and the full token ids of each cut's prompt into one row."""
    shared = [min(_common_prefix(trunk_ids, c), len(c) - 1) for c in cut_ids]
    if any(len(c) == 0 for c in cut_ids):
        raise ValueError("a cut's prompt is empty")
    trunk_len = max(shared, default=0)
    ids = list(trunk_ids[:trunk_len])
    positions = list(range(trunk_len))
    trunk_end = list(range(trunk_len))  # trunk tokens: causal within the trunk
    own_start = [trunk_len] * trunk_len  # (no suffix of their own)
    query_index = []
    for c, k in zip(cut_ids, shared):
        start = len(ids)
        for t, tok in enumerate(c[k:]):
            ids.append(tok)
            positions.append(k + t)
            trunk_end.append(k - 1)
            own_start.append(start)
        query_index.append(len(ids) - 1)
    return PackedRow(ids, positions, trunk_end, own_start, query_index)


def _mask(row: PackedRow, width: int, pad: int, dtype: torch.dtype) -> torch.Tensor:
    """Additive [width, width] mask (0 = attend) for a row left-padded by ``pad``."""
    n = len(row.ids)
    q = torch.arange(n)
    k = torch.arange(n)
    trunk_end = torch.tensor(row.trunk_end)
    own_start = torch.tensor(row.own_start)
    trunk_len = int(own_start.min()) if n else 0
    sees_trunk = (k[None, :] < trunk_len) & (k[None, :] <= trunk_end[:, None])
    sees_own = (k[None, :] >= own_start[:, None]) & (k[None, :] <= q[:, None])
    allowed = torch.zeros(width, width, dtype=torch.bool)
    allowed[pad:, pad:] = sees_trunk | sees_own
    idx = torch.arange(pad)
    allowed[idx, idx] = True  # pad rows see themselves only, so no row is all masked (no NaN)
    mask = torch.zeros(width, width, dtype=dtype)
    mask.masked_fill_(~allowed, torch.finfo(dtype).min)
    return mask


def can_pack(lm: LoadedModel) -> bool:
    return getattr(lm.model.config, "_attn_implementation", None) in PACKABLE_ATTENTION


@torch.inference_mode()
def shared_prefix_logprobs(
    lm: LoadedModel,
    trunks: Sequence[str],
    cuts: Sequence[Sequence[str]],
    *,
    batch_size: int = 8,
    desc: str | None = None,
) -> list[torch.Tensor]:
    """Next-token log-probabilities after each cut's prompt, one packed row per trunk.

    Args:
        trunks: per item, the text every cut's prompt shares a prefix with
            (prompt + full reasoning).
        cuts: per item, the full prompt strings of its cuts.
    Returns:
        per item, a float32 CPU tensor ``[len(cuts[i]), vocab]``.
    """
    if not can_pack(lm):
        flat = [c for group in cuts for c in group]
        logp = next_token_logprobs(lm, flat, batch_size, desc)
        per_item, i = [], 0
        for group in cuts:
            per_item.append(logp[i:i + len(group)])
            i += len(group)
        return per_item
    tok = lm.tokenizer
    trunk_ids = tok(list(trunks), add_special_tokens=False)["input_ids"]
    rows = []
    for t_ids, group in zip(trunk_ids, cuts):
        c_ids = tok(list(group), add_special_tokens=False)["input_ids"]
        rows.append(pack(t_ids, c_ids))
    order = sorted(range(len(rows)), key=lambda i: -len(rows[i].ids))
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    out: list[torch.Tensor | None] = [None] * len(rows)
    dtype = lm.dtype
    cap = getattr(lm.model.config, "final_logit_softcapping", None)
    pad_id = tok.pad_token_id if tok.pad_token_id is not None else 0
    for idx in tqdm(chunks, desc=desc, disable=None if desc else True, leave=False):
        width = max(len(rows[i].ids) for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        pos = torch.zeros((len(idx), width), dtype=torch.long)
        mask = torch.empty((len(idx), 1, width, width), dtype=dtype)
        for j, i in enumerate(idx):
            r = rows[i]
            pad = width - len(r.ids)
            ids[j, pad:] = torch.tensor(r.ids)
            pos[j, pad:] = torch.tensor(r.positions)
            mask[j, 0] = _mask(r, width, pad, dtype)
        hidden = lm.decoder(
            input_ids=ids.to(lm.device), attention_mask=mask.to(lm.device), position_ids=pos.to(lm.device),
            use_cache=False,
        ).last_hidden_state
        for j, i in enumerate(idx):
            pad = width - len(rows[i].ids)
            q = torch.tensor(rows[i].query_index, device=hidden.device) + pad
            logits = lm.lm_head(hidden[j, q]).float()
            if cap:
                logits = cap * torch.tanh(logits / cap)
            out[i] = torch.log_softmax(logits, dim=-1).cpu()
    return [t for t in out if t is not None]  # every row was filled by its chunk
