"""One colour per condition, metric or model across every slide of a deck.

Colours used to be assigned per experiment, so a condition that appears in several
experiments (``flipped`` in the attribute and frozen-reasoning experiments) was blue on
one slide and grey on the next: the audience relearns the legend on every slide. A
single :class:`DeckColors` is shared by all charts of a deck instead; the first chart
that shows a category fixes its colour, in deck order, so main charts (built first)
get the palette's strongest hues.
"""

from __future__ import annotations

#: Okabe & Ito (2008) colour-blind-safe palette, in the order categories receive it. Its
#: yellow is left out: a deck-wide palette reaches the later colours, and a thin yellow bar
#: on white is hard to see on a projector.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000")
#: A reference condition (baseline, a control) is drawn in neutral grey so the eye goes
#: to the manipulated condition.
BASELINE_COLOR = "#8A8A8A"
#: A sanity-check bar (it cannot fail by construction): light grey, hatched in mid grey.
CHECK_FILL = "#E3E3E3"
CHECK_EDGE = "#8A8A8A"
#: Callout arrows and their text: red, the colour a mentor draws "that's what we want" in.
CALLOUT_COLOR = "#C00000"


class DeckColors:
    """Category name → colour, fixed on first use and shared by every chart of a deck."""

    def __init__(self) -> None:
        self._assigned: dict[str, str] = {}

    def __call__(self, category: str, is_baseline: bool = False) -> str:
        if category not in self._assigned:
            if is_baseline:
                self._assigned[category] = BASELINE_COLOR
            else:
                used = set(self._assigned.values())
                free = [c for c in PALETTE if c not in used]
                self._assigned[category] = free[0] if free else PALETTE[len(self._assigned) % len(PALETTE)]
        return self._assigned[category]

    @property
    def assigned(self) -> dict[str, str]:
        return dict(self._assigned)
