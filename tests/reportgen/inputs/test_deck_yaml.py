"""deck.yaml: the example loads; mistakes name the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from reportgen.inputs.deck_yaml import DeckSpec, SpecError, load_deck_spec

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_example_deck_spec_loads():
    spec = load_deck_spec(EXAMPLES / "deck.yaml")
    assert spec.project and spec.week == "Week 3"
    harmful = spec.for_experiment("harmful")
    assert harmful is not None and harmful.categories == ["baseline", "ablation"]
    assert spec.for_experiment("nope") is None


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "deck.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_problem_names_file_and_field(tmp_path):
    path = write(tmp_path, (
        "project: P\nweek: 23\n"
        "experiments:\n"
        "  - experiment: harmful\n    catagories: [baseline, ablation]\n"
        "  - experiment: cue\n    categories: [a, b, c]\n"
        "  - callout: no experiment\n"
    ))
    with pytest.raises(SpecError) as err:
        load_deck_spec(path)
    problems = err.value.problems
    assert f"{path}: experiments[0].catagories: unknown field (check the spelling)" in problems
    assert any(p.startswith(f"{path}: experiments[1].categories:") and "one or two categories" in p for p in problems)
    assert f"{path}: experiments[2].experiment: required field missing" in problems
    assert len(problems) == 3


def test_yaml_syntax_error_gives_the_line(tmp_path):
    path = write(tmp_path, "project: P\nexperiments:\n  - experiment: [unclosed\n")
    with pytest.raises(SpecError, match=r"deck.yaml: invalid YAML \(line \d+, column \d+\)"):
        load_deck_spec(path)


def test_missing_file_and_missing_project(tmp_path):
    with pytest.raises(SpecError, match="file not found"):
        load_deck_spec(tmp_path / "absent.yaml")
    with pytest.raises(SpecError, match="project: required field missing"):
        load_deck_spec(write(tmp_path, "author: me\n"))


def test_week_and_date_read_from_yaml_scalars():
    spec = DeckSpec.model_validate({"project": "P", "week": 23, "date": "2025-06-06"})
    assert spec.week == "23" and spec.date.isoformat() == "2025-06-06"
