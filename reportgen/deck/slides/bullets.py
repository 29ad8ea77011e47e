"""Bullet slides (recap, next steps, summary, glossary pages): short sentences, one per bullet.

The largest bullet size at which the items fit the body; items that do not fit even at
the smallest size go on a "(2/2)" slide instead of shrinking out of reach.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen.deck.geometry import BODY_TOP, BULLET_SIZES, CONTENT_W, INCH, LINE_SPACING, PROMPT_BODY_BOTTOM, fit_text
from reportgen.deck.spec import BulletSlide
from reportgen.deck.textnorm import estimate_lines, normalize_text


def bullet_pages(items: Sequence[str], height: float, width: float = CONTENT_W) -> list[tuple[int, tuple[str, ...]]]:
    """Bullet size per slide; items that do not fit at the smallest size go to another slide."""
    def fits(chunk: Sequence[str], size: int) -> bool:
        lines = sum(estimate_lines(t, width - 0.4 * INCH, size) for t in chunk)
        return lines * size * LINE_SPACING + len(chunk) * size * 0.5 <= height

    for size in BULLET_SIZES:
        if fits(items, size):
            return [(size, tuple(items))]
    if len(items) == 1:
        size, text = fit_text(items[0], height, BULLET_SIZES, width - 0.4 * INCH, min_size=BULLET_SIZES[-1])
        return [(size, (text,))]
    half = len(items) // 2
    return bullet_pages(items[:half], height, width) + bullet_pages(items[half:], height, width)


def bullet_slides(title: str, items: Sequence[str], notes: str) -> list[BulletSlide]:
    """Slides of short sentences (recap, next steps); more than fit go on "(2/2)" slides."""
    items = [normalize_text(t) for t in items]
    pages = bullet_pages(items, PROMPT_BODY_BOTTOM - BODY_TOP)
    return [
        BulletSlide(title if len(pages) == 1 else f"{title} ({i}/{len(pages)})", chunk, size, notes)
        for i, (size, chunk) in enumerate(pages, start=1)
    ]
