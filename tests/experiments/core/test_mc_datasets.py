"""Multiple-choice / short-answer loaders on the real sample formats and on hand-made files."""

from __future__ import annotations

import json

import pytest

from experiments.core.errors import ExperimentError
from experiments.core.mc_datasets import (
    DatasetError,
    MCItem,
    detect_format,
    format_choices,
    from_reasoning_item,
    load_bbh,
    load_bbh_few_shot,
    load_dataset,
    load_datasets,
    load_mmlu_csv,
    load_table,
    render_question,
)


def test_bbh_turpin_format(shared_datasets):
    path = shared_datasets / "bbh" / "navigate" / "val_data.json"
    items = load_bbh(path)
    raw = json.loads(path.read_text())["data"]
    assert len(items) == len(raw)
    first, row = items[0], raw[0]
    assert first.item_id == "navigate/0" and first.source == "bbh/navigate"
    assert first.meta["idx"] == row["idx"]
    assert first.options == tuple(row["multiple_choice_targets"])
    assert first.answer_index == row["multiple_choice_scores"].index(1)
    assert first.answer == row["targets"][0]
    assert first.answer_label == "AB"[first.answer_index]
    # The question and its options render back to exactly what the file's parsed_inputs holds.
    assert all(render_question(it) == r["parsed_inputs"] for it, r in zip(items, raw))
    assert "Answer choices" not in first.question


def test_bbh_folder_dispatch_and_few_shot(shared_datasets):
    folder = shared_datasets / "bbh" / "causal_judgment"
    assert detect_format(folder) == "bbh"
    items = load_dataset(folder, limit=5)
    assert len(items) == 5 and items[0].item_id.startswith("causal_judgment/")
    prompt = load_bbh_few_shot(folder)
    assert "The best answer is" in prompt


def test_mmlu_csv_without_header(shared_datasets):
    path = shared_datasets / "mmlu" / "global_facts_test.csv"
    assert detect_format(path) == "mmlu"
    items = load_mmlu_csv(path)
    assert len(items) == 100
    it = items[0]
    assert it.item_id == "global_facts/0" and it.source == "mmlu/global_facts"
    assert it.question.startswith("As of 2016, about what percentage")
    assert it.options == ("10%", "20%", "40%", "80%") and it.answer_label == "C" and it.answer == "40%"
    assert format_choices(it) == "(A) 10%\n(B) 20%\n(C) 40%\n(D) 80%"


def test_several_datasets_together_keep_ids_unique(shared_datasets):
    items = load_datasets([shared_datasets / "mmlu" / "college_biology_test.csv",
                           shared_datasets / "bbh" / "navigate"], limit=3)
    assert [it.source for it in items] == ["mmlu/college_biology"] * 3 + ["bbh/navigate"] * 3
    with pytest.raises(DatasetError, match="duplicate item id"):
        load_datasets([shared_datasets / "bbh" / "navigate"] * 2, limit=2)


def test_jsonl_table_answers_as_letter_index_or_text(tmp_path):
    path = tmp_path / "qs.jsonl"
    rows = [
        {"id": "q1", "question": "2+2?", "options": ["3", "4"], "answer": "B"},
        {"id": "q2", "question": "Sky?", "choices": ["red", "blue"], "answer": 1},
        {"question": "Grass?", "options": ["green", "pink"], "answer": "green"},
        {"question": "Capital of France?", "answer": "Paris"},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    items = load_table(path)
    assert [it.item_id for it in items] == ["q1", "q2", "qs/3", "qs/4"]
    assert [it.answer_label for it in items] == ["B", "B", "A", "Paris"]
    assert not items[3].is_multiple_choice and render_question(items[3]) == "Capital of France?"


def test_csv_table_with_header_and_lettered_columns(tmp_path):
    path = tmp_path / "qs.csv"
    path.write_text('question,A,B,C,answer\n"Pick, one",x,y,z,(c)\nShort?,,,,42\n')
    assert detect_format(path) == "table"
    a, b = load_dataset(path)
    assert a.question == "Pick, one" and a.options == ("x", "y", "z") and a.answer_label == "C"
    assert b.options == () and b.answer == "42"
    piped = tmp_path / "piped.csv"
    piped.write_text('question,options,answer\nQ?,"yes | no",no\n')
    assert load_table(piped)[0].options == ("yes", "no")


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ('{"question": "Q?", "options": ["a", "b"], "answer": "Z"}', ".jsonl", r"row 1, field 'answer'"),
        ('{"question": "", "answer": "x"}', ".jsonl", r"row 1, field 'question'"),
        ('{"question": "Q?"}\n{"question": "Q2?", "answer": 1}', ".jsonl", r"row 1, field 'answer'"),
        ('{"question": "Q?", "answer": 1}\nnot json', ".jsonl", r"row 2: invalid JSON"),
        ('question,options,answer\nQ?,"[1,",A\n', ".csv", r"row 2, field 'options'"),
    ],
)
def test_bad_tables_name_file_row_and_field(tmp_path, content, suffix, message):
    path = tmp_path / f"bad{suffix}"
    path.write_text(content)
    with pytest.raises(DatasetError, match=message) as info:
        load_table(path)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ExperimentError)  # the CLI turns these into exit code 2


def test_bad_bbh_and_mmlu_files(tmp_path):
    bbh = tmp_path / "val_data.json"
    bbh.write_text(json.dumps({"data": [{"parsed_inputs": "Q", "multiple_choice_targets": ["a", "b"],
                                         "multiple_choice_scores": [0, 0]}]}))
    with pytest.raises(DatasetError, match="row 1, field 'multiple_choice_scores'"):
        load_bbh(bbh)
    bbh.write_text("[1, 2]")
    with pytest.raises(DatasetError, match="'data' list"):
        load_bbh(bbh)
    mmlu = tmp_path / "x_test.csv"
    mmlu.write_text("Q1,a,b,c,d,A\nQ2,a,b,c,d,E\n")
    with pytest.raises(DatasetError, match="row 2, field 'answer'"):
        load_mmlu_csv(mmlu)
    with pytest.raises(DatasetError, match="file not found"):
        load_dataset(tmp_path / "missing.jsonl")
    (tmp_path / "notes.txt").write_text("hi")
    with pytest.raises(DatasetError, match="unknown dataset format"):
        load_dataset(tmp_path / "notes.txt")


def test_organism_items_are_unlabelled_and_keep_their_steps():
    items = load_dataset("organism", limit=12)
    assert len(items) == 12
    it = items[0]
    assert not it.labelled and it.options == tuple(str(d) for d in range(10))
    assert it.labels == it.options and it.answer_label == it.answer
    assert it.meta["family"] in ("chain", "fact") and len(it.meta["steps"]) >= 2
    assert render_question(it) == it.question  # the organism is asked without an option list
    assert {i.meta["family"] for i in items} == {"chain", "fact"}
    with pytest.raises(DatasetError, match="unknown split"):
        load_dataset("organism:test")


def test_mc_item_validates_answer_index():
    with pytest.raises(ValueError):
        MCItem("x", "q", options=("a", "b"), answer_index=2)
    from experiments.organism.tasks.reasoning import reasoning_items

    item = reasoning_items("eval", n=1)[0]
    assert from_reasoning_item(item).answer_label == item.answer
