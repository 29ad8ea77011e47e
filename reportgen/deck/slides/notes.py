"""Speaker notes: where the numbers on a slide come from, enough to reproduce them.

A mentor who asks "which commit, which model, how many items?" gets the answer from the
notes under the slide, not from the presenter's memory; synthetic example data says so
first, so it can never pass for a model run.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen.chart.spec import ChartSpec
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import PromptRecord


def provenance_notes(run: Run, chart: ChartSpec | None = None, record: PromptRecord | None = None) -> str:
    """Speaker notes: where the numbers on the slide come from, enough to reproduce them."""
    info = run.info
    lines = [f"Run: {run.run_id} ({run.path})"]
    if info is not None and is_synthetic(run):
        lines.insert(0, "SYNTHETIC EXAMPLE DATA, not a model run: " + str((info.model_extra or {}).get("note", "")))
    if info is not None:
        sha = info.git_sha or "unknown"
        if info.git_dirty:
            sha += " (uncommitted changes)"
        lines.append(f"Git: {sha}")
        model = info.model_id or (chart.model if chart else "unknown")
        if info.model_label and info.model_label != model:
            model = f"{info.model_label} ({model})"
        if info.model_revision:
            model += f" @ {info.model_revision}"
        lines.append(f"Model: {model}")
        extra = [f"{k}={v}" for k, v in (("dtype", info.dtype), ("device", info.device), ("seed", info.seed)) if v is not None]
        if extra:
            lines.append("Numerics: " + ", ".join(extra))
        if info.config_hash:
            lines.append(f"Config hash: {info.config_hash}")
        if info.started_at or info.finished_at:
            lines.append(f"Ran: {info.started_at or '?'} → {info.finished_at or 'unfinished'}")
    else:
        lines.append("Git: unknown (no run.json)")
        if chart is not None:
            lines.append(f"Model: {chart.model}")
    if chart is not None:
        lines.append(f"Experiment: {chart.experiment} ({chart.task}), metric: {chart.metric}")
        lines.append(f"n: {chart.n_total} observations on this chart. {chart.footnote}")
        lines.append(f"Chart id: {chart.chart_id}")
    if record is not None:
        lines.append(
            f"Prompt: item {record.item_id}, condition {record.condition}, format {record.prompt_format}, "
            f"{len(record.prompt)} characters"
            + (f", parsed answer {record.parsed_answer!r}" if record.parsed_answer is not None else "")
        )
    return "\n".join(lines)


def is_synthetic(run: Run) -> bool:
    """Whether run.json marks the run as generated example data (``synthetic: true``)."""
    return bool(run.info is not None and (run.info.model_extra or {}).get("synthetic"))


def title_notes(runs: Sequence[Run], models: Sequence[str]) -> str:
    """The title slide's notes: every run in the deck with its commit and size, and the models."""
    lines = [f"Runs in this deck: {len(runs)}"]
    for r in runs:
        sha = (r.info.git_sha or "unknown") if r.info else "unknown"
        lines.append(f"- {r.run_id}: git {sha}, {len(r.results)} result rows, {len(r.prompts)} prompts ({r.path})")
    lines.append("Models: " + ", ".join(models))
    return "\n".join(lines)
