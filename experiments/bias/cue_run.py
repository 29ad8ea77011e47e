"""The cue experiment: does a cue pointing at an option switch the model's answer, and does its
reasoning admit the cue?

Rows (experiment ``cue``, condition ``cued``, group = cue name), per item: ``excluded`` (every
item: the uncued answer already was the cued option), and for the items not excluded ``switched``
and ``parse_failure``; for switched items ``articulated`` (the judge's verdict) and ``mentioned``
(the rule judge saw the cue named at all). With a judge model also ``articulated_rules`` and
``judge_parse_failure``. With ``cue.samples: k`` (and ``do_sample``) each (item, cue) is asked k
times, each sample a row set of its own (``sample`` column 0..k-1), resumable per sample.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tqdm.auto import tqdm

from experiments.bias.articulation import Factor, Judgement, judge_rules
from experiments.bias.cueing import apply_cue, uncued_text
from experiments.bias.cues import CueSpec, fill, fixed_letter, load_cues, switch_is_any_change
from experiments.bias.items import ChoiceItem, cued_index, few_shot_examples, load_choice_items
from experiments.bias.session import BiasSession, chunks, judgement_fields
from experiments.bias.switching import SwitchOutcome, classify_switch
from experiments.core.answer_parsing import parse_choice
from experiments.core.batching import sample_key
from experiments.core.errors import ExperimentError


@dataclass(frozen=True)
class CueRecord:
    """One item asked under one cue, beside the same item asked without it."""

    item: ChoiceItem
    cue: str
    sample: int
    outcome: SwitchOutcome
    factor: Factor
    """What the judges look for in the reasoning: this cue, pointing at ``cued_label``."""
    answer: str | None
    prompt: str
    completion: str
    cue_text: str
    cued_label: str | None
    """The option the cue points at (None for a second-turn cue, where any change counts)."""
    uncued_prompt: str
    uncued_completion: str
    uncued_answer: str | None
    cued_user: str = ""
    """The cued first user turn (what a follow-up question comes after)."""
    uncued_user: str = ""


def cue_rows(item_id: str, cue: str, outcome: SwitchOutcome, rule_j: Judgement | None,
             model_j: Judgement | None, sample: int | None = None) -> list[dict[str, Any]]:
    """The result rows of one (item, cue[, sample]); the judgements exist exactly when the answer
    switched. ``sample`` (``cue.samples`` > 1) goes in the rows' ``sample`` column."""
    base: dict[str, Any] = {"experiment": "cue", "condition": "cued", "item_id": item_id, "group": cue}
    if sample is not None:
        base["sample"] = sample
    rows: list[dict[str, Any]] = [{**base, "metric": "excluded", "value": int(outcome.excluded)}]
    if outcome.excluded:
        return rows
    rows += [{**base, "metric": "switched", "value": int(outcome.switched)},
             {**base, "metric": "parse_failure", "value": int(outcome.parse_failure)}]
    if outcome.switched:
        assert rule_j is not None
        verdict = model_j if model_j is not None else rule_j
        rows += [{**base, "metric": "articulated", "value": int(verdict.articulated)},
                 {**base, "metric": "mentioned", "value": int(rule_j.mentioned)}]
        if model_j is not None:
            rows += [{**base, "metric": "articulated_rules", "value": int(rule_j.articulated)},
                     {**base, "metric": "judge_parse_failure", "value": int(model_j.rule == "model_unreadable")}]
    return rows


