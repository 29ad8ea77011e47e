"""Deck lint: the slide practices mentors ask for, as checks with clear messages.

Runs on the pure deck spec (:class:`reportgen.deck.spec.Deck`) and the chart specs, so
it checks exactly what will be drawn, without rendering. Each finding names the slide
(1-based, as the slide counter in the deck shows it) and says how to fix it:

- ``too-many-categories``: a main chart with more than two categories (colours);
- ``title-not-sentence``: a chart slide whose title is a label, not a takeaway sentence;
- ``no-prompt-slide``: a result shown without the prompt behind it;
- ``jargon-not-in-glossary``: a term a mentor may not know, used but not defined;
- ``interval-missing``: a number on a chart without its uncertainty;
- ``hypothetical-unmarked``: a guessed number in an abstract that is not marked as such;
- ``duplicate-title``: two slides with the same title (the audience looks for a difference);
- ``title-number-mismatch``: a percentage in a chart title that no bar or point of the chart shows;
- ``main-over-budget``: a main results section longer than the deck spec's budget;
- ``callout-off-mark``: a callout whose arrow would point at no drawn bar or point;
- ``takeaway-cites-check``: a takeaway title quoting a number that only a sanity check shows (a
  value that cannot fail by construction, e.g. the forced answer after the whole reasoning).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from reportgen.chart.spec import ChartSpec
from reportgen.deck.spec import ChartSlide, Deck, GlossarySlide, PromptSlide, SectionSlide, slide_words
from reportgen.inputs.recap import Glossary

#: Terms of the trade that a deck should define (in its glossary) before using.
JARGON = (
    "AOC", "KL", "KL divergence", "CoT", "chain of thought", "logit", "log-odds", "residual stream",
    "refusal direction", "directional ablation", "ablation", "activation addition", "steering vector",
    "orthogonalisation", "orthogonalization", "difference in means", "early answering", "articulation",
    "counterfactual", "bypass score", "induce score", "cross-entropy", "MLP", "SAE",
    "probe", "logit lens", "refusal score", "frozen reasoning", "exclusion rate", "organism",
    "random-direction ablation", "addition", "layer sweep",
)
#: Capitalised abbreviations that need no definition.
COMMON_ABBREVIATIONS = frozenset({
    "AI", "OK", "PDF", "CPU", "GPU", "CSV", "USA", "UK", "EU", "ID", "II", "III", "IV", "TODO", "FAQ",
    "PPTX", "YAML", "JSON", "URL", "API", "LLM", "LLMS", "A", "B", "C", "D", "E", "I",
})
_ACRONYM = re.compile(r"\b[A-Z][A-Za-z]*[A-Z][A-Za-z]*\b")

#: Verbs that carry a takeaway; a title without a verb reads as a label.
_VERBS = frozenset("""
is are was were be been being has have had does do did can cannot could will would may might must should
drops drop dropped falls fall fell rises rise rose raises raise raised increases increase increased
decreases decrease decreased reduces reduce reduced removes remove removed induces induce induced
changes change changed follows follow followed matches match matched stays stay stayed remains remain
remained holds hold held doubles halves keeps keep kept flips flip flipped switches switch switched
admits admit admitted mentions mention mentioned says say said shows show showed beats beat outperforms
suffices suffice matters matter works work worked fails fail failed recovers recover recovered improves
improve improved hurts hurt costs cost moves move moved differ differs differed depends depend uses use
used ignores ignore ignored answers answer answered refuses refuse refused complies comply complied
breaks break broke leaves leave left cuts cut peaks peak plateaus saturates reaches reach reached goes go
went grows grow grew shrinks shrink shrank predicts predict explains explain drives drive agrees agree
tracks track lowers lower lowered lifts lift lifted barely hardly stays flattens climbs climb climbed
""".split())  # noqa: SIM905 (a word list reads and extends better as prose lines)


@dataclass(frozen=True)
class Finding:
    code: str
    message: str
    slide: int | None = None
    where: str | None = None

    def __str__(self) -> str:
        place = f"slide {self.slide}" if self.slide is not None else (self.where or "deck")
        return f"{place}: [{self.code}] {self.message}"


def is_sentence(title: str) -> bool:
    """A takeaway sentence: at least four words and a verb ("Ablation drops refusal …")."""
    words = re.findall(r"[A-Za-z][A-Za-z'’-]*", title)
    if len(words) < 4:
        return False
    return any(w.lower() in _VERBS for w in words)


def _categories(chart: ChartSpec) -> list[str]:
    if chart.kind == "bars":
        return list(dict.fromkeys(b.category for b in chart.bars))
    # A line chart's categories are its series (a sweep's two window widths are two, though
    # both are "ablation"); a reference line is the level they are read against, drawn grey
    # and dashed, not a third category.
    return [s.label for s in chart.series]


def _short(text: str, limit: int = 70) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def lint_deck(deck: Deck, charts: Sequence[ChartSpec], glossary: Glossary | None = None) -> list[Finding]:
    """Every finding for a deck spec, in slide order."""
    findings: list[Finding] = []
    by_id = {c.chart_id: c for c in charts}
    slides = list(deck.slides)
    for number, slide in enumerate(slides, start=1):
        if not isinstance(slide, ChartSlide):
            continue
        chart = by_id.get(slide.chart_id)
        if chart is None:
            continue
        if not slide.backup:
            cats = _categories(chart)
            if len(cats) > 2:
                findings.append(Finding(
                    "too-many-categories",
                    f"the main chart shows {len(cats)} categories ({', '.join(cats)}); show the two that "
                    "matter and move the full breakdown to a backup slide",
                    number,
                ))
            if not is_sentence(slide.title):
                findings.append(Finding(
                    "title-not-sentence",
                    f"title {_short(slide.title)!r} is a label, not a takeaway; write the message as a "
                    "sentence, e.g. 'Ablation drops refusal from 98% to 3%'",
                    number,
                ))
            following = slides[number] if number < len(slides) else None
            if not slide.panels and not isinstance(following, PromptSlide):
                findings.append(Finding(
                    "no-prompt-slide",
                    f"experiment '{chart.experiment}' has no prompt slide after its chart; show the exact "
                    "prompt the model was called with (prompts.jsonl)",
                    number,
                ))
        if chart.highlight is not None and not _on_mark(chart):
            findings.append(Finding(
                "callout-off-mark",
                f"the callout '{chart.highlight.text}' points at '{chart.highlight.category}', which the chart "
                "does not draw; highlight one of its bars or points",
                number,
            ))
        wrong = _numbers_not_drawn(slide.title, chart)
        if wrong:
            findings.append(Finding(
                "title-number-mismatch",
                f"title says {', '.join(wrong)} but no bar, point or x of the chart shows that; fix the takeaway",
                number,
            ))
        cited = _numbers_of_checks(slide.title, chart)
        if cited:
            findings.append(Finding(
                "takeaway-cites-check",
                f"title quotes {', '.join(cited)}, which only a sanity check of the chart shows (it cannot fail "
                "by construction); base the takeaway on a value that could have come out otherwise",
                number,
            ))
        missing = [e for e in chart.estimates if math.isnan(e.low) or math.isnan(e.high)]
        if missing or ("%" not in slide.footnote and "interval" not in slide.footnote.lower()):
            what = f"{len(missing)} value(s) without an interval" if missing else "the footnote names no interval"
            findings.append(Finding(
                "interval-missing",
                f"{what}; every number on a chart needs its 95% interval and the footnote its method",
                number,
            ))
    findings.extend(lint_shape(deck))
    findings.extend(lint_jargon(deck, glossary))
    return sorted(findings, key=lambda f: f.slide or 0)


def _on_mark(chart: ChartSpec) -> bool:
    h = chart.highlight
    assert h is not None
    if chart.kind == "bars":
        return any(b.category == h.category and (h.group is None or b.group == h.group) for b in chart.bars)
    return h.x is not None and any(
        s.category == h.category and (h.group is None or s.group == h.group)
        and any(math.isclose(p.x, h.x) for p in s.points) for s in chart.series)


_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s?%")


def _numbers_not_drawn(title: str, chart: ChartSpec) -> list[str]:
    """Percentages in a title that are neither a value, a bound, an x nor a group of the chart."""
    shown: set[float] = set()
    for e in chart.estimates:
        shown.update(round(v * 100, 1) for v in (e.value, e.low, e.high) if not math.isnan(v))
    shown.update(round(p.x * 100, 1) for s in chart.series for p in s.points)
    groups = " ".join(str(b.group) for b in chart.bars if b.group)
    out = []
    for m in _PERCENT.finditer(title):
        v = float(m.group(1))
        if m.group(0) in groups:
            continue
        if not any(abs(v - s) < 0.51 or (v < 1 and s < 1) or (v > 99 and s > 99) for s in shown):
            out.append(m.group(0))
    return out


def _numbers_of_checks(title: str, chart: ChartSpec) -> list[str]:
    """Percentages in a title that are the value of a sanity-check estimate and of no other."""
    def values(estimates: Iterable[Any]) -> set[float]:
        return {round(e.value * 100, 1) for e in estimates if not math.isnan(e.value)}

    checks = values(e for e in chart.estimates if e.check)
    if not checks:
        return []
    others = values(e for e in chart.estimates if not e.check)
    xs = {round(p.x * 100, 1) for s in chart.series for p in s.points}
    out = []
    for m in _PERCENT.finditer(title):
        v = float(m.group(1))
        if v in xs and _X_MENTION.match(title, m.end()):
            continue  # "with 100% of the reasoning kept" names a point, not its value
        if any(abs(v - c) < 0.51 for c in checks) and not any(abs(v - o) < 0.51 for o in others):
            out.append(m.group(0))
    return out


_X_MENTION = re.compile(r"\s+(?:of\b|kept\b)")


def lint_shape(deck: Deck) -> list[Finding]:
    """Deck-level checks: duplicate titles and the main section's length."""
    findings = []
    first: dict[str, int] = {}
    for number, slide in enumerate(deck.slides, start=1):
        title = slide.title.strip()
        if title in first:
            findings.append(Finding("duplicate-title", f"same title as slide {first[title]}: {_short(title)!r}; "
                                    "merge the slides or say what differs", number))
        else:
            first[title] = number
    main = list(main_section(deck))
    if deck.main_budget is not None and len(main) > deck.main_budget:
        findings.append(Finding("main-over-budget", f"the main results take {len(main)} slides, over the budget of "
                                f"{deck.main_budget}; move experiments to the backup or drop a prompt slide",
                                where="deck"))
    return findings


