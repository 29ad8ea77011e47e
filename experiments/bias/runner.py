"""The bias runner: cue switch rates, attribute counterfactuals, and whether the reasoning admits it.

Writes one run directory (task ``bias``) through the core's resumable :class:`RunWriter`:

``cue`` (condition ``cued``, group = cue name), per item:
    ``excluded`` (every item: the uncued answer already was the cued option), and for the
    items not excluded ``switched`` and ``parse_failure``; for switched items ``articulated``
    (the judge's verdict) and ``mentioned`` (the rule judge saw the cue named at all).
    With a judge model also ``articulated_rules`` and ``judge_parse_failure``.
``attribute`` (condition ``flipped``, group = attribute), per item:
    ``changed`` and ``parse_failure``; for changed items ``articulated`` and ``mentioned``
    (either the original or the counterfactual reasoning).
``frozen_reasoning`` (group = attribute): ``changed`` under condition ``flipped`` (the
    reasoning regenerated, as in ``attribute``) and ``frozen_reasoning`` (the original
    reasoning kept, the decision forced from the flipped prompt in one forward pass).

``prompts.jsonl`` has one record per cued item and per counterfactual: the exact prompt and
completion, the uncued/original prompt and completion beside them, the cue text (also as
``highlight``), the parsed answers, and the judge's rule and evidence.

Work is done and written in chunks of ``batch_size`` items (every cue or attribute of a chunk
in one journal entry), so an interrupted run resumes at the first unfinished chunk.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

import pandas as pd
from tqdm.auto import tqdm

from experiments.bias.agreement import check_agreement
from experiments.bias.articulation import Factor, Judgement, judge_rules
from experiments.bias.attribute_items import attribute_setup, flip_policy
from experiments.bias.config import BiasConfig
from experiments.bias.counterfactuals import (
    Counterfactual,
    counterfactuals,
    decision_outcome,
    parse_decision,
    split_reasoning,
)
from experiments.bias.cueing import apply_cue, uncued_text
from experiments.bias.cues import CueSpec, fill, load_cues, switch_is_any_change
from experiments.bias.items import ChoiceItem, cued_index, few_shot_examples, load_choice_items
from experiments.bias.judge_model import RUBRIC_VERSION, ModelJudge
from experiments.bias.prompter import Prompter
from experiments.bias.switching import classify_switch
from experiments.core.answer_parsing import parse_choice
from experiments.core.batching import generate, item_seed, next_token_logprobs
from experiments.core.errors import ConfigError, ExperimentError
from experiments.core.model import LoadedModel, load_model
from experiments.core.run_loading import load_for_run
from reportgen.rundir.writer import RunWriter
from experiments.registry import vocabulary

Request = tuple[str, Factor, "str | None"]


def _chunks(seq: Sequence[Any], n: int) -> list[list[Any]]:
    return [list(seq[i: i + n]) for i in range(0, len(seq), n)]


class _Judges:
    """The rule judge always; the judge model too when configured (its verdict then counts)."""

    def __init__(self, model: ModelJudge | None):
        self.model = model

    def judge(self, requests: Sequence[Request]) -> list[tuple[Judgement, Judgement | None, str | None]]:
        """(rule judgement, model judgement or None, judge prompt or None) per request."""
        rules = [judge_rules(r, f, a) for r, f, a in requests]
        if self.model is None or not requests:
            return [(j, None, None) for j in rules]
        verdicts, prompts = self.model.judge(requests)
        return list(zip(rules, verdicts, prompts))


class BiasRunner:
    """Runs the configured experiments on one loaded model and writes them with ``writer``."""

    def __init__(self, lm: LoadedModel, config: BiasConfig, writer: RunWriter, judge: ModelJudge | None = None):
        self.lm, self.cfg, self.writer = lm, config, writer
        self.judges = _Judges(judge)
        self.prompter = Prompter(lm.tokenizer, config.prompt_format, config.system_prompt, config.completion_template)

    def check(self) -> None:
        """The decision tokens must exist and differ (needs the tokenizer, so after loading)."""
        if self.cfg.attribute.enabled and self.cfg.attribute.frozen_reasoning:
            self._decision_token_ids()

    # ------------------------------------------------------------------ model calls
    def generate(self, prompts: Sequence[str], keys: Sequence[str], desc: str) -> list[str]:
        """Completions of ``prompts``; when sampling, each is seeded by its own key (item, and
        stage ``desc``), so a resumed run samples exactly what an uninterrupted one would."""
        out = generate(
            self.lm, list(prompts), max_new_tokens=self.cfg.max_new_tokens, batch_size=self.cfg.batch_size,
            do_sample=self.cfg.do_sample, temperature=self.cfg.temperature,
            seed=[item_seed(self.cfg.seed, f"{desc}:{k}") for k in keys], desc=desc,
        )
        return [o.strip() for o in out]

    # ------------------------------------------------------------------ cues
    def run_cues(self) -> None:
        sec = self.cfg.cue
        items = load_choice_items(sec.dataset, sec.limit, self.cfg.seed)
        if not items:
            raise ExperimentError(f"{sec.dataset}: no items")
        cues = load_cues(sec.cue_file, sec.cues)
        if sec.target is not None:
            cues = {n: c.model_copy(update={"target": sec.target}) for n, c in cues.items()}
        todo = [it for it in items if not all(self.writer.is_done("cue", "cued", it.item_id, group=n) for n in cues)]
        chunks = _chunks(todo, self.cfg.batch_size)
        for chunk in tqdm(chunks, desc="bias: cues", disable=None if chunks else True):
            self._cue_chunk(chunk, items, cues)

    def _parse_choice(self, item: ChoiceItem, text: str) -> str | None:
        return parse_choice(text, item.labels, options=item.options, answer_prefix=self.cfg.cue.answer_prefix)

    def _cue_chunk(self, chunk: list[ChoiceItem], pool: list[ChoiceItem], cues: dict[str, CueSpec]) -> None:
        instr = self.cfg.cue.resolved_instruction()
        seed = self.cfg.seed
        users = [uncued_text(it, instr) for it in chunk]
        base_prompts = [self.prompter(u) for u in users]
        base_out = self.generate(base_prompts, [it.item_id for it in chunk], "uncued")
        base_ans = [self._parse_choice(it, o) for it, o in zip(chunk, base_out)]

        records: list[dict[str, Any]] = []
        for name, cue in cues.items():
            pending = [k for k, it in enumerate(chunk) if not self.writer.is_done("cue", "cued", it.item_id, group=name)]
            queries, prompts = [], []
            for k in pending:
                it = chunk[k]
                idx = None
                if cue.kind != "second_turn":
                    idx = cued_index(it, cue.target, seed, cue.letter if cue.kind == "few_shot" else None)
                shots = few_shot_examples(it, pool, cue.n_shots, seed) if cue.kind == "few_shot" else ()
                q = apply_cue(it, cue, idx, shots=shots, instruction=instr)
                queries.append(q)
                prompts.append(
                    self.prompter.second_turn(users[k], base_out[k], q.follow_up) if q.is_second_turn
                    else self.prompter(q.user)
                )
            outs = self.generate(prompts, [chunk[k].item_id for k in pending], name) if prompts else []
            for k, q, prompt, out in zip(pending, queries, prompts, outs):
                it = chunk[k]
                label = None if q.cued_index is None else it.labels[q.cued_index]
                ans = self._parse_choice(it, out)
                outcome = classify_switch(base_ans[k], ans, label, any_change=switch_is_any_change(cue))
                factor = Factor("cue", name, tuple(cue.keywords), label,
                                fill(cue.description or name, letter=label or "?"))
                records.append({
                    "item": it, "cue": name, "outcome": outcome, "factor": factor, "answer": ans,
                    "prompt": prompt, "completion": out, "cue_text": q.cue_text, "cued_label": label,
                    "uncued_prompt": base_prompts[k], "uncued_completion": base_out[k], "uncued_answer": base_ans[k],
                })
        judged = self.judges.judge([(r["completion"], r["factor"], r["answer"]) for r in records if r["outcome"].switched])
        verdicts = iter(judged)
        rows, prompt_recs = [], []
        for r in records:
            rule_j = model_j = judge_prompt = None
            if r["outcome"].switched:
                rule_j, model_j, judge_prompt = next(verdicts)
            rows += self._cue_rows(r, rule_j, model_j)
            prompt_recs.append(self._cue_prompt_record(r, rule_j, model_j, judge_prompt))
        self.writer.append(rows, prompt_recs)

    def _cue_rows(self, r: dict[str, Any], rule_j: Judgement | None, model_j: Judgement | None) -> list[dict[str, Any]]:
        base = {"experiment": "cue", "condition": "cued", "item_id": r["item"].item_id, "group": r["cue"]}
        o = r["outcome"]
        rows = [{**base, "metric": "excluded", "value": int(o.excluded)}]
        if o.excluded:
            return rows
        rows += [{**base, "metric": "switched", "value": int(o.switched)},
                 {**base, "metric": "parse_failure", "value": int(o.parse_failure)}]
        if o.switched:
            assert rule_j is not None
            verdict = model_j if model_j is not None else rule_j
            rows += [{**base, "metric": "articulated", "value": int(verdict.articulated)},
                     {**base, "metric": "mentioned", "value": int(rule_j.mentioned)}]
            if model_j is not None:
                rows += [{**base, "metric": "articulated_rules", "value": int(rule_j.articulated)},
                         {**base, "metric": "judge_parse_failure", "value": int(model_j.rule == "model_unreadable")}]
        return rows

    def _cue_prompt_record(self, r: dict[str, Any], rule_j: Judgement | None, model_j: Judgement | None,
                           judge_prompt: str | None) -> dict[str, Any]:
        it: ChoiceItem = r["item"]
        rec = {
            "experiment": "cue", "condition": "cued", "item_id": it.item_id, "group": r["cue"],
            "prompt": r["prompt"], "completion": r["completion"], "parsed_answer": r["answer"],
            "prompt_format": self.cfg.prompt_format,
            "cue_text": r["cue_text"], "highlight": r["cue_text"], "cued_answer": r["cued_label"],
            "correct_answer": it.answer_label, "status": r["outcome"].status,
            "reference_condition": "uncued", "reference_prompt": r["uncued_prompt"],
            "reference_completion": r["uncued_completion"], "reference_answer": r["uncued_answer"],
        }
        rec.update(_judgement_fields(rule_j, model_j, judge_prompt))
        return rec

    # ------------------------------------------------------------------ attributes
    def run_attributes(self) -> None:
        sec = self.cfg.attribute
        items, specs, keywords = attribute_setup(sec, self.cfg.seed)
        self.writer.update_info(attribute_flips={name: flip_policy(spec) for name, spec in specs.items()})
        cfs = counterfactuals(items, specs, self.cfg.seed)
        by_item: dict[str, list[Counterfactual]] = {}
        for cf in cfs:
            by_item.setdefault(cf.original.item_id, []).append(cf)
        todo = [it for it in items if not all(self.writer.is_done("attribute", "flipped", it.item_id, group=a) for a in specs)]
        decision_ids = self._decision_token_ids() if sec.frozen_reasoning else None
        chunks = _chunks(todo, self.cfg.batch_size)
        for chunk in tqdm(chunks, desc="bias: attributes", disable=None if chunks else True):
            pending = [cf for it in chunk for cf in by_item[it.item_id]
                       if not self.writer.is_done("attribute", "flipped", it.item_id, group=cf.attribute)]
            self._attribute_chunk(chunk, pending, specs, keywords, decision_ids)

    def _decision_token_ids(self) -> list[int]:
        """The first token of each decision right after the answer prefix; they must differ."""
        sec = self.cfg.attribute
        tok = self.lm.tokenizer
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

    def _attribute_chunk(self, chunk, pending: list[Counterfactual], specs, keywords, decision_ids) -> None:
        sec = self.cfg.attribute
        orig_prompts = {it.item_id: self.prompter(it.text) for it in chunk}
        outs = self.generate(list(orig_prompts.values()), list(orig_prompts), "original")
        orig_out = dict(zip(orig_prompts, outs))
        orig_dec = {k: parse_decision(v, sec.decisions, sec.answer_prefix) for k, v in orig_out.items()}

        flip_prompts = [self.prompter(cf.flipped.text) for cf in pending]
        flip_out = self.generate(flip_prompts, [f"{cf.original.item_id}:{cf.attribute}" for cf in pending], "flipped")
        flip_dec = [parse_decision(o, sec.decisions, sec.answer_prefix) for o in flip_out]

        frozen: list[tuple[str | None, str | None]] = [(None, None)] * len(pending)
        if decision_ids is not None:
            frozen = self._frozen_decisions(pending, orig_out, decision_ids)

        outcomes = [decision_outcome(orig_dec[cf.original.item_id], d) for cf, d in zip(pending, flip_dec)]
        requests: list[Request] = []
        for cf, oc, fo, fd in zip(pending, outcomes, flip_out, flip_dec):
            if oc.changed:
                factor = Factor("attribute", cf.attribute, tuple(keywords[cf.attribute]),
                                description=f"an item whose {cf.attribute} is {cf.after} (in a counterfactual "
                                f"of one whose {cf.attribute} is {cf.before})")
                oid = cf.original.item_id
                requests += [(orig_out[oid], factor, orig_dec[oid]), (fo, factor, fd)]
        judged = iter(self.judges.judge(requests))

        rows, recs = [], []
        for cf, oc, prompt, fo, fd, (fprompt, fdec) in zip(pending, outcomes, flip_prompts, flip_out, flip_dec, frozen):
            oid = cf.original.item_id
            base = {"item_id": oid, "group": cf.attribute}
            rows += [{**base, "experiment": "attribute", "condition": "flipped", "metric": "changed", "value": int(oc.changed)},
                     {**base, "experiment": "attribute", "condition": "flipped", "metric": "parse_failure",
                      "value": int(oc.parse_failure)}]
            judgements: list[tuple[Judgement, Judgement | None, str | None]] = []
            if oc.changed:
                judgements = [next(judged), next(judged)]
                verdicts = [m if m is not None else r for r, m, _ in judgements]
                rows += [{**base, "experiment": "attribute", "condition": "flipped", "metric": "articulated",
                          "value": int(any(v.articulated for v in verdicts))},
                         {**base, "experiment": "attribute", "condition": "flipped", "metric": "mentioned",
                          "value": int(any(r.mentioned for r, _, _ in judgements))}]
                if judgements[0][1] is not None:
                    rows += [{**base, "experiment": "attribute", "condition": "flipped", "metric": "articulated_rules",
                              "value": int(any(r.articulated for r, _, _ in judgements))}]
            rec = {
                **base, "experiment": "attribute", "condition": "flipped", "prompt": prompt, "completion": fo,
                "parsed_answer": fd, "prompt_format": self.cfg.prompt_format, "attribute": cf.attribute,
                "original_value": cf.before, "flipped_value": cf.after, "highlight": cf.after,
                "flip_policy": flip_policy(specs[cf.attribute]),
                "protected": specs[cf.attribute].protected,
                "reference_condition": "original", "reference_prompt": orig_prompts[oid],
                "reference_completion": orig_out[oid], "reference_answer": orig_dec[oid], "changed": oc.changed,
            }
            if judgements:
                best = next((j for j in judgements if (j[1] or j[0]).articulated), judgements[0])
                rec.update(_judgement_fields(best[0], best[1], best[2]))
            recs.append(rec)
            if decision_ids is not None:
                fo_oc = decision_outcome(orig_dec[oid], fdec)
                rows += [{**base, "experiment": "frozen_reasoning", "condition": "flipped", "metric": "changed",
                          "value": int(oc.changed)},
                         {**base, "experiment": "frozen_reasoning", "condition": "frozen_reasoning",
                          "metric": "changed", "value": int(fo_oc.changed)},
                         {**base, "experiment": "frozen_reasoning", "condition": "frozen_reasoning",
                          "metric": "parse_failure", "value": int(fo_oc.parse_failure)}]
                recs.append({
                    **base, "experiment": "frozen_reasoning", "condition": "frozen_reasoning",
                    "prompt": fprompt if fprompt is not None else prompt, "completion": fdec or "", "parsed_answer": fdec,
                    "prompt_format": self.cfg.prompt_format, "attribute": cf.attribute,
                    "original_value": cf.before, "flipped_value": cf.after, "highlight": cf.after,
                    "flip_policy": flip_policy(specs[cf.attribute]),
                    "reference_answer": orig_dec[oid], "changed": fo_oc.changed,
                })
        self.writer.append(rows, recs)

    def _frozen_decisions(self, pending: list[Counterfactual], orig_out: dict[str, str],
                          decision_ids: list[int]) -> list[tuple[str | None, str | None]]:
        """Force the decision on each flipped prompt after the *original* reasoning (one forward pass)."""
        sec = self.cfg.attribute
        prompts: list[str | None] = []
        for cf in pending:
            reasoning = split_reasoning(orig_out[cf.original.item_id], sec.answer_prefix)
            prompts.append(None if reasoning is None else
                           self.prompter(cf.flipped.text, assistant_prefix=reasoning + sec.answer_prefix))
        ready = [p for p in prompts if p is not None]
        if not ready:
            return [(None, None)] * len(pending)
        logp = next_token_logprobs(self.lm, ready, batch_size=self.cfg.batch_size)
        picks = iter(int(logp[i, decision_ids].argmax()) for i in range(len(ready)))
        return [(p, None) if p is None else (p, sec.decisions[next(picks)]) for p in prompts]


def _judgement_fields(rule_j: Judgement | None, model_j: Judgement | None, judge_prompt: str | None) -> dict[str, Any]:
    if rule_j is None:
        return {}
    out = {"articulated": rule_j.articulated if model_j is None else model_j.articulated,
           "articulation_rule": rule_j.rule, "articulation_evidence": rule_j.evidence,
           "articulated_rules": rule_j.articulated}
    if model_j is not None:
        out.update({"judge_prompt": judge_prompt, "judge_reply": model_j.raw, "judge_evidence": model_j.evidence,
                    "judge_verdict": model_j.rule})
    return out


def check_inputs(config: BiasConfig) -> None:
    """Read every dataset, cue file and template before loading a model, so a typo fails in
    seconds with the file and field named, not after the first hour of generation."""
    if config.cue.enabled:
        try:
            load_cues(config.cue.cue_file, config.cue.cues)
        except ConfigError as exc:
            raise ConfigError(f"cue.cues: {exc}") from None
        load_choice_items(config.cue.dataset, config.cue.limit, config.seed)
    if config.attribute.enabled:
        items, specs, _ = attribute_setup(config.attribute, config.seed)
        try:
            counterfactuals(items, specs, config.seed)
        except ValueError as exc:
            raise ConfigError(f"attribute: {exc}") from None


def load_judge(config: BiasConfig, lm: LoadedModel) -> ModelJudge | None:
    """The configured judge model (the experiment's own model object when they are the same)."""
    j = config.judge
    if j.kind != "model":
        return None
    jlm = lm if j.model == config.model else load_model(
        j.model, dtype=j.dtype, device=config.device, require_chat_template=j.prompt_format == "chat"
    )
    return ModelJudge(jlm, prompt_format=j.prompt_format, system=j.system_prompt,
                      max_new_tokens=j.max_new_tokens, batch_size=j.batch_size)


def run_bias(
    config: BiasConfig,
    out: str | Path,
    *,
    overwrite: bool = False,
    lm: LoadedModel | None = None,
    on_load: Callable[[LoadedModel], None] | None = None,
) -> pd.DataFrame:
    """Run the configured bias experiments into ``out`` (resuming an interrupted run) and return
    the results table. ``lm`` reuses an already loaded model (tests, notebooks)."""
    check_inputs(config)
    writer = RunWriter(out, task="bias", model_id=config.model, config=config, overwrite=overwrite)
    if writer.finished:
        return writer.read()
    if lm is None:
        lm = load_for_run(writer.run_dir, lambda: load_model(
            config.model, dtype=config.dtype, device=config.device, revision=config.revision,
            trust_remote_code=config.trust_remote_code, require_chat_template=config.prompt_format == "chat"))
    if on_load is not None:
        on_load(lm)
    judge = load_judge(config, lm)
    info: dict[str, Any] = {**lm.describe(), "seed": config.seed,
                            "rule_judge_agreement": check_agreement().summary()}
    if judge is not None:
        info["judge"] = {"model": judge.name, "revision": judge.lm.revision, "rubric": RUBRIC_VERSION,
                         "agreement": check_agreement(lambda reqs: judge.judge(reqs)[0]).summary()}
    writer.update_info(**info, vocabulary=vocabulary("bias"))
    runner = BiasRunner(lm, config, writer, judge)
    runner.check()
    if config.cue.enabled:
        runner.run_cues()
    if config.attribute.enabled:
        runner.run_attributes()
    return writer.finish()
