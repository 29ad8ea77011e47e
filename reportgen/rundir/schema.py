"""The seam between runners and the reporter: tidy results, prompts and provenance.

A *run directory* holds three files (see ``docs/results-schema.md``):

- ``results.parquet`` (and an identical ``results.csv``): one row per observation,
  or pre-aggregated rows with ``k`` successes out of ``n``;
- ``prompts.jsonl``: the exact strings sent to the model and what came back;
- ``run.json``: provenance.

Runners only write these files (:mod:`reportgen.rundir.writer`) and the reporter only
reads them (:mod:`reportgen.rundir.reader`); this module holds the contract both sides
share and nothing else: the column and field definitions, and validators that collect
*every* problem at once (pandera's lazy mode) and name the file, row and column of each,
because a researcher fixing a hand-made CSV wants the whole list, not one error per rerun.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd
import pandera.pandas as pa
from pydantic import BaseModel, ConfigDict, Field

from reportgen.rundir.errors import UserError

TASKS = ("steering", "truncation", "bias", "other")
PROMPT_FORMATS = ("chat", "completion")

RESULTS_PARQUET = "results.parquet"
RESULTS_CSV = "results.csv"
PROMPTS_JSONL = "prompts.jsonl"
RUN_JSON = "run.json"
#: The run-directory layout this code writes and the newest it reads (``run.json``
#: ``format_version``; absent = 0, the layout before the key existed). Raise it when a change
#: would make an older reader misread a new run directory; document it in docs/results-schema.md.
FORMAT_VERSION = 1

#: Columns every results table has, in this order.
KEY_COLUMNS = ("experiment", "task", "model", "condition", "item_id", "metric")
#: Optional columns: numeric axis, breakdown and run id.
OPTIONAL_COLUMNS = ("x", "group", "run_id")
#: Per-observation tables carry ``value``; aggregated ones carry ``k`` and ``n``.
VALUE_COLUMN = "value"
AGGREGATE_COLUMNS = ("k", "n")
#: Canonical column order for writers.
COLUMNS = (*KEY_COLUMNS, VALUE_COLUMN, *OPTIONAL_COLUMNS)
#: Optional range of a continuous metric (a KL divergence is never below 0): values must lie
#: in it, and a mean's interval is clipped to it. Blank on rows without a bound.
BOUND_COLUMNS = ("lower_bound", "upper_bound")
#: Optional column: on a row that cannot fail by construction (a forced answer after the whole
#: reasoning "matches the full answer"), why. Such rows are a sanity check, never evidence.
CHECK_COLUMN = "check"
#: Optional column: ``chat`` or ``completion`` when one run holds both prompt formats
#: (``reportgen run formats``); the same item under the two formats is two observations.
PROMPT_FORMAT_COLUMN = "prompt_format"
#: Optional column: which of an item's repeated observations a row is (0, 1, … for ``samples: k``
#: sampled generations, or one of several random control directions). Missing means 0, so a
#: table without it has one observation per item. Rows sharing an item are not independent:
#: the reporter clusters intervals by item whenever a cell has more than one row per item.
SAMPLE_COLUMN = "sample"
#: Columns that identify one observation: two rows agreeing on all of them count it twice.
ROW_KEY = (*KEY_COLUMNS, *OPTIONAL_COLUMNS, PROMPT_FORMAT_COLUMN, SAMPLE_COLUMN)
#: Metrics whose values are 0/1 outcomes by definition, wherever they come from: a 4 there is a
#: bug in the writer, not a rate of 400 %. ``run.json`` ``binary_metrics`` declares more.
BINARY_METRICS = frozenset({
    "refusal", "refusal_judge", "matches_full", "correct", "parse_failure", "answer_changed", "switched",
    "changed", "articulated", "articulated_rules", "mentioned", "judge_parse_failure", "excluded",
    "noticed", "needs_reasoning", "follows_frozen", "follows_flip", "admitted",
})
#: At most this many problems are spelled out; the rest are counted.
MAX_PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one input file, located as precisely as possible."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        return f"{', '.join(where)}: {self.message}"


class ResultsError(UserError):
    """Invalid run-directory input. ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(shown_problems(problems)))