def main_section(deck: Deck) -> list[object]:
    """The slides of the main results: result sections, charts and their prompts, before the backup."""
    out: list[object] = []
    started = False
    for slide in deck.slides:
        if isinstance(slide, SectionSlide) and slide.title == "Backup":
            break
        if isinstance(slide, (ChartSlide, PromptSlide, SectionSlide)):
            started = True
        elif started:
            break
        if started:
            out.append(slide)
    return out


def jargon_in(text: str, extra_terms: Iterable[str] = ()) -> list[str]:
    """Jargon terms and unexplained acronyms used in ``text`` (first occurrence order)."""
    found: dict[str, None] = {}
    for term in (*JARGON, *extra_terms):
        if re.search(rf"(?<![A-Za-z]){re.escape(term)}(?![A-Za-z])", text, flags=re.IGNORECASE if not term.isupper() else 0):
            found[term] = None
    # A model's hub id (meta-llama/Llama-3.1-8B-Instruct) names a model, not jargon.
    for m in _ACRONYM.finditer(re.sub(r"\S+/\S+", " ", text)):
        word = m.group(0)
        if word.upper() not in COMMON_ABBREVIATIONS and not any(word.lower() == t.lower() for t in found):
            found[word] = None
    # A longer term covers its parts ("directional ablation" covers "ablation").
    terms = list(found)
    return [t for t in terms if not any(t != o and t.lower() in o.lower() for o in terms)]


