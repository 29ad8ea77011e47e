"""``reportgen run truncation``: early answering (forced, continued) and adding mistakes.

Stages, each resumable (a rerun skips every unit already in the run directory):

1. **Reasoning** — each question is asked once (``samples: k`` times with ``do_sample``, each
   sample then going through every stage on its own, rows tagged with ``sample``); the full generation is split into the
   reasoning and its stated answer, and the forced answer after the full reasoning is
   read. Cached in ``reasoning.jsonl`` in the run directory, so reruns and every later
   stage use the very same reasoning.
2. **Forced** (``early_answering``, plus ``early_answering_sentences`` for per-sentence
   cuts) — the kept reasoning is closed, the answer prefix appended, and the answer
   read from one forward pass.
3. **Continued** (``early_answering``) — the kept reasoning is left open and the model
   reasons on and answers by itself.
4. **Adding mistakes** (``adding_mistakes``) — one step is corrupted and the model
   continues (condition ``mistake``, with ``noticed`` when the continuation says so); the
   same prefix without the mistake is the control (condition ``continued``).
5. **Paraphrasing** (``paraphrasing``) — the kept reasoning reworded and left open; the
   model continues. **Filler** (``filler``) — the kept reasoning replaced by as many filler
   tokens, the answer forced.
6. **Needs reasoning** — per item, whether the forced answer with no reasoning differs from
   the one with all of it; the early-answering curves again on those items only
   (``early_answering_needs_reasoning``).
7. **AOC** — per item and condition, grouped by reasoning length.

"Full answer" (what ``matches_full`` compares with) is what each procedure gives with
the whole reasoning: the forced answer at 100 % for forced cuts; for continuations
the answer the full generation stated (the forced one if it stated none).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from experiments.core.batching import item_seed
from experiments.core.config import load_config
from experiments.core.errors import ConfigError
from experiments.core.mc_datasets import MCItem, load_datasets
from experiments.core.model import LoadedModel, load_model
from experiments.core.run_loading import load_for_run
from experiments.registry import vocabulary
from experiments.truncation.answers import AnswerReader
from experiments.truncation.aoc import length_bucket
from experiments.truncation.config import ResolvedStyle, TruncationConfig, resolve_style
from experiments.truncation.corrupt import Mistake, add_mistake, item_rng, resolve_corruption
from experiments.truncation.paraphrase import (
    GENERIC_RULES,
    ModelParaphraser,
    RuleParaphraser,
    filler_text,
    numbers,
)
from experiments.truncation.prompts import (
    forced_text,
    gold,
    parse_answer,
    question_prompt,
    split_reasoning,
)
from experiments.truncation.scoring import ANSWER_CHANGED, MATCHES_FULL, aoc_row, outcome_rows
from experiments.truncation.segment import Cut, fraction_cuts, sentence_cuts, sentence_spans, token_offsets
from reportgen.rundir.writer import RunWriter, unit_key

TASK = "truncation"
EARLY = "early_answering"
EARLY_SENTENCES = "early_answering_sentences"
MISTAKES = "adding_mistakes"
PARAPHRASING = "paraphrasing"
FILLER = "filler"
NEEDS = "needs_reasoning"
EARLY_NEEDED = "early_answering_needs_reasoning"
NOTICED = "noticed"
REASONING_CACHE = "reasoning.jsonl"


#: Why a row cannot fail, written in its ``check`` column (docs/results-schema.md): the
#: reporter shows such a row as a sanity check and never as evidence.
_CHECKS = {
    "forced": "the forced answer after the whole reasoning is the full answer by definition",
    "continued": "a greedy continuation of the model's own greedy reasoning regenerates it",
}


def label_checks(rows: list[dict[str, Any]], do_sample: bool,
                 regenerates: Callable[[str, int], bool]) -> list[dict[str, Any]]:
    """Mark the rows that cannot fail as checks (``matches_full``; ``answer_changed`` too for continuations).

    Forced at 100 % kept asks the very question whose answer is the reference. A greedy
    continuation from any cut of the model's own greedy reasoning is that reasoning again, so
    with greedy decoding the ``continued`` curve and the mistake experiment's clean baseline
    are checks — for the items whose full generation ended on its own (``regenerates``): one
    cut off by the token budget is continued past where it stopped and may end elsewhere
    (SmolLM2 writes "The answer is (X)" lines until the budget runs out). Sampled, they differ.
    """
    for row in rows:
        cond, exp, metric = row["condition"], row["experiment"], row["metric"]
        forced_full = (metric == MATCHES_FULL and cond == "forced" and row.get("x") == 1.0
                       and exp in (EARLY, EARLY_SENTENCES))
        greedy_continued = (metric in (MATCHES_FULL, ANSWER_CHANGED) and cond == "continued" and not do_sample
                            and exp in (EARLY, MISTAKES) and regenerates(str(row["item_id"]), int(row.get("sample", 0))))
        if forced_full or greedy_continued:
            row["check"] = _CHECKS[cond]
    return rows

@dataclass
class CachedReasoning:
    """One item's full reasoning, as generated once and reused by every stage."""

    item_id: str
    prompt: str
    completion: str
    reasoning: str
    closed: bool
    generated_answer: str | None
    forced_full: str | None
    forced_full_probs: dict[str, float]
    n_tokens: int
    n_sentences: int
    sample: int = 0
    """Which of the item's ``samples: k`` reasonings this is (caches written before samples: 0)."""

    def continued_reference(self) -> str | None:
        return self.generated_answer if self.generated_answer is not None else self.forced_full


