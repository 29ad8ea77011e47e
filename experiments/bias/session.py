"""What the cue and attribute experiments share: the loaded model, the config, the run writer,
the prompt builder and the judges.

Both experiments generate through :meth:`BiasSession.generate`, so sampling is seeded the same
way in each (by item and stage), and a resumed run samples exactly what an uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from experiments.bias.articulation import Factor, Judgement, judge_rules
from experiments.bias.config import BiasConfig
from experiments.bias.judge_model import ModelJudge
from experiments.bias.prompter import Prompter
from experiments.core.batching import generate, item_seed
from experiments.core.model import LoadedModel
from reportgen.rundir.writer import RunWriter

Request = tuple[str, Factor, "str | None"]
"""(reasoning to judge, the factor it may admit, the answer it ended on)."""
Verdict = tuple[Judgement, "Judgement | None", "str | None"]
"""(rule judgement, model judgement or None, judge prompt or None)."""

T = TypeVar("T")


def chunks(seq: Sequence[T], n: int) -> list[list[T]]:
    """``seq`` in consecutive pieces of ``n`` (the last one shorter): one journal entry each."""
    return [list(seq[i: i + n]) for i in range(0, len(seq), n)]


class Judges:
    """The rule judge always; the judge model too when configured (its verdict then counts)."""

    def __init__(self, model: ModelJudge | None):
        self.model = model

    def judge(self, requests: Sequence[Request]) -> list[Verdict]:
        """(rule judgement, model judgement or None, judge prompt or None) per request."""
        rules = [judge_rules(r, f, a) for r, f, a in requests]
        if self.model is None or not requests:
            return [(j, None, None) for j in rules]
        verdicts, prompts = self.model.judge(requests)
        return list(zip(rules, verdicts, prompts))


class BiasSession:
    """One loaded model, its config and writer, shared by the experiments of one bias run."""

    def __init__(self, lm: LoadedModel, config: BiasConfig, writer: RunWriter, judge: ModelJudge | None = None):
        self.lm, self.cfg, self.writer = lm, config, writer
        self.judges = Judges(judge)
        self.prompter = Prompter(lm.tokenizer, config.prompt_format, config.system_prompt, config.completion_template)

    def generate(self, prompts: Sequence[str], keys: Sequence[str], desc: str) -> list[str]:
        """Completions of ``prompts``; when sampling, each is seeded by its own key (item, and
        sample: :func:`~experiments.core.batching.sample_key`) and stage ``desc``, so a resumed
        run samples exactly what an uninterrupted one would."""
        out = generate(
            self.lm, list(prompts), max_new_tokens=self.cfg.max_new_tokens, batch_size=self.cfg.batch_size,
            do_sample=self.cfg.do_sample, temperature=self.cfg.temperature, top_p=self.cfg.top_p,
            seed=[item_seed(self.cfg.seed, f"{desc}:{k}") for k in keys], desc=desc,
        )
        return [o.strip() for o in out]


def judgement_fields(rule_j: Judgement | None, model_j: Judgement | None, judge_prompt: str | None) -> dict[str, Any]:
    """The judges' verdicts as prompt-record fields (none when nothing was judged)."""
    if rule_j is None:
        return {}
    out: dict[str, Any] = {"articulated": rule_j.articulated if model_j is None else model_j.articulated,
                           "articulation_rule": rule_j.rule, "articulation_evidence": rule_j.evidence,
                           "articulated_rules": rule_j.articulated}
    if model_j is not None:
        out.update({"judge_prompt": judge_prompt, "judge_reply": model_j.raw, "judge_evidence": model_j.evidence,
                    "judge_verdict": model_j.rule})
    return out
