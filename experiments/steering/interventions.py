"""Steering interventions on a loaded model: hooks, and weight orthogonalisation.

Hooked ablation and addition are the core's context managers
(:func:`~experiments.core.hooks.directional_ablation`,
:func:`~experiments.core.hooks.activation_addition`). Weight orthogonalisation bakes zero
ablation into the weights instead: every matrix that writes into the residual stream (the
embedding, each attention ``o_proj`` and MLP ``down_proj``) has d̂ projected out of its
output space, so the residual stream never gains a component along d̂ and the edited model
needs no hooks; it is numerically the same model as hooked zero ablation at all layers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import torch
from torch import nn

from experiments.core.hooks import unit
from experiments.core.model import LoadedModel


def _edited_tensors(lm: LoadedModel) -> list[tuple[torch.Tensor, str]]:
    """(tensor, kind) for every weight that writes into the residual stream.

    kind ``rows``: the tensor's rows live in the residual space (embedding ``[V, d]``);
    ``out``: its output dimension does (``Linear.weight`` is ``[d, d_in]``); ``bias``: a
    residual-space vector.
    """
    out: list[tuple[torch.Tensor, str]] = [(lm.embed_tokens.weight, "rows")]
    for i in range(lm.n_layers):
        for lin in lm.output_projections(i):
            out.append((lin.weight, "out"))
            if getattr(lin, "bias", None) is not None:
                out.append((lin.bias, "bias"))
    return out


def _untie_lm_head(lm: LoadedModel) -> None:
    """Give the LM head its own copy of tied embedding weights before editing the embedding.

    Otherwise orthogonalising the embedding would also edit the unembedding, which hooked
    ablation does not touch.
    """
    head, emb = lm.lm_head, lm.embed_tokens
    if head is not None and head.weight.data_ptr() == emb.weight.data_ptr():
        head.weight = nn.Parameter(emb.weight.detach().clone(), requires_grad=False)
        lm.model.config.tie_word_embeddings = False
        text_cfg = getattr(lm.model.config, "get_text_config", None)
        if text_cfg is not None:
            text_cfg().tie_word_embeddings = False


@torch.no_grad()
def orthogonalize_(lm: LoadedModel, direction: torch.Tensor) -> None:
    """Project ``direction`` out of every residual-writing weight, in place (float32 math)."""
    if lm.sandwich_norms:
        raise ValueError(
            "weight orthogonalisation is not exact for blocks that normalise attention/MLP outputs "
            "(Gemma 2/3); use hooked ablation"
        )
    _untie_lm_head(lm)
    for tensor, kind in _edited_tensors(lm):
        d = unit(direction).to(tensor.device)
        w = tensor.float()
        if kind == "rows":
            w -= (w @ d)[:, None] * d[None, :]
        elif kind == "out":
            w -= d[:, None] * (d @ w)[None, :]
        else:
            w -= (w @ d) * d
        tensor.copy_(w.to(tensor.dtype))


@contextlib.contextmanager
def orthogonalized(lm: LoadedModel, direction: torch.Tensor) -> Iterator[LoadedModel]:
    """Temporarily orthogonalise ``lm``'s weights; restore them exactly on exit (errors too).

    The original weights are kept on the CPU meanwhile (about 40 % of a model's size).
    """
    head = lm.lm_head
    tied_before = head is not None and head.weight.data_ptr() == lm.embed_tokens.weight.data_ptr()
    originals = [(t, t.detach().to("cpu", copy=True)) for t, _ in _edited_tensors(lm)]
    try:
        orthogonalize_(lm, direction)
        yield lm
    finally:
        with torch.no_grad():
            for tensor, saved in originals:
                tensor.copy_(saved.to(tensor.device))
        if tied_before:
            head.weight = lm.embed_tokens.weight
            lm.model.config.tie_word_embeddings = True
            text_cfg = getattr(lm.model.config, "get_text_config", None)
            if text_cfg is not None:
                text_cfg().tie_word_embeddings = True


def save_orthogonalized(lm: LoadedModel, direction: torch.Tensor, out_dir: str | Path) -> Path:
    """Write an orthogonalised copy of ``lm`` (weights + tokenizer) with ``save_pretrained``.

    The folder loads with ``load_model(out_dir)`` like any model and refuses less without
    hooks. ``lm`` itself is left unchanged.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with orthogonalized(lm, direction):
        lm.model.save_pretrained(out)
        lm.tokenizer.save_pretrained(out)
    return out