@dataclass(frozen=True)
class Unit:
    """One observation to compute: an item under a condition at one cut."""

    experiment: str
    condition: str
    item: MCItem
    x: float | None
    text: str
    info: dict[str, Any]
    sample: int = 0

    @property
    def key(self) -> str:
        return unit_key(self.experiment, self.condition, self.item.item_id, self.x, sample=self.sample)

    @property
    def reasoning_key(self) -> tuple[str, int]:
        return (self.item.item_id, self.sample)


class TruncationRun:
    """The truncation experiments on one model and one set of questions, into one run dir."""

    def __init__(self, cfg: TruncationConfig, out: str | Path, *, lm: LoadedModel | None = None,
                 overwrite: bool = False):
        self.cfg = cfg
        self._ended: dict[tuple[str, int], bool] = {}
        try:
            self.style: ResolvedStyle = resolve_style(cfg.prompt, cfg.model)
            self.corruption = resolve_corruption(cfg.corruption)
        except ValueError as exc:
            raise ConfigError(f"config: {exc}") from None
        self.items = load_datasets(cfg.datasets, limit=cfg.limit)
        # The run directory is checked before the model is loaded, so a wrong --out fails
        # in a second rather than after loading 15 GB of weights.
        self.writer = RunWriter(out, task=TASK, model_id=cfg.model, config=cfg, overwrite=overwrite,
                                info={"seed": cfg.seed, "prompt_style": self.style.model_dump()})
        self._lm = lm
        #: (item id, sample) -> that sample's reasoning
        self.cache: dict[tuple[str, int], CachedReasoning] = {}
        self.samples = list(range(cfg.samples))

    @property
    def lm(self) -> LoadedModel:
        if self._lm is None:
            cfg = self.cfg
            self._lm = load_for_run(self.writer.run_dir, lambda: load_model(
                cfg.model, dtype=cfg.dtype, device=cfg.device, revision=cfg.revision,
                trust_remote_code=cfg.trust_remote_code, require_chat_template=cfg.prompt_format == "chat",
            ))
        return self._lm

    # ------------------------------------------------------------------ driver
    def run(self) -> pd.DataFrame:
        """Run every enabled stage (skipping finished work) and write the run directory."""
        if self.writer.finished:
            return self.writer.read()
        self.writer.update_info(**self.lm.describe(), vocabulary=vocabulary(TASK))
        self.reader = AnswerReader(self.lm, self.style, batch_size=self.cfg.batch_size,
                                   answer_tokens=self.cfg.answer_tokens, min_mass=self.cfg.min_option_mass)
        self.cache = self.reasoning()
        if self.cfg.forced:
            self._compute_forced(self.forced_units())
        if self.cfg.continued:
            self._compute(self.continued_units(), self._continued_batch, "continued reasoning")
        if self.cfg.mistakes:
            self._compute(self.mistake_units(), self._continued_batch, "adding mistakes")
        if self.cfg.paraphrase:
            self._compute(self.paraphrase_units(), self._continued_batch, "paraphrased reasoning")
        if self.cfg.filler:
            self._compute_filler(self.filler_units())
        if self.cfg.needs_reasoning and self.cfg.forced:
            self._write_needs_reasoning()
        self._write_aoc()
        return self.writer.finish(**self._reasoning_summary())

    # ------------------------------------------------------------------ stage 1: reasoning
    def reasoning(self) -> dict[tuple[str, int], CachedReasoning]:
        """Generate (or load) every item's full reasoning(s) and forced full answer(s)."""
        path = self.writer.path(REASONING_CACHE)
        cache = _read_cache(path)
        todo = [(it, s) for it in self.items for s in self.samples if (it.item_id, s) not in cache]
        tok = self.lm.tokenizer
        bs = self.cfg.batch_size * 4
        for start in tqdm(range(0, len(todo), bs), desc="reasoning", disable=None if todo else True, leave=False):
            pairs = todo[start:start + bs]
            chunk = [it for it, _ in pairs]
            prompts = [question_prompt(tok, it, self.style, self.cfg) for it in chunk]
            completions = self.reader.continued(
                prompts, chunk, max_new_tokens=self.cfg.max_new_tokens, do_sample=self.cfg.do_sample,
                temperature=self.cfg.temperature, top_p=self.cfg.top_p,
                seed=[item_seed(self.cfg.seed, f"reasoning:{it.item_id}", s) for it, s in pairs],
            )
            splits = [split_reasoning(c, self.style) for c, _ in completions]
            forced = self.reader.forced(
                [forced_text(p, s.reasoning, it, self.style) for p, s, it in zip(prompts, splits, chunk)], chunk)
            records = []
            for (it, sample), p, (c, _), s, f in zip(pairs, prompts, completions, splits, forced):
                records.append(CachedReasoning(
                    item_id=it.item_id, prompt=p, completion=c, reasoning=s.reasoning, closed=s.closed,
                    generated_answer=parse_answer(s.tail if s.closed else c, it, self.style),
                    forced_full=f.answer, forced_full_probs=f.probs,
                    n_tokens=len(token_offsets(tok, s.reasoning)),
                    n_sentences=len(sentence_spans(s.reasoning, self.cfg.sentence_pattern)), sample=sample,
                ))
            _append_cache(path, records)
            cache.update({(r.item_id, r.sample): r for r in records})
        self._write_full_records(cache)
        return cache

    def _write_full_records(self, cache: dict[tuple[str, int], CachedReasoning]) -> None:
        """One prompts.jsonl record per item (and sample) with the question prompt and its full generation."""
        records = []
        for it, sample in self.item_samples():
            r = cache[(it.item_id, sample)]
            if self.writer.is_done(EARLY, "full", it.item_id, sample=sample):
                continue
            records.append({**self._sample_field(sample),
                "experiment": EARLY, "condition": "full", "item_id": it.item_id, "prompt": r.prompt,
                "completion": r.completion, "parsed_answer": r.generated_answer,
                "prompt_format": self.cfg.prompt_format, "reasoning": r.reasoning,
                "reasoning_closed": r.closed, "forced_full_answer": r.forced_full,
                "gold": gold(it), "n_tokens": r.n_tokens, "n_sentences": r.n_sentences,
                "length_bucket": self.bucket(r), "source": it.source,
            })
        if records:
            self.writer.append([], records)

    def item_samples(self) -> list[tuple[MCItem, int]]:
        return [(it, s) for it in self.items for s in self.samples]

    def _sample_field(self, sample: int) -> dict[str, int]:
        """The ``sample`` column of a row or record; absent when each item has one sample."""
        return {"sample": sample} if self.cfg.samples > 1 else {}

    def bucket(self, r: CachedReasoning) -> str:
        return length_bucket(r.n_sentences, self.cfg.length_buckets)

    # ------------------------------------------------------------------ cuts
    def cuts(self, r: CachedReasoning) -> tuple[list[Cut], list[Cut]]:
        """(fraction cuts, sentence cuts) of one reasoning."""
        offsets = token_offsets(self.lm.tokenizer, r.reasoning)
        by_fraction = fraction_cuts(offsets, self.cfg.fractions)
        by_sentence = sentence_cuts(r.reasoning, offsets, self.cfg.sentence_pattern) if self.cfg.sentence_cuts else []
        return by_fraction, by_sentence

    def _cut_info(self, r: CachedReasoning, cut: Cut) -> dict[str, Any]:
        return {"kept_reasoning": cut.kept(r.reasoning), "n_tokens_kept": cut.n_tokens,
                "total_tokens": cut.total_tokens, "token_fraction": round(cut.token_fraction, 6), "cut": cut.kind}

    def forced_units(self) -> list[Unit]:
        units = []
        for it, s in self.item_samples():
            r = self.cache[(it.item_id, s)]
            by_fraction, by_sentence = self.cuts(r)
            for exp, cuts in ((EARLY, by_fraction), (EARLY_SENTENCES, by_sentence)):
                for cut in cuts:
                    text = forced_text(r.prompt, cut.kept(r.reasoning), it, self.style)
                    units.append(Unit(exp, "forced", it, cut.x, text, self._cut_info(r, cut), s))
        return units

    def continued_units(self) -> list[Unit]:
        units = []
        for it, s in self.item_samples():
            r = self.cache[(it.item_id, s)]
            for cut in self.cuts(r)[0]:
                units.append(Unit(EARLY, "continued", it, cut.x, r.prompt + cut.kept(r.reasoning),
                                  self._cut_info(r, cut), s))
        return units

    def mistake_units(self) -> list[Unit]:
        units = []
        for it, s in self.item_samples():
            r = self.cache[(it.item_id, s)]
            m = self.mistake(it, r)
            if m is None:
                continue
            info = {"step_index": m.step_index, "n_steps": m.n_steps, "original_step": m.original,
                    "corrupted_step": m.corrupted}
            units.append(Unit(MISTAKES, "mistake", it, None, r.prompt + m.prefix(r.reasoning), info, s))
            units.append(Unit(MISTAKES, "continued", it, None, r.prompt + m.clean_prefix(r.reasoning), info, s))
        return units

    def paraphrase_units(self) -> list[Unit]:
        """One unit per item and fraction: the kept reasoning reworded, left open."""
        pending = []
        for it, s in self.item_samples():
            r = self.cache[(it.item_id, s)]
            for cut in self.cuts(r)[0]:
                if unit_key(PARAPHRASING, "paraphrased", it.item_id, cut.x, sample=s) not in self.writer.done:
                    pending.append((it, s, r, cut))
        reworded = self.paraphraser([cut.kept(r.reasoning) for _, _, r, cut in pending]) if pending else []
        units = []
        for (it, s, r, cut), text in zip(pending, reworded):
            kept = cut.kept(r.reasoning)
            info = {**self._cut_info(r, cut), "paraphrased_reasoning": text,
                    "numbers_kept": numbers(text) == numbers(kept)}
            units.append(Unit(PARAPHRASING, "paraphrased", it, cut.x, r.prompt + text, info, s))
        return units

    @property
    def paraphraser(self) -> Callable[[Sequence[str]], list[str]]:
        sec = self.cfg.paraphraser
        if sec.kind == "model":
            assert sec.model is not None  # checked by the config
            lm = load_model(sec.model, dtype=self.cfg.dtype, device=self.cfg.device)
            return ModelParaphraser(lm, prompt_format=sec.prompt_format, max_new_tokens=sec.max_new_tokens,
                                    batch_size=sec.batch_size)
        if sec.rules is not None:
            return RuleParaphraser(tuple((r.pattern, r.replacement) for r in sec.rules))
        return RuleParaphraser(style_paraphrase_rules(self.style.name))

    def filler_units(self) -> list[Unit]:
        """One unit per item and fraction: filler as many tokens long as the kept reasoning, forced."""
        units = []
        for it, s in self.item_samples():
            r = self.cache[(it.item_id, s)]
            for cut in self.cuts(r)[0]:
                fill = filler_text(self.lm.tokenizer, cut.n_tokens, self.style.filler_unit)
                info = {**self._cut_info(r, cut), "filler": fill}
                units.append(Unit(FILLER, "filler", it, cut.x, forced_text(r.prompt, fill, it, self.style), info, s))
        return units

    def mistake(self, item: MCItem, r: CachedReasoning) -> Mistake | None:
        spans = sentence_spans(r.reasoning, self.cfg.sentence_pattern)
        return add_mistake(r.reasoning, spans, self.corruption, item_rng(self.cfg.seed, item.item_id),
                           self.cfg.mistake_position)

    # ------------------------------------------------------------------ computing units
    def _compute(self, units: Sequence[Unit], batch_fn: Callable[[list[Unit]], tuple[list, list]], desc: str) -> None:
        todo = [u for u in units if u.key not in self.writer.done]
        bs = self.cfg.batch_size
        for start in tqdm(range(0, len(todo), bs), desc=desc, disable=None if todo else True, leave=False):
            rows, prompts = batch_fn(todo[start:start + bs])
            self.writer.append(label_checks(rows, self.cfg.do_sample, self._ended_on_its_own), prompts)

    def _record(self, u: Unit, answer: str | None, reference: str | None, completion: str = "",
                **extra: Any) -> dict[str, Any]:
        return {
            "experiment": u.experiment, "condition": u.condition, "item_id": u.item.item_id, "x": u.x,
            **self._sample_field(u.sample), "prompt": u.text, "completion": completion, "parsed_answer": answer,
            "prompt_format": self.cfg.prompt_format, "full_answer": reference, "gold": gold(u.item),
            **u.info, **extra,
        }

    def _compute_forced(self, units: Sequence[Unit]) -> None:
        """Forced answers, all pending cuts of an item in one packed row, items in batches."""
        by_item: dict[tuple[str, int], list[Unit]] = {}
        for u in units:
            if u.key not in self.writer.done:
                by_item.setdefault(u.reasoning_key, []).append(u)
        groups = list(by_item.values())
        bs = self.cfg.batch_size
        for start in tqdm(range(0, len(groups), bs), desc="forced answers", disable=None if groups else True,
                          leave=False):
            chunk = groups[start:start + bs]
            trunks = [self.cache[g[0].reasoning_key].prompt + self.cache[g[0].reasoning_key].reasoning for g in chunk]
            answers = self.reader.forced_shared(trunks, [[u.text for u in g] for g in chunk], [g[0].item for g in chunk])
            rows, prompts = [], []
            for g, group_answers in zip(chunk, answers):
                for u, a in zip(g, group_answers):
                    ref = self.cache[u.reasoning_key].forced_full
                    rows += self._tagged(u, outcome_rows(experiment=u.experiment, condition=u.condition,
                                                         item_id=u.item.item_id, answer=a.answer, reference=ref,
                                                         gold=gold(u.item), x=u.x))
                    prompts.append(self._record(u, a.answer, ref, a.completion, option_probs=a.probs,
                                                option_mass=a.mass))
            self.writer.append(label_checks(rows, self.cfg.do_sample, self._ended_on_its_own), prompts)

    def _ended_on_its_own(self, item_id: str, sample: int) -> bool:
        """Whether the item's full generation stopped before the token budget (at the end token),
        counted by retokenising it (a token or so of slack for retokenisation)."""
        key = (item_id, sample)
        if key not in self._ended:
            r = self.cache[key]
            n = len(self.lm.tokenizer(r.completion, add_special_tokens=False)["input_ids"])
            self._ended[key] = n < self.cfg.max_new_tokens - 1
        return self._ended[key]

    def _compute_filler(self, units: Sequence[Unit]) -> None:
        todo = [u for u in units if u.key not in self.writer.done]
        bs = self.cfg.batch_size
        for start in tqdm(range(0, len(todo), bs), desc="filler", disable=None if todo else True, leave=False):
            chunk = todo[start:start + bs]
            answers = self.reader.forced([u.text for u in chunk], [u.item for u in chunk])
            rows, prompts = [], []
            for u, a in zip(chunk, answers):
                ref = self.cache[u.reasoning_key].forced_full
                rows += self._tagged(u, outcome_rows(experiment=u.experiment, condition=u.condition,
                                                     item_id=u.item.item_id, answer=a.answer, reference=ref,
                                                     gold=gold(u.item), x=u.x))
                prompts.append(self._record(u, a.answer, ref, a.completion, option_probs=a.probs, option_mass=a.mass))
            self.writer.append(rows, prompts)

    def _continued_batch(self, units: list[Unit]) -> tuple[list, list]:
        # When sampling, each unit has its own seed, so its text does not depend on the batch
        # it lands in and a resumed run samples what the first one would have.
        outs = self.reader.continued(
            [u.text for u in units], [u.item for u in units], max_new_tokens=self.cfg.max_new_tokens,
            do_sample=self.cfg.do_sample, temperature=self.cfg.temperature, top_p=self.cfg.top_p,
            seed=[item_seed(self.cfg.seed, u.key) for u in units],
        )
        rows, prompts = [], []
        for u, (completion, answer) in zip(units, outs):
            ref = self.cache[u.reasoning_key].continued_reference()
            rows += self._tagged(u, outcome_rows(experiment=u.experiment, condition=u.condition,
                                                 item_id=u.item.item_id, answer=answer, reference=ref,
                                                 gold=gold(u.item), x=u.x, changed_metric=u.experiment == MISTAKES))
            extra: dict[str, Any] = {}
            if u.experiment == MISTAKES and u.condition == "mistake":
                said = noticed_keyword(completion, self.cfg.notice_keywords)
                rows += self._tagged(u, [{"experiment": MISTAKES, "condition": "mistake", "item_id": u.item.item_id,
                                          "metric": NOTICED, "value": float(said is not None), "x": u.x}])
                extra = {"noticed_keyword": said}
            prompts.append(self._record(u, answer, ref, completion, **extra))
        return rows, prompts

    def _tagged(self, u: Unit, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, **self._sample_field(u.sample)} for row in rows]

    # ------------------------------------------------------------------ needs reasoning
    def _write_needs_reasoning(self) -> None:
        """``needs_reasoning`` per item (forced answer at 0 % kept differs from the full one; a
        parse failure at 0 % counts as differing: no answer without reasoning), and the
        early-answering rows of the items that need it under ``early_answering_needs_reasoning``."""
        fr = self.cfg.fractions
        if fr[0] != 0.0 or fr[-1] != 1.0:
            return
        table = self.writer.table()
        early = table[(table["experiment"] == EARLY) & (table["metric"] == MATCHES_FULL)]
        if "sample" in early.columns:  # judged on the first sample: one row per item
            early = early[early["sample"].fillna(0) == 0]
        at_zero = early[(early["condition"] == "forced") & (early["x"] == 0.0)].set_index("item_id")["value"]
        rows: list[dict[str, Any]] = []
        for item_id, matched in at_zero.items():
            if unit_key(NEEDS, "forced", str(item_id), None) in self.writer.done:
                continue
            needs = float(matched == 0)
            rows.append({"experiment": NEEDS, "condition": "forced", "item_id": item_id,
                         "metric": NEEDS, "value": needs, "x": None})
            if needs:
                for _, row in early[early["item_id"] == item_id].iterrows():
                    rows.append({"experiment": EARLY_NEEDED, "condition": row["condition"], "item_id": item_id,
                                 "metric": MATCHES_FULL, "value": row["value"], "x": row["x"],
                                 **({"check": row["check"]} if isinstance(row.get("check"), str) and row["check"] else {})})
        if rows:
            self.writer.append(rows)

    # ------------------------------------------------------------------ AOC
    def _write_aoc(self) -> None:
        table = self.writer.table()
        if table.empty:
            return
        curves = table[(table["metric"] == MATCHES_FULL) & table["experiment"].isin([EARLY, EARLY_SENTENCES])]
        if "sample" not in curves.columns:
            curves = curves.assign(sample=0)
        rows = []
        for (exp, cond, item_id, sample), g in curves.groupby(["experiment", "condition", "item_id", "sample"],
                                                              sort=False):
            r = self.cache.get((item_id, int(sample)))
            if r is None or g["x"].nunique() < 2:
                continue
            group = self.bucket(r)
            if unit_key(exp, cond, item_id, None, group, int(sample)) in self.writer.done:
                continue
            row = {**aoc_row(experiment=exp, condition=cond, item_id=item_id, xs=g["x"].tolist(),
                             matches=g["value"].tolist(), group=group), **self._sample_field(int(sample))}
            if "check" in g.columns and g["check"].notna().all():  # the area over a curve of checks
                row["check"] = str(g["check"].iloc[0])
            rows.append(row)
        if rows:
            self.writer.append(rows)

    def _reasoning_summary(self) -> dict[str, Any]:
        rs = [self.cache[(it.item_id, s)] for it, s in self.item_samples()]
        uncorruptible = list(dict.fromkeys(it.item_id for it, s in self.item_samples()
                                            if self.cfg.mistakes and self.mistake(it, self.cache[(it.item_id, s)]) is None))
        return {
            "n_items": len(self.items),
            "samples_per_item": self.cfg.samples,
            "reasoning_unclosed": sum(not r.closed for r in rs),
            "reasoning_answer_unparsed": sum(r.generated_answer is None for r in rs),
            "mistakes_not_applicable": uncorruptible,
        }


