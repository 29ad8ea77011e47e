"""Text fitting against the slide geometry: shrink, then cut, never overflow."""

from __future__ import annotations

from reportgen.deck import geometry as geo
from reportgen.deck.textnorm import estimate_lines


def test_fit_text_shrinks_then_cuts_but_never_overflows():
    size, text = geo.fit_title("Ablation drops refusal from 98% to 3%")
    assert (size, text) == (geo.TITLE_SIZES[0], "Ablation drops refusal from 98% to 3%")
    absurd = "word " * 400
    size, text = geo.fit_title(absurd)
    assert text.endswith(" …") and estimate_lines(text, geo.CONTENT_W, size) * size * geo.LINE_SPACING <= geo.TITLE_H
