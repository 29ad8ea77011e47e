"""Choosing one refusal direction among the candidates (Arditi et al. 2024, appendix C).

For each candidate at (layer, position), on held-out validation prompts:

- **bypass score**: mean refusal score on harmful prompts with the candidate ablated at all
  layers (lower = ablating it removes refusal better);
- **induce score**: mean refusal score on harmless prompts with the raw vector added at its
  own layer (must be above ``induce_min`` so the direction really *causes* refusal);
- **KL**: mean KL(baseline ‖ ablated) of the next-token distribution on harmless prompts
  (at most ``kl_max``, so ablation leaves harmless behaviour alone).

Candidates in the last ``1 − max_layer_fraction`` of layers are not evaluated (late-layer
directions tend to act on the output tokens directly rather than on the refusal decision).
The lowest bypass score among the rest wins. Every score uses the first-token refusal metric,
so selection needs forward passes only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from tqdm.auto import tqdm

from experiments.core.batching import next_token_logprobs
from experiments.core.errors import ExperimentError
from experiments.core.hooks import AblationMode, MeanTargets, activation_addition, directional_ablation
from experiments.core.model import LoadedModel
from experiments.steering.directions import Candidates, Direction
from experiments.steering.scoring import kl_divergence, refusal_score


class NoCandidateError(ExperimentError):
    """No candidate passed the filters; ``table`` holds every candidate's scores."""

    def __init__(self, message: str, table: list[dict[str, Any]]):
        super().__init__(message)
        self.table = table


@dataclass
class SelectionResult:
    """The chosen direction and every candidate's scores (for ``candidates.csv``)."""

    direction: Direction
    table: list[dict[str, Any]] = field(default_factory=list)
    baseline_harmful: float = float("nan")
    baseline_harmless: float = float("nan")


def max_layer(n_layers: int, max_layer_fraction: float) -> int:
    """Layers ``>= max_layer(...)`` are excluded (Arditi: ``int(n_layers * (1 - 0.2))``)."""
    return max(1, int(n_layers * max_layer_fraction))


def score_candidate(
    lm: LoadedModel,
    vector: torch.Tensor,
    layer: int,
    means: MeanTargets,
    harmful: Sequence[str],
    harmless: Sequence[str],
    base_harmless_lp: torch.Tensor,
    token_ids: Sequence[int],
    *,
    mode: AblationMode,
    batch_size: int,
) -> dict[str, float]:
    """Bypass, induce and KL for one candidate (two batched forward passes)."""
    with directional_ablation(lm, vector, mode=mode, means=means):
        lp = next_token_logprobs(lm, [*harmful, *harmless], batch_size=batch_size)
    bypass = refusal_score(lp[: len(harmful)], token_ids).mean()
    kl = kl_divergence(base_harmless_lp, lp[len(harmful):]).mean()
    with activation_addition(lm, vector, layer, coeff=1.0):
        induce = refusal_score(next_token_logprobs(lm, harmless, batch_size=batch_size), token_ids).mean()
    return {"bypass_score": float(bypass), "induce_score": float(induce), "kl": float(kl)}