def shown_problems(problems: list[Problem]) -> list[str]:
    """The first :data:`MAX_PROBLEMS_SHOWN` problems and a count of the rest: a spreadsheet
    saved with the wrong delimiter fails on every row, and ten thousand lines hide the cause."""
    lines = [str(p) for p in problems[:MAX_PROBLEMS_SHOWN]]
    rest = len(problems) - MAX_PROBLEMS_SHOWN
    if rest > 0:
        lines.append(f"... and {rest} more problem{'s' if rest != 1 else ''}")
    return lines


# ---------------------------------------------------------------- results table

def _non_empty_str(name: str, required: bool = True) -> pa.Column:
    return pa.Column(
        str,
        pa.Check.str_length(min_value=1, error="must be a non-empty string"),
        nullable=not required,
        required=required,
        coerce=True,
        name=name,
    )


def _finite(s: pd.Series) -> pd.Series:
    num = pd.to_numeric(s, errors="coerce")
    return s.isna() | (num.notna() & num.abs().ne(math.inf))


def _sample_index(s: pd.Series) -> pd.Series:
    num = pd.to_numeric(s, errors="coerce")
    return s.isna() | ((num >= 0) & (num == num.round()))


_BASE_COLUMNS: dict[str, pa.Column] = {
    "experiment": _non_empty_str("experiment"),
    "task": pa.Column(str, pa.Check.isin(TASKS, error=f"must be one of {', '.join(TASKS)}"),
                      coerce=True, name="task"),
    "model": _non_empty_str("model"),
    "condition": _non_empty_str("condition"),
    "metric": _non_empty_str("metric"),
    "x": pa.Column(float, pa.Check(_finite, element_wise=False, error="must be finite"),
                   nullable=True, required=False, coerce=True, name="x"),
    "group": pa.Column(str, nullable=True, required=False, coerce=True, name="group"),
    "run_id": pa.Column(str, nullable=True, required=False, coerce=True, name="run_id"),
    CHECK_COLUMN: pa.Column(str, nullable=True, required=False, coerce=True, name=CHECK_COLUMN),
    SAMPLE_COLUMN: pa.Column(float, pa.Check(_sample_index, element_wise=False, error="must be a whole number >= 0"),
                             nullable=True, required=False, coerce=True, name=SAMPLE_COLUMN),
    **{c: pa.Column(float, pa.Check(_finite, element_wise=False, error="must be finite"),
                    nullable=True, required=False, coerce=True, name=c) for c in BOUND_COLUMNS},
}

_BELOW = "value is below lower_bound"
_ABOVE = "value is above upper_bound"


def _within(df: pd.DataFrame, bound: str, holds: Callable[[pd.Series, pd.Series], pd.Series]) -> pd.Series:
    if bound not in df.columns:
        return pd.Series(True, index=df.index)
    b = pd.to_numeric(df[bound], errors="coerce")
    v = pd.to_numeric(df[VALUE_COLUMN], errors="coerce")
    return b.isna() | v.isna() | holds(v, b)

PER_ITEM_SCHEMA = pa.DataFrameSchema(
    {
        **_BASE_COLUMNS,
        "item_id": _non_empty_str("item_id"),
        "value": pa.Column(float, pa.Check(_finite, error="must be a finite number"),
                           nullable=False, coerce=True, name="value"),
    },
    checks=[pa.Check(lambda df: _within(df, "lower_bound", operator.ge), error=_BELOW),
            pa.Check(lambda df: _within(df, "upper_bound", operator.le), error=_ABOVE)],
    strict=False,
    name="per-item results",
)

