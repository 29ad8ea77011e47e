"""Instruction datasets: refusal_direction JSON, JSONL, CSV, organism sets; clear errors."""

from __future__ import annotations

import json

import pytest

from experiments.core.datasets import load_instructions
from experiments.core.errors import DatasetError


def test_refusal_direction_json(shared_datasets):
    items = load_instructions(shared_datasets / "refusal_direction" / "harmful_val.json")
    assert len(items) > 10 and items[0].item_id == "harmful_val-0000" and items[0].category
    sub = load_instructions(shared_datasets / "refusal_direction" / "harmful_val.json", n=5, seed=1)
    assert len(sub) == 5 and {i.item_id for i in sub} <= {i.item_id for i in items}
    assert sub == load_instructions(shared_datasets / "refusal_direction" / "harmful_val.json", n=5, seed=1)


def test_jsonl_and_csv(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text(json.dumps({"instruction": "a", "id": 7}) + "\n\n" + json.dumps({"instruction": "b"}) + "\n")
    assert [(i.item_id, i.instruction) for i in load_instructions(p)] == [("7", "a"), ("x-0001", "b")]
    c = tmp_path / "y.csv"
    c.write_text("instruction,category\nhello,greet\n\"a, b\",\n")
    items = load_instructions(c)
    assert [(i.item_id, i.instruction, i.category) for i in items] == [("y-0000", "hello", "greet"), ("y-0001", "a, b", None)]


def test_errors_name_file_and_row(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"instruction": "a"}\n{"text": "b"}\n')
    with pytest.raises(DatasetError, match=r"x.jsonl, line 2: field 'instruction'"):
        load_instructions(p)
    c = tmp_path / "y.csv"
    c.write_text("prompt\nhello\n")
    with pytest.raises(DatasetError, match="no 'instruction' column"):
        load_instructions(c)
    j = tmp_path / "z.json"
    j.write_text('[{"instruction": "a"},')
    with pytest.raises(DatasetError, match="invalid JSON"):
        load_instructions(j)
    with pytest.raises(DatasetError, match="not found"):
        load_instructions(tmp_path / "nope.json")
    with pytest.raises(DatasetError, match="organism:<harmful"):
        load_instructions("organism:evil:train")


def test_organism_sets():
    harmful = load_instructions("organism:harmful:eval", n=8)
    harmless = load_instructions("organism:harmless:train", n=8)
    assert len(harmful) == 8 and harmful[0].category == "harmful" and harmless[0].category == "harmless"
    assert not {i.item_id for i in harmful} & {i.item_id for i in harmless}


def test_exclude_before_subsetting(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text("".join(json.dumps({"instruction": f"q{i}"}) + "\n" for i in range(6)))
    items = load_instructions(p, n=4, exclude={"q0", "q1"})
    assert len(items) == 4 and not {"q0", "q1"} & {i.instruction for i in items}
    org = load_instructions("organism:harmful:eval", n=3, exclude={load_instructions("organism:harmful:eval")[0].instruction})
    assert org == load_instructions("organism:harmful:eval")[1:4]
