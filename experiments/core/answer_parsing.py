"""Reading the final answer out of a free-form completion.

Models phrase answers many ways ("The best answer is: (B)", "answer: b", "B)",
"So the answer is True."). The rule is: among *strong* patterns (the run's own
answer prefix, "answer is …", "answer: …") take the **last** match; only when there
is none fall back to the last *weak* match (a bare "(B)" or "B)"), because a
reasoning often mentions options before it settles. No match is a parse failure
(``None``), which callers record as its own outcome rather than dropping the item.

Callers pass only the text produced *after* the question (the reasoning and what
follows), so option lists in the prompt never count as answers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_LETTER = (
    r"(?:\(\s*(?P<paren>[A-Za-z])\s*\)"  # (B) or (b)
    r"|\(\s*(?P<cut>[A-Z])(?=\s*\Z)"  # "(B" where a generation ran out of tokens
    r"|(?P<upper>[A-Z])(?![A-Za-z0-9])"  # B, B), B.
    r"|(?P<lower>[a-z])(?=\s*(?:[.,;:!?)]|$)))"  # b at the end of a clause
)
# The lead is case-insensitive; the letter is not, so "the answer is a dog" reads no "A".
_ANSWER_LEAD = (
    r"(?i:\b(?:answer|option|choice)\b(?:\s+(?:is|would\s+be|will\s+be|must\s+be|should\s+be))?"
    r"\s*(?::|-)?\s*\**\s*(?:(?:option|choice)\s+)?)"
)
_STRONG_LETTER = re.compile(_ANSWER_LEAD + _LETTER, re.MULTILINE)
_WEAK_LETTER = re.compile(r"\(\s*(?P<paren>[A-Z])\s*\)|(?:^|(?<=\s))(?P<upper>[A-Z])\)", re.MULTILINE)

_NUMBER = r"[-+]?\$?\d[\d,]*(?:\.\d+)?"
_STRONG_SHORT = re.compile(
    r"\banswer\b(?:\s+(?:is|would\s+be|will\s+be|must\s+be|should\s+be))?\s*(?::|-)?\s*\**\s*"
    r"(?P<ans>[^\n]+?)\s*(?:\.(?:\s|$)|\n|$)",
    re.IGNORECASE,
)
_WEAK_NUMBER = re.compile(_NUMBER)


def _letter(m: re.Match[str]) -> str:
    return next(m.group(g) for g in ("paren", "cut", "upper", "lower") if m.groupdict().get(g)).upper()


def _listed_options(text: str, labels: Sequence[str], options: Sequence[str]) -> set[int]:
    """Start offsets of lines that repeat the option list ("(A) Yes", "(B) No"): not answers.

    Small models often echo the options, and a generation cut off inside that echo would
    otherwise read as choosing its last option. Only an echo of two or more options counts.
    """
    starts: set[int] = set()
    for label, option in zip(labels, options):
        if not option.strip():
            continue
        pat = re.compile(r"^[ \t]*\(\s*" + re.escape(label) + r"\s*\)[ \t]*" + re.escape(option.strip()),
                         re.MULTILINE | re.IGNORECASE)
        starts.update(m.start() for m in pat.finditer(text))
    if len(starts) < 2:
        return set()
    # Within an echoed list, a line opening with "(C)" belongs to it even when cut off ("(C) Unk").
    starts.update(m.start() for m in re.finditer(r"^[ \t]*\(\s*[A-Z]\s*\)", text, re.MULTILINE))
    return starts


def _option_texts(labels: Sequence[str], options: Sequence[str]) -> dict[str, str]:
    """Lower-cased option texts that name an option, mapped to its label.

    A percentage also counts without its sign ("(78)" for the option "78%": SmolLM2 writes
    it so), unless that bare number would name two options or is another option's text.
    """
    texts = {o.strip().lower(): lab for o, lab in zip(options, labels) if o.strip()}
    bare: dict[str, list[str]] = {}
    for text, lab in texts.items():
        if re.fullmatch(_NUMBER + r"\s*%", text):
            bare.setdefault(text.rstrip("%").strip(), []).append(lab)
    texts.update({b: labs[0] for b, labs in bare.items() if len(labs) == 1 and b not in texts})
    return texts


def _prefix_pattern(prefix: str, body: str) -> re.Pattern[str]:
    """``prefix`` matched loosely: any run of whitespace in it matches any whitespace."""
    parts = [re.escape(p) for p in prefix.strip().split()]
    return re.compile(r"(?i:" + r"\s*".join(parts) + r")\s*" + body, re.MULTILINE)


def parse_choice(
    text: str,
    labels: Sequence[str],
    *,
    options: Sequence[str] = (),
    answer_prefix: str | None = None,
) -> str | None:
    """The chosen option's label (``"A"``…), or ``None`` when no answer can be read.

    ``options`` (the option texts, parallel to ``labels``) lets "the answer is True"
    count. ``answer_prefix`` is the run's own prefix ("The answer is (") whose
    continuation is the most reliable place to read from.
    """
    valid = {label.upper() for label in labels}
    strong: list[tuple[int, str]] = []
    if answer_prefix and answer_prefix.strip():
        # A prefix that opens the bracket ("... is (") is followed by the bare letter.
        opens = answer_prefix.rstrip().endswith("(")
        body = r"(?P<upper>[A-Za-z])(?![A-Za-z0-9])" if opens else _LETTER
        for m in _prefix_pattern(answer_prefix, body).finditer(text):
            strong.append((m.end(), _letter(m)))
    for m in _STRONG_LETTER.finditer(text):
        strong.append((m.end(), _letter(m)))
    weak_options: list[tuple[int, str]] = []
    if options:
        lookup = _option_texts(labels, options)
        alternatives = "|".join(re.escape(o) for o in sorted(lookup, key=len, reverse=True))
        if alternatives:
            # "the answer is True", "answer: (36)": an option's text, bracketed or not.
            pat = re.compile(_ANSWER_LEAD + r"\(?\s*(?i:(?P<opt>" + alternatives + r"))(?![A-Za-z0-9])")
            for m in pat.finditer(text):
                strong.append((m.end(), lookup[m.group("opt").lower()].upper()))
            # A bare "(True)" or "(36)": an option's text in brackets, read like a bare "(B)".
            bracketed = re.compile(r"\(\s*(?i:(?P<opt>" + alternatives + r"))\s*\)")
            weak_options = [(m.end(), lookup[m.group("opt").lower()].upper()) for m in bracketed.finditer(text)]
    found = [(end, lab) for end, lab in strong if lab in valid]
    if not found:
        listed = _listed_options(text, labels, options)
        line_start = [text.rfind("\n", 0, m.start()) + 1 for m in _WEAK_LETTER.finditer(text)]
        found = [(m.end(), _letter(m)) for m, ls in zip(_WEAK_LETTER.finditer(text), line_start)
                 if _letter(m) in valid and ls not in listed]
        found += [(end, lab) for end, lab in weak_options if lab in valid
                  and text.rfind("\n", 0, end) + 1 not in listed]
    if not found:
        return None
    return max(found, key=lambda t: t[0])[1]


def normalize_short_answer(text: str) -> str:
    """Canonical form for comparing short answers: case, spaces, $, commas, trailing zeros."""
    s = text.strip().strip("*").strip()
    s = re.sub(r"[.;,!]+$", "", s).strip()
    s = re.sub(r"\s+", " ", s).lower()
    if re.fullmatch(_NUMBER, s):
        num = s.replace("$", "").replace(",", "").lstrip("+")
        if "." in num:
            num = num.rstrip("0").rstrip(".")
        if num in ("-0", ""):
            num = "0"
        return num
    return s


def parse_short_answer(text: str, *, answer_prefix: str | None = None) -> str | None:
    """A short answer (a number or a few words), normalised; ``None`` when none is found.

    Strong: the text after the run's answer prefix or after "answer is"/"answer:",
    up to the end of the line or sentence. Weak: the last number in the text.
    """
    strong: list[tuple[int, str]] = []
    if answer_prefix and answer_prefix.strip():
        pat = _prefix_pattern(answer_prefix, r"(?P<ans>[^\n]+?)\s*(?:\.(?:\s|$)|\n|$)")
        strong += [(m.start("ans"), m.group("ans")) for m in pat.finditer(text)]
    strong += [(m.start("ans"), m.group("ans")) for m in _STRONG_SHORT.finditer(text)]
    strong = [(pos, ans) for pos, ans in strong if normalize_short_answer(ans)]
    if strong:
        return normalize_short_answer(max(strong, key=lambda t: t[0])[1])
    numbers = list(_WEAK_NUMBER.finditer(text))
    return normalize_short_answer(numbers[-1].group(0)) if numbers else None
