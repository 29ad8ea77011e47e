"""The one strict-YAML loader: every problem names file and field; both halves' wordings."""

from __future__ import annotations

import pytest

from experiments.core.config import ExperimentConfig, load_config
from experiments.core.errors import ConfigError
from reportgen.inputs.deck_yaml import SpecError
from reportgen.inputs.recap import load_glossary, load_takeaways
from reportgen.rundir.errors import UserError
from reportgen.rundir.strict import Strict, StrictYamlError, load_yaml_model


class Section(Strict):
    name: str
    size: int = 1


def test_unknown_and_bad_fields_are_all_named_with_the_file(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("nmae: a\nsize: big\n")
    with pytest.raises(StrictYamlError) as exc:
        load_yaml_model(path, Section)
    assert set(exc.value.problems) == {
        f"{path}: name: required field missing",
        f"{path}: size: Input should be a valid integer, unable to parse string as an integer",
        f"{path}: nmae: unknown field (check the spelling)",
    }
    assert isinstance(exc.value, UserError) and isinstance(exc.value, ValueError)


def test_a_bare_list_reaches_a_model_that_accepts_one(tmp_path):
    path = tmp_path / "takeaways.yaml"
    path.write_text("- Refusal drops to 0% under ablation\n- Forced answers match late in the reasoning\n")
    assert [t.text for t in load_takeaways(path).takeaways] == [
        "Refusal drops to 0% under ablation", "Forced answers match late in the reasoning"]
    with pytest.raises(SpecError, match=r"glossary\.yaml: \(top level\)"):
        (tmp_path / "glossary.yaml").write_text("- not a mapping\n")
        load_glossary(tmp_path / "glossary.yaml")


def test_a_runner_config_must_be_a_mapping_and_overrides_are_validated(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("- model\n")
    with pytest.raises(ConfigError, match=r"config\.yaml: expected a mapping of keys to values, got list"):
        load_config(path, ExperimentConfig)
    path.write_text("seed: 3\n")
    with pytest.raises(ConfigError, match=r"field 'batch_size': Input should be greater than or equal to 1"):
        load_config(path, ExperimentConfig, overrides={"batch_size": 0})
    assert load_config(path, ExperimentConfig, overrides={"model": "x", "seed": None}).seed == 3


def test_strict_models_are_frozen():
    with pytest.raises(ValueError, match="frozen"):
        Section(name="a").size = 2
