"""Hypothetical-abstract drafts ("paper speedruns") rendered to Markdown with Jinja2.

The spec (``abstract.yaml``) holds the prose of an abstract — question, method, result,
implication, and why it would be interesting — plus :class:`~reportgen.numbers.claims.Claim`
objects: the numbers, with a guess and a rule to measure each from tidy results. Prose
refers to a claim as ``{claim_id}``; the draft puts in the measured number when
``--results`` are given and the claim can be measured, else the guess, visibly marked
``≈58%*(hypothetical)*`` under a banner. With both, a "hypothesis vs measured" table
shows them side by side (and a verdict where the claim has an ``expect`` rule).

User text is passed to the template as *data*, never compiled as a template, so a
prompt or sentence containing ``{{ }}`` or ``{% %}`` appears literally. The template
uses StrictUndefined: a misspelt variable is an error naming the template and the
name, not a silently empty paragraph.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
from pydantic import Field, field_validator, model_validator

from reportgen import __version__
from reportgen.deck.textnorm import normalize_text
from reportgen.inputs.deck_yaml import SpecError
from reportgen.numbers.claims import Claim, ClaimError, Measured, format_quantity, measure_claim, verdict
from reportgen.rundir.errors import UserError
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import PromptRecord
from reportgen.rundir.strict import Strict as _Strict
from reportgen.rundir.strict import load_yaml_model

DEFAULT_TEMPLATE = "abstract.md.j2"


def _template_dir() -> Path:
    """Where the default template is: inside the package in an installed wheel (setup.py ships
    ``templates/`` as ``reportgen/templates``), at the repository's top in a source checkout."""
    here = Path(__file__).resolve().parents[1]
    installed = here / "templates"
    return installed if (installed / DEFAULT_TEMPLATE).is_file() else here.parent / "templates"


TEMPLATES = _template_dir()
#: ``{claim_id}`` in prose; doubled braces (``{{x}}``) are never a reference.
_REFERENCE = re.compile(r"(?<!\{)\{([A-Za-z_][A-Za-z0-9_]*)\}(?!\})")


class AbstractError(UserError):
    """The draft cannot be rendered (template or spec problem); the message says where."""


class ExamplePrompt(_Strict):
    """The prompt to quote: one from the results (matched by these fields) or literal text."""

    experiment: str | None = None
    condition: str | None = None
    group: str | None = None
    item_id: str | None = None
    run: str | None = None
    metric: str | None = Field(None, description="quote an item whose `metric` has `value` (e.g. switched: 1)")
    value: float | None = None
    text: str | None = Field(None, description="a literal prompt, e.g. before any run exists")

    @model_validator(mode="after")
    def _metric_and_value(self) -> ExamplePrompt:
        if (self.metric is None) != (self.value is None):
            raise ValueError("give metric and value together (e.g. metric: switched, value: 1)")
        return self

    @field_validator("item_id", mode="before")
    @classmethod
    def _str(cls, v: Any) -> Any:
        return None if v is None else str(v)

    @model_validator(mode="after")
    def _something(self) -> ExamplePrompt:
        if self.text is None and self.experiment is None:
            raise ValueError("give 'text' or at least 'experiment' (to pick a prompt from the results)")
        return self


class AbstractSpec(_Strict):
    """``abstract.yaml``. Prose fields may reference claims as ``{claim_id}``."""

    title: str = Field(min_length=1)
    authors: str | None = None
    question: str = Field(min_length=1, description="what we ask")
    method: str = Field(min_length=1, description="how we measure it")
    result: str = Field(min_length=1, description="what we find, with {claim} numbers")
    implication: str = Field(min_length=1, description="why it matters")
    interesting: list[str] = Field(
        default_factory=list, description="'Is this interesting?': reasons it would (or would not) be"
    )
    claims: list[Claim] = Field(default_factory=list)
    example_prompt: ExamplePrompt | None = None

    @field_validator("interesting", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return [v] if isinstance(v, str) else v

    @model_validator(mode="after")
    def _references(self) -> AbstractSpec:
        ids = [c.id for c in self.claims]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"claim ids must be unique; repeated: {', '.join(dupes)}")
        known = set(ids)
        for name in ("question", "method", "result", "implication"):
            _check_refs(name, getattr(self, name), known)
        for i, text in enumerate(self.interesting):
            _check_refs(f"interesting[{i}]", text, known)
        return self


