"""``weekly.yaml``: the week's experiments and what the report says about them.

One file describes a whole weekly update, so a researcher edits one place on Friday
and runs ``make weekly``::

    project: Refusal and CoT faithfulness on the organism
    author: A. Researcher
    experiments:
      - name: steering            # run directory: runs/steering
        runner: steering          # steering | truncation | bias
        model: organism           # optional; overrides the config's model
        model_label: organism     # optional; how slides name the model (default: the model, a folder by its name)
        config: steering.yaml     # optional: a path (relative to this file) or an inline mapping
    deck: deck.yaml               # optional: a deck spec (path or inline mapping)
    abstracts: [abstract.yaml]    # hypothetical-abstract specs; measured numbers are filled in
    glossary: glossary.yaml       # optional
    recap: auto                   # auto = the previous report's takeaways.yaml; or a path; or none
    executor: local               # local (in-process) | ray (one Ray task each; see docs/sweeps.md)
    address: null                 # ray: a cluster address; null = RAY_ADDRESS or a local Ray

Paths are relative to the weekly file. The runner configs themselves are validated
by the runners when the pipeline starts each experiment, so one broken config fails
that experiment alone; everything here is validated up front (errors name the field).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal, overload

from pydantic import Field, field_validator, model_validator

from reportgen.inputs.deck_yaml import DeckSpec, SpecError
from reportgen.rundir.strict import Strict as _Strict
from reportgen.rundir.strict import load_yaml_model

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


class WeeklyExperiment(_Strict):
    """One experiment of the week: which runner, on which model, with which config."""

    name: str = Field(description="run directory name under runs_dir; also how the report refers to it")
    runner: str = Field(min_length=1, description="steering, truncation or bias")
    model: str | None = Field(None, description="overrides the config's model")
    config: Path | dict[str, Any] | None = Field(
        None, description="runner config: a YAML path relative to weekly.yaml, or an inline mapping"
    )
    model_label: str | None = Field(
        None, min_length=1, description="how slides name the model (recorded in run.json 'model_label')"
    )
    grid_point: dict[str, Any] | None = Field(
        None, description="the sweep's config overrides behind this experiment (run.json 'grid_point'); "
        "set by `reportgen sweep`"
    )

    @field_validator("name")
    @classmethod
    def _dir_safe(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("must be a directory name: letters, digits, '_', '-', '.'")
        return v


class WeeklyConfig(_Strict):
    project: str = Field("Weekly research update", min_length=1)
    author: str = ""
    runs_dir: Path = Path("runs")
    reports_dir: Path = Path("reports")
    experiments: list[WeeklyExperiment] = Field(min_length=1)
    deck: Path | DeckSpec | None = None
    abstracts: list[Path] = Field(default_factory=list)
    glossary: Path | None = None
    recap: Path | str | None = "auto"
    executor: Literal["local", "ray"] = "local"
    address: str | None = None

    @field_validator("recap", mode="before")
    @classmethod
    def _recap(cls, v: Any) -> Any:
        if v in (None, "none", False):
            return None
        return v

    @model_validator(mode="after")
    def _unique_names(self) -> WeeklyConfig:
        names = [e.name for e in self.experiments]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"experiment names must be unique; repeated: {', '.join(dupes)}")
        return self


def load_weekly_config(path: Path | str) -> tuple[WeeklyConfig, Path]:
    """The validated weekly file and the folder its relative paths are resolved against."""
    path = Path(path)
    cfg = load_yaml_model(path, WeeklyConfig, error=SpecError)
    return cfg, path.resolve().parent


@overload
def resolve(base: Path, p: Path) -> Path: ...
@overload
def resolve(base: Path, p: None) -> None: ...
@overload
def resolve(base: Path, p: Path | None) -> Path | None: ...
def resolve(base: Path, p: Path | None) -> Path | None:
    """A path from the weekly file, relative to the file's folder unless absolute."""
    if p is None:
        return None
    p = Path(p).expanduser()
    return p if p.is_absolute() else Path(os.path.normpath(base / p))