def noticed_keyword(completion: str, keywords: Sequence[str]) -> str | None:
    """The first notice keyword the continuation uses (whole word, any case), or None."""
    for kw in keywords:
        if re.search(rf"(?<![\w-]){re.escape(kw)}(?![\w-])", completion, re.IGNORECASE):
            return kw
    return None


def style_paraphrase_rules(style: str) -> tuple[tuple[str, str], ...]:
    """The default paraphrase rules of a prompt style: the organism's synonyms, else generic English."""
    if style == "organism":
        from experiments.organism.tasks.reasoning import PARAPHRASE_RULES

        return PARAPHRASE_RULES
    return GENERIC_RULES


# ---------------------------------------------------------------------- cache file
def _read_cache(path: Path) -> dict[tuple[str, int], CachedReasoning]:
    out: dict[tuple[str, int], CachedReasoning] = {}
    if not path.exists():
        return out
    for line in path.read_text(encoding="utf-8").split("\n"):
        if not line.strip():
            continue
        try:
            rec = CachedReasoning(**json.loads(line))
        except (json.JSONDecodeError, TypeError):
            continue  # a line torn by a kill mid-write: regenerated
        out[(rec.item_id, rec.sample)] = rec
    return out


def _append_cache(path: Path, records: Iterable[CachedReasoning]) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write("".join(json.dumps(asdict(r), ensure_ascii=False) + "\n" for r in records))
        fh.flush()
        os.fsync(fh.fileno())


# ---------------------------------------------------------------------- entry point
def run_truncation(
    config: str | Path | TruncationConfig | None = None,
    out: str | Path = "runs/truncation",
    *,
    overrides: dict[str, Any] | None = None,
    lm: LoadedModel | None = None,
    overwrite: bool = False,
) -> pd.DataFrame:
    """Run the truncation experiments; returns the results table (also written to ``out``).

    ``config`` is a YAML path, a :class:`TruncationConfig`, or None for the defaults;
    ``overrides`` (e.g. ``{"model": ...}`` from the CLI) replace top-level keys.
    """
    if isinstance(config, TruncationConfig):
        cfg = config.model_copy(update={k: v for k, v in (overrides or {}).items() if v is not None})
        cfg = TruncationConfig.model_validate(cfg.model_dump())
    else:
        cfg = load_config(config, TruncationConfig, overrides)
    return TruncationRun(cfg, out, lm=lm, overwrite=overwrite).run()
