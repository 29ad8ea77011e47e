"""The steering run's prompt sets: train/validation splits for finding and selecting the
direction, and eval sets that never contain those prompts."""

from __future__ import annotations

import random
from dataclasses import dataclass

from experiments.core.datasets import InstructionItem, load_instructions
from experiments.core.errors import DatasetError
from experiments.steering.config import SteeringConfig


@dataclass
class SteeringData:
    harmful_train: list[InstructionItem]
    harmless_train: list[InstructionItem]
    harmful_val: list[InstructionItem]
    harmless_val: list[InstructionItem]
    harmful_eval: list[InstructionItem]
    harmless_eval: list[InstructionItem]


def _split(items: list[InstructionItem], n_train: int, n_val: int, seed: int, name: str) -> tuple[list, list]:
    """Shuffle (seeded) and split into disjoint train / validation parts."""
    if len(items) < 2:
        raise DatasetError(f"{name}: need at least 2 prompts to split into train and validation, got {len(items)}")
    items = list(items)
    random.Random(seed).shuffle(items)
    if len(items) >= n_train + n_val:
        return items[:n_train], items[n_train: n_train + n_val]
    k = max(1, round(len(items) * n_val / (n_train + n_val)))
    return items[:-k], items[-k:]


def load_data(cfg: SteeringConfig) -> SteeringData:
    """Every prompt set of a run, read and split before the model loads (a typo fails in seconds)."""
    d = cfg.data
    n = d.n_train + d.n_val
    ht, hv = _split(load_instructions(d.harmful_train, n=n, seed=cfg.seed), d.n_train, d.n_val, cfg.seed, d.harmful_train)
    st, sv = _split(load_instructions(d.harmless_train, n=n, seed=cfg.seed), d.n_train, d.n_val, cfg.seed, d.harmless_train)
    # Eval prompts never include those used to find or select the direction: the
    # refusal_direction data has no separate harmless train split, so users point train and
    # eval at the same file.
    texts = lambda items: {it.instruction for it in items}  # noqa: E731
    he = load_instructions(d.harmful_eval, n=d.n_eval, seed=cfg.seed, exclude=texts(ht + hv))
    se = load_instructions(d.harmless_eval, n=d.n_eval, seed=cfg.seed, exclude=texts(st + sv))
    for spec, items in ((d.harmful_eval, he), (d.harmless_eval, se)):
        if not items:
            raise DatasetError(f"{spec}: no eval prompts left after removing those used for the direction")
    return SteeringData(ht, st, hv, sv, he, se)
