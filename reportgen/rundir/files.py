"""Serialising a run directory's files: the one place that writes them, atomically.

:class:`~reportgen.rundir.writer.RunWriter` (every runner and importer) and the example
generator (``examples/make_examples.py``) both write through these functions, so the bytes of
``results.csv``, ``prompts.jsonl`` and ``run.json`` have one definition, and a crash mid-write
leaves the old file or the new one (:mod:`reportgen.rundir.atomic`), never half a table.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from reportgen.rundir.atomic import write_atomic, write_text_atomic
from reportgen.rundir.schema import PROMPTS_JSONL, RESULTS_CSV, RESULTS_PARQUET, RUN_JSON


def write_table(run_dir: Path, df: pd.DataFrame, float_format: str | None = None) -> None:
    """``results.parquet`` and the same table as ``results.csv`` (``\\n`` line endings)."""
    parquet = io.BytesIO()
    df.to_parquet(parquet, index=False)
    write_atomic(run_dir / RESULTS_PARQUET, parquet.getvalue())
    write_text_atomic(run_dir / RESULTS_CSV, df.to_csv(index=False, float_format=float_format, lineterminator="\n"))


def write_prompts(run_dir: Path, records: Iterable[Mapping[str, Any]]) -> None:
    """``prompts.jsonl``: one JSON object per line, non-ASCII kept as written."""
    write_text_atomic(run_dir / PROMPTS_JSONL, "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))


def write_info(run_dir: Path, info: Mapping[str, Any]) -> None:
    """``run.json``, indented for people reading provenance by eye."""
    write_text_atomic(run_dir / RUN_JSON, json.dumps(info, indent=2, ensure_ascii=False, default=str) + "\n")
