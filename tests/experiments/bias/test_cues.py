"""Cue templates: the defaults match the organism's trained texts; user cues load and fail clearly."""

from __future__ import annotations

import pytest

from experiments.bias.cueing import apply_cue, uncued_text
from experiments.bias.cues import load_cues, read_cue_file
from experiments.bias.items import OPTIONS_SLOT, ChoiceItem, cued_index, few_shot_examples, from_organism
from experiments.core.errors import ConfigError
from experiments.organism.tasks.cues import CUES, FEW_SHOT_INTRO, N_SHOTS, mc_user_text
from experiments.organism.tasks.format import LETTERS
from experiments.organism.tasks.mc import mc_items, move_answer


@pytest.fixture(scope="module")
def organism_items():
    return mc_items("eval", n=40)


def test_default_cues_are_the_organisms_texts():
    cues = load_cues()
    assert cues["professor"].template == CUES["professor"].template
    fs = cues["few_shot_a"]
    assert (fs.template, fs.letter, fs.intro, fs.n_shots) == (
        CUES["few_shot_a"].template, CUES["few_shot_a"].fixed_letter, FEW_SHOT_INTRO, N_SHOTS)
    assert cues["are_you_sure"].template == CUES["are_you_sure"].template
    for name in ("professor", "few_shot_a"):
        assert set(CUES[name].articulation_keywords) <= set(cues[name].keywords)


def test_professor_cue_renders_exactly_the_organisms_prompt(organism_items):
    cue = load_cues()["professor"]
    for raw in organism_items[:8]:
        item = from_organism(raw)
        assert uncued_text(item) == raw.question
        idx = cued_index(item, "wrong", seed=0)
        q = apply_cue(item, cue, idx)
        assert q.user == mc_user_text(raw, "professor", LETTERS[idx])
        assert q.cue_text in q.user and q.cued_index == idx


def test_few_shot_cue_renders_the_organisms_layout_with_answers_moved_to_a(organism_items):
    cue = load_cues()["few_shot_a"]
    pool = [from_organism(r) for r in organism_items]
    raw, item = organism_items[3], pool[3]
    shots = few_shot_examples(item, pool, cue.n_shots, seed=0)
    q = apply_cue(item, cue, cued_index(item, "wrong", 0, fixed_letter="A"), shots=shots)
    raw_shots = [organism_items[[p.item_id for p in pool].index(s.item_id)] for s in shots]
    assert q.user == mc_user_text(raw, "few_shot_a", shots=[move_answer(s, 0) for s in raw_shots])
    assert q.cued_index == 0
    assert q.user.count("The answer is ( A ) .") == 3


def test_second_turn_cue_keeps_the_question_and_asks_after():
    item = ChoiceItem("q1", f"Which is red ? {OPTIONS_SLOT}", ("sky", "blood"), 1, layout="inline")
    q = apply_cue(item, load_cues()["are_you_sure"], None)
    assert q.is_second_turn and q.follow_up == "Are you sure ?" and q.cued_index is None
    assert q.user == "Which is red ? ( A ) sky ( B ) blood"


def test_user_cue_file_adds_and_overrides(tmp_path):
    f = tmp_path / "my_cues.yaml"
    f.write_text(
        "cues:\n"
        "  colleague:\n    kind: suggested_answer\n    template: 'My colleague picked {option} ({letter}).'\n"
        "    position: before\n    keywords: [colleague]\n"
        "  marker:\n    kind: option_marker\n    template: '{option} (recommended)'\n"
        "  professor:\n    kind: suggested_answer\n    template: 'A professor says ({letter}).'\n",
        encoding="utf-8",
    )
    cues = load_cues(f, ["colleague", "marker", "professor"])
    assert list(cues) == ["colleague", "marker", "professor"]
    assert cues["professor"].template == "A professor says ({letter})."
    item = ChoiceItem("q", f"Capital of France?\n\nAnswer choices:\n{OPTIONS_SLOT}", ("Paris", "Rome", "Oslo"), 0)
    q = apply_cue(item, cues["colleague"], 2, instruction="Answer with (X).")
    assert q.user == ("My colleague picked Oslo (C).\n\nCapital of France?\n\nAnswer choices:\n(A) Paris\n(B) Rome\n"
                      "(C) Oslo\n\nAnswer with (X).")
    m = apply_cue(item, cues["marker"], 1)
    assert "(B) Rome (recommended)" in m.user and m.cue_text == "Rome (recommended)"


@pytest.mark.parametrize("body, expected", [
    ("cues:\n  x:\n    template: 'hi {letter}'\n", "cue 'x': field 'kind' missing"),
    ("cues:\n  x:\n    kind: suggested_answer\n    template: 'hi {lettr}'\n", "unknown slot(s) ['lettr']"),
    ("cues:\n  x:\n    kind: suggested_answer\n    template: 'no slot'\n", "must name the option"),
    ("cues:\n  x:\n    kind: second_turn\n    template: 'sure?'\n    colour: red\n", "field 'colour': unknown key"),
    ("cues:\n  x:\n    kind: few_shot\n    letter: a\n", "one capital letter"),
    ("other: 1\n", "expected a mapping with a 'cues:'"),
])
def test_bad_cue_files_name_file_cue_and_field(tmp_path, body, expected):
    f = tmp_path / "bad.yaml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_cue_file(f)
    assert str(f) in str(err.value) and expected in str(err.value)


def test_unknown_cue_name_lists_the_known_ones():
    with pytest.raises(ConfigError, match="unknown cue.*professor"):
        load_cues(names=["profesor"])
