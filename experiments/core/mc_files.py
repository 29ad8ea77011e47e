"""Reading the raw dataset files (JSON, JSONL, CSV) with errors that name file, row and field.

Split from ``mc_datasets`` so the format loaders there read as the formats they parse; every
read goes through here, so a missing file or a broken line is reported the same way everywhere.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from experiments.core.errors import DatasetError as CoreDatasetError


class DatasetError(CoreDatasetError):
    """A dataset file that cannot be read; the message names file, row and field."""

    def __init__(self, file: str | Path, message: str, row: int | None = None, column: str | None = None):
        self.file, self.row, self.column = str(file), row, column
        where = [self.file]
        if row is not None:
            where.append(f"row {row}")
        if column is not None:
            where.append(f"field '{column}'")
        super().__init__(f"{', '.join(where)}: {message}")



def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DatasetError(path, "file not found") from None
    except json.JSONDecodeError as exc:
        raise DatasetError(path, f"invalid JSON: {exc.msg}", row=exc.lineno) from None


def read_jsonl(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise DatasetError(path, "file not found") from None
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(path, f"invalid JSON: {exc.msg}", row=lineno) from None
        if not isinstance(rec, dict):
            raise DatasetError(path, "expected a JSON object", row=lineno)
        yield lineno, rec


def read_csv_rows(path: Path, limit: int | None = None) -> list[list[str]]:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            reader = csv.reader(fh)
            rows = []
            for row in reader:
                if row:
                    rows.append(row)
                if limit is not None and len(rows) >= limit:
                    break
            return rows
    except FileNotFoundError:
        raise DatasetError(path, "file not found") from None
    except (csv.Error, UnicodeDecodeError) as exc:
        raise DatasetError(path, f"cannot read CSV: {exc}") from None


def require(row: dict[str, Any], key: str, path: Path, i: int) -> Any:
    if key not in row:
        raise DatasetError(path, "missing field", row=i, column=key)
    return row[key]
