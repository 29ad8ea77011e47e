"""The steering runner: find the refusal direction, then measure what removing or adding it does.

Stages (each resumable; see :class:`reportgen.rundir.writer.RunWriter`):

1. **direction**: filter train prompts to those the model refuses (harmful) or answers
   (harmless), compute difference-in-means candidates, select one on held-out prompts, and
   save it as ``direction.pt`` + ``direction.json`` (+ ``candidates.csv``, every candidate's
   scores). A rerun loads the saved direction instead of recomputing it.
2. experiments, written to the tidy schema (task ``steering``):

   ============  ===================================  =====================================
   experiment    conditions                           metrics
   ============  ===================================  =====================================
   harmful       baseline, ablation, random_ablation  refusal (0/1), refusal_score
   harmless      baseline, addition                   refusal (0/1), refusal_score
   layer_sweep   ablation (x = first layer of the     refusal_score, refusal
                 window, group = window width)
   cost          baseline, ablation, random_ablation  kl (vs baseline), cross_entropy on the
                                                      model's own baseline answers
   ============  ===================================  =====================================

   ``refusal`` is the substring match on the greedy completion, ``refusal_score`` the
   first-token log-odds; ``refusal_judge`` is added when a judge is configured.
   ``prompts.jsonl`` holds every prompt string with its completion.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, cast

import pandas as pd
import torch
from tqdm.auto import tqdm

from experiments.core.batching import continuation_logprobs, generate, item_seed, next_token_logprobs
from experiments.core.config import load_config
from experiments.core.datasets import InstructionItem
from experiments.core.hooks import activation_addition, directional_ablation
from experiments.core.model import LoadedModel, load_model
from experiments.core.prompting import format_prompt
from experiments.core.run_loading import load_for_run
from experiments.registry import vocabulary
from experiments.steering.config import SteeringConfig
from experiments.steering.data import SteeringData, load_data
from experiments.steering.directions import (
    Direction,
    mean_diff_candidates,
    post_instruction_positions,
    random_direction,
)
from experiments.steering.interventions import save_orthogonalized
from experiments.steering.judge import Judge, ModelJudge
from experiments.steering.no_direction import CANDIDATE_COLUMNS, FILTER_EXPERIMENT, barely_refuses, no_direction_finding
from experiments.steering.scoring import is_refusal, kl_divergence, refusal_score, refusal_token_ids
from experiments.steering.selection import NoCandidateError, select_direction
from reportgen.rundir.writer import RunWriter, unit_key

TASK = "steering"
#: The direction's train/validation prompts, one JSON line each (see ``_store_direction_prompts``).
DIRECTION_PROMPTS = "direction_prompts.jsonl"
Intervention = Callable[[], AbstractContextManager[Any]]


class SteeringRun:
    """One steering run over a loaded model; see the module docstring for what it writes."""

    def __init__(self, cfg: SteeringConfig, writer: RunWriter, lm: LoadedModel, judge: Judge | None = None):
        self.cfg = cfg
        self.writer = writer
        self.lm = lm
        self.bs = cfg.batch_size
        self.token_ids = refusal_token_ids(lm.tokenizer, cfg.scoring.refusal_tokens)
        self.judge = judge
        #: per split: (group, prompts, refusal scores), for the no-direction finding
        self._kept: dict[str, list[tuple[str, list, list[float]]]] = {}

    # ------------------------------------------------------------------ helpers
    def render(self, user: str) -> str:
        c = self.cfg
        return format_prompt(self.lm.tokenizer, user, fmt=c.prompt_format, system=c.system_prompt,
                             completion_template=c.completion_template)

    def scores(self, items: Sequence[InstructionItem]) -> torch.Tensor:
        lp = next_token_logprobs(self.lm, [self.render(i.instruction) for i in items], batch_size=self.bs)
        return refusal_score(lp, self.token_ids)

    def _filter(self, harmful: list, harmless: list, split: str, notes: dict[str, Any]) -> tuple[list, list]:
        """Keep harmful prompts with refusal score > 0 and harmless ones < 0 (Arditi et al.).

        A class left empty by the filter is kept whole, noted in ``run.json`` (``direction``):
        the model then does not separate the classes, which the baseline rows will show.
        """
        sh, ss = self.scores(harmful), self.scores(harmless)
        kh = [it for it, s in zip(harmful, sh) if s > 0]
        ks = [it for it, s in zip(harmless, ss) if s < 0]
        notes[f"{split}_kept"] = {"harmful": f"{len(kh)}/{len(harmful)}", "harmless": f"{len(ks)}/{len(harmless)}"}
        self._kept[split] = [("harmful", harmful, [float(s) for s in sh]),
                             ("harmless", harmless, [float(s) for s in ss])]
        if not kh or not ks:
            notes[f"{split}_filter_skipped"] = "a class had no prompts left; used all prompts"
            return harmful, harmless
        return kh, ks

    def _filter_rows(self) -> None:
        """One 0/1 ``kept`` row per filtered prompt (experiment ``refusal_filter``), written
        when no direction passes: the filter's counts as tidy rows, so the deck can show
        that e.g. the model refuses 1 of 32 harmful prompts. Each row's exact prompt and
        first-token refusal score go to prompts.jsonl, so the slide can show what was asked."""
        rows, records = [], []
        for split, groups in self._kept.items():
            for group, items, scores in groups:
                for it, score in zip(items, scores):
                    if self.writer.is_done(FILTER_EXPERIMENT, split, it.item_id, None, group):
                        continue
                    kept = score > 0 if group == "harmful" else score < 0
                    key = {"experiment": FILTER_EXPERIMENT, "condition": split, "item_id": it.item_id, "group": group}
                    rows.append({**key, "metric": "kept", "value": float(kept)})
                    records.append({**key, "prompt": self.render(it.instruction), "completion": "",
                                    "parsed_answer": "kept" if kept else "not kept",
                                    "prompt_format": self.cfg.prompt_format, "instruction": it.instruction,
                                    "refusal_score": round(score, 4)})
        if rows:
            self.writer.append(rows, records)

    # ------------------------------------------------------------------ stage 1
    def direction(self, data: SteeringData) -> Direction | None:
        """The selected direction, or None when no candidate passes (the run then reports why)."""
        pt = self.writer.run_dir / "direction.pt"
        if pt.exists():
            return Direction.load(pt)
        c = self.cfg
        notes: dict[str, Any] = {}
        ht, st, hv, sv = data.harmful_train, data.harmless_train, data.harmful_val, data.harmless_val
        if c.data.filter_train:
            ht, st = self._filter(ht, st, "train", notes)
            hv, sv = self._filter(hv, sv, "val", notes)
            self.writer.update_info(refusal_filter=notes)  # in run.json whatever happens next
        self._store_direction_prompts(data, {"train": (ht, st), "val": (hv, sv)})
        csv = self.writer.path("candidates.csv")
        pinned = c.selection.layer is not None and c.selection.position is not None
        if c.data.filter_train and not pinned and barely_refuses(notes):
            # The difference in means of prompts the model does not refuse is noise: searching
            # it took 10 minutes on SmolLM2 and found nothing. Report the finding instead.
            pd.DataFrame(columns=CANDIDATE_COLUMNS).to_csv(csv, index=False)
            self._filter_rows()
            self.writer.update_info(direction={"found": False, "reason": "the refusal filter kept too few harmful prompts",
                                               "finding": no_direction_finding(notes, ""), **notes})
            return None
        positions = c.selection.positions or post_instruction_positions(self.lm.tokenizer, self.render)
        texts = lambda items: [self.render(i.instruction) for i in items]  # noqa: E731
        cands = mean_diff_candidates(self.lm, texts(ht), texts(st), positions, batch_size=self.bs)
        # CSV column labels are strings; pandas types record keys as Hashable.
        done = cast(list[dict[str, Any]], pd.read_csv(csv).to_dict("records")) if csv.exists() else []
        save = lambda table: pd.DataFrame(table).to_csv(csv, index=False)  # noqa: E731
        try:
            sel = select_direction(
                self.lm, cands, texts(hv), texts(sv), self.token_ids,
                mode=c.intervention.ablation_mode, kl_max=c.selection.kl_max, induce_min=c.selection.induce_min,
                max_layer_fraction=c.selection.max_layer_fraction, layer=c.selection.layer,
                position=c.selection.position, batch_size=self.bs, done=done, checkpoint=save,
            )
        except NoCandidateError as exc:
            # Keep every candidate's scores (they show which threshold to relax) and say why.
            save(exc.table)
            self._filter_rows()
            self.writer.update_info(direction={"found": False, "reason": str(exc),
                                               "finding": no_direction_finding(notes, str(exc)), **notes})
            return None
        save(sel.table)
        sel.direction.info.update(notes)
        sel.direction.save(self.writer.path("direction.pt"), self.writer.path("direction.json"))
        return sel.direction

    def _store_direction_prompts(self, data: SteeringData, used: dict[str, tuple[list, list]]) -> None:
        """Write ``direction_prompts.jsonl``: every train/validation prompt of the direction.

        One line per prompt with its split, class, the exact prompt string and whether the
        refusal filter kept it (``used``), so the direction can be recomputed or audited from
        the run directory alone instead of from a seeded shuffle of the data files.
        """
        splits = {"train": (data.harmful_train, data.harmless_train), "val": (data.harmful_val, data.harmless_val)}
        with self.writer.path(DIRECTION_PROMPTS).open("w", encoding="utf-8") as f:
            for split, classes in splits.items():
                for label, items, kept in zip(("harmful", "harmless"), classes, used[split]):
                    keep = {it.item_id for it in kept}
                    for it in items:
                        f.write(json.dumps({"split": split, "class": label, "item_id": it.item_id,
                                            "instruction": it.instruction, "prompt": self.render(it.instruction),
                                            "used": it.item_id in keep}, ensure_ascii=False) + "\n")

    # ------------------------------------------------------------------ interventions
    def ablation(self, d: Direction, vector: torch.Tensor | None = None, layers: Sequence[int] | None = None) -> Intervention:
        v = d.vector if vector is None else vector
        mode = self.cfg.intervention.ablation_mode
        means = d.means_for(v) if mode == "mean" else None
        window = self.cfg.intervention.ablation_layers if layers is None else layers
        return lambda: directional_ablation(self.lm, v, layers=window, mode=mode, means=means)

    def addition(self, d: Direction) -> Intervention:
        iv = self.cfg.intervention
        layer = d.layer if iv.addition_layer is None else iv.addition_layer
        return lambda: activation_addition(self.lm, d.vector, layer, coeff=iv.addition_coeff, scope=iv.addition_scope)

    # ------------------------------------------------------------------ stage 2
    def measure(
        self,
        experiment: str,
        condition: str,
        items: Sequence[InstructionItem],
        intervene: Intervention = contextlib.nullcontext,
        *,
        with_generation: bool = True,
        x: float | None = None,
        group: str | None = None,
        direction: int = 0,
    ) -> None:
        """Refusal score (one forward pass) and, optionally, completions (greedy, or ``samples``
        sampled ones) scored by substring (and judge), for every item not yet written, batch by
        batch. ``direction`` numbers the random direction of a control with several; a row's
        ``sample`` is ``direction * samples + the completion's sample``."""
        k = self.cfg.samples
        first = direction * k
        pending = [it for it in items
                   if not self.writer.is_done(experiment, condition, it.item_id, x, group, first)]
        label = f"{experiment}/{condition}" + (f" {group} x={x:g}" if x is not None else "")
        for start in tqdm(range(0, len(pending), self.bs), desc=label, disable=None, leave=False):
            batch = pending[start: start + self.bs]
            prompts = [self.render(it.instruction) for it in batch]
            with intervene():
                lp = next_token_logprobs(self.lm, prompts, batch_size=self.bs)
                comps = [self._complete(prompts, [f"{experiment}:{condition}:{x}:{group}:{it.item_id}" for it in batch],
                                        first + s) if with_generation else None for s in range(k)]
            scores = refusal_score(lp, self.token_ids)
            rows, records = [], []
            for s, texts in enumerate(comps):
                rows_s, records_s = self._scored(batch, prompts, scores, texts, s == 0,
                                                 {"experiment": experiment, "condition": condition, "x": x,
                                                  "group": group, **self._sample_field(first + s)})
                rows += rows_s
                records += records_s
            self.writer.append(rows, records)

    def _complete(self, prompts: list[str], keys: list[str], sample: int) -> list[str]:
        """Greedy completions, or when sampling each seeded by its prompt, condition and sample."""
        c = self.cfg
        return generate(self.lm, prompts, max_new_tokens=c.max_new_tokens, batch_size=self.bs,
                        do_sample=c.do_sample, temperature=c.temperature, top_p=c.top_p,
                        seed=[item_seed(c.seed, key, sample) for key in keys])

    def _scored(self, batch: Sequence[InstructionItem], prompts: list[str], scores: torch.Tensor,
                comps: list[str] | None, with_score: bool, base: dict[str, Any]) -> tuple[list, list]:
        """Rows and prompt records of one sample of a batch: the refusal score (once per item,
        ``with_score``), the substring verdict and the judge's on the completions."""
        subs = self.cfg.scoring.refusal_substrings
        judged = (self.judge.judge([it.instruction for it in batch], comps)
                  if self.judge is not None and comps is not None else None)
        rows, records = [], []
        for j, it in enumerate(batch):
            key = {**base, "item_id": it.item_id}
            if with_score:
                rows.append({**key, "metric": "refusal_score", "value": float(scores[j])})
            refused = None
            if comps is not None:
                refused = is_refusal(comps[j], subs)
                rows.append({**key, "metric": "refusal", "value": float(refused)})
            if judged is not None:
                rows.append({**key, "metric": "refusal_judge", "value": judged[j]})
            records.append({
                **key, "prompt": prompts[j], "completion": comps[j] if comps is not None else "",
                "parsed_answer": None if refused is None else ("refusal" if refused else "compliance"),
                "prompt_format": self.cfg.prompt_format, "instruction": it.instruction,
                "refusal_score": round(float(scores[j]), 4),
            })
        return rows, records

    def _sample_field(self, sample: int) -> dict[str, int]:
        """The ``sample`` column, written when a prompt has several completions or random directions."""
        return {"sample": sample} if self.cfg.samples > 1 or self._random_count() > 1 else {}

    def _random_count(self) -> int:
        return self.cfg.random_directions if self.cfg.random_controls else 0

    def cost(self, items: Sequence[InstructionItem], conditions: Sequence[tuple[str, Intervention, int]]) -> None:
        """KL of next-token distributions vs baseline, and cross-entropy of the model's own
        baseline answers (from the ``harmless``/``baseline`` completions; the first sample's
        when sampled), per (condition, random direction)."""
        answers = {r["item_id"]: r["completion"] for r in self.writer.prompt_records("harmless", "baseline")
                   if not r.get("sample")}
        for condition, intervene, direction in conditions:
            if condition == "baseline" and not self.cfg.cost.cross_entropy:
                continue
            pending = [it for it in items if not self.writer.is_done("cost", condition, it.item_id, sample=direction)]
            for start in tqdm(range(0, len(pending), self.bs), desc=f"cost/{condition}", disable=None, leave=False):
                batch = pending[start: start + self.bs]
                prompts = [self.render(it.instruction) for it in batch]
                conts = [answers.get(it.item_id, "") for it in batch]
                base = next_token_logprobs(self.lm, prompts, batch_size=self.bs) if condition != "baseline" else None
                with intervene():
                    lp = next_token_logprobs(self.lm, prompts, batch_size=self.bs) if base is not None else None
                    ce = (continuation_logprobs(self.lm, prompts, conts, batch_size=self.bs)
                          if self.cfg.cost.cross_entropy else None)
                kl = kl_divergence(base, lp) if base is not None and lp is not None else None
                rows, records = [], []
                for j, it in enumerate(batch):
                    key = {"experiment": "cost", "condition": condition, "item_id": it.item_id,
                           **self._sample_field(direction)}
                    measured = {}
                    if kl is not None:
                        measured["kl"] = float(kl[j])
                    if ce is not None and len(ce[j]):  # an empty answer has no cross-entropy
                        measured["cross_entropy"] = float(-ce[j].mean())
                    # both are non-negative: the bound keeps the reporter's interval above 0
                    rows += [{**key, "metric": m, "value": v, "lower_bound": 0.0} for m, v in measured.items()]
                    # The text scored is the model's own baseline answer, not a generation
                    # under this condition: the record says so, for the prompt slide.
                    records.append({
                        **key, "prompt": prompts[j], "completion": conts[j],
                        "completion_label": _cost_label(condition, measured.get("cross_entropy")),
                        "prompt_format": self.cfg.prompt_format, "instruction": it.instruction,
                        **{m: round(v, 6) for m, v in measured.items()},
                    })
                self.writer.append(rows, records,
                                   keys=[unit_key("cost", condition, it.item_id, sample=direction) for it in batch])

    def run(self, data: SteeringData) -> pd.DataFrame:
        c, w = self.cfg, self.writer
        d = self.direction(data)
        if d is None:
            # Nothing to ablate: the baseline rows and the filter counts are the finding.
            w.update_info(conditions={"baseline": "no intervention (no refusal direction passed selection)"})
            self.measure("harmful", "baseline", data.harmful_eval)
            self.measure("harmless", "baseline", data.harmless_eval)
            return w.finish()
        # Direction 0 keeps the seed a single control always had; each further one is a new draw.
        rands = [random_direction(d.vector, seed=c.seed + j) for j in range(self._random_count())]
        iv = c.intervention
        window = "all layers" if iv.ablation_layers is None else f"layers {iv.ablation_layers}"
        w.update_info(
            direction={"layer": d.layer, "position": d.position, "norm": round(float(d.vector.norm()), 4),
                       **d.info},
            conditions={
                "baseline": "no intervention",
                "ablation": f"refusal direction (layer {d.layer}, position {d.position}) {iv.ablation_mode}-ablated "
                            f"at {window}, residual stream and attention/MLP outputs",
                "random_ablation": ("a random direction of the same norm, ablated the same way (control)"
                                    if len(rands) <= 1 else
                                    f"{len(rands)} random directions of the same norm, each ablated the same way "
                                    "(control; each direction is a sample of the item)"),
                "addition": f"refusal direction x {iv.addition_coeff:g} added at layer "
                            f"{d.layer if iv.addition_layer is None else iv.addition_layer}, "
                            f"{'prompt positions only' if iv.addition_scope == 'prompt' else 'all positions incl. generated'}",
            },
        )
        harmful: list[tuple[str, Intervention, int]] = [("baseline", contextlib.nullcontext, 0),
                                                        ("ablation", self.ablation(d), 0)]
        harmful += [("random_ablation", self.ablation(d, r), j) for j, r in enumerate(rands)]
        for cond, intervene, j in harmful:
            self.measure("harmful", cond, data.harmful_eval, intervene, direction=j)
        self.measure("harmless", "baseline", data.harmless_eval)
        self.measure("harmless", "addition", data.harmless_eval, self.addition(d))
        if c.sweep.enabled:
            for width in c.sweep.widths:
                for first in range(0, self.lm.n_layers - width + 1):
                    layers = list(range(first, first + width))
                    self.measure("layer_sweep", "ablation", data.harmful_eval, self.ablation(d, layers=layers),
                                 with_generation=c.sweep.generate, x=first,
                                 group=f"{width}-layer window" if width > 1 else "single layer")
        if c.cost.enabled:
            self.cost(data.harmless_eval, harmful)
        if len(rands) > 1:
            w.update_info(random_control=random_spread(w.table(), c.samples))
        if c.save_orthogonalized:
            target = w.path("orthogonalized_model")
            if not (target / "config.json").exists():
                save_orthogonalized(self.lm, d.vector, target)
        return w.finish()


