"""``sweep.yaml``: a grid of models × runners × config overrides, expanded into experiments.

A sweep is a weekly update whose experiment list is generated, so it expands into a
:class:`~reportgen.inputs.weekly_yaml.WeeklyConfig` and the weekly pipeline (skip/resume,
failures kept apart, report) runs it unchanged::

    project: Layer windows on two organisms
    runs_dir: ../../runs/sweep          # must be on a filesystem every Ray node mounts
    reports_dir: ../../reports/sweep
    executor: ray                       # local | ray (overridden by --executor)
    address: null                       # Ray cluster; null = RAY_ADDRESS or a local Ray
    max_retries: 2                      # retries of a task whose worker died
    num_gpus: null                      # per task; null = 1 for CUDA models (see executors.task_gpus)
    models:
      - organism
      - {name: organism-b, base: organism, noise: 0.05, seed: 1}   # built once under runs_dir/_models
    runners:
      - runner: steering
        config: ../weekly/steering.yaml # path or inline mapping; the grid overrides its keys
        grid:
          sweep.widths: [[1], [2]]      # dotted key -> values; every combination is one experiment
    deck: deck.yaml                     # optional; default: the models compared per grid point

Experiments are named ``<runner>-<model>[-<key><value>…]`` (e.g. ``steering-organism-widths2``);
each gets its own run directory ``runs_dir/<name>``.
"""

from __future__ import annotations

import copy
import itertools
import math
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, field_validator, model_validator

from reportgen.inputs.deck_yaml import DeckSpec, SpecError
from reportgen.inputs.weekly_yaml import WeeklyConfig, resolve
from reportgen.rundir.strict import Strict as _Strict
from reportgen.rundir.strict import load_yaml_model

Executor = Literal["local", "ray"]
MODELS_DIR = "_models"
_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class SweepModel(_Strict):
    """A model of the grid: a name the runners resolve (``organism``, a folder, a hub id), or a
    seeded noisy copy of a local model (``base`` + ``noise``), built without training."""

    name: str = Field(min_length=1)
    base: str | None = Field(None, description="make a noisy copy of this model (organism or a folder)")
    noise: float = Field(0.05, ge=0, description="relative std of the Gaussian noise added to each weight")
    seed: int = 0

    @field_validator("name")
    @classmethod
    def _dir_safe(cls, v: str) -> str:
        if "/" not in v and not re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", v):
            raise ValueError("must be a hub id (owner/name) or letters, digits, '_', '-', '.'")
        return v


class SweepRunner(_Strict):
    """One runner with its base config and the overrides to sweep."""

    runner: str = Field(min_length=1, description="steering, truncation or bias")
    config: Path | dict[str, Any] | None = None
    grid: dict[str, list[Any]] = Field(default_factory=dict, description="dotted config key -> values")

    @field_validator("grid")
    @classmethod
    def _non_empty(cls, v: dict[str, list[Any]]) -> dict[str, list[Any]]:
        for key, values in v.items():
            if not values:
                raise ValueError(f"grid key '{key}' has no values")
        return v


class SweepConfig(_Strict):
    project: str = Field("Sweep", min_length=1)
    author: str = ""
    runs_dir: Path = Path("runs/sweep")
    reports_dir: Path = Path("reports/sweep")
    executor: Executor = "local"
    address: str | None = None
    num_gpus: float | None = Field(None, ge=0)
    max_retries: int = Field(2, ge=0, le=10)
    models: list[SweepModel] = Field(min_length=1)
    runners: list[SweepRunner] = Field(min_length=1)
    deck: Path | DeckSpec | None = None
    abstracts: list[Path] = Field(default_factory=list)
    glossary: Path | None = None

    @field_validator("models", mode="before")
    @classmethod
    def _plain_names(cls, v: Any) -> Any:
        return [{"name": m} if isinstance(m, str) else m for m in v] if isinstance(v, list) else v

    @model_validator(mode="after")
    def _unique_models(self) -> SweepConfig:
        names = [m.name for m in self.models]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"model names must be unique; repeated: {', '.join(dupes)}")
        return self


