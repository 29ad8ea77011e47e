"""Configs: unknown keys and bad values are errors naming the file and field."""

from __future__ import annotations

import pytest

from experiments.core.config import ExperimentConfig, StrictModel, config_hash, load_config
from experiments.core.errors import ConfigError


class Section(StrictModel):
    n: int = 3


class Cfg(ExperimentConfig):
    section: Section = Section()


def test_defaults_without_file():
    cfg = load_config(None, Cfg)
    assert cfg.model == "organism" and cfg.system_prompt is None and cfg.section.n == 3


def test_unknown_key_names_file_and_field(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("model: organism\nsection:\n  n: 2\n  m: 1\nmax_new_token: 4\n")
    with pytest.raises(ConfigError) as err:
        load_config(path, Cfg)
    msg = str(err.value)
    assert str(path) in msg and "'section.m': unknown key" in msg and "'max_new_token'" in msg


def test_bad_value_and_bad_yaml(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("batch_size: 0\n")
    with pytest.raises(ConfigError, match="'batch_size'"):
        load_config(path, Cfg)
    path.write_text("model: [unclosed\n")
    with pytest.raises(ConfigError, match="line"):
        load_config(path, Cfg)
    path.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(path, Cfg)
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml", Cfg)


def test_overrides_are_validated_and_hashed(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("seed: 1\n")
    a = load_config(path, Cfg)
    b = load_config(path, Cfg, overrides={"model": "some/model", "device": None})
    assert b.model == "some/model" and b.seed == 1
    assert config_hash(a) != config_hash(b) and config_hash(a) == config_hash(a.model_dump())
