"""Candidate refusal directions by difference in means (Arditi et al. 2024).

For every layer and every post-instruction position (the template tokens after the user's
text, e.g. ``<|end|>`` and ``<|assistant|>``), the candidate is
``mean(resid | harmful) − mean(resid | harmless)`` of the residual stream entering that
layer. Both classes are captured in one batched pass each, all layers at once, summed in
float64 so thousands of bf16 activations do not lose the small difference between two large
means.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch

from experiments.core.hooks import MeanTargets, capture_residuals, unit
from experiments.core.model import LoadedModel


def post_instruction_positions(tokenizer: Any, render: Callable[[str], str], max_positions: int = 8) -> list[int]:
    """Negative positions of the template tokens that follow the user's text.

    ``render`` turns a user text into the full prompt string (e.g. ``format_prompt`` with the
    run's settings). Two prompts whose user texts end in different tokens share exactly the
    template's tail; probes that tokenise alike (e.g. both unknown words) can only make the
    shared tail longer, so the shortest over a few probe pairs is the template's tail. Capped
    at ``max_positions``; at least ``[-1]`` (a bare ``{user}`` template has no tail).
    """
    probes = (("1", "2 3"), ("a", "b c"), ("yes", "no"), ("x", "the"))
    n = max_positions
    for p, q in probes:
        a = tokenizer(render(p), add_special_tokens=False)["input_ids"]
        b = tokenizer(render(q), add_special_tokens=False)["input_ids"]
        k = 0
        while k < min(len(a), len(b)) and a[-1 - k] == b[-1 - k]:
            k += 1
        n = min(n, k)
    n = max(1, min(n, max_positions))
    return list(range(-n, 0))


@dataclass
class Candidates:
    """Per-class means and their difference at each (layer, position).

    Tensors are float64 ``[n_layers, n_positions, d_model]``; ``positions`` are negative
    indices from the end of the prompt.
    """

    harmful_mean: torch.Tensor
    harmless_mean: torch.Tensor
    positions: list[int]
    n_harmful: int
    n_harmless: int
    harmless_token_mean: torch.Tensor | None = None

    @property
    def diff(self) -> torch.Tensor:
        return self.harmful_mean - self.harmless_mean

    def vector(self, layer: int, position: int) -> torch.Tensor:
        """The raw (unnormalised) candidate at ``layer`` and negative ``position``."""
        return self.diff[layer, self.positions.index(position)]

    def harmless_projection(self, direction: torch.Tensor) -> MeanTargets:
        """Mean-ablation targets for ``direction``: harmless mean projections per layer.

        Each template-tail position gets its own mean; every other position the mean over
        all tokens of the harmless prompts (see :class:`~experiments.core.hooks.MeanTargets`).
        """
        return mean_targets(direction, self.harmless_mean, self.harmless_token_mean)


def mean_targets(direction: torch.Tensor, tail_mean: torch.Tensor, token_mean: torch.Tensor | None) -> MeanTargets:
    """Project harmless means (``[L, P, d]`` at the tail, ``[L, d]`` over all tokens) on d̂."""
    d = unit(direction).double()
    tail = (tail_mean.double() @ d).float()
    default = (token_mean.double() @ d).float() if token_mean is not None else tail.mean(dim=1)
    return MeanTargets(default=default, tail=tail)


def mean_diff_candidates(
    lm: LoadedModel,
    harmful: Sequence[str],
    harmless: Sequence[str],
    positions: Sequence[int],
    *,
    batch_size: int = 16,
) -> Candidates:
    """Difference-in-means candidates at every layer and the given positions."""
    if not harmful or not harmless:
        raise ValueError("need at least one harmful and one harmless prompt")
    pos = list(positions)
    s_harm = capture_residuals(lm, harmful, positions=pos, batch_size=batch_size, reduce="sum",
                               desc="activations (harmful)").acts
    safe = capture_residuals(lm, harmless, positions=pos, batch_size=batch_size, reduce="sum",
                             desc="activations (harmless)")
    assert safe.token_sum is not None, "capture_residuals(reduce='sum') always records the token sum"
    return Candidates(s_harm / len(harmful), safe.acts / len(harmless), pos, len(harmful), len(harmless),
                      harmless_token_mean=safe.token_sum / max(1, safe.n_tokens))


def random_direction(like: torch.Tensor, seed: int) -> torch.Tensor:
    """A random direction with the same norm as ``like`` (the control for ablation)."""
    g = torch.Generator().manual_seed(seed)
    r = torch.randn(like.numel(), generator=g, dtype=torch.float64)
    return (r / r.norm() * like.double().norm()).to(like.dtype).reshape(like.shape)


@dataclass
class Direction:
    """The chosen refusal direction, reusable outside the run that found it.

    ``vector`` is the raw difference in means at (``layer``, ``position``); its norm matters
    for activation addition. ``harmless_mean`` (``[n_layers, n_positions, d_model]``, at the
    template tail) and ``harmless_token_mean`` (``[n_layers, d_model]``, over all tokens) are
    kept so mean-ablation targets can be computed for this or any other direction (e.g. the
    random control) without recapturing activations.
    """

    layer: int
    position: int
    vector: torch.Tensor
    harmless_mean: torch.Tensor
    harmless_token_mean: torch.Tensor | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def means(self) -> MeanTargets:
        """Mean-ablation targets for this direction (harmless mean projections)."""
        return self.means_for(self.vector)

    def means_for(self, direction: torch.Tensor) -> MeanTargets:
        return mean_targets(direction, self.harmless_mean, self.harmless_token_mean)

    def save(self, pt_path: Any, json_path: Any) -> None:
        """Write ``direction.json`` (a readable summary), then ``direction.pt`` (the tensors).

        The ``.pt`` file is written last and atomically, so its presence means a complete save.
        """
        import json
        import os
        from pathlib import Path

        summary = {"layer": self.layer, "position": self.position, "norm": float(self.vector.norm()),
                   "d_model": int(self.vector.numel()), **self.info}
        Path(json_path).write_text(json.dumps(summary, indent=2, default=str) + "\n", encoding="utf-8")
        tmp = Path(str(pt_path) + ".tmp")
        torch.save({"layer": self.layer, "position": self.position, "vector": self.vector.float().cpu(),
                    "harmless_mean": self.harmless_mean.float().cpu(),
                    "harmless_token_mean": None if self.harmless_token_mean is None else self.harmless_token_mean.float().cpu(),
                    "info": self.info}, tmp)
        os.replace(tmp, pt_path)

    @classmethod
    def load(cls, pt_path: Any) -> Direction:
        data = torch.load(pt_path, map_location="cpu", weights_only=True)
        return cls(int(data["layer"]), int(data["position"]), data["vector"], data["harmless_mean"],
                   data.get("harmless_token_mean"), dict(data.get("info") or {}))
