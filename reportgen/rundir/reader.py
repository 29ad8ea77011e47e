"""Reading a run directory: file sniffing, the format-version check, and :func:`load_run`.

Split from :mod:`reportgen.rundir.schema` (which keeps the contract: columns, records and
validation) so the contract stays readable on its own. Every reader collects the problems
of all three files and raises one :class:`~reportgen.rundir.schema.ResultsError`, because a
researcher fixing a hand-made run directory wants the whole list at once.

``run.json`` carries ``format_version`` (written by :class:`~reportgen.rundir.writer.RunWriter`);
a missing key is version 0, the files written before the key existed, read unchanged. A
higher version than :data:`~reportgen.rundir.schema.FORMAT_VERSION` is refused with one line
naming the file: guessing at a newer layout could chart the wrong numbers.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from reportgen.rundir.schema import (
    BINARY_METRICS,
    CHECK_COLUMN,
    FORMAT_VERSION,
    PROMPTS_JSONL,
    RESULTS_CSV,
    RESULTS_PARQUET,
    RUN_JSON,
    Problem,
    PromptRecord,
    ResultsError,
    RunInfo,
    validate_results,
)


def read_results(run_dir: Path | str, binary_metrics: frozenset[str] | set[str] = BINARY_METRICS) -> pd.DataFrame:
    """Read and validate a run directory's results (parquet preferred, else CSV)."""
    run_dir = Path(run_dir)
    parquet, csv = run_dir / RESULTS_PARQUET, run_dir / RESULTS_CSV
    if parquet.exists():
        try:
            df = pd.read_parquet(parquet)
        except Exception as exc:  # pyarrow raises many types for a corrupt file
            raise ResultsError([Problem(str(parquet), f"cannot read parquet: {exc}")]) from None
        return validate_results(df, str(parquet), binary_metrics)
    if csv.exists():
        excel = _excel_dialect(csv)
        if excel:
            raise ResultsError([Problem(str(csv), excel)])
        try:
            df = pd.read_csv(csv, dtype={"item_id": str, "group": str, "run_id": str, CHECK_COLUMN: str})
        except Exception as exc:
            raise ResultsError([Problem(str(csv), f"cannot read CSV: {exc}")]) from None
        return validate_results(df, str(csv), binary_metrics)
    raise ResultsError([Problem(str(run_dir), f"no {RESULTS_PARQUET} or {RESULTS_CSV} found")])


_SAVE_AS = "save it as 'CSV UTF-8 (Comma delimited)' or write it with pandas"
_DECIMAL_COMMA = re.compile(r"(^|;)\s*-?\d+,\d+\s*(;|$)", re.MULTILINE)


def _excel_dialect(path: Path) -> str | None:
    """What a spreadsheet program did to a CSV, in words, or None.

    Excel writes UTF-16 for "Unicode text" and, in locales with a decimal comma, ';' as
    the delimiter; pandas then sees one column and every check fails with "missing column",
    which hides the cause. Recognised from the first few kilobytes only.
    """
    head = path.open("rb").read(8192)
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or head[:200].count(b"\x00") > 10:
        return f"is UTF-16 encoded (a spreadsheet's 'Unicode text'), not UTF-8; {_SAVE_AS}"
    text = head.decode("utf-8", errors="replace")
    header = text.lstrip("\ufeff").splitlines()[0] if text.strip() else ""
    if ";" in header and "," not in header:
        comma = " and decimal commas (0,5 for 0.5)" if _DECIMAL_COMMA.search(text) else ""
        return f"uses ';' as the delimiter{comma}, as a spreadsheet in a decimal-comma locale writes it; {_SAVE_AS}"
    return None


def _pydantic_problems(exc: ValidationError, file: str, row: int | None) -> list[Problem]:
    return [
        Problem(file, e["msg"], row, ".".join(str(p) for p in e["loc"]) or None)
        for e in exc.errors()
    ]


def read_prompts(run_dir: Path | str, required: bool = False) -> list[PromptRecord]:
    """Read ``prompts.jsonl``; every bad line is reported with its line number."""
    path = Path(run_dir) / PROMPTS_JSONL
    if not path.exists():
        if required:
            raise ResultsError([Problem(str(path), "file not found")])
        return []
    records: list[PromptRecord] = []
    problems: list[Problem] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(Problem(str(path), f"invalid JSON: {exc.msg}", lineno))
                continue
            if isinstance(data, dict) and data.get("item_id") is not None:
                data["item_id"] = str(data["item_id"])
            try:
                records.append(PromptRecord.model_validate(data))
            except ValidationError as exc:
                problems.extend(_pydantic_problems(exc, str(path), lineno))
    if problems:
        raise ResultsError(problems)
    return records


def format_version(data: dict[str, Any], file: str) -> int:
    """The ``format_version`` of a parsed ``run.json`` (0 when absent); refuses newer ones."""
    version = data.get("format_version", 0)
    if isinstance(version, bool) or not isinstance(version, int) or version < 0:
        raise ResultsError([Problem(file, f"format_version must be a whole number >= 0, got {version!r}")])
    if version > FORMAT_VERSION:
        raise ResultsError([Problem(
            file, f"written by a newer reportgen: format_version {version} > {FORMAT_VERSION}; upgrade reportgen")])
    return version


def read_run_info(run_dir: Path | str, required: bool = False) -> RunInfo | None:
    """Read and validate ``run.json`` (``None`` when absent and not ``required``)."""
    path = Path(run_dir) / RUN_JSON
    if not path.exists():
        if required:
            raise ResultsError([Problem(str(path), "file not found")])
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ResultsError([Problem(str(path), f"invalid JSON: {exc.msg}", exc.lineno)]) from None
    if isinstance(data, dict):
        format_version(data, str(path))
    try:
        return RunInfo.model_validate(data)
    except ValidationError as exc:
        raise ResultsError(_pydantic_problems(exc, str(path), None)) from None


# ---------------------------------------------------------------- whole run directory

@dataclass
class Run:
    """A validated run directory as the reporter sees it."""

    path: Path
    results: pd.DataFrame
    prompts: list[PromptRecord] = field(default_factory=list)
    info: RunInfo | None = None

    @property
    def run_id(self) -> str:
        if self.info is not None:
            return self.info.run_id
        if "run_id" in self.results.columns and self.results["run_id"].notna().any():
            return str(self.results["run_id"].dropna().iloc[0])
        return self.path.name


def load_run(run_dir: Path | str) -> Run:
    """Load and validate a run directory, reporting the problems of all its files together."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise ResultsError([Problem(str(run_dir), "not a directory")])
    problems: list[Problem] = []
    results = prompts = info = None
    try:
        info = read_run_info(run_dir)
    except ResultsError as exc:
        problems.extend(exc.problems)
    try:
        results = read_results(run_dir, BINARY_METRICS | set(info.binary_metrics if info else ()))
    except ResultsError as exc:
        problems[:0] = exc.problems
    try:
        prompts = read_prompts(run_dir)
    except ResultsError as exc:
        problems.extend(exc.problems)
    if problems or results is None:
        raise ResultsError(problems)
    return Run(path=run_dir, results=results, prompts=prompts or [], info=info)
