"""Multiple-choice and short-answer datasets in the formats researchers bring.

The truncation and bias runners both ask questions with a known answer; this module
turns the common on-disk formats into one typed :class:`MCItem` so neither runner
cares where a question came from:

- BIG-Bench Hard as used by Turpin et al. (``val_data.json``: ``{"data": [...]}`` with
  ``parsed_inputs``, ``multiple_choice_targets`` and ``multiple_choice_scores``);
- MMLU CSV files without a header (question, A, B, C, D, answer letter);
- JSONL or CSV tables with ``question``, optional ``options`` and ``answer`` columns
  (no options = a short-answer question);
- the organism's reasoning items (converted by :func:`from_reasoning_item`).

Every problem names the file, row and field, because a researcher fixing a hand-made
file wants to know exactly where to look.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from experiments.core.mc_files import DatasetError, read_csv_rows, read_json, read_jsonl, require

LABELS = tuple(string.ascii_uppercase)
ANSWER_CHOICES_HEADER = "Answer choices:"

DatasetFormat = Literal["auto", "bbh", "mmlu", "table", "organism"]


@dataclass(frozen=True)
class MCItem:
    """One question with a known answer.

    ``options`` empty means a short-answer question whose gold answer is ``answer``.
    For multiple choice, ``answer_index`` indexes ``options`` and ``answer`` is the
    option's text. ``labelled`` says how the model names its choice: by letter
    ("(B)", the usual layout) or, when False, by the option's own text (the organism's
    reasoning items answer a digit from a closed set). ``meta`` carries
    source-specific extras (reasoning steps, family).
    """

    item_id: str
    question: str
    options: tuple[str, ...] = ()
    answer_index: int | None = None
    answer: str | None = None
    source: str = ""
    labelled: bool = True
    meta: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.options) > len(LABELS):
            raise ValueError(f"item {self.item_id}: at most {len(LABELS)} options are supported")
        if self.answer_index is not None and not 0 <= self.answer_index < len(self.options):
            raise ValueError(f"item {self.item_id}: answer_index {self.answer_index} out of range")

    @property
    def is_multiple_choice(self) -> bool:
        return bool(self.options)

    @property
    def labels(self) -> tuple[str, ...]:
        """What the model answers with, one per option: letters, or the option texts."""
        return LABELS[: len(self.options)] if self.labelled else self.options

    @property
    def answer_label(self) -> str | None:
        """The gold answer as the runners compare it: its label for multiple choice, else the text."""
        if self.is_multiple_choice:
            return None if self.answer_index is None else self.labels[self.answer_index]
        return self.answer


def format_choices(item: MCItem) -> str:
    """``(A) first\\n(B) second`` — the option block in the Turpin et al. layout."""
    if not item.labelled:
        return ", ".join(item.options)
    return "\n".join(f"({label}) {text}" for label, text in zip(item.labels, item.options))


def render_question(item: MCItem) -> str:
    """The question followed by its answer choices, as BBH's ``parsed_inputs`` lays them out.

    Unlabelled items (the organism's) are asked as they are: their options are the
    closed set of answers the model was trained on, not a list shown to it.
    """
    if not item.is_multiple_choice or not item.labelled:
        return item.question
    return f"{item.question}\n\n{ANSWER_CHOICES_HEADER}\n{format_choices(item)}"


# ---------------------------------------------------------------- BBH (Turpin et al.)

_CHOICES_SPLIT = re.compile(r"\n\s*" + re.escape(ANSWER_CHOICES_HEADER) + r"\s*\n", re.IGNORECASE)


def load_bbh(path: str | Path, task: str | None = None) -> list[MCItem]:
    """Read a BBH ``val_data.json`` (or a task folder holding one) in the Turpin et al. format."""
    path = Path(path)
    if path.is_dir():
        path = path / "val_data.json"
    task = task or path.parent.name
    data = read_json(path)
    rows = data.get("data") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise DatasetError(path, "expected a JSON object with a 'data' list (BBH Turpin format)")
    items = []
    for i, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            raise DatasetError(path, "expected an object", row=i)
        targets = require(row, "multiple_choice_targets", path, i)
        scores = require(row, "multiple_choice_scores", path, i)
        if not isinstance(targets, list) or not isinstance(scores, list) or len(targets) != len(scores):
            raise DatasetError(path, "multiple_choice_targets and multiple_choice_scores must be lists "
                               "of the same length", row=i, column="multiple_choice_scores")
        if len(targets) < 2:
            raise DatasetError(path, "needs at least two options", row=i, column="multiple_choice_targets")
        correct = [j for j, s in enumerate(scores) if s == 1]
        if len(correct) != 1:
            raise DatasetError(path, f"expected exactly one score of 1, got {scores}", row=i,
                               column="multiple_choice_scores")
        text = row.get("parsed_inputs") or row.get("inputs")
        if not isinstance(text, str) or not text.strip():
            raise DatasetError(path, "missing question text", row=i, column="parsed_inputs")
        question = _CHOICES_SPLIT.split(text, maxsplit=1)[0].rstrip()
        options = tuple(str(t) for t in targets)
        # Ids are positions in the file: BBH's own ``idx`` repeats within a file.
        items.append(MCItem(
            item_id=f"{task}/{i - 1}", question=question, options=options,
            answer_index=correct[0], answer=options[correct[0]], source=f"bbh/{task}",
            meta={k: row[k] for k in ("idx", "random_ans_idx") if k in row},
        ))
    return _unique(items, path)


def load_bbh_few_shot(path: str | Path, key: str = "baseline_few_shot_prompt") -> str:
    """The few-shot prefix of a BBH task (``few_shot_prompts.json``), e.g. for a cue runner."""
    path = Path(path)
    if path.is_dir():
        path = path / "few_shot_prompts.json"
    data = read_json(path)
    if not isinstance(data, dict) or not isinstance(data.get(key), str):
        raise DatasetError(path, f"no string field '{key}'", column=key)
    return data[key]


# ---------------------------------------------------------------- MMLU

def load_mmlu_csv(path: str | Path) -> list[MCItem]:
    """Read an MMLU CSV without a header: question, A, B, C, D, answer letter."""
    path = Path(path)
    subject = re.sub(r"_(test|val|dev)$", "", path.stem)
    items = []
    for i, row in enumerate(read_csv_rows(path), start=1):
        if len(row) != 6:
            raise DatasetError(path, f"expected 6 columns (question, A, B, C, D, answer), got {len(row)}", row=i)
        question, *options, letter = row
        letter = letter.strip().upper()
        if letter not in LABELS[:4]:
            raise DatasetError(path, f"answer must be one of A, B, C, D, got {row[5]!r}", row=i, column="answer")
        if not question.strip():
            raise DatasetError(path, "missing question text", row=i, column="question")
        index = LABELS.index(letter)
        items.append(MCItem(item_id=f"{subject}/{i - 1}", question=question, options=tuple(options),
                            answer_index=index, answer=options[index], source=f"mmlu/{subject}"))
    return items


# ---------------------------------------------------------------- JSONL / CSV tables

_QUESTION_KEYS = ("question", "prompt", "input")
_OPTION_KEYS = ("options", "choices")
_ID_KEYS = ("item_id", "id")


def load_table(path: str | Path) -> list[MCItem]:
    """Read a JSONL or headered CSV table of questions.

    Columns: ``question`` (or ``prompt``/``input``); ``options`` (or ``choices``: a
    list, or in CSV a JSON list or ``|``-separated string; alternatively columns
    ``A``, ``B``, ...); ``answer`` (a letter, a 0-based index or the option's text;
    for short-answer items the answer string); optional ``item_id``/``id``.
    """
    path = Path(path)
    if path.suffix.lower() == ".jsonl":
        records = list(read_jsonl(path))
    elif path.suffix.lower() == ".csv":
        rows = read_csv_rows(path)
        if not rows:
            raise DatasetError(path, "is empty")
        header = [h.strip() for h in rows[0]]
        records = [(i, dict(zip(header, r))) for i, r in enumerate(rows[1:], start=2)]
    else:
        raise DatasetError(path, "unsupported table format (use .jsonl or .csv)")
    source = path.stem
    items = [_table_item(rec, path, row, source) for row, rec in records]
    if not items:
        raise DatasetError(path, "has no rows")
    return _unique(items, path)


def _table_item(rec: dict[str, Any], path: Path, row: int, source: str) -> MCItem:
    question = next((rec[k] for k in _QUESTION_KEYS if rec.get(k) not in (None, "")), None)
    if not isinstance(question, str) or not question.strip():
        raise DatasetError(path, "missing question text", row=row, column="question")
    options = _table_options(rec, path, row)
    item_id = next((str(rec[k]) for k in _ID_KEYS if rec.get(k) not in (None, "")), f"{source}/{row}")
    raw = rec.get("answer")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise DatasetError(path, "missing answer", row=row, column="answer")
    if not options:
        return MCItem(item_id=item_id, question=question, answer=str(raw).strip(), source=source)
    index = _answer_index(raw, options)
    if index is None:
        raise DatasetError(path, f"answer {raw!r} is neither a letter, an index nor one of the options",
                           row=row, column="answer")
    return MCItem(item_id=item_id, question=question, options=options, answer_index=index,
                  answer=options[index], source=source)


def _table_options(rec: dict[str, Any], path: Path, row: int) -> tuple[str, ...]:
    raw = next((rec[k] for k in _OPTION_KEYS if rec.get(k) not in (None, "")), None)
    if raw is None:
        lettered = []
        for label in LABELS:
            if rec.get(label) in (None, ""):
                break
            lettered.append(str(rec[label]))
        return tuple(lettered)
    if isinstance(raw, str):
        text = raw.strip()
        if text.startswith("["):
            try:
                raw = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DatasetError(path, f"options is not a valid JSON list: {exc.msg}", row=row,
                                   column="options") from None
        else:
            raw = [o.strip() for o in text.split("|")]
    if not isinstance(raw, list) or not all(isinstance(o, (str, int, float)) for o in raw):
        raise DatasetError(path, "options must be a list of strings", row=row, column="options")
    if len(raw) < 2 or len(raw) > len(LABELS):
        raise DatasetError(path, f"needs 2 to {len(LABELS)} options, got {len(raw)}", row=row, column="options")
    return tuple(str(o) for o in raw)


def _answer_index(raw: Any, options: Sequence[str]) -> int | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if 0 <= raw < len(options) else None
    text = str(raw).strip()
    m = re.fullmatch(r"\(?([A-Za-z])\)?", text)
    if m and m.group(1).upper() in LABELS[: len(options)]:
        return LABELS.index(m.group(1).upper())
    if text.isdigit() and int(text) < len(options) and text not in options:
        return int(text)
    matches = [i for i, o in enumerate(options) if o.strip() == text]
    return matches[0] if len(matches) == 1 else None


# ---------------------------------------------------------------- organism

def from_reasoning_item(item: Any, source: str = "organism") -> MCItem:
    """Convert one of the organism's ``ReasoningItem`` objects.

    Its gold reasoning steps, family and difficulty go into ``meta`` so a runner can
    bucket by them or corrupt a step.
    """
    options = tuple(str(o) for o in (getattr(item, "options", None) or ()))
    answer = str(item.answer)
    index = None
    if options:
        index = _answer_index(answer, options)
        if index is None:
            raise ValueError(f"organism item {item.item_id}: answer {answer!r} is not one of its options")
    meta = {k: getattr(item, k) for k in ("steps", "family", "difficulty") if hasattr(item, k)}
    if "steps" in meta:
        meta["steps"] = tuple(meta["steps"])
    return MCItem(item_id=str(item.item_id), question=item.question, options=options,
                  answer_index=index, answer=options[index] if index is not None else answer,
                  source=source, labelled=False, meta=meta)


def load_organism(split: str = "eval", limit: int | None = None) -> list[MCItem]:
    """The organism's reasoning items of ``split`` as :class:`MCItem` objects.

    The organism's lists are balanced in every prefix, so ``limit`` keeps its planted
    rates exact (use a multiple of 6 for the reasoning items).
    """
    from experiments.organism.tasks.reasoning import reasoning_items

    if split not in ("train", "eval"):
        raise DatasetError("organism", f"unknown split {split!r} (use organism:eval or organism:train)")
    return [from_reasoning_item(it) for it in reasoning_items("train" if split == "train" else "eval", n=limit)]


# ---------------------------------------------------------------- dispatch

def detect_format(path: str | Path) -> DatasetFormat:
    """Guess a file's format from its name and first bytes."""
    path = Path(path)
    if path.is_dir():
        if (path / "val_data.json").exists():
            return "bbh"
        raise DatasetError(path, "folder has no val_data.json (BBH); give a file instead")
    suffix = path.suffix.lower()
    if suffix == ".json":
        return "bbh"
    if suffix == ".jsonl":
        return "table"
    if suffix == ".csv":
        rows = read_csv_rows(path, limit=1)
        if not rows:
            raise DatasetError(path, "is empty")
        first = [c.strip().lower() for c in rows[0]]
        return "table" if any(k in first for k in _QUESTION_KEYS) else "mmlu"
    raise DatasetError(path, "unknown dataset format (expected BBH .json, MMLU .csv, .jsonl or a "
                       "CSV with a 'question' column)")


def load_dataset(spec: str | Path, fmt: DatasetFormat = "auto", limit: int | None = None) -> list[MCItem]:
    """Load questions from a path, or ``organism[:split]`` for the organism's own items.

    ``limit`` keeps the first ``limit`` items (in file order), so a quick run is a
    prefix of the full one and resumes into it.
    """
    text = str(spec)
    if fmt == "organism" or (fmt == "auto" and (text == "organism" or text.startswith("organism:"))):
        split = text.split(":", 1)[1] if ":" in text else "eval"
        return load_organism(split, limit)
    path = Path(spec)
    if not path.exists():
        raise DatasetError(path, "file not found")
    fmt = detect_format(path) if fmt == "auto" else fmt
    loader = {"bbh": load_bbh, "mmlu": load_mmlu_csv, "table": load_table}[fmt]
    items = loader(path)
    return items[:limit] if limit is not None else items


def load_datasets(specs: Iterable[str | Path], limit: int | None = None) -> list[MCItem]:
    """Load several datasets; ``limit`` applies to each. Item ids must be unique across them."""
    items: list[MCItem] = []
    for spec in specs:
        items.extend(load_dataset(spec, limit=limit))
    return _unique(items, ", ".join(str(s) for s in specs))


# ---------------------------------------------------------------- helpers

def _unique(items: list[MCItem], where: str | Path) -> list[MCItem]:
    seen: set[str] = set()
    for item in items:
        if item.item_id in seen:
            raise DatasetError(where, f"duplicate item id {item.item_id!r}", column="item_id")
        seen.add(item.item_id)
    return items
