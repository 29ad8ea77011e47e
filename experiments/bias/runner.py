"""The bias runner: cue switch rates, attribute counterfactuals, and whether the reasoning admits it.

Writes one run directory (task ``bias``) through the core's resumable :class:`RunWriter`. The
experiments live beside it: ``cue_run`` (rows ``cue``) and ``attribute_run`` (rows ``attribute``
and ``frozen_reasoning``); ``session`` holds what they share (model, writer, prompter, judges).

``prompts.jsonl`` has one record per cued item and per counterfactual: the exact prompt and
completion, the uncued/original prompt and completion beside them, the cue text (also as
``highlight``), the parsed answers, and the judge's rule and evidence.

Work is done and written in chunks of ``batch_size`` items (every cue or attribute of a chunk
in one journal entry), so an interrupted run resumes at the first unfinished chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.bias.agreement import check_agreement
from experiments.bias.attribute_items import attribute_setup
from experiments.bias.attribute_run import AttributeRun
from experiments.bias.config import BiasConfig
from experiments.bias.counterfactuals import counterfactuals
from experiments.bias.cue_run import CueRun
from experiments.bias.cues import load_cues
from experiments.bias.items import load_choice_items
from experiments.bias.judge_model import RUBRIC_VERSION, ModelJudge
from experiments.bias.session import BiasSession
from experiments.core.errors import ConfigError
from experiments.core.model import LoadedModel, load_model
from experiments.core.run_loading import load_for_run
from experiments.registry import vocabulary
from reportgen.rundir.writer import RunWriter


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
    if j.kind != "model" or j.model is None:  # the config requires a model when kind is "model"
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
    session = BiasSession(lm, config, writer, judge)
    attributes = AttributeRun(session)
    attributes.check()
    if config.cue.enabled:
        CueRun(session).run()
    if config.attribute.enabled:
        attributes.run()
    return writer.finish()
