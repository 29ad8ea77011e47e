"""The one strict pydantic base and the one strict-YAML loader, shared by both halves.

Unknown keys are errors, so a misspelt field (``catagories:``, ``max_new_token:``) is
reported with its file and path instead of being silently ignored, whether it sits in a
deck spec or a runner's config. Both live in the seam so the runners' configs and the
reporter's YAML inputs share them without importing each other (issue 15).
:func:`config_hash` is here too: the run-directory writer stamps it into ``run.json`` and
the runners' configs are what it hashes.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import ErrorDetails

from reportgen.rundir.errors import UserError

M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    """Base model: ``extra="forbid"`` and frozen (a spec is read once, then only passed around).

    ``protected_namespaces=()`` because configs have fields named ``model`` and ``model_id``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


class StrictYamlError(UserError, ValueError):
    """A YAML file that cannot be read or validated; ``problems`` lists every problem.

    ``ValueError`` stays a base because callers of the spec loaders have always caught it.
    """

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def config_hash(config: BaseModel | Mapping[str, Any]) -> str:
    """A short, stable hash of a config's content (key order does not matter)."""
    data = config.model_dump(mode="json") if isinstance(config, BaseModel) else dict(config)
    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def field_path(loc: tuple[int | str, ...]) -> str:
    """``experiments[0].categories`` from pydantic's location tuple."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def describe_field(err: ErrorDetails) -> str:
    """``field.path: message`` in a spec author's words (the reporter's wording)."""
    kind = err.get("type")
    if kind == "extra_forbidden":
        msg = "unknown field (check the spelling)"
    elif kind == "missing":
        msg = "required field missing"
    else:
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
    return f"{field_path(err['loc'])}: {msg}"


def read_yaml(path: Path, error: Callable[[list[str]], Exception] = StrictYamlError) -> Any:
    """The parsed content of a YAML file (``None`` for an empty one); ``error`` names the line."""
    if not path.is_file():
        raise error([f"{path}: file not found"])
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise error([f"{path}: invalid YAML{where}: {problem}"]) from None


def load_yaml_model(
    path: Path | str,
    model: type[M],
    *,
    error: Callable[[list[str]], Exception] = StrictYamlError,
    describe: Callable[[ErrorDetails], str] = describe_field,
    overrides: Mapping[str, Any] | None = None,
    mapping: bool = False,
) -> M:
    """Read a YAML file into ``model``; every problem names the file and the field.

    ``error`` builds the exception from the list of problems (each half raises its own
    :class:`UserError`), ``describe`` words one validation error. ``overrides`` (command-line
    values such as ``--model``; ``None`` values ignored) replace top-level keys before
    validation, so they are checked like everything else. ``mapping`` demands a mapping at
    the top level (a runner config); otherwise the model decides (a takeaways file may be a
    bare list of sentences).
    """
    path = Path(path)
    data = read_yaml(path, error)
    data = {} if data is None else data
    if (mapping or overrides) and not isinstance(data, dict):
        raise error([f"{path}: expected a mapping of keys to values, got {type(data).__name__}"])
    if overrides:
        data = {**data, **{k: v for k, v in overrides.items() if v is not None}}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise error([f"{path}: {describe(e)}" for e in exc.errors()]) from None
