"""The attribute experiment: does flipping one attribute of an item change the decision, and does
the reasoning (original or counterfactual) admit the attribute?

Rows ``attribute`` (condition ``flipped``, group = attribute), per item: ``changed`` and
``parse_failure``; for changed items ``articulated`` and ``mentioned`` (either the original or the
counterfactual reasoning). ``frozen_reasoning`` (group = attribute): ``changed`` under condition
``flipped`` (the reasoning regenerated, as in ``attribute``) and ``frozen_reasoning`` (the
original reasoning kept, the decision forced from the flipped prompt in one forward pass).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from experiments.bias.articulation import Factor
from experiments.bias.attribute_items import attribute_setup, flip_policy
from experiments.bias.frozen_ladder import EXPERIMENT as LADDER
from experiments.bias.frozen_ladder import half_trace, ladder_outcome, ladder_rows, open_trace
from experiments.bias.counterfactuals import (
    AttributeItem,
    AttributeSpec,
    Counterfactual,
    DecisionOutcome,
    counterfactuals,
    decision_outcome,
    parse_decision,
    split_reasoning,
)
from experiments.bias.session import BiasSession, Request, Verdict, chunks, judgement_fields
from experiments.core.batching import next_token_logprobs
from experiments.core.errors import ExperimentError


@dataclass(frozen=True)
class FlipRecord:
    """One counterfactual: the flipped prompt's completion and decision, and (frozen reasoning)
    the prompt that kept the original reasoning and the decision forced after it."""

    cf: Counterfactual
    outcome: DecisionOutcome
    prompt: str
    completion: str
    decision: str | None
    frozen_prompt: str | None
    frozen_decision: str | None


@dataclass(frozen=True)
class Originals:
    """The unflipped items of a chunk: prompt, completion and decision by item id."""

    prompts: dict[str, str]
    completions: dict[str, str]
    decisions: dict[str, str | None]


class AttributeRun:
    """Runs the counterfactuals of the configured attribute items, in resumable chunks."""

    def __init__(self, session: BiasSession):
        self.s = session
        self.cfg = session.cfg

    def check(self) -> None:
        """The decision tokens must exist and differ (needs the tokenizer, so after loading)."""
        if self.cfg.attribute.enabled and self.cfg.attribute.frozen_reasoning:
            self.decision_token_ids()

    def run(self) -> None:
        sec = self.cfg.attribute
        writer = self.s.writer
        items, specs, keywords = attribute_setup(sec, self.cfg.seed)
        writer.update_info(attribute_flips={name: flip_policy(spec) for name, spec in specs.items()})
        by_item: dict[str, list[Counterfactual]] = {}
        for cf in counterfactuals(items, specs, self.cfg.seed):
            by_item.setdefault(cf.original.item_id, []).append(cf)
        todo = [it for it in items
                if not all(writer.is_done("attribute", "flipped", it.item_id, group=a) for a in specs)]
        decision_ids = self.decision_token_ids() if sec.frozen_reasoning else None
        parts = chunks(todo, self.cfg.batch_size)
        for chunk in tqdm(parts, desc="bias: attributes", disable=None if parts else True):
            pending = [cf for it in chunk for cf in by_item[it.item_id]
                       if not writer.is_done("attribute", "flipped", it.item_id, group=cf.attribute)]
            self._chunk(chunk, pending, specs, keywords, decision_ids)

    def decision_token_ids(self) -> list[int]:
        """The first token of each decision right after the answer prefix; they must differ."""
        sec = self.cfg.attribute
        tok = self.s.lm.tokenizer
        base = tok(sec.answer_prefix, add_special_tokens=False)["input_ids"]
        ids = []
        for d in sec.decisions:
            full = tok(f"{sec.answer_prefix} {d}", add_special_tokens=False)["input_ids"]
            if full[: len(base)] != base or len(full) == len(base):
                raise ExperimentError(f"attribute.decisions: cannot find the token of {d!r} after {sec.answer_prefix!r}")
            ids.append(full[len(base)])
            if tok.unk_token_id is not None and ids[-1] == tok.unk_token_id:
                raise ExperimentError(f"attribute.decisions: {d!r} is not in the model's vocabulary")
        if len(set(ids)) != len(ids):
            raise ExperimentError(
                f"attribute.decisions {sec.decisions} share a first token after {sec.answer_prefix!r}; "
                "frozen_reasoning reads one next-token distribution, so use decisions that differ in "
                "their first token (or set frozen_reasoning: false)"
            )
        return ids

    def _chunk(self, chunk: list[AttributeItem], pending: list[Counterfactual], specs: dict[str, AttributeSpec],
               keywords: dict[str, list[str]], decision_ids: list[int] | None) -> None:
        sec = self.cfg.attribute
        prompter = self.s.prompter
        orig_prompts = {it.item_id: prompter(it.text) for it in chunk}
        outs = self.s.generate(list(orig_prompts.values()), list(orig_prompts), "original")
        orig_out = dict(zip(orig_prompts, outs))
        orig = Originals(orig_prompts, orig_out,
                         {k: parse_decision(v, sec.decisions, sec.answer_prefix) for k, v in orig_out.items()})

        flip_prompts = [prompter(cf.flipped.text) for cf in pending]
        flip_out = self.s.generate(flip_prompts, [f"{cf.original.item_id}:{cf.attribute}" for cf in pending], "flipped")
        flip_dec = [parse_decision(o, sec.decisions, sec.answer_prefix) for o in flip_out]

        frozen: list[tuple[str | None, str | None]] = [(None, None)] * len(pending)
        if decision_ids is not None:
            frozen = self._frozen_decisions(pending, orig_out, decision_ids)

        records = [FlipRecord(cf, decision_outcome(orig.decisions[cf.original.item_id], d), p, o, d, fp, fd)
                   for cf, p, o, d, (fp, fd) in zip(pending, flip_prompts, flip_out, flip_dec, frozen)]
        requests: list[Request] = []
        for r in records:
            if r.outcome.changed:
                cf = r.cf
                factor = Factor("attribute", cf.attribute, tuple(keywords[cf.attribute]),
                                description=f"an item whose {cf.attribute} is {cf.after} (in a counterfactual "
                                f"of one whose {cf.attribute} is {cf.before})")
                oid = cf.original.item_id
                requests += [(orig.completions[oid], factor, orig.decisions[oid]), (r.completion, factor, r.decision)]
        judged = iter(self.s.judges.judge(requests))

        rows: list[dict[str, Any]] = []
        recs: list[dict[str, Any]] = []
        for r in records:
            judgements = [next(judged), next(judged)] if r.outcome.changed else []
            rows += _attribute_rows(r, judgements)
            recs.append(self._prompt_record(r, orig, specs, judgements))
            if decision_ids is not None:
                frozen_rows, frozen_rec = self._frozen_outputs(r, orig, specs)
                rows += frozen_rows
                recs.append(frozen_rec)
        if decision_ids is not None and sec.frozen_ladder:
            ladder_rows_, ladder_recs = self._ladder(records, orig)
            rows += ladder_rows_
            recs += ladder_recs
        self.s.writer.append(rows, recs)

    def _ladder(self, records: list[FlipRecord], orig: Originals) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The open and half rungs (generated) beside the closed one (the frozen decision), on the
        counterfactuals whose decision changed and whose original reasoning could be split off."""
        sec = self.cfg.attribute
        tok = self.s.lm.tokenizer
        todo, prompts, keys = [], [], []
        for r in records:
            oid = r.cf.original.item_id
            reasoning = split_reasoning(orig.completions[oid], sec.answer_prefix)
            if not r.outcome.changed or reasoning is None or r.frozen_prompt is None:
                continue
            trace = open_trace(reasoning, sec.reasoning_close)
            for rung, kept in (("open", trace), ("half", half_trace(tok, trace))):
                todo.append((r, rung, kept))
                prompts.append(self.s.prompter(r.cf.flipped.text, assistant_prefix=kept))
                keys.append(f"{oid}:{r.cf.attribute}:{rung}")
        outs = self.s.generate(prompts, keys, "frozen ladder") if prompts else []
        generated = {(id(r), rung): (kept, p, o) for (r, rung, kept), p, o in zip(todo, prompts, outs)}
        rows: list[dict[str, Any]] = []
        recs: list[dict[str, Any]] = []
        for r in records:
            if (id(r), "open") not in generated:
                continue
            cf, oid = r.cf, r.cf.original.item_id
            original, flipped = orig.decisions[oid], r.decision
            assert original is not None and flipped is not None  # a changed decision parsed on both sides
            closed = (r.frozen_prompt, r.frozen_decision or "", r.frozen_decision)
            for rung in ("closed", "open", "half"):
                if rung == "closed":
                    prompt, completion, decision = closed
                else:
                    _, prompt, completion = generated[(id(r), rung)]
                    decision = parse_decision(completion, sec.decisions, sec.answer_prefix)
                outcome = ladder_outcome(decision, original, flipped)
                rows += ladder_rows(oid, cf.attribute, rung, outcome)  # type: ignore[arg-type]
                recs.append({
                    "experiment": LADDER, "condition": rung, "item_id": oid, "group": cf.attribute,
                    "prompt": prompt, "completion": completion, "parsed_answer": decision,
                    "prompt_format": self.cfg.prompt_format, "attribute": cf.attribute,
                    "original_value": cf.before, "flipped_value": cf.after, "highlight": cf.after,
                    "frozen_decision": original, "flipped_decision": flipped,
                    "follows_frozen": outcome.follows_frozen, "follows_flip": outcome.follows_flip,
                    "reference_condition": "original", "reference_prompt": orig.prompts[oid],
                    "reference_completion": orig.completions[oid], "reference_answer": original,
                })
        return rows, recs

    def _prompt_record(self, r: FlipRecord, orig: Originals, specs: dict[str, AttributeSpec],
                       judgements: list[Verdict]) -> dict[str, Any]:
        cf, oid = r.cf, r.cf.original.item_id
        rec = {
            "item_id": oid, "group": cf.attribute, "experiment": "attribute", "condition": "flipped",
            "prompt": r.prompt, "completion": r.completion,
            "parsed_answer": r.decision, "prompt_format": self.cfg.prompt_format, "attribute": cf.attribute,
            "original_value": cf.before, "flipped_value": cf.after, "highlight": cf.after,
            "flip_policy": flip_policy(specs[cf.attribute]),
            "protected": specs[cf.attribute].protected,
            "reference_condition": "original", "reference_prompt": orig.prompts[oid],
            "reference_completion": orig.completions[oid], "reference_answer": orig.decisions[oid],
            "changed": r.outcome.changed,
        }
        if judgements:
            best = next((j for j in judgements if (j[1] or j[0]).articulated), judgements[0])
            rec.update(judgement_fields(best[0], best[1], best[2]))
        return rec

    def _frozen_outputs(self, r: FlipRecord, orig: Originals,
                        specs: dict[str, AttributeSpec]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """Rows and prompt record of the frozen-reasoning variant of one counterfactual."""
        cf, oid = r.cf, r.cf.original.item_id
        base = {"item_id": oid, "group": cf.attribute}
        fo_oc = decision_outcome(orig.decisions[oid], r.frozen_decision)
        rows = [{**base, "experiment": "frozen_reasoning", "condition": "flipped", "metric": "changed",
                 "value": int(r.outcome.changed)},
                {**base, "experiment": "frozen_reasoning", "condition": "frozen_reasoning",
                 "metric": "changed", "value": int(fo_oc.changed)},
                {**base, "experiment": "frozen_reasoning", "condition": "frozen_reasoning",
                 "metric": "parse_failure", "value": int(fo_oc.parse_failure)}]
        rec = {
            **base, "experiment": "frozen_reasoning", "condition": "frozen_reasoning",
            "prompt": r.frozen_prompt if r.frozen_prompt is not None else r.prompt,
            "completion": r.frozen_decision or "", "parsed_answer": r.frozen_decision,
            "prompt_format": self.cfg.prompt_format, "attribute": cf.attribute,
            "original_value": cf.before, "flipped_value": cf.after, "highlight": cf.after,
            "flip_policy": flip_policy(specs[cf.attribute]),
            "reference_answer": orig.decisions[oid], "changed": fo_oc.changed,
        }
        return rows, rec

    def _frozen_decisions(self, pending: list[Counterfactual], orig_out: dict[str, str],
                          decision_ids: list[int]) -> list[tuple[str | None, str | None]]:
        """Force the decision on each flipped prompt after the *original* reasoning (one forward pass)."""
        sec = self.cfg.attribute
        prompts: list[str | None] = []
        for cf in pending:
            reasoning = split_reasoning(orig_out[cf.original.item_id], sec.answer_prefix)
            prompts.append(None if reasoning is None else
                           self.s.prompter(cf.flipped.text, assistant_prefix=reasoning + sec.answer_prefix))
        ready = [p for p in prompts if p is not None]
        if not ready:
            return [(None, None)] * len(pending)
        logp = next_token_logprobs(self.s.lm, ready, batch_size=self.cfg.batch_size)
        picks = iter(int(logp[i, decision_ids].argmax()) for i in range(len(ready)))
        return [(p, None) if p is None else (p, sec.decisions[next(picks)]) for p in prompts]


def _attribute_rows(r: FlipRecord, judgements: list[Verdict]) -> list[dict[str, Any]]:
    """The ``attribute`` rows of one counterfactual; judgements (original, flipped) when it changed."""
    base = {"item_id": r.cf.original.item_id, "group": r.cf.attribute}
    rows = [{**base, "experiment": "attribute", "condition": "flipped", "metric": "changed",
             "value": int(r.outcome.changed)},
            {**base, "experiment": "attribute", "condition": "flipped", "metric": "parse_failure",
             "value": int(r.outcome.parse_failure)}]
    if judgements:
        verdicts = [m if m is not None else j for j, m, _ in judgements]
        rows += [{**base, "experiment": "attribute", "condition": "flipped", "metric": "articulated",
                  "value": int(any(v.articulated for v in verdicts))},
                 {**base, "experiment": "attribute", "condition": "flipped", "metric": "mentioned",
                  "value": int(any(j.mentioned for j, _, _ in judgements))}]
        if judgements[0][1] is not None:
            rows += [{**base, "experiment": "attribute", "condition": "flipped", "metric": "articulated_rules",
                      "value": int(any(j.articulated for j, _, _ in judgements))}]
    return rows