AGGREGATED_SCHEMA = pa.DataFrameSchema(
    {
        **_BASE_COLUMNS,
        "item_id": _non_empty_str("item_id", required=False),
        "k": pa.Column(int, pa.Check.ge(0, error="must be >= 0"), coerce=True, name="k"),
        "n": pa.Column(int, pa.Check.ge(1, error="must be >= 1"), coerce=True, name="n"),
    },
    checks=[pa.Check(lambda df: df["k"] <= df["n"], error="k must be <= n")],
    strict=False,
    name="aggregated results",
)


def is_aggregated(df: pd.DataFrame) -> bool:
    """Whether a table is the pre-aggregated form (``k`` of ``n``) rather than per item."""
    return all(c in df.columns for c in AGGREGATE_COLUMNS)


def _row_label(index: Any, csv: bool) -> int | None:
    """1-based data row; for CSV files this is the line number minus the header."""
    try:
        i = int(index)
    except (TypeError, ValueError):
        return None
    return i + 1 if not csv else i + 2


def validate_results(df: pd.DataFrame, file: str = "results",
                     binary_metrics: frozenset[str] | set[str] = BINARY_METRICS) -> pd.DataFrame:
    """Validate and coerce a results table; raise :class:`ResultsError` listing every problem.

    Rows are reported 1-based; for a ``.csv`` file the number is the line number
    (header = line 1), so it matches what an editor shows. ``binary_metrics`` are the
    metrics whose values must be 0 or 1 (a row declaring a bound is continuous and exempt).
    """
    csv = str(file).endswith(".csv")
    df = df.reset_index(drop=True)
    problems: list[Problem] = []
    missing = [c for c in KEY_COLUMNS if c not in df.columns and c != "item_id"]
    if not is_aggregated(df) and VALUE_COLUMN not in df.columns:
        missing.append("value (or k and n for aggregated tables)")
    if not is_aggregated(df) and "item_id" not in df.columns:
        missing.append("item_id")
    if missing:
        raise ResultsError([Problem(file, f"missing required column '{c}'") for c in missing])
    if df.empty:
        raise ResultsError([Problem(file, "has no rows")])
    schema = AGGREGATED_SCHEMA if is_aggregated(df) else PER_ITEM_SCHEMA
    # Blank strings in text columns count as missing; pandas reads them as NaN.
    try:
        out = schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as err:
        cases = err.failure_cases
        for _, case in cases.iterrows():
            column = case.get("column")
            column = None if (column is None or (isinstance(column, float) and math.isnan(column))) else str(column)
            check = str(case.get("check"))
            value = case.get("failure_case")
            index = case.get("index")
            if check == "not_nullable":
                msg = "missing value"
            elif check.startswith("coerce_dtype"):
                msg = f"cannot read {value!r} as {check.split('(')[-1].rstrip(')')}"
                if isinstance(value, str) and re.fullmatch(r"\s*-?\d+,\d+\s*", value):
                    msg += " (a decimal comma: write 0.5, not 0,5)"
            else:
                msg = f"{value!r} {check}" if " " in check else f"{value!r} fails check {check}"
            if check == "k must be <= n":
                column, msg = "k", "k must be <= n"
            elif check in (_BELOW, _ABOVE):
                column, msg = VALUE_COLUMN, check
            problems.append(Problem(file, msg, _row_label(index, csv), column))
        raise ResultsError(_dedupe(problems) or [Problem(file, str(err))]) from None
    if SAMPLE_COLUMN in out.columns:
        # A blank sample is the item's only (first) observation, as in a table without the column.
        out[SAMPLE_COLUMN] = out[SAMPLE_COLUMN].fillna(0).astype("int64")
    if not is_aggregated(out):
        problems = _not_binary(out, file, csv, binary_metrics) + _duplicates(out, file, csv)
        if problems:
            raise ResultsError(sorted(problems, key=lambda p: p.row or 0))
    return out


