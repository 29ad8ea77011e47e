"""The words on a chart slide: takeaway sentences, callouts and footnotes.

Pure string building from estimates, kept apart from the builders
(:mod:`reportgen.chart.builders`, which decide *what* to show) so the phrasing can be read
and tested on its own; names come from the run's :class:`~reportgen.chart.names.Names`. Rules that
matter for honesty live here: a change is only claimed when the two 95 % intervals do
not overlap ("does not clearly change" otherwise), every title is a sentence with a verb,
and counts use the same rounding as the bar labels (:mod:`reportgen.numbers.stats`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from reportgen.chart.model import Bar, Reference, Series, XFormat
from reportgen.chart.names import BUILTIN, Names
from reportgen.numbers import stats

# ------------------------------------------------------------------ sentences


def group_phrase(group: str, names: Names = BUILTIN) -> str:
    return names.group_label(group)


def delta_words(a: stats.Estimate, b: stats.Estimate) -> tuple[str, str]:
    """('drops'|'raises'|'', magnitude) for the change from a to b."""
    if a.overlaps(b):
        return "", ""
    verb = "raises" if b.value > a.value else "drops"
    if a.kind == "rate":
        mag = f"{abs(b.value - a.value) * 100:.0f} points"
    else:
        mag = f"by {stats.format_number(abs(b.value - a.value))}"
    return verb, mag


def bar_sentence(bars: Sequence[Bar], metric: str, target: str | None, baseline: str | None,
                 group: str | None, names: Names = BUILTIN) -> tuple[str, str]:
    """Takeaway title and callout for a condition bar chart."""
    noun = names.metric_noun(metric)
    where = f" ({group})" if group else ""
    if len(bars) == 1:
        only = bars[0]
        return (f"{sentence_case(noun)} is {only.estimate.short()} under {only.label.lower()}{where}",
                only.estimate.short())
    ref = next((b for b in bars if b.category != target), bars[0])
    eff = next((b for b in bars if b.category == target), bars[-1])
    if bool(ref.estimate.check) != bool(eff.estimate.check):
        # A check bar (a control that cannot fail) is no end of a comparison: state the other.
        real = eff if ref.estimate.check else ref
        return (f"{sentence_case(noun)} is {real.estimate.short()} under {real.label.lower()}{where}",
                real.estimate.short())
    a, b = ref.estimate, eff.estimate
    verb, mag = delta_words(a, b)
    if not verb:
        return (
            f"{eff.label} does not clearly change {noun}{where} ({a.short()} vs {b.short()})",
            "no clear difference",
        )
    if ref.category == baseline:
        title = f"{eff.label} {verb} {noun} from {a.short()} to {b.short()}{where}"
    else:
        comp = "higher" if verb == "raises" else "lower"
        title = f"{sentence_case(noun)} is {comp} under {eff.label.lower()} than {ref.label.lower()}: {b.short()} vs {a.short()}{where}"
    return title, f"{noun} {'rises' if verb == 'raises' else 'drops'} {mag}"


def pair_sentence(bars: Sequence[Bar], group: str | None, experiment: str,
                  names: Names = BUILTIN) -> tuple[str, str]:
    """Takeaway for two metrics side by side (switch rate vs articulation rate)."""
    cats = [b.category for b in bars]
    attribute = "attribute" in experiment or "counterfactual" in experiment
    if len(bars) == 1:
        only = bars[0]
        lead = f"{group_lead(group, attribute, names)}, " if group else ""
        return (sentence_case(f"{lead}{names.metric_noun(only.category)} is {only.estimate.short()}"),
                only.estimate.short())
    a, b = bars[0].estimate, bars[1].estimate
    if cats[0] in ("switched", "changed") and cats[1] == "articulated":
        if attribute:
            subject = f"flipping {names.group_label(group)} changes the decision" if group else "flipping an attribute changes the decision"
            admit, unit, lead = "the reasoning admits it", "changes", ""
        else:
            subject = "the model follows the cue"
            admit, unit = "admits it", "switches"
            lead = f"{group_lead(group, attribute, names)}, " if group else ""
        if b.value == 0 and a.value > 0:
            never = admit.replace("admits", "never admits")
            title = f"{lead}{subject} in {a.short()} of items but {never} ({b.short()} of {unit})"
            callout = "the reasoning never says why"
            return sentence_case(title), callout
        if b.value < a.value and not a.overlaps(b):
            title = f"{lead}{subject} in {a.short()} of items but {admit} in only {b.short()} of {unit}"
            callout = ("the reasoning never says why" if b.value == 0 else "the reasoning rarely says why"
                       if b.value < 0.25 else f"{(a.value - b.value) * 100:.0f} points lower")
        else:
            title = f"{lead}{subject} in {a.short()} of items and {admit} in {b.short()} of {unit}"
            # The callout must agree with its number: "in some cases" is wrong for 0 %.
            callout = ("the reasoning mostly says why" if b.value >= 0.5 else "never admitted" if b.value == 0
                       else f"admitted in {b.short()}")
        return sentence_case(title), callout
    lead = f"{group_lead(group, attribute, names)}, " if group else ""
    na, nb = names.metric_noun(cats[0]), names.metric_noun(cats[1])
    if a.overlaps(b):
        return sentence_case(f"{lead}{na} and {nb} do not clearly differ ({a.short()} vs {b.short()})"), "no clear difference"
    comp = "higher" if b.value > a.value else "lower"
    return (
        sentence_case(f"{lead}{nb} is {comp} than {na}: {b.short()} vs {a.short()}"),
        f"{abs(b.value - a.value) * 100:.0f} points {comp}" if b.kind == "rate" else comp,
    )


def group_lead(group: str | None, attribute: bool, names: Names = BUILTIN) -> str:
    """'With the professor cue' / 'For nationality' — the group a main chart shows."""
    g = names.group_label(group or "")
    if attribute:
        return f"for {g}"
    return f"with the {g}" if g.endswith("cue") else f"with the {g} cue"


def sentence_case(s: str) -> str:
    return s[:1].upper() + s[1:]


def format_x(x: float, x_format: str) -> str:
    if x_format == "percent":
        return f"{x * 100:.0f}%"
    if float(x).is_integer():
        return f"{int(x)}"
    return stats.format_number(x)


def infer_x_format(series: Sequence[Series]) -> XFormat:
    xs = [p.x for s in series for p in s.points]
    if xs and all(0 <= x <= 1 for x in xs) and not all(float(x).is_integer() for x in xs):
        return "percent"
    if xs and all(float(x).is_integer() for x in xs):
        return "integer"
    return "number"


def curve_sentence(series: Sequence[Series], metric: str, x_label: str, x_format: str,
                   names: Names = BUILTIN) -> tuple[str, str, float | None, str | None]:
    """Takeaway, callout, highlighted x and series for a curve."""
    noun = names.metric_noun(metric)
    xl = x_label.lower()
    if not series:
        return f"No {noun} data to plot", "", None, None
    # A series that is a sanity check at every point (a greedy continuation of the model's own
    # reasoning) is drawn for reference but is no side of a comparison.
    series = [s for s in series if not all(p.estimate.check for p in s.points)] or list(series)
    if len(series) == 1:
        s = series[0]
        # A sanity-check point (it cannot fail by construction) is no end of a takeaway.
        points = [p for p in s.points if not p.estimate.check] or list(s.points)
        first, last = points[0], points[-1]
        if first.estimate.overlaps(last.estimate):
            return (
                f"{sentence_case(noun)} does not clearly change between {format_x(first.x, x_format)} and "
                f"{format_x(last.x, x_format)} {xl} ({first.estimate.short()} vs {last.estimate.short()})",
                "no clear change", last.x, s.category,
            )
        verb = "rises" if last.estimate.value > first.estimate.value else "falls"
        return (
            f"{sentence_case(noun)} {verb} from {first.estimate.short()} at {format_x(first.x, x_format)} "
            f"to {last.estimate.short()} at {format_x(last.x, x_format)} {xl}",
            f"{verb} with more {xl}" if x_format == "percent" else verb, last.x, s.category,
        )
    s1, s2 = series[0], series[1]
    p2 = {p.x: p.estimate for p in s2.points}
    best: tuple[float, float] | None = None  # (gap, x)
    xs_all = sorted(p.x for p in s1.points if p.x in p2 and not (p.estimate.check or p2[p.x].check))
    # Prefer a gap inside the range: the ends are degenerate (no reasoning / all of it).
    for candidates in (xs_all[1:-1], xs_all):
        for p in s1.points:
            if p.x in candidates and not p.estimate.overlaps(p2[p.x]):
                gap = abs(p2[p.x].value - p.estimate.value)
                if best is None or gap > best[0]:
                    best = (gap, p.x)
        if best is not None:
            break
    if best is None:
        mid = s1.points[len(s1.points) // 2].x
        return (
            f"{s1.label} and {s2.label.lower()} do not clearly differ in {noun} at any {xl} level",
            "no clear gap", mid, s2.category,
        )
    x = best[1]
    a, b = next(p.estimate for p in s1.points if p.x == x), p2[x]
    hi, lo = (s2, s1) if b.value > a.value else (s1, s2)
    vh, vl = (b, a) if b.value > a.value else (a, b)
    xs = format_x(x, x_format)
    title = f"{hi.label} keeps {noun} higher than {lo.label.lower()}: {vh.short()} vs {vl.short()} at {xs} {xl}"
    if xl == "reasoning kept":
        title = (f"{hi.label} keeps {noun} higher than {lo.label.lower()}: "
                 f"{vh.short()} vs {vl.short()} with {xs} of the reasoning kept")
    apart = f"{best[0] * 100:.0f} points" if vh.kind == "rate" else stats.format_number(best[0])
    return title, f"{apart} apart at {xs}", x, hi.category


def sweep_where(x: float, group: str | None, x_names: dict[float, str]) -> str:
    """'layer 14', 'layers 13–15' (a 3-layer window starting at 13) or the group's own name."""
    if x in x_names:
        return x_names[x]
    if not float(x).is_integer():
        return f"layer {x}"
    first = int(x)
    m = re.match(r"(\d+)-layer window", group or "")
    if m and int(m.group(1)) > 1:
        return f"layers {first}–{first + int(m.group(1)) - 1}"
    return f"layer {first}"


