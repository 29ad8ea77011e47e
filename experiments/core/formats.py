"""One experiment under both prompt formats, side by side: chat template vs raw completion.

A model can behave differently when its chat template is applied than when the same text is
given as a plain completion, so a config may ask for both: ``prompt_format: [chat, completion]``.
Each format then runs as an ordinary run of the unchanged runner (its own resumable run
directory inside the combined one, ``prompt_format-<fmt>/``), and the combined run directory
holds every row of both with a ``prompt_format`` column, which the deck compares as two
categories. Nothing in the runners changes: the format is the one config field that differs
between the two runs, so any difference between the two sets of rows is the format's.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar, get_args

import pandas as pd
import yaml

from experiments.core.config import ExperimentConfig, validate_config
from experiments.core.errors import ConfigError
from experiments.core.prompting import PromptFormat
from reportgen.rundir.schema import PROMPTS_JSONL, RESULTS_PARQUET
from reportgen.rundir.writer import RunWriter

C = TypeVar("C", bound=ExperimentConfig)

FORMATS: tuple[str, ...] = get_args(PromptFormat)
SUBDIR = "prompt_format-{fmt}"


def read_config_data(path: str | Path | None) -> tuple[dict[str, Any], str]:
    """The raw mapping of a YAML config (``{}`` for none) and its name for error messages."""
    if path is None:
        return {}, "config"
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: config file not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{p}: invalid YAML: {str(exc).splitlines()[0]}") from None
    if data is None:
        return {}, str(p)
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping of keys to values, got {type(data).__name__}")
    return data, str(p)


def format_configs(
    data: Mapping[str, Any], cls: type[C], source: str = "config", overrides: Mapping[str, Any] | None = None
) -> dict[str, C]:
    """One validated config per requested format, in the order the config lists them.

    ``prompt_format`` may be a list (``[chat, completion]``), a single format, or absent (both).
    Both configs are validated before anything runs, so a typo fails at once.
    """
    merged = {**data, **{k: v for k, v in (overrides or {}).items() if v is not None}}
    requested = merged.get("prompt_format", list(FORMATS))
    formats = [requested] if isinstance(requested, str) else requested
    if not isinstance(formats, list) or not formats:
        raise ConfigError(f"{source}: field 'prompt_format': give a list of formats, e.g. [chat, completion]")
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or len(set(formats)) != len(formats):
        raise ConfigError(f"{source}: field 'prompt_format': expected distinct formats from {list(FORMATS)}, "
                          f"got {formats}")
    return {fmt: validate_config({**merged, "prompt_format": fmt}, cls, source) for fmt in formats}


def _sub_run(run_dir: Path, fmt: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, Any]]:
    """(rows with their format, prompt records, run.json) of one format's finished run."""
    df = pd.read_parquet(run_dir / RESULTS_PARQUET).drop(columns=["run_id", "prompt_format"], errors="ignore")
    df["prompt_format"] = fmt
    rows = json.loads(df.to_json(orient="records"))  # plain JSON types; NaN becomes null
    prompts = [json.loads(line) for line in (run_dir / PROMPTS_JSONL).read_text(encoding="utf-8").splitlines()
               if line.strip()]
    info = json.loads((run_dir / "run.json").read_text(encoding="utf-8"))
    return rows, prompts, info


def run_formats(
    configs: Mapping[str, C],
    run: Callable[[C, Path], pd.DataFrame],
    out: str | Path,
    *,
    task: str,
    overwrite: bool = False,
) -> pd.DataFrame:
    """Run ``run(config, dir)`` once per format and write the combined run directory ``out``.

    Returns the combined table (every row of every format, with ``prompt_format``). An
    interrupted run resumes: a finished format is not rerun, an unfinished one resumes in
    its own directory.
    """
    first = next(iter(configs.values()))
    combined = {"prompt_format": list(configs), "runs": {f: c.model_dump(mode="json") for f, c in configs.items()}}
    writer = RunWriter(out, task=task, model_id=first.model, config=combined, overwrite=overwrite,
                       info={"seed": first.seed})
    if writer.finished:
        return writer.read()
    sub_ids: dict[str, str] = dict(writer.info.get("format_runs", {}))
    for fmt, cfg in configs.items():
        key = f"prompt_format={fmt}"
        if key in writer.done:
            continue
        sub_dir = writer.path(SUBDIR.format(fmt=fmt))
        run(cfg, sub_dir)
        rows, prompts, info = _sub_run(sub_dir, fmt)
        sub_ids[fmt] = str(info["run_id"])
        writer.append(rows, prompts, keys=[key])
        # The runner's display vocabulary, so the reporter labels the combined run like its parts.
        writer.update_info(format_runs=sub_ids, **({"vocabulary": info["vocabulary"]} if "vocabulary" in info else {}))
    return writer.finish()
