"""Glossary definitions written from what the runs actually did (``run.json``).

A hand-written glossary defines "ablation" once, but the steering runner can ablate by
removing the direction (zero) or by setting its component to the harmless mean, and add
it on the prompt only or on every position. A deck that defines the variant it did not
run misleads; so the terms whose meaning depends on the run's configuration are
defined here from the run's own config and override the file's entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportgen.inputs.recap import Glossary
from reportgen.rundir.reader import Run

_ABLATION = {
    "zero": "Removing the refusal direction from the residual stream at every layer and position "
            "(x ← x − (x·d̂)d̂), as in Arditi et al.",
    "mean": "Setting the residual stream's component along the refusal direction to its mean on harmless "
            "prompts, at every layer and position (mean ablation, not removal).",
}
_ADDITION = {
    "prompt": "Adding the refusal direction to the residual stream at one layer, on the prompt's positions only "
              "(generated tokens are not steered).",
    "all": "Adding the refusal direction to the residual stream at one layer, at every position, generated "
           "tokens included.",
}


def _steering_terms(config: dict[str, Any]) -> dict[str, str]:
    iv = config.get("intervention") or {}
    out = {}
    mode = iv.get("ablation_mode")
    if mode in _ABLATION:
        out["Ablation"] = _ABLATION[mode]
    scope = iv.get("addition_scope")
    if scope in _ADDITION:
        coeff = iv.get("addition_coeff")
        text = _ADDITION[scope]
        if coeff not in (None, 1, 1.0):
            text = text.replace("Adding the refusal direction", f"Adding {coeff} × the refusal direction")
        out["Addition"] = text
    return out


def run_terms(runs: Sequence[Run]) -> dict[str, str]:
    """Term → definition for the configuration-dependent terms of these runs.

    When runs disagree (one mean-ablates, another zero-ablates) both variants are named.
    """
    found: dict[str, list[str]] = {}
    for run in runs:
        info = run.info
        if info is None or getattr(info, "task", None) != "steering":
            continue
        for term, text in _steering_terms(info.config or {}).items():
            if text not in found.setdefault(term, []):
                found[term].append(text)
    return {t: " / ".join(texts) for t, texts in found.items()}


def glossary_for_runs(runs: Sequence[Run], glossary: Glossary | None) -> Glossary | None:
    """The file's glossary with the run-dependent definitions replaced (or added)."""
    terms = run_terms(runs)
    if not terms or glossary is None:
        return glossary
    base = dict(glossary.root)
    lower = {k.lower(): k for k in base}
    for term, text in terms.items():
        base[lower.get(term.lower(), term)] = text
    return Glossary(base)