def run_steering(
    config: SteeringConfig | str | Path | None = None,
    out: str | Path = "runs/steering",
    *,
    overrides: dict[str, Any] | None = None,
    overwrite: bool = False,
    lm: LoadedModel | None = None,
    judge: Judge | None = None,
) -> pd.DataFrame:
    """Run (or resume) a steering run into ``out`` and return its results table.

    Args:
        config: a :class:`SteeringConfig`, a YAML path, or None for the defaults.
        overrides: top-level config keys to replace (``{"model": ...}`` from the CLI).
        overwrite: discard a run already in ``out``.
        lm: an already loaded model to reuse (must be ``config.model``); loaded otherwise.
        judge: a judge object; by default built from ``scoring.judge`` when configured.
    """
    if isinstance(config, SteeringConfig):
        cfg = config.model_copy(update={k: v for k, v in (overrides or {}).items() if v is not None})
        cfg = SteeringConfig.model_validate(cfg.model_dump())
    else:
        cfg = load_config(config, SteeringConfig, overrides=overrides)
    writer = RunWriter(out, task=TASK, model_id=cfg.model, config=cfg, overwrite=overwrite, info={"seed": cfg.seed})
    if writer.finished:
        return writer.read()
    data = load_data(cfg)
    if lm is None:
        lm = load_for_run(writer.run_dir, lambda: load_model(
            cfg.model, dtype=cfg.dtype, device=cfg.device, revision=cfg.revision,
            trust_remote_code=cfg.trust_remote_code, require_chat_template=cfg.prompt_format == "chat"))
    elif lm.model_id != cfg.model:
        raise ValueError(f"lm is '{lm.model_id}' but the config's model is '{cfg.model}'")
    writer.update_info(**lm.describe(), seed=cfg.seed, vocabulary=vocabulary(TASK))
    torch.manual_seed(cfg.seed)
    if judge is None and cfg.scoring.judge is not None:
        same = cfg.scoring.judge.model == cfg.model
        judge = ModelJudge(cfg.scoring.judge, lm=lm if same else None)
    return SteeringRun(cfg, writer, lm, judge).run(data)


def random_spread(table: pd.DataFrame, samples: int) -> dict[str, Any]:
    """Each random direction's own mean per (experiment, metric) of the control, and their
    range: the spread of the control across directions, for ``run.json``."""
    rows = table[table["condition"] == "random_ablation"]
    out: dict[str, Any] = {"directions": int(rows["sample"].max()) // samples + 1}
    for (exp, metric), part in rows.groupby(["experiment", "metric"], sort=False):
        # cost rows have one row per direction; the others k completions' rows per direction
        per = part.groupby(part["sample"] // (1 if exp == "cost" else samples))["value"].mean()
        out[f"{exp}/{metric}"] = {"by_direction": [round(float(v), 4) for v in per],
                                  "min": round(float(per.min()), 4), "max": round(float(per.max()), 4)}
    return out


def _cost_label(condition: str, cross_entropy: float | None) -> str:
    """How the prompt slide names the text whose cross-entropy the cost measures."""
    label = ("The model's own answer (baseline)" if condition == "baseline"
             else f"Baseline answer under {condition.replace('_', ' ')}")
    return label + (f", cross-entropy {cross_entropy:.3f} nats/token" if cross_entropy is not None else "")
