"""Last week's takeaways and the jargon glossary: the two YAML files that open a deck.

A weekly deck starts by reminding the mentor what was concluded last week and what the
jargon means. Both come from small YAML files the researcher keeps next to their runs:

``takeaways.yaml`` (also what :func:`write_takeaways` emits next to each new deck, so
this week's deck becomes next week's recap)::

    week: 2025-W23            # optional
    takeaways:
      - Ablating the refusal direction drops refusal from 98% to 3%
      - text: Forcing an early answer keeps 40% of answers
        experiment: early_answering   # optional provenance
        run_id: trunc-2025-06-02

``glossary.yaml`` (a plain mapping, term → one-line definition)::

    refusal direction: Difference of mean activations on harmful vs harmless prompts.
    AOC: Area over the early-answering curve; 0 = the reasoning is not used.

Errors name the file and the field (``takeaways.yaml: takeaways[1].text: …``)
so a typo is found without reading a traceback.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, RootModel, field_validator, model_validator

from reportgen.inputs.deck_yaml import SpecError
from reportgen.rundir.atomic import write_text_atomic
from reportgen.rundir.strict import load_yaml_model


class Takeaway(BaseModel):
    """One sentence a mentor should remember, with where it came from."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1)
    experiment: str | None = None
    run_id: str | None = None


class Takeaways(BaseModel):
    model_config = ConfigDict(extra="forbid")

    week: str | None = None
    takeaways: list[Takeaway] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _bare_list(cls, value: Any) -> Any:
        # A file that is just a list of sentences is a fine takeaways file.
        return {"takeaways": value} if isinstance(value, list) else value

    @field_validator("takeaways", mode="before")
    @classmethod
    def _plain_strings(cls, value: Any) -> Any:
        # A bare sentence is the common case; accept it as {text: sentence}.
        if isinstance(value, list):
            return [{"text": v} if isinstance(v, str) else v for v in value]
        return value

    @field_validator("week", mode="before")
    @classmethod
    def _week_as_text(cls, value: Any) -> Any:
        # YAML reads `week: 23` as an int and `week: 2025-06-02` as a date.
        return None if value is None else str(value)


class Glossary(RootModel[dict[str, str]]):
    """Term → definition, in the order written."""

    @field_validator("root", mode="before")
    @classmethod
    def _strip(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k).strip(): v for k, v in value.items()}
        return value

    def terms_in(self, text: str) -> list[tuple[str, str]]:
        """The entries whose term occurs in ``text`` (whole words, case-insensitive).

        A glossary slide that explains terms the deck never uses is noise, so the deck
        only lists what its own slides mention.
        """
        found = []
        for term, definition in self.root.items():
            if term and re.search(rf"(?<!\w){re.escape(term)}(?!\w)", text, flags=re.IGNORECASE):
                found.append((term, definition))
        return found


def load_takeaways(path: Path | str) -> Takeaways:
    return load_yaml_model(path, Takeaways, error=SpecError)


def load_glossary(path: Path | str) -> Glossary:
    return load_yaml_model(path, Glossary, error=SpecError)


def write_takeaways(path: Path | str, takeaways: Takeaways) -> Path:
    """Write ``takeaways.yaml`` atomically: next week's ``--recap`` input."""
    data = takeaways.model_dump(exclude_none=True)
    return write_text_atomic(path, yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100))
