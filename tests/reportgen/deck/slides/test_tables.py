"""Backup tables (pure): rows split into slides by the lines they take."""

from __future__ import annotations

from reportgen.deck.geometry import TABLE_ROWS_PER_SLIDE
from reportgen.deck.slides.tables import _table_pages, row_lines


def test_table_pages_count_wrapped_rows_by_their_lines():
    """Rows whose metric name wraps take two lines each, so fewer fit on a slide and none
    runs into the footer; one-line rows still fill a slide."""
    fractions = (0.2, 0.2, 0.6)
    short = [("Refusal", "Baseline", "1")] * 30
    long = [("Agreement with the full answer " * 2, "Continued reasoning", "1")] * 30
    assert row_lines(short[0], fractions) == 1 and row_lines(long[0], fractions) >= 2
    short_pages, long_pages = _table_pages(short, fractions), _table_pages(long, fractions)
    assert [len(p) for p in short_pages] == [14, 14, 2]
    for page in long_pages:
        assert sum(row_lines(r, fractions) for r in page) <= TABLE_ROWS_PER_SLIDE
    assert sum(len(p) for p in long_pages) == 30 and len(long_pages) > len(short_pages)