def select_direction(
    lm: LoadedModel,
    cands: Candidates,
    harmful_val: Sequence[str],
    harmless_val: Sequence[str],
    token_ids: Sequence[int],
    *,
    mode: AblationMode = "zero",
    kl_max: float = 0.1,
    induce_min: float = 0.0,
    max_layer_fraction: float = 0.8,
    layer: int | None = None,
    position: int | None = None,
    batch_size: int = 16,
    done: Sequence[dict[str, Any]] = (),
    checkpoint: Callable[[list[dict[str, Any]]], None] | None = None,
) -> SelectionResult:
    """Score candidates and return the best; ``layer``/``position`` pin the search.

    Pinning both chooses that candidate outright, but its row says ``passes: False`` (with
    the reasons) when it fails a filter: a pinned choice is the user's, not a pass. Pinning
    one restricts the search to it.

    ``done`` are rows of an interrupted search (``candidates.csv``), reused as they are;
    ``checkpoint`` is called with the whole table after every candidate, so a timeout keeps
    what was scored.

    Raises :class:`ExperimentError` naming the best rejected candidate when no candidate
    passes the filters, so the user can see which threshold to relax.
    """
    base_harmful = refusal_score(next_token_logprobs(lm, harmful_val, batch_size=batch_size), token_ids).mean()
    base_harmless_lp = next_token_logprobs(lm, harmless_val, batch_size=batch_size)
    base_harmless = refusal_score(base_harmless_lp, token_ids).mean()
    limit = max_layer(lm.n_layers, max_layer_fraction)
    pinned = layer is not None and position is not None
    layers = [layer] if layer is not None else list(range(limit))
    positions = [position] if position is not None else list(cands.positions)
    if position is not None and position not in cands.positions:
        raise ExperimentError(f"selection.position {position} is not among the candidate positions {cands.positions}")
    table: list[dict[str, Any]] = []
    previous = {(int(r["layer"]), int(r["position"])): dict(r) for r in done}
    grid = [(l, p) for l in layers for p in positions]
    for l, p in tqdm(grid, desc="selecting direction", disable=None, leave=False):
        if (l, p) in previous:
            table.append(previous[(l, p)])
            continue
        vec = cands.vector(l, p).float()
        if not float(vec.norm()) > 1e-6 * float(cands.harmless_mean[l].norm(dim=-1).max()):
            # E.g. layer 0 at template positions: both classes see the same token embeddings.
            table.append({"layer": l, "position": p, "norm": float(vec.norm()), "passes": False,
                          "rejected_because": "zero vector"})
        else:
            means = cands.harmless_projection(vec)
            scores = score_candidate(lm, vec, l, means, harmful_val, harmless_val, base_harmless_lp, token_ids,
                                     mode=mode, batch_size=batch_size)
            checks = ((f"kl>{kl_max}", scores["kl"] > kl_max),
                      (f"induce<={induce_min}", scores["induce_score"] <= induce_min))
            reasons = [why for why, failed in checks if failed]
            table.append({"layer": l, "position": p, "norm": float(vec.norm()), **scores,
                          "passes": not reasons, "rejected_because": ",".join(reasons)})
        if checkpoint is not None:
            checkpoint(table)
    if pinned:
        table = [{**r, "pinned": True} for r in table]
    ok = [r for r in table if r["passes"] or (pinned and "bypass_score" in r)]
    if not ok:
        scored = [r for r in table if "bypass_score" in r]
        if not scored:
            raise NoCandidateError("every candidate direction is zero: harmful and harmless prompts give "
                                  "identical activations at the chosen positions and layers", table)
        best = min(scored, key=lambda r: r["bypass_score"])
        raise NoCandidateError(
            f"no candidate direction passes the selection filters; the lowest bypass score "
            f"({best['bypass_score']:.2f}) is at layer {best['layer']}, position {best['position']} "
            f"with kl {best['kl']:.3f} and induce score {best['induce_score']:.2f}; "
            "relax selection.kl_max / selection.induce_min or pin selection.layer and selection.position",
            table,
        )
    best = min(ok, key=lambda r: r["bypass_score"])
    vec = cands.vector(best["layer"], best["position"]).float()
    direction = Direction(
        best["layer"], best["position"], vec, cands.harmless_mean.float(),
        None if cands.harmless_token_mean is None else cands.harmless_token_mean.float(),
        info={k: best[k] for k in ("bypass_score", "induce_score", "kl")} | {
            "baseline_harmful_score": float(base_harmful), "baseline_harmless_score": float(base_harmless),
            "n_harmful": cands.n_harmful, "n_harmless": cands.n_harmless, "positions": cands.positions,
            "passes": bool(best["passes"]),
        },
    )
    return SelectionResult(direction, table, float(base_harmful), float(base_harmless))
