"""Instruction datasets: the organism's prompt sets and the files users bring.

A dataset is named by one string, so configs stay flat:

- ``organism:<harmful|harmless>:<train|eval>``: the organism's own refusal prompts
  (eval holds out templates and verb/object pairs; see ``experiments.organism.tasks``);
- a ``.json`` file: a list of ``{"instruction": …, "category": …}`` objects, the format of
  andyrdt/refusal_direction (``harmful_train.json``, ``harmless_val.json`` …);
- a ``.jsonl`` file: one such object per line;
- a ``.csv`` file with a header and an ``instruction`` column (``category`` optional).

Item ids are stable: an ``id``/``item_id`` field when the file has one, else
``<file stem>-<row index>`` counted in the file (so subsampling never renumbers items),
or the organism's own ids.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from experiments.core.errors import DatasetError

ORGANISM_PREFIX = "organism:"


@dataclass(frozen=True)
class InstructionItem:
    """One instruction with a stable id; ``category`` is the file's label, if any."""

    item_id: str
    instruction: str
    category: str | None = None
    source: str = ""


def _from_records(records: list[Any], path: Path, line_numbers: list[int] | None = None) -> list[InstructionItem]:
    items: list[InstructionItem] = []
    seen: set[str] = set()
    for i, rec in enumerate(records):
        where = f"{path}, {'line' if line_numbers else 'item'} {line_numbers[i] if line_numbers else i + 1}"
        if not isinstance(rec, dict):
            raise DatasetError(f"{where}: expected an object with an 'instruction' field")
        text = rec.get("instruction")
        if not isinstance(text, str) or not text.strip():
            raise DatasetError(f"{where}: field 'instruction' missing or empty")
        raw_id = rec.get("item_id", rec.get("id"))
        item_id = str(raw_id) if raw_id is not None and str(raw_id) != "" else f"{path.stem}-{i:04d}"
        if item_id in seen:
            raise DatasetError(f"{where}: duplicate item id '{item_id}'")
        seen.add(item_id)
        cat = rec.get("category")
        items.append(InstructionItem(item_id, text, None if cat is None else str(cat), str(path)))
    return items


def _read_json(path: Path) -> list[InstructionItem]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{path}, line {exc.lineno}: invalid JSON: {exc.msg}") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise DatasetError(f"{path}: expected a JSON list of {{\"instruction\": …}} objects")
    return _from_records(data, path)


def _read_jsonl(path: Path) -> list[InstructionItem]:
    records, lines = [], []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}, line {lineno}: invalid JSON: {exc.msg}") from None
        lines.append(lineno)
    return _from_records(records, path, lines)


def _read_csv(path: Path) -> list[InstructionItem]:
    import pandas as pd

    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:  # pandas raises several parser error types
        raise DatasetError(f"{path}: cannot read CSV: {str(exc).splitlines()[0]}") from None
    if "instruction" not in df.columns:
        raise DatasetError(f"{path}: no 'instruction' column (columns: {', '.join(map(str, df.columns))})")
    records = [{k: (v if v != "" else None) for k, v in row.items()} for row in df.to_dict("records")]
    # CSV line numbers: the header is line 1.
    return _from_records(records, path, [i + 2 for i in range(len(records))])


def _organism(spec: str) -> list[InstructionItem]:
    parts = spec.split(":")
    if len(parts) != 3 or parts[1] not in ("harmful", "harmless") or parts[2] not in ("train", "eval"):
        raise DatasetError(
            f"unknown dataset '{spec}': organism sets are organism:<harmful|harmless>:<train|eval>"
        )
    from experiments.organism.tasks.refusal import refusal_instructions

    kind, split = parts[1], parts[2]
    return [
        InstructionItem(it.item_id, it.text, kind, spec)
        for it in refusal_instructions(kind, split)  # type: ignore[arg-type]
    ]


def load_instructions(
    spec: str | Path, *, n: int | None = None, seed: int = 0, exclude: set[str] | None = None
) -> list[InstructionItem]:
    """Load an instruction dataset (see the module docstring for the accepted ``spec``\\ s).

    ``exclude``: instruction texts to leave out (e.g. those a direction was computed from),
    removed *before* subsetting so ``n`` items remain when there are enough.
    ``n`` keeps a random subset of that size (seeded, in the file's order); the organism's
    sets are already balanced in any prefix, so for them the first ``n`` are kept.
    """
    spec_s = str(spec)
    drop = {t.strip() for t in exclude} if exclude else set()
    if spec_s.startswith(ORGANISM_PREFIX):
        items = [it for it in _organism(spec_s) if it.instruction.strip() not in drop]
        return items if n is None else items[:n]
    path = Path(spec_s).expanduser()
    if not path.is_file():
        raise DatasetError(f"{path}: dataset file not found")
    suffix = path.suffix.lower()
    if suffix == ".json":
        items = _read_json(path)
    elif suffix == ".jsonl":
        items = _read_jsonl(path)
    elif suffix == ".csv":
        items = _read_csv(path)
    else:
        raise DatasetError(f"{path}: unsupported dataset format '{suffix}' (use .json, .jsonl or .csv)")
    if not items:
        raise DatasetError(f"{path}: no instructions")
    return sample([it for it in items if it.instruction.strip() not in drop], n, seed)


def sample(items: list[InstructionItem], n: int | None, seed: int = 0) -> list[InstructionItem]:
    """A seeded random subset of size ``n`` kept in the original order (all items if n is None)."""
    if n is None or n >= len(items):
        return list(items)
    keep = sorted(random.Random(seed).sample(range(len(items)), n))
    return [items[i] for i in keep]
