"""Items and the cued option: deterministic, never the right answer by default, shots from elsewhere."""

from __future__ import annotations

from collections import Counter

import pytest

from experiments.bias.items import (
    OPTIONS_SLOT,
    ChoiceItem,
    cued_index,
    few_shot_examples,
    from_organism,
    load_choice_items,
)
from experiments.core.errors import DatasetError
from experiments.organism.tasks.mc import mc_items, move_answer


def _item(i: int, answer: int = 0, family: str = "f", n: int = 4, **meta) -> ChoiceItem:
    return ChoiceItem(f"q{i}", f"Q{i}? {OPTIONS_SLOT}", tuple(f"o{j}" for j in range(n)), answer, family, meta=meta)


def test_wrong_target_is_never_the_answer_and_is_deterministic():
    items = [_item(i, answer=i % 4) for i in range(200)]
    picks = [cued_index(it, "wrong", seed=0) for it in items]
    assert all(p != it.answer_index for p, it in zip(picks, items))
    assert picks == [cued_index(it, "wrong", seed=0) for it in items]
    assert picks != [cued_index(it, "wrong", seed=1) for it in items]
    # spread over the three wrong options, not stuck on one
    assert min(Counter(picks).values()) > 30


def test_any_target_sometimes_points_at_the_answer():
    items = [_item(i) for i in range(200)]
    hits = sum(cued_index(it, "any", seed=0) == 0 for it in items)
    assert 25 < hits < 80


def test_dataset_target_uses_random_ans_idx_and_fixed_letter_overrides():
    it = _item(1, answer=0, random_ans_idx=2)
    assert cued_index(it, "dataset", 0) == 2
    assert cued_index(_item(2, answer=0), "dataset", 0) != 0  # no dataset choice: a wrong option
    assert cued_index(it, "wrong", 0, fixed_letter="A") == 0
    with pytest.raises(DatasetError, match=r"no option \(E\)"):
        cued_index(it, "wrong", 0, fixed_letter="E")


def test_few_shot_examples_come_from_other_families_and_never_the_item():
    pool = [_item(i, family=f"fam{i % 5}") for i in range(30)]
    for it in pool:
        shots = few_shot_examples(it, pool, 3, seed=0)
        assert len(shots) == 3 and it not in shots
        assert all(s.family != it.family for s in shots)
        assert shots == few_shot_examples(it, pool, 3, seed=0)
    with pytest.raises(DatasetError, match="needs 3 other items"):
        few_shot_examples(pool[0], pool[:2], 3, seed=0)


def test_with_answer_at_moves_the_right_option():
    it = _item(1, answer=2)
    moved = it.with_answer_at(0)
    assert moved.options[0] == "o2" and moved.answer_index == 0 and moved.options[2] == "o0"
    assert moved.text() == "Q1? (A) o2\n(B) o1\n(C) o0\n(D) o3"
    with pytest.raises(ValueError, match="no known answer"):
        ChoiceItem("u", OPTIONS_SLOT, ("a", "b"), None).with_answer_at(0)


def test_organism_items_render_their_own_question():
    raws = mc_items("eval", n=20)
    for raw in raws:
        it = from_organism(raw)
        assert it.text() == raw.question and it.layout == "inline" and it.answer_label == raw.answer_letter
        moved = it.with_answer_at(0)
        assert moved.text() == move_answer(raw, 0).question


def test_load_choice_items_organism_and_errors():
    items = load_choice_items("organism", limit=12)
    assert [i.item_id for i in items] == [r.item_id for r in mc_items("eval", n=12)]
    with pytest.raises(DatasetError, match="unknown organism split"):
        load_choice_items("organism:dev")


def test_bbh_and_mmlu_items(shared_datasets):
    bbh = load_choice_items(str(shared_datasets / "bbh" / "navigate" / "val_data.json"), limit=5)
    assert all("Answer choices:\n(A)" in it.text() for it in bbh)
    assert all("random_ans_idx" in it.meta for it in bbh)
    mmlu_file = next((shared_datasets / "mmlu").glob("*.csv"))
    mmlu = load_choice_items(str(mmlu_file), limit=3)
    assert all(len(it.options) == 4 and it.answer_index is not None for it in mmlu)
