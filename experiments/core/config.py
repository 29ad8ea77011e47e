"""Experiment configs: YAML files validated by pydantic, unknown keys rejected.

A typo in a config key (``max_new_token: 32``) must fail loudly, not run the default for
an hour; every model here therefore forbids extra fields. Errors name the file and the
dotted field path, and the CLI turns :class:`ConfigError` into exit code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, Field, ValidationError
from pydantic_core import ErrorDetails

from experiments.core.errors import ConfigError
from experiments.core.prompting import PromptFormat
from reportgen.rundir.strict import Strict, config_hash, load_yaml_model

__all__ = ["Decoding", "ExperimentConfig", "StrictModel", "check_samples", "config_hash", "load_config",
           "validate_config"]

C = TypeVar("C", bound=BaseModel)


class StrictModel(Strict):
    """Base for every config section: the seam's :class:`Strict` (unknown keys are errors;
    frozen, because a config is hashed into ``run.json`` and must not change afterwards)."""


class ExperimentConfig(StrictModel):
    """Fields every runner shares. Runners subclass it and add their own sections."""

    model: str = Field("organism", description="'organism', a local folder, or a hub id")
    revision: str | None = Field(None, description="hub revision (branch, tag or commit)")
    trust_remote_code: bool = False
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = "auto"
    device: str | None = Field(None, description="None = CUDA when present, else CPU")
    seed: int = 0
    batch_size: int = Field(16, ge=1)
    prompt_format: PromptFormat = "chat"
    system_prompt: str | None = Field(None, description="None = no system message at all")
    completion_template: str | None = Field(
        None, description="for prompt_format: completion; must contain {user}"
    )
    max_new_tokens: int = Field(64, ge=1)


class Decoding(StrictModel):
    """How a runner that generates decodes: greedy by default; with ``do_sample`` each
    completion is drawn at ``temperature`` from the ``top_p`` nucleus, seeded by its item (and
    sample), so a resumed run draws what an uninterrupted one would."""

    do_sample: bool = Field(False, description="sample generations (greedy when false)")
    temperature: float = Field(1.0, gt=0)
    top_p: float = Field(1.0, gt=0, le=1, description="nucleus sampling: keep the tokens whose mass first reaches top_p")


def check_samples(samples: int, do_sample: bool, field: str = "samples") -> None:
    """``samples: k`` > 1 draws k generations per item, which greedy decoding makes identical."""
    if samples > 1 and not do_sample:
        raise ValueError(f"{field}: {samples} needs do_sample: true (greedy decoding would give "
                         f"{samples} identical samples)")


def _describe(err: ErrorDetails) -> str:
    loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
    if err["type"] == "extra_forbidden":
        return f"field '{loc}': unknown key"
    return f"field '{loc}': {err['msg']}"


def validate_config(data: Any, cls: type[C], source: str = "config") -> C:
    """Validate a mapping against ``cls``; a :class:`ConfigError` lists every bad field."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of keys to values, got {type(data).__name__}")
    try:
        return cls.model_validate(data)
    except ValidationError as exc:
        raise ConfigError("; ".join(f"{source}: {_describe(e)}" for e in exc.errors())) from None


def _config_error(problems: list[str]) -> ConfigError:
    return ConfigError("; ".join(problems))


def load_config(path: str | Path | None, cls: type[C], overrides: dict[str, Any] | None = None) -> C:
    """Read a YAML config (or defaults when ``path`` is None) and validate it as ``cls``.

    ``overrides`` (e.g. ``--model`` from the command line) replace top-level keys before
    validation, so they are checked like everything else and enter the config hash.
    """
    if path is None:
        return validate_config({k: v for k, v in (overrides or {}).items() if v is not None}, cls)
    return load_yaml_model(path, cls, error=_config_error, describe=_describe, overrides=overrides,
                           mapping=True)