class CueRun:
    """Runs the configured cues over the configured choice items, in resumable chunks."""

    def __init__(self, session: BiasSession):
        self.s = session
        self.cfg = session.cfg

    def run(self) -> None:
        sec = self.cfg.cue
        items = load_choice_items(sec.dataset, sec.limit, self.cfg.seed)
        if not items:
            raise ExperimentError(f"{sec.dataset}: no items")
        cues = load_cues(sec.cue_file, sec.cues)
        if sec.target is not None:
            cues = {n: c.model_copy(update={"target": sec.target}) for n, c in cues.items()}
        writer = self.s.writer
        todo = [it for it in items if not all(writer.is_done("cue", "cued", it.item_id, group=n, sample=s)
                                              for n in cues for s in range(sec.samples))]
        parts = chunks(todo, self.cfg.batch_size)
        for chunk in tqdm(parts, desc="bias: cues", disable=None if parts else True):
            self._chunk(chunk, items, cues)

    def _parse_choice(self, item: ChoiceItem, text: str) -> str | None:
        return parse_choice(text, item.labels, options=item.options, answer_prefix=self.cfg.cue.answer_prefix)

    def _chunk(self, chunk: list[ChoiceItem], pool: list[ChoiceItem], cues: dict[str, CueSpec]) -> None:
        records = [r for s in range(self.cfg.cue.samples) for r in self._sample(chunk, pool, cues, s)]
        judged = self.s.judges.judge([(r.completion, r.factor, r.answer) for r in records if r.outcome.switched])
        verdicts = iter(judged)
        rows: list[dict[str, Any]] = []
        prompt_recs: list[dict[str, Any]] = []
        sampled = self.cfg.cue.samples > 1
        for r in records:
            rule_j = model_j = judge_prompt = None
            if r.outcome.switched:
                rule_j, model_j, judge_prompt = next(verdicts)
            rows += cue_rows(r.item.item_id, r.cue, r.outcome, rule_j, model_j, r.sample if sampled else None)
            prompt_recs.append(self._prompt_record(r, rule_j, model_j, judge_prompt))
        fu_rows, fu_recs = self._follow_ups([r for r in records if r.sample == 0], cues)
        self.s.writer.append(rows + fu_rows, prompt_recs + fu_recs)

    def _sample(self, chunk: list[ChoiceItem], pool: list[ChoiceItem], cues: dict[str, CueSpec],
                sample: int) -> list[CueRecord]:
        """Sample ``sample`` of every pending (item, cue) of a chunk: the uncued and the cued
        answer are both that sample's draws, so a switch compares like with like."""
        instr = self.cfg.cue.resolved_instruction()
        seed = self.cfg.seed
        prompter = self.s.prompter
        users = [uncued_text(it, instr) for it in chunk]
        base_prompts = [prompter(u) for u in users]
        base_out = self.s.generate(base_prompts, [sample_key(it.item_id, sample) for it in chunk], "uncued")
        base_ans = [self._parse_choice(it, o) for it, o in zip(chunk, base_out)]

        records: list[CueRecord] = []
        for name, cue in cues.items():
            pending = [k for k, it in enumerate(chunk)
                       if not self.s.writer.is_done("cue", "cued", it.item_id, group=name, sample=sample)]
            queries, prompts = [], []
            for k in pending:
                it = chunk[k]
                idx = None
                if cue.kind != "second_turn" and not switch_is_any_change(cue):
                    idx = cued_index(it, cue.target, seed, fixed_letter(cue))
                shots = few_shot_examples(it, pool, cue.n_shots, seed) if cue.kind == "few_shot" else ()
                q = apply_cue(it, cue, idx, shots=shots, instruction=instr)
                queries.append(q)
                prompts.append(
                    prompter.second_turn(users[k], base_out[k], q.follow_up) if q.follow_up is not None
                    else prompter(q.user)
                )
            keys = [sample_key(chunk[k].item_id, sample) for k in pending]
            outs = self.s.generate(prompts, keys, name) if prompts else []
            for k, q, prompt, out in zip(pending, queries, prompts, outs):
                it = chunk[k]
                label = None if q.cued_index is None else it.labels[q.cued_index]
                ans = self._parse_choice(it, out)
                outcome = classify_switch(base_ans[k], ans, label, any_change=switch_is_any_change(cue))
                factor = Factor("cue", name, tuple(cue.keywords), label,
                                fill(cue.description or name, letter=label or "?"))
                records.append(CueRecord(
                    item=it, cue=name, sample=sample, outcome=outcome, factor=factor, answer=ans, prompt=prompt,
                    completion=out, cue_text=q.cue_text, cued_label=label, uncued_prompt=base_prompts[k],
                    uncued_completion=base_out[k], uncued_answer=base_ans[k], cued_user=q.user,
                    uncued_user=users[k],
                ))
        return records

    def _follow_ups(self, records: list[CueRecord], cues: dict[str, CueSpec]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """For cues with a ``follow_up`` question: ask it after the cued answer of switched items
        (condition ``cued``) and after the uncued answer of every item (``uncued``: false alarms);
        ``admitted`` = the reply names the cue (the rule judge's keywords). Asked of the first
        sample only: one follow-up row per item and cue, whatever ``samples`` is."""
        asks: list[tuple[CueRecord, str, str, str]] = []
        for r in records:
            question = cues[r.cue].follow_up
            if not question or cues[r.cue].kind == "second_turn":
                continue
            asks.append((r, "uncued", self.s.prompter.second_turn(r.uncued_user, r.uncued_completion, question),
                         question))
            if r.outcome.switched:
                asks.append((r, "cued", self.s.prompter.second_turn(r.cued_user, r.completion, question), question))
        if not asks:
            return [], []
        replies = self.s.generate([a[2] for a in asks], [f"{a[0].item.item_id}:{a[0].cue}:{a[1]}" for a in asks],
                                  "follow-up")
        rows: list[dict[str, Any]] = []
        recs: list[dict[str, Any]] = []
        for (r, condition, prompt, _), reply in zip(asks, replies):
            said = judge_rules(reply, r.factor, None)
            base = {"experiment": "follow_up", "condition": condition, "item_id": r.item.item_id, "group": r.cue}
            rows.append({**base, "metric": "admitted", "value": int(said.mentioned)})
            recs.append({**base, "prompt": prompt, "completion": reply, "parsed_answer": None,
                         "prompt_format": self.cfg.prompt_format, "admitted": said.mentioned,
                         "admission_evidence": said.evidence, "cue_text": r.cue_text,
                         "highlight": r.cue_text if condition == "cued" else None})
        return rows, recs

    def _prompt_record(self, r: CueRecord, rule_j: Judgement | None, model_j: Judgement | None,
                       judge_prompt: str | None) -> dict[str, Any]:
        it = r.item
        rec: dict[str, Any] = {
            "experiment": "cue", "condition": "cued", "item_id": it.item_id, "group": r.cue,
            "prompt": r.prompt, "completion": r.completion, "parsed_answer": r.answer,
            "prompt_format": self.cfg.prompt_format,
            "cue_text": r.cue_text, "highlight": r.cue_text, "cued_answer": r.cued_label,
            "correct_answer": it.answer_label, "status": r.outcome.status,
            "reference_condition": "uncued", "reference_prompt": r.uncued_prompt,
            "reference_completion": r.uncued_completion, "reference_answer": r.uncued_answer,
        }
        if self.cfg.cue.samples > 1:
            rec["sample"] = r.sample
        rec.update(judgement_fields(rule_j, model_j, judge_prompt))
        return rec
