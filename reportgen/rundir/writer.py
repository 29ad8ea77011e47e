"""Writing a run directory to the tidy-results schema, batch by batch, resumably.

While a run is in progress every batch of rows and prompt records is appended as *one*
line of ``.journal.jsonl`` in the run directory, flushed and fsynced: a kill loses at most
the batch being computed, and a torn last line (killed mid-write) is ignored on resume.
Each batch carries the *keys* of the work units it completes; on rerun the writer reads the
journal back and the runner skips every key in :attr:`RunWriter.done`, so no row is ever
written twice. :meth:`RunWriter.finish` turns the journal into the files of the contract
(``results.parquet``, an identical ``results.csv``, ``prompts.jsonl``, ``run.json``),
validates the table with :func:`reportgen.rundir.schema.validate_results`, and only then stamps
``finished_at``.

A run directory has one writer at a time (:mod:`reportgen.rundir.runlock`) and belongs to one
config: reopening it with a config of a different hash is a :class:`RunDirError` (never a silent mix of two configs' rows), unless ``overwrite=True``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import shutil
import subprocess
import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ValidationError

from reportgen.rundir.errors import RunDirError
from reportgen.rundir.files import write_info, write_prompts, write_table
from reportgen.rundir.runlock import hold_run_lock
from reportgen.rundir.schema import (
    COLUMNS,
    FORMAT_VERSION,
    PROMPTS_JSONL,
    RESULTS_CSV,
    RESULTS_PARQUET,
    RUN_JSON,
    SAMPLE_COLUMN,
    TASKS,
    PromptRecord,
    RunInfo,
    validate_results,
)
from reportgen.rundir.strict import config_hash

JOURNAL = ".journal.jsonl"
_REQUIRED_ROW_KEYS = ("experiment", "condition", "item_id", "metric", "value")
_LIBRARIES = ("torch", "transformers", "tokenizers", "numpy", "pandas", "pydantic", "reportgen")


def unit_key(experiment: str, condition: str, item_id: str, x: float | None = None, group: str | None = None,
             sample: int = 0) -> str:
    """The key of one unit of work: an item under one experiment and condition (and x/group),
    and which of its samples (``sample`` column); sample 0 keeps the key journals had before
    samples existed, so older unfinished runs resume."""
    xv = None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)
    parts: list[Any] = [experiment, condition, str(item_id), xv, group]
    if sample:
        parts.append(int(sample))
    return json.dumps(parts, separators=(",", ":"))


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def git_state(start: Path | None = None) -> tuple[str | None, bool | None]:
    """(commit sha, whether tracked files differ from it) of the code, or (None, None)."""
    cwd = start or Path(__file__).resolve().parent
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=cwd, capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=cwd, capture_output=True, text=True, timeout=10, check=True,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None, None
    return sha or None, bool(dirty)


def library_versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


class RunWriter:
    """Append-only, resumable writer of one run directory.

    Args:
        run_dir: the directory (created if missing).
        task: one of :data:`reportgen.rundir.schema.TASKS`.
        model_id: the model name as the user gave it; fills the ``model`` column.
        config: the validated config (pydantic model or dict); hashed to guard resumes.
        run_id: defaults to ``<dir name>-<timestamp>``; kept across resumes.
        overwrite: discard an existing run in ``run_dir`` (only the files this writer owns).
        info: extra ``run.json`` fields (e.g. ``model_revision``, ``dtype``, ``device``,
            ``seed``); more can be added later with :meth:`update_info`.

    Typical use::

        w = RunWriter(out, task="steering", model_id=cfg.model, config=cfg)
        if w.finished: return w.read()
        for batch in batches:
            todo = [it for it in batch if unit_key(exp, cond, it.item_id) not in w.done]
            ...compute...
            w.append(rows, prompts)          # keys derived from the rows
        w.finish()
    """

    def __init__(
        self,
        run_dir: str | Path,
        *,
        task: str,
        model_id: str,
        config: BaseModel | Mapping[str, Any],
        run_id: str | None = None,
        overwrite: bool = False,
        info: Mapping[str, Any] | None = None,
    ):
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        self.run_dir = Path(run_dir)
        self.task = task
        self.model_id = model_id
        self.config = config.model_dump(mode="json") if isinstance(config, BaseModel) else dict(config)
        self.config_hash = config_hash(self.config)
        self.done: set[str] = set()
        self._rows: list[dict[str, Any]] = []
        self._prompts: list[dict[str, Any]] = []
        self.finished = False
        try:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise RunDirError(f"{self.run_dir}: cannot create run directory: {exc.strerror}") from None
        hold_run_lock(self.run_dir)
        if overwrite:
            self._clear()
        existing = self._existing_info()
        if existing is not None:
            # A resumed run is rewritten in this writer's layout (journal and files unchanged).
            self.info = {**existing, "format_version": FORMAT_VERSION}
            self.finished = existing.get("finished_at") is not None
            self._load_journal()
        else:
            sha, dirty = git_state()
            self.info = {
                "run_id": run_id or f"{self.run_dir.resolve().name}-{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:4]}",
                "format_version": FORMAT_VERSION,
                "task": task,
                "git_sha": sha,
                "git_dirty": dirty,
                "model_id": model_id,
                "config": self.config,
                "config_hash": self.config_hash,
                "library_versions": library_versions(),
                "started_at": _now(),
                "finished_at": None,
            }
        self.info.update(dict(info or {}))
        if not self.finished:
            self._write_run_json()

    # ------------------------------------------------------------------ state
    @property
    def run_id(self) -> str:
        return self.info["run_id"]

    @property
    def resumed(self) -> bool:
        """Whether earlier batches were found (the run continues where it stopped)."""
        return bool(self.done)

    def is_done(self, experiment: str, condition: str, item_id: str, x: float | None = None, group: str | None = None,
                sample: int = 0) -> bool:
        return unit_key(experiment, condition, item_id, x, group, sample) in self.done

    def prompt_records(self, experiment: str | None = None, condition: str | None = None) -> list[dict[str, Any]]:
        """Prompt records written so far (this run and resumed batches), optionally filtered.

        Lets a later stage reuse earlier completions (e.g. cross-entropy on baseline answers)
        without regenerating them after a resume.
        """
        return [
            r for r in self._prompts
            if (experiment is None or r["experiment"] == experiment)
            and (condition is None or r["condition"] == condition)
        ]

    def path(self, name: str) -> Path:
        """Path of an extra artifact in the run directory (e.g. ``direction.pt``).

        The name is recorded in ``run.json`` (``artifacts``) so ``overwrite`` removes it too.
        """
        artifacts = self.info.setdefault("artifacts", [])
        if name not in artifacts:
            artifacts.append(name)
            self._write_run_json()
        return self.run_dir / name

    def update_info(self, **fields: Any) -> None:
        """Add provenance fields to ``run.json`` (model revision, dtype, device, seed…)."""
        self.info.update(fields)
        self._write_run_json()

    def _existing_info(self) -> dict[str, Any] | None:
        path = self.run_dir / RUN_JSON
        if not path.exists():
            stray = [n for n in (RESULTS_PARQUET, RESULTS_CSV, PROMPTS_JSONL, JOURNAL) if (self.run_dir / n).exists()]
            if stray:
                raise RunDirError(
                    f"{self.run_dir}: holds {', '.join(stray)} but no {RUN_JSON}; "
                    "choose another output directory or pass --overwrite"
                )
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise RunDirError(f"{path}: unreadable ({exc}); choose another output directory or pass --overwrite") from None
        if data.get("config_hash") != self.config_hash:
            if not (self.run_dir / JOURNAL).exists() and not data.get("artifacts") and not data.get("finished_at"):
                # A run that stopped before computing anything (e.g. a mistyped model name):
                # nothing would be lost, so the new config simply starts afresh.
                return None
            state = "a finished" if data.get("finished_at") else "an unfinished"
            raise RunDirError(
                f"{self.run_dir}: holds {state} run with a different config "
                f"(hash {data.get('config_hash')} vs {self.config_hash}); "
                "use another output directory, or --overwrite to discard it"
            )
        version = data.get("format_version", 0)
        if not isinstance(version, int) or version > FORMAT_VERSION:
            raise RunDirError(
                f"{path}: written by a newer reportgen: format_version {version} > {FORMAT_VERSION}; "
                "upgrade reportgen, use another output directory, or --overwrite to discard it"
            )
        if data.get("task") not in (None, self.task):
            raise RunDirError(f"{self.run_dir}: holds a {data.get('task')} run, not {self.task}")
        return data

    def _clear(self) -> None:
        """Delete the files a previous run wrote here (its own artifacts included), nothing else."""
        artifacts: list[str] = []
        with contextlib.suppress(OSError, json.JSONDecodeError, AttributeError):
            artifacts = list(json.loads((self.run_dir / RUN_JSON).read_text(encoding="utf-8")).get("artifacts", []))
        for name in (RESULTS_PARQUET, RESULTS_CSV, PROMPTS_JSONL, RUN_JSON, JOURNAL, *artifacts):
            target = self.run_dir / name
            if target.is_dir():
                shutil.rmtree(target)
            else:
                target.unlink(missing_ok=True)

    def _load_journal(self) -> None:
        path = self.run_dir / JOURNAL
        if not path.exists():
            return
        data = path.read_bytes()
        keep = data.rfind(b"\n") + 1
        if keep < len(data):
            # A batch torn by a kill mid-write (maybe inside a UTF-8 character): cut it off,
            # so the next batch starts on a line of its own instead of gluing onto it.
            with path.open("r+b") as fh:
                fh.truncate(keep)
        for line in data[:keep].decode("utf-8").split("\n"):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a damaged line: its work is recomputed on this run
            self.done.update(entry["keys"])
            self._rows.extend(entry["rows"])
            self._prompts.extend(entry["prompts"])

    # ------------------------------------------------------------------ writing
    def _row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        missing = [k for k in _REQUIRED_ROW_KEYS if k not in row]
        if missing:
            raise ValueError(f"row {dict(row)} lacks {missing}")
        value = float(row["value"])
        if not math.isfinite(value):
            raise ValueError(f"row {dict(row)} has a non-finite value")
        out = {"task": self.task, "model": self.model_id, "run_id": self.run_id, **row}
        out["item_id"] = str(out["item_id"])
        out["value"] = value
        if out.get("x") is not None:
            out["x"] = float(out["x"])
        if out.get(SAMPLE_COLUMN) is not None:
            out[SAMPLE_COLUMN] = int(out[SAMPLE_COLUMN])
        return out

    def _prompt(self, rec: Mapping[str, Any]) -> dict[str, Any]:
        data = {"model": self.model_id, **rec}
        data["item_id"] = str(data["item_id"])
        try:
            return PromptRecord.model_validate(data).model_dump(mode="json", exclude_none=False)
        except ValidationError as exc:
            raise ValueError(f"invalid prompt record: {exc}") from None

    def append(
        self,
        rows: Sequence[Mapping[str, Any]],
        prompts: Sequence[Mapping[str, Any]] = (),
        keys: Iterable[str] | None = None,
    ) -> None:
        """Durably append one batch. ``keys`` default to the rows' and prompts' unit keys.

        Raises ``ValueError`` if a key was already written: the runner forgot to skip it.
        """
        if self.finished:
            raise RunDirError(f"{self.run_dir}: run already finished")
        rows_out = [self._row(r) for r in rows]
        prompts_out = [self._prompt(p) for p in prompts]
        if keys is None:
            keys = {unit_key(r["experiment"], r["condition"], r["item_id"], r.get("x"), r.get("group"),
                             r.get(SAMPLE_COLUMN) or 0) for r in rows_out}
            keys |= {unit_key(p["experiment"], p["condition"], p["item_id"], p.get("x"), p.get("group"),
                              p.get(SAMPLE_COLUMN) or 0) for p in prompts_out}
        keys = sorted(set(keys))
        again = [k for k in keys if k in self.done]
        if again:
            raise ValueError(f"work already written for {again[:3]}; skip keys in writer.done")
        line = json.dumps({"keys": keys, "rows": rows_out, "prompts": prompts_out}, ensure_ascii=False)
        with (self.run_dir / JOURNAL).open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        self.done.update(keys)
        self._rows.extend(rows_out)
        self._prompts.extend(prompts_out)

    # ------------------------------------------------------------------ finishing
    def table(self) -> pd.DataFrame:
        """The rows so far as a table in canonical column order (extra columns last)."""
        df = pd.DataFrame(self._rows)
        if df.empty:
            return pd.DataFrame(columns=list(COLUMNS))
        for col in ("x", "group"):
            if col not in df.columns:
                df[col] = None
        df["x"] = pd.to_numeric(df["x"], errors="coerce").astype("float64")
        if SAMPLE_COLUMN in df.columns:
            df[SAMPLE_COLUMN] = df[SAMPLE_COLUMN].fillna(0).astype("int64")
        extra = [c for c in df.columns if c not in COLUMNS]
        return df[[*COLUMNS, *extra]]

    def finish(self, **info: Any) -> pd.DataFrame:
        """Write the contract's files, validated, and mark the run finished; return the table."""
        df = self.table()
        # A prompt_format column tells apart the same observation under chat and completion.
        ident = ["experiment", "condition", "item_id", "metric", "x", "group",
                 *(c for c in ("prompt_format", SAMPLE_COLUMN) if c in df.columns)]
        dup = df[df.duplicated(subset=ident, keep=False)]
        if not dup.empty:
            raise RuntimeError(f"duplicate rows for {dup[ident].drop_duplicates().head(3).to_dict('records')}")
        df = validate_results(df, str(self.run_dir / RESULTS_PARQUET))[list(df.columns)]
        write_table(self.run_dir, df)
        write_prompts(self.run_dir, self._prompts)
        self.info.update(info)
        self.info["finished_at"] = _now()
        RunInfo.model_validate(self.info)
        self._write_run_json()
        self.finished = True
        return df

    def read(self) -> pd.DataFrame:
        """The finished run's table (as written)."""
        return pd.read_parquet(self.run_dir / RESULTS_PARQUET)

    def _write_run_json(self) -> None:
        write_info(self.run_dir, self.info)
