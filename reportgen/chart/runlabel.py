"""How a slide names a run's model and the sweep grid point it stands for: from run.json only.

A sweep's noisy model copy is a folder under ``runs_dir/_models/`` (an absolute path) and its
grid point is a set of config overrides (``sweep.widths: [1]``); a mentor should read
"organism-noisy" and "layer window width 1". The weekly job records both in run.json
(``model_label``, ``grid_point``); without them a model is shown as given, a local folder by
its name, never by its absolute path.
"""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from reportgen.chart.names import BUILTIN, Names
from reportgen.rundir.reader import Run


def model_label(run: Run, model: str) -> str:
    """The model's display name: run.json ``model_label`` when the run holds only this model."""
    info = run.info
    label = info.model_label if info is not None else None
    if label and set(run.results["model"].astype(str).unique()) == {model}:
        return label
    return PurePath(model).name if PurePath(model).is_absolute() else model


def grid_point(run: Run) -> dict[str, Any]:
    """The run's grid point (dotted config key -> value); empty outside a sweep."""
    return dict(run.info.grid_point or {}) if run.info is not None else {}


def grid_key(run: Run) -> str:
    """A hashable identity of the run's grid point, for grouping runs of the same point."""
    return json.dumps(grid_point(run), sort_keys=True, default=str)


def _value(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def grid_label(run: Run, names: Names = BUILTIN) -> str:
    """'layer window width 1' (keys in the sweep's order, joined by ', '); '' outside a sweep."""
    return ", ".join(f"{names.config_key_label(k)} {_value(v)}" for k, v in grid_point(run).items())
