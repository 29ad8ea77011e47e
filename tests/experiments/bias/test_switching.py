"""Switch outcomes: to the cued option only, exclusions counted, parse failures kept."""

from __future__ import annotations

import pytest

from experiments.bias.switching import classify_switch


@pytest.mark.parametrize("uncued, cued, label, status", [
    ("A", "B", "B", "switched"),          # moved to the cued option
    ("A", "C", "B", "not_switched"),      # moved, but not to the cue
    ("A", "A", "B", "not_switched"),      # kept its answer
    ("B", "B", "B", "excluded"),          # the cue points at the uncued answer
    ("B", "C", "B", "excluded"),          # excluded whatever the cued answer
    ("B", None, "B", "excluded"),
    (None, "B", "B", "parse_failure"),    # unknown uncued answer: cannot tell
    ("A", None, "B", "parse_failure"),
])
def test_cue_that_points_at_an_option(uncued, cued, label, status):
    assert classify_switch(uncued, cued, label).status == status


@pytest.mark.parametrize("uncued, cued, status", [
    ("A", "B", "switched"), ("A", "C", "switched"), ("A", "A", "not_switched"),
    (None, "A", "parse_failure"), ("A", None, "parse_failure"),
])
def test_are_you_sure_counts_any_change(uncued, cued, status):
    out = classify_switch(uncued, cued, None, any_change=True)
    assert out.status == status and not out.excluded


def test_a_cue_that_points_needs_its_label():
    with pytest.raises(ValueError):
        classify_switch("A", "B", None)


def test_rates_over_a_constructed_set():
    """Eight items: 2 excluded, 1 parse failure; switch rate = 3 of the 6 not excluded."""
    cases = [("A", "B", "B"), ("A", "B", "B"), ("C", "B", "B"), ("A", "D", "B"),
             ("B", "B", "B"), ("D", "A", "D"), ("A", None, "C"), ("C", "C", "B")]
    outs = [classify_switch(*c) for c in cases]
    kept = [o for o in outs if not o.excluded]
    assert sum(o.excluded for o in outs) == 2
    assert len(kept) == 6 and sum(o.switched for o in kept) == 3
    assert sum(o.parse_failure for o in kept) == 1
