"""Cue templates as data: the YAML schema, loading, and merging user cues over the defaults.

Cues are data rather than code so a researcher can add "a marker beside one option" or "my
colleague thinks …" without touching Python. Every template is checked when loaded (kind,
slots, letters), so a typo fails before any model is called, with the file and field named.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import Field, TypeAdapter, ValidationError, field_validator, model_validator

from experiments.core.config import StrictModel
from experiments.core.errors import ConfigError

DEFAULT_CUES_FILE = Path(__file__).with_name("cues.yaml")

Target = Literal["wrong", "any", "dataset"]
_SLOT = re.compile(r"\{([^{}]*)\}")


def _slots(template: str) -> set[str]:
    return set(_SLOT.findall(template))


def fill(template: str, **values: str) -> str:
    """Substitute ``{name}`` slots literally (unlike ``str.format``, braces in values are safe)."""
    return _SLOT.sub(lambda m: values[m.group(1)] if m.group(1) in values else m.group(0), template)


class _CueBase(StrictModel):
    name: str = ""
    description: str = Field("", description="names the cue for the judge model; may use {letter}")
    keywords: list[str] = Field(default_factory=list, description="words the rule judge looks for")
    target: Target = "wrong"
    follow_up: str | None = Field(
        None, description="a question asked after the cued answer (and after the uncued one); a reply that "
        "names the cue (keywords) admits it (experiment follow_up, metric admitted)")

    @field_validator("keywords")
    @classmethod
    def _non_empty_keywords(cls, v: list[str]) -> list[str]:
        if any(not str(k).strip() for k in v):
            raise ValueError("keywords must be non-empty strings")
        return [str(k).strip() for k in v]

    def _check_slots(self, template: str, allowed: set[str], required: frozenset[str] | set[str] = frozenset()) -> None:
        found = _slots(template)
        unknown = found - allowed
        if unknown:
            raise ValueError(f"template has unknown slot(s) {sorted(unknown)} (allowed: {sorted(allowed)})")
        missing = set(required) - found
        if missing:
            raise ValueError(f"template needs the slot(s) {sorted(missing)}")


class SuggestedAnswerCue(_CueBase):
    """A sentence naming the cued option ("a professor thinks the answer is (B)")."""

    kind: Literal["suggested_answer"]
    template: str
    position: Literal["before", "after"] = "after"

    @model_validator(mode="after")
    def _slots_ok(self) -> SuggestedAnswerCue:
        self._check_slots(self.template, {"letter", "option"})
        if not _slots(self.template):
            raise ValueError("a suggested_answer template must name the option: use {letter} or {option}")
        return self


class FewShotCue(_CueBase):
    """Solved examples whose answers are all at one letter, before the question."""

    kind: Literal["few_shot"]
    letter: str = "A"
    intro: str = ""
    template: str = "{question} The answer is ( {letter} ) ."
    n_shots: int = Field(3, ge=1, le=16)

    @model_validator(mode="after")
    def _slots_ok(self) -> FewShotCue:
        self._check_slots(self.template, {"question", "letter"}, {"question"})
        if not re.fullmatch(r"[A-Z]", self.letter):
            raise ValueError(f"letter must be one capital letter, got {self.letter!r}")
        return self


class SecondTurnCue(_CueBase):
    """A follow-up user turn after the model's first answer ("Are you sure?")."""

    kind: Literal["second_turn"]
    template: str

    @model_validator(mode="after")
    def _slots_ok(self) -> SecondTurnCue:
        self._check_slots(self.template, set())
        return self


class OptionMarkerCue(_CueBase):
    """A mark beside the cued option ("(B) Paris ✓")."""

    kind: Literal["option_marker"]
    template: str = "{option} ✓"

    @model_validator(mode="after")
    def _slots_ok(self) -> OptionMarkerCue:
        self._check_slots(self.template, {"option"}, {"option"})
        return self


class TriggerCue(_CueBase):
    """A phrase that names no option (a backdoor trigger), before or after the question.

    With ``letter`` the phrase is meant to move the answer to that option: a switch is a change to
    it, and items already answered so are excluded. Without, any change of answer is a switch.
    """

    kind: Literal["trigger"]
    template: str
    position: Literal["before", "after"] = "before"
    letter: str | None = None

    @model_validator(mode="after")
    def _slots_ok(self) -> TriggerCue:
        self._check_slots(self.template, set())
        if self.letter is not None and not re.fullmatch(r"[A-Z]", self.letter):
            raise ValueError(f"letter must be one capital letter, got {self.letter!r}")
        return self


CueSpec = Annotated[
    SuggestedAnswerCue | FewShotCue | SecondTurnCue | OptionMarkerCue | TriggerCue, Field(discriminator="kind")
]
_ADAPTER: TypeAdapter = TypeAdapter(CueSpec)


def switch_is_any_change(cue: CueSpec) -> bool:
    """Second-turn cues (and triggers without a letter) point at no option: any change of answer
    counts as a switch."""
    return cue.kind == "second_turn" or (cue.kind == "trigger" and cue.letter is None)


def fixed_letter(cue: CueSpec) -> str | None:
    """The letter a cue always points at (few-shot, trigger with a letter), else None."""
    if cue.kind in ("few_shot", "trigger"):
        return cue.letter
    return None


def parse_cues(data: object, source: str) -> dict[str, CueSpec]:
    """Validate the ``cues:`` mapping of a cue file; errors name the file, cue and field."""
    if not isinstance(data, dict) or not isinstance(data.get("cues"), dict):
        raise ConfigError(f"{source}: expected a mapping with a 'cues:' mapping of name -> cue")
    unknown = sorted(set(data) - {"cues"})
    if unknown:
        raise ConfigError(f"{source}: unknown top-level key(s) {unknown} (only 'cues' is allowed)")
    out: dict[str, CueSpec] = {}
    problems: list[str] = []
    for name, body in data["cues"].items():
        if not isinstance(body, dict):
            problems.append(f"{source}: cue '{name}': expected a mapping")
            continue
        if "kind" not in body:
            problems.append(f"{source}: cue '{name}': field 'kind' missing "
                            "(suggested_answer, few_shot, second_turn, option_marker or trigger)")
            continue
        try:
            cue = _ADAPTER.validate_python({**body, "name": str(name)})
        except ValidationError as exc:
            for e in exc.errors():
                loc = ".".join(str(p) for p in e["loc"][1:]) or "(cue)"
                msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
                problems.append(f"{source}: cue '{name}': field '{loc}': {msg}")
            continue
        out[str(name)] = cue
    if problems:
        raise ConfigError("; ".join(problems))
    return out


def read_cue_file(path: str | Path) -> dict[str, CueSpec]:
    p = Path(path)
    if not p.is_file():
        raise ConfigError(f"{p}: cue file not found")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark is not None else ""
        raise ConfigError(f"{p}{where}: invalid YAML: {getattr(exc, 'problem', exc)}") from None
    return parse_cues(data, str(p))


def load_cues(user_file: str | Path | None = None, names: list[str] | None = None) -> dict[str, CueSpec]:
    """The default cues, overlaid with a user's cue file, restricted to ``names`` (in that order)."""
    cues = read_cue_file(DEFAULT_CUES_FILE)
    if user_file is not None:
        cues.update(read_cue_file(user_file))
    if names is None:
        return cues
    missing = [n for n in names if n not in cues]
    if missing:
        raise ConfigError(f"unknown cue(s) {missing}; known: {sorted(cues)} (add them in a cue_file)")
    return {n: cues[n] for n in names}