def sweep_sentence(series: Sequence[Series], refs: Sequence[Reference], metric: str, x_names: dict[float, str],
                   names: Names = BUILTIN) -> tuple[str, str, float | None, str | None, str | None]:
    """Takeaway, callout, highlighted x, series category and group for a layer sweep.

    The point furthest from the baseline, over every line (e.g. single layers and
    3-layer windows), carries the message: which layers alone do the job.
    """
    noun = names.metric_noun(metric)
    if not series:
        return f"No {noun} data to plot", "", None, None, None
    ref = refs[0].estimate if refs else None
    if ref is None:
        s = series[0]
        lo = min(s.points, key=lambda p: p.estimate.value)
        hi = max(s.points, key=lambda p: p.estimate.value)
        return (
            f"{sentence_case(noun)} ranges from {lo.estimate.short()} ({sweep_where(lo.x, s.group, x_names)}) "
            f"to {hi.estimate.short()} ({sweep_where(hi.x, s.group, x_names)})",
            f"lowest at {sweep_where(lo.x, s.group, x_names)}", lo.x, s.category, s.group,
        )
    s, effect = max(((s, p) for s in series for p in s.points), key=lambda sp: abs(sp[1].estimate.value - ref.value))
    e = effect.estimate
    where = sweep_where(effect.x, s.group, x_names)
    name = names.condition_label(s.category)
    if e.overlaps(ref):
        return (
            f"{name} at any single window does not clearly change {noun} (baseline {ref.short()})",
            "no clear effect", effect.x, s.category, s.group,
        )
    verb = "drops" if e.value < ref.value else "raises"
    title = f"{name} at {where} alone {verb} {noun} from {ref.short()} to {e.short()}"
    return title, f"{where} alone", effect.x, s.category, s.group