def load_sweep_config(path: Path | str) -> tuple[SweepConfig, Path]:
    """The validated sweep file and the folder its relative paths are resolved against."""
    path = Path(path)
    return load_yaml_model(path, SweepConfig, error=SpecError), path.resolve().parent


def _set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    *parents, leaf = key.split(".")
    node = data
    for p in parents:
        child = node.setdefault(p, {})
        if not isinstance(child, dict):
            raise SpecError([f"grid key '{key}': '{p}' is not a section of the config"])
        node = child
    node[leaf] = value


def _label(key: str, value: Any) -> str:
    leaf = key.split(".")[-1]
    shown = "_".join(str(v) for v in value) if isinstance(value, list) else str(value)
    return _SAFE.sub("", f"{leaf.replace('_', '')}{shown}")


def model_ref(model: SweepModel, runs_dir: Path) -> str:
    """What the runners are given as ``model``: the name, or the folder a noisy copy lives in."""
    return str(runs_dir / MODELS_DIR / model.name) if model.base else model.name


def default_deck(cfg: SweepConfig) -> DeckSpec:
    """The deck of a sweep without ``deck:``: the models compared on each runner's headline
    experiment, one chart per grid point; every run's own charts in the backup."""
    names = [m.name.split("/")[-1] for m in cfg.models]
    who = " and ".join(names) if len(names) == 2 else ", ".join(names)
    plan = [f"Run {r.runner} on {who} at {_points(r)}, each model at each point" for r in cfg.runners]
    return DeckSpec(project=cfg.project, author=cfg.author, compare="model", plan=plan,
                    question=f"Do {who} give the same results at every point of the grid?" if len(names) > 1 else None)


def _points(runner: SweepRunner) -> str:
    n = math.prod(len(values) for values in runner.grid.values())
    return "one config" if n == 1 else f"{n} grid points"


def expand(cfg: SweepConfig, base: Path, runs_dir: Path) -> WeeklyConfig:
    """The weekly config the sweep stands for: one experiment per (runner, model, grid point),
    each with its full config inline (file + overrides) so its fingerprint covers the overrides."""
    experiments = []
    for entry in cfg.runners:
        if isinstance(entry.config, Path):
            path = resolve(base, entry.config)
            try:
                loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            except (OSError, yaml.YAMLError) as exc:
                raise SpecError([f"runners: '{entry.runner}': cannot read config {path}: {exc}"]) from None
            if not isinstance(loaded, dict):
                raise SpecError([f"{path}: expected a mapping at the top level"])
        else:
            loaded = entry.config or {}
        keys = list(entry.grid)
        for model in cfg.models:
            for values in itertools.product(*(entry.grid[k] for k in keys)):
                config = copy.deepcopy(loaded)
                for key, value in zip(keys, values):
                    _set_dotted(config, key, value)
                short = model.name.split("/")[-1]
                name = "-".join([entry.runner, _SAFE.sub("", short), *(_label(k, v) for k, v in zip(keys, values))])
                experiments.append({"name": name, "runner": entry.runner, "model": model_ref(model, runs_dir),
                                    "config": config, "model_label": short,
                                    "grid_point": dict(zip(keys, values)) if keys else None})
    data = {
        "project": cfg.project, "author": cfg.author, "runs_dir": runs_dir, "reports_dir": cfg.reports_dir,
        "experiments": experiments, "deck": cfg.deck if cfg.deck is not None else default_deck(cfg),
        "abstracts": cfg.abstracts, "glossary": cfg.glossary,
        "recap": None, "executor": cfg.executor, "address": cfg.address,
    }
    try:
        return WeeklyConfig.model_validate(data)
    except ValueError as exc:
        raise SpecError([f"the sweep expands into an invalid experiment list: {exc}"]) from None
