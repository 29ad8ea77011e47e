"""Turn an inspect_ai eval log into a tidy run directory, so evals people already ran get a deck.

The log is read only through inspect's documented dataframe API (:mod:`inspect_ai.analysis`:
``evals_df`` for the eval, ``samples_df`` for samples and their scores, ``messages_df`` for
the conversation), never through its internal file layout, so a new log format version is
inspect's concern, not ours. The result is written with :class:`RunWriter`, like a runner's,
and therefore validated against :mod:`reportgen.rundir.schema` before it is marked finished.

Mapping (one eval log = one run directory):

- the eval's task name -> ``experiment``; its model -> ``model``; ``task`` is ``other``;
- each sample (× epoch) -> one ``item_id`` (``<id>`` or ``<id>#<epoch>`` when epochs > 1);
- each scorer ``score_<name>`` -> a metric ``<name>``. Correct/incorrect-style values
  (``C``/``I``/``N``, correct/incorrect, true/false, yes/no, 0/1) become 0/1, so the reporter
  treats them as rates; ``N`` (no answer) counts as 0, as a parse failure would. A scorer
  that also gives ``P`` (partial) is a bounded mean (``P`` = 0.5, bounds 0 and 1), as
  inspect's own accuracy counts it. Any other numeric score stays continuous. A scorer with
  non-numeric values (free text, dicts) is skipped whole; a sample without a value for a
  scorer (an errored sample) gives no row for it. Every skip is listed in ``run.json``
  (``skipped``) and returned to the caller, never silent;
- the conversation before the last assistant message -> ``prompt``, that message ->
  ``completion`` in ``prompts.jsonl`` (``prompt_format: chat``: inspect talks to models in
  chat messages; the provider's template is not in the log, so roles are written as text).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from experiments.core.errors import ExperimentError
from reportgen.rundir.writer import RunWriter

#: Score values read as a success (1) or a failure (0); strings compare case-insensitively.
_ONE = {"c", "correct", "true", "yes", "1", "1.0"}
_ZERO = {"i", "incorrect", "false", "no", "0", "0.0", "n"}
_PARTIAL = {"p", "partial"}
_SCORE_PREFIX = "score_"


class InspectLogError(ExperimentError):
    """An inspect log that cannot be read or holds nothing to import; names the file."""


@dataclass
class ImportResult:
    """What an import wrote and what it left out (and why)."""

    run_dir: Path
    table: pd.DataFrame
    metrics: dict[str, str]
    skipped: list[str] = field(default_factory=list)
    status: str | None = None


def _inspect_version() -> str | None:
    try:
        return metadata.version("inspect_ai")
    except metadata.PackageNotFoundError:
        return None


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False  # lists and dicts: present, though not a scalar score


def _as_number(value: Any) -> float | None:
    """A score's float value when it is a plain number (or a numeric string), else None."""
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value) if math.isfinite(float(value)) else None
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def classify_scores(values: list[Any]) -> tuple[str, dict[int, float]] | str:
    """Map one scorer's non-missing values to floats: ``(kind, {index: value})`` or a skip reason.

    ``kind`` is ``rate`` (all values correct/incorrect-style, 0/1), ``partial`` (those plus
    partial credit) or ``continuous`` (plain numbers).
    """
    labels = [str(v).strip().lower() if isinstance(v, (str, bool, int, float)) else None for v in values]
    if labels and all(lab is not None and lab in _ONE | _ZERO | _PARTIAL for lab in labels):
        kind = "partial" if any(lab in _PARTIAL for lab in labels) else "rate"
        return kind, {i: 1.0 if lab in _ONE else 0.5 if lab in _PARTIAL else 0.0 for i, lab in enumerate(labels)}
    numbers = [_as_number(v) for v in values]
    bad = [v for v, n in zip(values, numbers) if n is None]
    if bad:
        return f"non-numeric values such as {str(bad[0])[:40]!r}"
    return "continuous", {i: float(n) for i, n in enumerate(numbers) if n is not None}


def _read_frames(log: Path) -> tuple[pd.Series, pd.DataFrame, pd.DataFrame]:
    """(the eval's row, samples, messages) via inspect's dataframe API; errors name the file."""
    if not log.is_file():
        raise InspectLogError(f"{log}: inspect log not found")
    try:
        from inspect_ai.analysis import evals_df, messages_df, samples_df
    except ImportError as exc:  # pragma: no cover - inspect-ai is a project dependency
        raise InspectLogError(f"{log}: reading inspect logs needs the inspect-ai package ({exc})") from None
    try:
        evals = evals_df(str(log), quiet=True)
        samples = samples_df(str(log), quiet=True)
        messages = messages_df(str(log), quiet=True)
    except Exception as exc:  # inspect raises zip, JSON and validation errors of many kinds
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InspectLogError(f"{log}: not a readable inspect eval log ({reason[:200]})") from None
    if len(evals) != 1:
        raise InspectLogError(f"{log}: expected one eval in the log, found {len(evals)}")
    if samples.empty:
        raise InspectLogError(f"{log}: the eval holds no samples (status {evals.iloc[0].get('status')})")
    return evals.iloc[0], samples, messages


