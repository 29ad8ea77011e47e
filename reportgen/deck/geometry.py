"""Slide geometry, the one definition: where everything sits on a 13.333 × 7.5 in slide.

The deck builders size text for these boxes, :mod:`reportgen.deck.render` draws into
them and :mod:`reportgen.chart.render` draws each chart PNG at exactly :data:`CHART_BOX`'s
size, so a 16 pt label in a chart is a 16 pt label on the slide. Keeping the numbers in
one module is what keeps those three in step (two copies had drifted: the caption line
at 6.58 in here and 6.6 in the chart module). Nothing here imports matplotlib or
python-pptx.

Two units, on purpose: :class:`Box` is in inches (what matplotlib's ``figsize`` takes);
the module constants are in points (what font sizes and the deck builders use).

Text fitting lives here too: :func:`fit_text` and :func:`fit_title` pick a font size
from the height of a box, so they belong with the boxes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from reportgen.deck.textnorm import estimate_lines

INCH = 72.0
"""Points per inch."""


@dataclass(frozen=True)
class Box:
    """A rectangle on the slide, in inches from the top-left corner."""

    left: float
    top: float
    width: float
    height: float

    @property
    def points(self) -> tuple[float, float, float, float]:
        """``(left, top, width, height)`` in points."""
        return (self.left * INCH, self.top * INCH, self.width * INCH, self.height * INCH)


SLIDE_IN = (13.333, 7.5)
SLIDE_W = SLIDE_IN[0] * INCH
SLIDE_H = SLIDE_IN[1] * INCH
MARGIN = 0.6 * INCH
CONTENT_W = SLIDE_W - 2 * MARGIN

TITLE_TOP = 0.3 * INCH
TITLE_H = 1.05 * INCH
#: Title font sizes tried in turn; the first at which the title fits in two lines wins.
TITLE_SIZES = (28, 26, 24, 22, 20)

BODY_TOP = 1.45 * INCH

#: Where the deck puts a chart picture: full width under a title of up to two lines,
#: leaving 0.9 in at the bottom for the one-line caption and the footnote. Charts are
#: drawn at exactly this size.
CHART_BOX = Box(left=0.6, top=1.45, width=12.13, height=5.1)
#: The caption line under a chart, and the footnote line under that (on every slide with
#: a footnote). The footnote stops short of the right margin: the slide number goes there.
CAPTION_BOX = Box(left=MARGIN / INCH, top=6.58, width=CONTENT_W / INCH, height=0.4)
SLIDE_NUMBER_ROOM = 70.0
FOOTNOTE_BOX = Box(left=MARGIN / INCH, top=6.98, width=(CONTENT_W - SLIDE_NUMBER_ROOM) / INCH, height=0.35)

CAPTION_TOP = CAPTION_BOX.top * INCH
CAPTION_H = CAPTION_BOX.height * INCH
CAPTION_SIZES = (16, 15, 14, 13, 12)
FOOTER_TOP = FOOTNOTE_BOX.top * INCH
FOOTER_W = FOOTNOTE_BOX.width * INCH
FOOTER_H = FOOTNOTE_BOX.height * INCH
FOOTNOTE_SIZE = 11

# Prompt slides: labelled panels of monospace text stacked in the body.
PROMPT_BODY_TOP = 1.35 * INCH
PROMPT_TITLE_H = PROMPT_BODY_TOP - TITLE_TOP - 0.1 * INCH
PROMPT_BODY_BOTTOM = 6.95 * INCH
PANEL_LABEL_H = 0.3 * INCH
PANEL_INSET_X = 0.1 * INCH
PANEL_INSET_Y = 0.06 * INCH
PANEL_GAP = 0.12 * INCH
#: Monospace sizes tried in turn; the first at which everything fits on one slide wins.
#: Below the last one a prompt continues on further slides instead of shrinking.
PROMPT_SIZES = (14, 12, 11, 10)
LINE_SPACING = 1.2  # line height / font size, set exactly by the renderer

BULLET_SIZES = (24, 22, 20, 18, 16)
TABLE_ROWS_PER_SLIDE = 14
"""One-line rows that fit under a table's header; a row whose cells wrap counts once per line."""
TABLE_FONT_PT = 14.0
TABLE_CELL_INSET = 0.2 * INCH  # left + right cell margins


def fit_text(text: str, height: float, sizes: Sequence[int], width: float = CONTENT_W,
             max_lines: int | None = None, min_size: int = 12) -> tuple[int, str]:
    """A font size (and, as a last resort, a shortened text) that fits a box.

    The largest of ``sizes`` at which ``text`` takes at most ``max_lines`` lines and fits
    ``height``; failing that, smaller sizes down to ``min_size`` with as many lines as
    fit; failing that, the text cut at a word with "…" (callers keep the full text in
    the speaker notes). Never a size at which the text would spill out of its box.
    """
    def fits(t: str, size: int, limit: int | None) -> bool:
        lines = estimate_lines(t, width, size)
        return (limit is None or lines <= limit) and lines * size * LINE_SPACING <= height

    for size in sizes:
        if fits(text, size, max_lines):
            return size, text
    for size in range(sizes[-1] - 1, min_size - 1, -1):
        if fits(text, size, None):
            return size, text
    words = text.split(" ")
    lo, hi = 0, len(words)
    while lo < hi:  # the most words that fit with an ellipsis
        mid = (lo + hi + 1) // 2
        if fits(" ".join(words[:mid]) + " …", min_size, None):
            lo = mid
        else:
            hi = mid - 1
    short = " ".join(words[:lo]) if lo else text[: max(1, int(width // (min_size * 0.55)) - 2)]
    return min_size, short.rstrip() + " …"


def fit_title(text: str, height: float = TITLE_H, sizes: Sequence[int] = TITLE_SIZES,
              max_lines: int = 2) -> tuple[int, str]:
    """Title size: one line if that needs at most two steps down, else up to ``max_lines``.

    A title that almost fits on one line reads better slightly smaller than with a
    single word left on a second line.
    """
    for size in sizes[:3]:
        if estimate_lines(text, CONTENT_W, size) == 1:
            return size, text
    return fit_text(text, height, sizes, max_lines=max_lines, min_size=16)