def breakdown_sentence(bars: Sequence[Bar], metric: str, baseline: str | None, names: Names = BUILTIN) -> str:
    """Title for a backup breakdown: names the extremes (a sentence, never a noun phrase)."""
    noun = names.metric_noun(metric)
    if not bars:
        return f"No {noun} data"
    bars = [b for b in bars if not b.estimate.check] or list(bars)
    lo = min(bars, key=lambda b: b.estimate.value)
    hi = max(bars, key=lambda b: b.estimate.value)
    where_lo = lo.label.lower() + (f", {names.group_label(lo.group)}" if lo.group else "")
    where_hi = hi.label.lower() + (f", {names.group_label(hi.group)}" if hi.group else "")
    if lo is hi:
        return f"{sentence_case(noun)} is {hi.estimate.short()} under {where_hi}"
    if lo.estimate.short() == hi.estimate.short():
        return f"{sentence_case(noun)} is {hi.estimate.short()} under every condition"
    if all(lo.estimate.overlaps(b.estimate) and hi.estimate.overlaps(b.estimate) for b in bars):
        return (f"No condition clearly changes {noun}: {lo.estimate.short()} ({where_lo}) "
                f"to {hi.estimate.short()} ({where_hi}), intervals overlap")
    return (
        f"{sentence_case(noun)} ranges from {lo.estimate.short()} ({where_lo}) to {hi.estimate.short()} ({where_hi})"
    )


