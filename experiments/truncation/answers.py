"""Model calls of the truncation runner: forced answers (one forward pass) and continuations.

Forced answers for option questions are read from the next-token distribution right
after the answer prefix, restricted to the options' first tokens: no generation, and
all cuts of one reasoning share one packed forward pass (:mod:`.shared_prefix`), which
is what makes a sweep over many cuts cheap (see ``benchmarks/bench_truncation.py``).
Free-form questions have no option tokens to read, so their forced answer generates
``answer_tokens`` tokens only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch

from experiments.core.batching import generate, next_token_logprobs
from experiments.core.mc_datasets import MCItem
from experiments.core.model import LoadedModel
from experiments.truncation.config import ResolvedStyle
from experiments.truncation.prompts import (
    answer_prefix,
    candidate_token_ids,
    canonical,
    parse_answer,
)
from experiments.truncation.shared_prefix import shared_prefix_logprobs

#: Default of ``min_option_mass``: a forced answer whose options hold less next-token
#: probability than this is a parse failure: the model meant to write something else (SmolLM2 often puts <10 % on the
#: options after "So the best answer is: ("), and the argmax of the leftovers is noise.
MIN_OPTION_MASS = 0.10


@dataclass(frozen=True)
class ForcedAnswer:
    """A forced answer: canonical answer (None = parse failure), option probabilities, and
    the probability mass on the options at all (low mass = the format confused the model)."""

    answer: str | None
    probs: dict[str, float] = field(default_factory=dict)
    mass: float | None = None
    completion: str = ""


class AnswerReader:
    """Reads forced answers for a fixed style; caches each option set's token ids."""

    def __init__(self, lm: LoadedModel, style: ResolvedStyle, *, batch_size: int, answer_tokens: int,
                 min_mass: float = MIN_OPTION_MASS):
        self.lm, self.style = lm, style
        self.batch_size, self.answer_tokens = batch_size, answer_tokens
        self.min_mass = min_mass
        self._ids: dict[tuple[str, tuple[str, ...]], list[list[int]]] = {}

    def candidate_ids(self, item: MCItem) -> list[list[int]]:
        prefix = answer_prefix(item, self.style)
        key = (prefix, item.labels)
        if key not in self._ids:
            context = self.style.reasoning_close + prefix
            self._ids[key] = candidate_token_ids(self.lm.tokenizer, context, item.labels)
        return self._ids[key]

    def forced(self, texts: Sequence[str], items: Sequence[MCItem], desc: str | None = None) -> list[ForcedAnswer]:
        """Forced answers for ``texts`` (each ending with the answer prefix of its item)."""
        out: list[ForcedAnswer | None] = [None] * len(texts)
        option_idx = [i for i, it in enumerate(items) if it.is_multiple_choice]
        free_idx = [i for i, it in enumerate(items) if not it.is_multiple_choice]
        if option_idx:
            logp = next_token_logprobs(self.lm, [texts[i] for i in option_idx], self.batch_size, desc)
            for row, i in enumerate(option_idx):
                out[i] = self._read_options(logp[row], items[i])
        if free_idx:
            completions = generate(self.lm, [texts[i] for i in free_idx], max_new_tokens=self.answer_tokens,
                                   batch_size=self.batch_size, desc=desc)
            for c, i in zip(completions, free_idx):
                prefix = answer_prefix(items[i], self.style)
                out[i] = ForcedAnswer(parse_answer(prefix + c, items[i], self.style), completion=c)
        return out  # type: ignore[return-value]

    def forced_shared(self, trunks: Sequence[str], texts: Sequence[Sequence[str]], items: Sequence[MCItem],
                      desc: str | None = None) -> list[list[ForcedAnswer]]:
        """Forced answers for every cut of each item; ``trunks[i]`` is the text all of item
        ``i``'s cut prompts share a prefix with (its prompt + full reasoning)."""
        out: list[list[ForcedAnswer]] = [[] for _ in items]
        option_idx = [i for i, it in enumerate(items) if it.is_multiple_choice]
        if option_idx:
            logps = shared_prefix_logprobs(self.lm, [trunks[i] for i in option_idx], [texts[i] for i in option_idx],
                                           batch_size=self.batch_size, desc=desc)
            for i, logp in zip(option_idx, logps):
                out[i] = [self._read_options(row, items[i]) for row in logp]
        free_idx = [i for i, it in enumerate(items) if not it.is_multiple_choice]
        flat = [(i, t) for i in free_idx for t in texts[i]]
        if flat:
            answers = self.forced([t for _, t in flat], [items[i] for i, _ in flat], desc)
            for (i, _), a in zip(flat, answers):
                out[i].append(a)
        return out

    def _read_options(self, logp: torch.Tensor, item: MCItem) -> ForcedAnswer:
        scores = torch.stack([torch.logsumexp(logp[ids], 0) for ids in self.candidate_ids(item)])
        probs = torch.softmax(scores, 0)
        best = int(torch.argmax(scores))
        mass = float(torch.exp(torch.logsumexp(scores, 0)))
        return ForcedAnswer(
            answer=canonical(item, item.labels[best]) if mass >= self.min_mass else None,
            probs={lab: round(float(p), 6) for lab, p in zip(item.labels, probs)},
            mass=round(mass, 6),
        )

    def continued(self, texts: Sequence[str], items: Sequence[MCItem], *, max_new_tokens: int,
                  do_sample: bool = False, temperature: float = 1.0, top_p: float = 1.0,
                  seed: int | Sequence[int] = 0, desc: str | None = None) -> list[tuple[str, str | None]]:
        """Let the model go on from each text; return (completion, parsed canonical answer)."""
        completions = generate(self.lm, list(texts), max_new_tokens=max_new_tokens, batch_size=self.batch_size,
                               do_sample=do_sample, temperature=temperature, top_p=top_p, seed=seed, desc=desc)
        return [(c, parse_answer(c, it, self.style)) for c, it in zip(completions, items)]
