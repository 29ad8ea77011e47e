"""How far to trust a judge: agreement with a small hand-labelled set of reasonings.

``labelled.jsonl`` (shipped beside this module) holds reasonings in the organism's style and in
the style of real chat models, each labelled 1 (says the cue/attribute drove the answer) or 0,
with a note on why. Cue examples take their keywords from the cue templates, so the check
covers the keywords a run actually uses. The report gives raw agreement and Cohen's kappa
(statsmodels) and lists every disagreement, so a judge change is judged by what it gets wrong.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field

from experiments.bias.articulation import Factor, Judgement, judge_rules
from experiments.bias.cues import CueSpec, load_cues
from experiments.core.config import StrictModel
from experiments.core.errors import DatasetError

LABELLED_FILE = Path(__file__).with_name("labelled.jsonl")


class LabelledExample(StrictModel):
    id: str
    kind: Literal["cue", "attribute"]
    factor: str
    reasoning: str
    answer: str | None = None
    label: Literal[0, 1]
    pointed_label: str | None = None
    keywords: list[str] = Field(default_factory=list)
    note: str = ""


@dataclass(frozen=True)
class Agreement:
    n: int
    agree: int
    kappa: float
    disagreements: list[tuple[LabelledExample, Judgement]]

    @property
    def accuracy(self) -> float:
        return self.agree / self.n

    def summary(self) -> dict:
        return {
            "n": self.n, "agree": self.agree, "accuracy": round(self.accuracy, 4),
            "kappa": round(self.kappa, 4),
            "disagreements": [e.id for e, _ in self.disagreements],
        }


def load_labelled(path: str | Path = LABELLED_FILE) -> list[LabelledExample]:
    from pydantic import ValidationError

    p = Path(path)
    out = []
    for lineno, line in enumerate(p.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(LabelledExample.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise DatasetError(f"{p}, line {lineno}: {str(exc).splitlines()[0]}") from None
    return out


def factor_for(example: LabelledExample, cues: dict[str, CueSpec] | None = None) -> Factor:
    """The factor an example is judged for; cue keywords come from the cue templates."""
    if example.kind == "cue":
        cues = cues if cues is not None else load_cues()
        cue = cues[example.factor]
        keywords = tuple(example.keywords or cue.keywords)
        return Factor("cue", example.factor, keywords, example.pointed_label, cue.description)
    if not example.keywords:
        raise DatasetError(f"labelled example {example.id}: attribute examples need keywords")
    return Factor("attribute", example.factor, tuple(example.keywords))


def cohens_kappa(a: Sequence[int], b: Sequence[int]) -> float:
    """Cohen's kappa of two binary raters (statsmodels); 1.0 when both are constant and equal."""
    from statsmodels.stats.inter_rater import cohens_kappa as sm_kappa

    table = np.zeros((2, 2))
    for x, y in zip(a, b):
        table[int(x), int(y)] += 1
    if (table.sum(0) > 0).sum() == 1 and (table.sum(1) > 0).sum() == 1:
        return 1.0 if np.trace(table) == table.sum() else 0.0
    with warnings.catch_warnings():  # statsmodels divides by a zero variance for a constant rater
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(sm_kappa(table).kappa)


JudgeFn = Callable[[Sequence[tuple[str, Factor, str | None]]], list[Judgement]]


def rules_judge(requests: Sequence[tuple[str, Factor, str | None]]) -> list[Judgement]:
    return [judge_rules(r, f, a) for r, f, a in requests]


def check_agreement(judge: JudgeFn = rules_judge, examples: Sequence[LabelledExample] | None = None) -> Agreement:
    """Run ``judge`` (a batch function: (reasoning, factor, answer) -> Judgement) on the set."""
    examples = list(examples) if examples is not None else load_labelled()
    cues = load_cues()
    requests = [(e.reasoning, factor_for(e, cues), e.answer) for e in examples]
    verdicts = judge(requests)
    pred = [int(v.articulated) for v in verdicts]
    gold = [e.label for e in examples]
    wrong = [(e, v) for e, v, p in zip(examples, verdicts, pred) if p != e.label]
    return Agreement(len(examples), len(examples) - len(wrong), cohens_kappa(gold, pred), wrong)