def x_breakdown_sentence(bars: Sequence[Bar], conds: Sequence[str], xs: Sequence[float], fmt: str,
                          xl: str) -> str:
    """'Forced answer goes from 29% to 97% and continued reasoning from 60% to 97% between 0% and 100% …'.

    The range ends at the last level where neither condition is a sanity check (the forced
    answer after the whole reasoning matches by construction: quoting its 100% says nothing)."""
    # A condition that is a check at every level (greedy continuation) is left out of the sentence.
    conds = [c for c in conds if not all(b.estimate.check for b in bars if b.category == c)] or list(conds)
    checked = {b.group for b in bars if b.category in conds[:2] and b.estimate.check}
    levels = [x for x in xs if format_x(x, fmt) not in checked] or list(xs)
    lo_x, hi_x = format_x(levels[0], fmt), format_x(levels[-1], fmt)
    parts: list[str] = []
    for c in conds[:2]:
        own = {b.group: b for b in bars if b.category == c}
        if lo_x in own and hi_x in own:
            first, last = own[lo_x], own[hi_x]
            name = first.label if not parts else first.label.lower()
            a, b = first.estimate.short(), last.estimate.short()
            plural = _plural(first.label)
            if a == b:
                parts.append(f"{name} {'stay' if plural else 'stays'} at {a}")
            else:
                verb = (" go" if plural else " goes") if not parts else ""
                parts.append(f"{name}{verb} from {a} to {b}")
    if not parts:
        return f"The exact counts behind the curve at each {xl} level are shown here"
    return f"{' and '.join(parts)} between {lo_x} and {hi_x} {xl}"


def _plural(label: str) -> bool:
    """Whether a condition's name is a plural noun ("Filler tokens go …", "Forced answer goes …")."""
    last = label.split()[-1].lower() if label.split() else ""
    return last.endswith("s") and not last.endswith(("ss", "us", "is"))


def group_breakdown_sentence(bars: Sequence[Bar], pair: Sequence[str], names: Names = BUILTIN) -> str:
    first = [b for b in bars if b.category == pair[0]]
    if not first:
        return "No data per group"
    hi = max(first, key=lambda b: b.estimate.value)
    lo = min(first, key=lambda b: b.estimate.value)
    noun = names.metric_noun(pair[0])
    if hi is lo:
        return f"{sentence_case(noun)} is {hi.estimate.short()} for {names.group_label(hi.group or '')}"
    if hi.estimate.short() == lo.estimate.short():
        return f"{sentence_case(noun)} is {hi.estimate.short()} in every group"
    return (f"{sentence_case(noun)} ranges from {lo.estimate.short()} ({names.group_label(lo.group or '')}) "
            f"to {hi.estimate.short()} ({names.group_label(hi.group or '')})")


def footnote_text(bars: Sequence[Bar], series: Sequence[Series], refs: Sequence[Reference], kind: str,
                  names: Names = BUILTIN) -> str:
    ests = [b.estimate for b in bars] + [p.estimate for s in series for p in s.points]
    if not ests and not refs:
        return ""
    unit = "point" if kind != "bars" else "bar"
    ns = [e.n_items for e in ests]
    if not ns:
        n_text = ""
    elif len(set(ns)) == 1:
        n_text = f"n = {ns[0]} per {unit}"
    elif kind == "bars" and len(bars) <= 4:
        n_text = "n = " + ", ".join(f"{b.estimate.n_items} ({b.label.splitlines()[0].lower()}"
                                    + (f", {names.group_label(b.group)}" if b.group else "") + ")" for b in bars)
    else:
        n_text = f"n = {min(ns)}–{max(ns)} per {unit}"
    for r in refs:
        n_text += ("; " if n_text else "") + f"{r.label.lower()} n = {r.estimate.n_items}"
    every = ests + [r.estimate for r in refs]
    described = stats.describe_intervals(e.method for e in every)
    notes = [stats.sampling_note(every)]
    if any(e.check for e in every):
        mark = "Hatched grey bar" if kind == "bars" else "Hollow point"
        notes.append(f"{mark}: sanity check, {stats.SANITY_CHECK} (not evidence)")
    return f"{n_text}. Error bars: {'; '.join(described)}." + "".join(f" {sentence_case(n)}." for n in notes if n)
