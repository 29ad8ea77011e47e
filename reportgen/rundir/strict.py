"""The one strict pydantic base for user-written YAML (deck.yaml, abstract.yaml, claims).

Unknown keys are errors, so a misspelt field is reported with its path instead of being
silently ignored; frozen, because a spec is read once and then only passed around.
It lives in the seam package so runners' configs can share it (issue 15).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Strict(BaseModel):
    """Base model: ``extra="forbid"`` and frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