def _check_refs(field: str, text: str, known: set[str]) -> None:
    unknown = [r for r in _REFERENCE.findall(text) if r not in known]
    if unknown:
        have = ", ".join(sorted(known)) or "none defined"
        raise ValueError(f"{field}: unknown claim {{{unknown[0]}}} (claims: {have})")


def load_abstract_spec(path: Path | str) -> AbstractSpec:
    return load_yaml_model(path, AbstractSpec, error=SpecError)


# ------------------------------------------------------------------ Markdown helpers


def fence(text: str, info: str = "text") -> str:
    """A fenced code block whose fence is longer than any backtick run inside ``text``."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    bars = "`" * max(3, longest + 1)
    body = text if text.endswith("\n") else text + "\n"
    return f"{bars}{info}\n{body}{bars}"


def md_cell(text: Any) -> str:
    """Text safe inside a Markdown table cell: one line, pipes escaped."""
    return re.sub(r"\s*\n\s*", " ", str(text)).replace("|", "\\|")


# ------------------------------------------------------------------ the draft


def _hypothetical_text(claim: Claim, unit_hint: str | None = None) -> str:
    q = claim.hypothetical
    assert q is not None
    unit = q.unit if unit_hint is None else unit_hint
    # "≈", not "~": GitHub renders a pair of single tildes as strikethrough.
    return f"≈{format_quantity(q.value, unit, claim.is_difference)}*(hypothetical)*"  # type: ignore[arg-type]


def _reconcile_unit(claim: Claim, measured: Measured, where: str) -> None:
    """A guess must be in the same kind of unit as the measurement it is compared with."""
    q = claim.hypothetical
    if q is None:
        return
    if measured.unit == "percent" and q.unit == "number" and abs(q.value) > 1:
        raise ClaimError(f"{where}: the measure is a rate; write the hypothetical value as a percentage "
                         f"(e.g. {q.value:g}%) or a fraction")
    if measured.unit == "number" and q.unit == "percent":
        raise ClaimError(f"{where}: the measure is a mean, not a rate; write the hypothetical value as a number")


def build_context(
    spec: AbstractSpec,
    runs: Sequence[Run] | None = None,
    source: str = "abstract.yaml",
    today: dt.date | None = None,
) -> dict[str, Any]:
    """Everything the template shows, as plain strings and lists (pure).

    With ``runs``, every claim that has a ``measure`` is measured (an unmeasurable
    claim is an error naming it, not a silent fall-back to the guess); claims without
    a measure keep their hypothetical value.

    Keys (templates and :func:`reportgen.weekly.lint.lint_abstract` rely on them): ``title``,
    ``authors``, ``banner`` (any hypothetical number shown), ``generated``, ``abstract``,
    ``key_numbers`` (label/value/interval/n/source; source starts with "hypothetical"
    or "measured"), ``comparison`` (label/hypothesis/measured/delta/verdict),
    ``show_verdicts``, ``interesting``, ``checks``, ``prompt`` (caption/block[/completion]).
    """
    numbers: dict[str, str] = {}
    key_numbers: list[dict[str, str]] = []
    comparison: list[dict[str, str]] = []
    checks: list[str] = []
    used_hypothetical = False
    for i, claim in enumerate(spec.claims):
        where = f"{source}: claims[{i}] ('{claim.id}')"
        measured = measure_claim(claim, runs, where) if runs and claim.measure is not None else None
        if measured is not None:
            _reconcile_unit(claim, measured, where)
            numbers[claim.id] = measured.text()
            key_numbers.append({
                "label": claim.label, "value": measured.text(), "interval": measured.interval(),
                "n": measured.n, "source": f"measured ({', '.join(measured.runs)}; {measured.method})",
            })
        else:
            if claim.hypothetical is None:
                raise ClaimError(f"{where}: no hypothetical value and no results to measure it from (use --results)")
            used_hypothetical = True
            numbers[claim.id] = _hypothetical_text(claim)
            key_numbers.append({"label": claim.label, "value": numbers[claim.id], "interval": "—", "n": "—",
                                "source": "hypothetical (not measured)"})
        unit = measured.unit if measured is not None else (claim.hypothetical.unit if claim.hypothetical else "number")
        verdict_text = verdict(claim, measured) if measured is not None else None
        if measured is not None and claim.hypothetical is not None:
            delta = measured.value - claim.hypothetical.value
            comparison.append({
                "label": claim.label,
                "hypothesis": format_quantity(claim.hypothetical.value, unit, claim.is_difference),
                "measured": f"{measured.text()} ({measured.interval()})",
                "delta": format_quantity(delta, unit, True),
                "verdict": verdict_text or "—",
            })
        if claim.expect is not None:
            side = "above" if claim.expect.above is not None else "below"
            rule = f"{side} {format_quantity(claim.expect.threshold.value, unit, claim.is_difference)}"
            line = f"**{claim.label}**: interesting if the whole 95% interval is {rule}"
            if measured is not None:
                line += f": measured {measured.text()} ({measured.interval()}) → **{verdict_text}**"
            elif claim.hypothetical is not None:
                line += f": we expect {numbers[claim.id]}"
            checks.append(line + ".")

    def fill(text: str) -> str:
        return _REFERENCE.sub(lambda m: numbers[m.group(1)], text)

    paragraph = " ".join(fill(getattr(spec, k)).strip() for k in ("question", "method", "result", "implication"))
    prompt = _example_prompt(spec.example_prompt, runs or [], source)
    return {
        "title": spec.title,
        "authors": spec.authors,
        "banner": used_hypothetical,
        "generated": f"Draft generated by reportgen {__version__} on {(today or dt.date.today()).isoformat()} "
                     f"from `{Path(source).name}`"
                     + (f" and runs {', '.join(f'`{r.run_id}`' for r in runs)}" if runs else ""),
        "abstract": paragraph,
        "key_numbers": key_numbers,
        "comparison": comparison,
        "show_verdicts": any(c["verdict"] != "—" for c in comparison),
        "interesting": [fill(t) for t in spec.interesting],
        "checks": checks,
        "prompt": prompt,
    }


def _example_prompt(choice: ExamplePrompt | None, runs: Sequence[Run], source: str) -> dict[str, str] | None:
    if choice is None:
        return None
    if choice.text is not None:
        return {"caption": "Example prompt (as written in the spec)", "block": fence(normalize_text(choice.text))}
    if not runs:
        return None  # a prompt from results is shown once there are results
    record = _find_prompt(choice, runs)
    if record is None:
        raise ClaimError(f"{source}: example_prompt: no prompt in the results matches "
                         + ", ".join(f"{k}={v!r}" for k, v in choice.model_dump(exclude_none=True).items()))
    fmt = "chat template applied" if record.prompt_format == "chat" else "raw completion prompt"
    caption = f"Example prompt: {record.experiment}, {record.condition}, item {record.item_id} ({fmt}), verbatim"
    out = {"caption": caption, "block": fence(normalize_text(record.prompt))}
    if record.completion:
        out["completion"] = fence(normalize_text(record.completion))
    return out


def _find_prompt(choice: ExamplePrompt, runs: Sequence[Run]) -> PromptRecord | None:
    for run in runs:
        if choice.run is not None and choice.run not in (run.run_id, run.path.name):
            continue
        wanted = None
        if choice.metric is not None:
            df = run.results
            if "value" not in df.columns:  # a pre-aggregated table has no per-item values
                continue
            rows = df[(df["metric"] == choice.metric) & (df["value"] == choice.value)]
            for field in ("experiment", "condition", "group"):
                if getattr(choice, field) is not None and field in rows.columns:
                    rows = rows[rows[field] == getattr(choice, field)]
            wanted = set(rows["item_id"].dropna().astype(str)) if "item_id" in rows.columns else set()
        for p in run.prompts:
            if all(getattr(choice, f) is None or getattr(p, f) == getattr(choice, f)
                   for f in ("experiment", "condition", "group", "item_id")) and (wanted is None or p.item_id in wanted):
                return p
    return None


def environment(template_dir: Path | str = TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(template_dir)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # Markdown, not HTML
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md_cell"] = md_cell
    env.filters["fence"] = fence
    return env


def render_abstract(context: dict[str, Any], template: Path | str | None = None) -> str:
    """Render the draft; template problems become :class:`AbstractError` naming the file."""
    path = Path(template) if template is not None else TEMPLATES / DEFAULT_TEMPLATE
    try:
        return environment(path.parent).get_template(path.name).render(**context)
    except jinja2.TemplateNotFound:
        raise AbstractError(f"{path}: template not found") from None
    except jinja2.TemplateSyntaxError as exc:
        raise AbstractError(f"{exc.filename or path}, line {exc.lineno}: template syntax error: {exc.message}") from None
    except jinja2.UndefinedError as exc:
        raise AbstractError(f"{path}: {exc.message} (variables: {', '.join(sorted(context))})") from None