def _text(value: Any) -> str:
    return "" if _is_missing(value) else str(value)


def _conversations(messages: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Per inspect sample uuid: (prompt = every message before the last assistant one, completion)."""
    out: dict[str, tuple[str, str]] = {}
    if messages.empty:
        return out
    ordered = messages.sort_values(["sample_id", "order"]) if "order" in messages else messages
    for sample_id, g in ordered.groupby("sample_id", sort=False):
        roles = g["role"].tolist()
        contents = [_text(c) for c in g["content"].tolist()]
        last = max((i for i, r in enumerate(roles) if r == "assistant"), default=len(roles))
        prompt = "\n\n".join(f"{r}: {c}" for r, c in zip(roles[:last], contents[:last]))
        out[str(sample_id)] = (prompt, contents[last] if last < len(roles) else "")
    return out


def import_inspect_log(
    log: str | Path, out: str | Path, *, condition: str = "baseline", overwrite: bool = False
) -> ImportResult:
    """Write ``out`` as a tidy run directory from the inspect eval log ``log``.

    Raises :class:`InspectLogError` (naming ``log``) for a missing, unreadable or empty log,
    or when no scorer gives a usable metric; :class:`RunDirError` when ``out`` holds another run.
    """
    log = Path(log)
    ev, samples, messages = _read_frames(log)
    task_name = _text(ev.get("task_name")) or "inspect"
    model = _text(ev.get("model")) or "unknown"
    epochs = int(samples["epoch"].max()) if "epoch" in samples else 1

    skipped: list[str] = []
    metrics: dict[str, str] = {}
    per_metric: dict[str, dict[int, float]] = {}
    for col in [c for c in samples.columns if c.startswith(_SCORE_PREFIX)]:
        name = col[len(_SCORE_PREFIX):]
        present = [i for i, v in enumerate(samples[col].tolist()) if not _is_missing(v)]
        if not present:
            skipped.append(f"score '{name}': no sample has a value")
            continue
        got = classify_scores([samples[col].iloc[i] for i in present])
        if isinstance(got, str):
            skipped.append(f"score '{name}': {got}")
            continue
        kind, values = got
        metrics[name] = kind
        per_metric[name] = {present[j]: v for j, v in values.items()}
        if len(present) < len(samples):
            skipped.append(f"score '{name}': {len(samples) - len(present)} of {len(samples)} samples have no value")
    if not metrics:
        raise InspectLogError(f"{log}: no usable score in the log ({'; '.join(skipped) or 'no scorer ran'})")

    talks = _conversations(messages)
    rows: list[dict[str, Any]] = []
    prompts: list[dict[str, Any]] = []
    for i, s in enumerate(samples.to_dict("records")):
        item = _text(s.get("id"))
        item_id = f"{item}#{s.get('epoch')}" if epochs > 1 else item
        for name, values in per_metric.items():
            if i not in values:
                continue
            row = {"experiment": task_name, "condition": condition, "item_id": item_id,
                   "metric": name, "value": values[i], "epoch": int(s.get("epoch") or 1)}
            if metrics[name] == "partial":
                row.update(lower_bound=0.0, upper_bound=1.0)
            rows.append(row)
        prompt, completion = talks.get(_text(s.get("sample_id")), (_text(s.get("input")), ""))
        prompts.append({"experiment": task_name, "condition": condition, "item_id": item_id,
                        "prompt": prompt, "completion": completion, "prompt_format": "chat",
                        "target": _text(s.get("target")), "error": _text(s.get("error")) or None})

    eval_id = _text(ev.get("eval_id"))
    config = {"source": "inspect_ai", "log": str(log.resolve()), "eval_id": eval_id, "condition": condition}
    writer = RunWriter(out, task="other", model_id=model, config=config, overwrite=overwrite,
                       run_id=f"inspect-{eval_id}" if eval_id else None)
    if writer.finished:
        return ImportResult(Path(out), writer.read(), metrics, list(writer.info.get("skipped", [])),
                            writer.info.get("inspect_status"))
    if not writer.resumed:  # an import killed after appending only needs finishing
        writer.append(rows, prompts)
    table = writer.finish(
        source_log=str(log.resolve()),
        inspect_eval_id=eval_id,
        inspect_run_id=_text(ev.get("run_id")) or None,
        inspect_task=task_name,
        inspect_status=_text(ev.get("status")) or None,
        inspect_created=_text(ev.get("created")) or None,
        inspect_log_packages=_text(ev.get("packages")) or None,
        inspect_version=_inspect_version(),
        metric_kinds=metrics,
        skipped=skipped,
    )
    return ImportResult(Path(out), table, metrics, skipped, _text(ev.get("status")) or None)