def lint_jargon(deck: Deck, glossary: Glossary | None) -> list[Finding]:
    defined = {t.lower() for t in (glossary.root if glossary is not None else {})}
    findings = []
    reported: set[str] = set()
    for number, slide in enumerate(deck.slides, start=1):
        if isinstance(slide, GlossarySlide):
            continue  # definitions may use other terms; they are not the deck's claims
        text = slide_words(slide, include_prompts=False)
        for term in jargon_in(text):
            key = term.lower()
            if key in reported or any(key == d or key in d or d in key for d in defined):
                continue
            reported.add(key)
            hint = "add it to glossary.yaml" if glossary is not None else "pass --glossary with a definition"
            findings.append(Finding("jargon-not-in-glossary", f"'{term}' is used but not defined; {hint}", number))
    return findings


def lint_abstract(name: str, context: Mapping[str, Any], text: str) -> list[Finding]:
    """Hypothetical numbers must be marked, and a draft that uses any must carry the banner."""
    findings = []
    hypothetical = [row for row in context.get("key_numbers", []) if str(row.get("source", "")).startswith("hypothetical")]
    if hypothetical and not context.get("banner"):
        findings.append(Finding("hypothetical-unmarked", "uses hypothetical numbers but has no banner saying so", where=name))
    for row in hypothetical:
        value = str(row.get("value", ""))
        if "hypothetical" not in value.lower():
            findings.append(Finding(
                "hypothetical-unmarked",
                f"the hypothetical value for '{row.get('label')}' ({value}) is not marked as hypothetical",
                where=name,
            ))
    if hypothetical and "hypothetical" not in text.lower():
        findings.append(Finding("hypothetical-unmarked", "the text never says which numbers are hypothetical", where=name))
    return findings