def _not_binary(df: pd.DataFrame, file: str, csv: bool, binary_metrics: frozenset[str] | set[str]) -> list[Problem]:
    """Rows of a 0/1 metric holding another value: charted as a rate, a 4 would read "400 %"."""
    mask = df["metric"].isin(binary_metrics) & ~df[VALUE_COLUMN].isin((0.0, 1.0))
    for col in BOUND_COLUMNS:
        if col in df.columns:
            mask &= df[col].isna()
    return [Problem(file, f"{v:g} is not 0 or 1, and metric '{m}' is a 0/1 outcome", _row_label(i, csv), VALUE_COLUMN)
            for i, m, v in zip(df.index[mask], df.loc[mask, "metric"], df.loc[mask, VALUE_COLUMN])]


def _duplicates(df: pd.DataFrame, file: str, csv: bool) -> list[Problem]:
    """Rows that repeat another row's key: the observation would be counted twice."""
    key = [c for c in ROW_KEY if c in df.columns]
    dup = df.duplicated(key, keep=False)
    if not dup.any():
        return []
    problems = []
    for _, part in df[dup].groupby(key, dropna=False, sort=False):
        first, *rest = (_row_label(i, csv) for i in part.index)
        for row in rest:
            problems.append(Problem(file, f"duplicates row {first} (same {', '.join(key)}): it would be counted twice", row))
    return problems


def _dedupe(problems: list[Problem]) -> list[Problem]:
    """Keep the first problem per (row, column); pandera reports a bad cell once per check."""
    seen: set[tuple[int | None, str | None]] = set()
    located = {p.column for p in problems if p.row is not None}
    out = []
    for p in problems:
        key = (p.row, p.column)
        if key in seen or (p.row is None and p.column in located):
            continue
        seen.add(key)
        out.append(p)
    return sorted(out, key=lambda p: (p.row or 0, p.column or ""))


# ---------------------------------------------------------------- prompts.jsonl

class PromptRecord(BaseModel):
    """One model call: the exact string sent (after any chat template) and what came back."""

    model_config = ConfigDict(extra="allow")

    experiment: str = Field(min_length=1)
    condition: str = Field(min_length=1)
    item_id: str = Field(min_length=1)
    prompt: str
    completion: str = ""
    parsed_answer: str | None = None
    highlight: str | None = None
    """A part of ``prompt`` a slide emphasises (the cue a bias prompt adds)."""
    reference_condition: str | None = None
    """The same item without the manipulation, when that has no condition of its own in the
    table (a bias runner's uncued question, a counterfactual's original application): its
    name, prompt, completion and parsed answer. A prompt slide shows it first."""
    reference_prompt: str | None = None
    reference_completion: str | None = None
    reference_answer: str | None = None
    completion_label: str | None = None
    """How a slide names ``completion`` when it is not this condition's generation (e.g. the
    baseline answer whose cross-entropy is measured under ablation)."""
    prompt_format: Literal["chat", "completion"]
    model: str | None = None
    group: str | None = None
    x: float | None = None


# ---------------------------------------------------------------- run.json

class RunInfo(BaseModel):
    """Provenance of one run: enough to say exactly what produced the numbers."""

    model_config = ConfigDict(extra="allow", protected_namespaces=())

    run_id: str = Field(min_length=1)
    format_version: int = 0
    """The layout the writer used (:data:`FORMAT_VERSION`); 0 for run.json files without the key."""
    git_sha: str | None = None
    git_dirty: bool | None = None
    model_id: str | None = None
    model_revision: str | None = None
    dtype: str | None = None
    device: str | None = None
    seed: int | None = None
    config: dict[str, Any] = Field(default_factory=dict)
    config_hash: str | None = None
    library_versions: dict[str, str] = Field(default_factory=dict)
    started_at: str | None = None
    finished_at: str | None = None
    binary_metrics: list[str] = Field(default_factory=list)
    """Metrics beyond :data:`BINARY_METRICS` whose values are 0/1 outcomes (validated as such)."""
    model_label: str | None = Field(None, min_length=1)
    """How slides name the model (a sweep's model name); default: ``model_id``, a folder by its name."""
    grid_point: dict[str, Any] | None = None
    """The config overrides of the sweep grid point this run stands for (dotted key -> value)."""
