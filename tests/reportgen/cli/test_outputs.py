"""Unwritable output locations stop every command before any work, with one line and exit 2;
weekly also checks its deck and abstract specs before running an experiment (issue 13, item 13)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "examples"


@pytest.fixture
def blocked(tmp_path) -> Path:
    """A path whose parent is a regular file: no folder can ever be made there (even as root)."""
    (tmp_path / "a-file").write_text("not a folder")
    return tmp_path / "a-file" / "out"


COMMANDS = {
    "chart": lambda o: ["chart", EXAMPLES / "steering", "-o", o],
    "deck": lambda o: ["deck", EXAMPLES / "steering", "-o", o.with_suffix(".pptx")],
    "deck --takeaways-out": lambda o: ["deck", EXAMPLES / "steering", "-o", o.parents[1] / "d.pptx",
                                       "--takeaways-out", o / "t.yaml"],
    "abstract": lambda o: ["abstract", EXAMPLES / "abstract.yaml", "-o", o / "abstract.md"],
    "run steering": lambda o: ["run", "steering", "--out", o],
    "run truncation": lambda o: ["run", "truncation", "--out", o],
    "run bias": lambda o: ["run", "bias", "--out", o],
    "weekly --runs-dir": lambda o: ["weekly", EXAMPLES / "weekly" / "weekly.yaml", "--runs-dir", o,
                                    "--reports-dir", o.parents[1] / "reports"],
    "weekly --reports-dir": lambda o: ["weekly", EXAMPLES / "weekly" / "weekly.yaml", "--runs-dir",
                                       o.parents[1] / "runs", "--reports-dir", o],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unwritable_output_stops_the_command_with_one_line(run_cli, blocked, command):
    code, out, err = run_cli(*COMMANDS[command](blocked))
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and "a-file is a file, not a folder" in err, err
    assert "Traceback" not in err
    assert not (blocked.parents[1] / "runs").exists()  # weekly ran nothing


def test_weekly_checks_the_deck_spec_before_running_experiments(run_cli, tmp_path):
    week = tmp_path / "week"
    shutil.copytree(EXAMPLES / "weekly", week)
    shutil.copy(EXAMPLES / "glossary.yaml", tmp_path / "glossary.yaml")
    (week / "deck.yaml").write_text("project: x\nnot_a_field: 1\n")
    code, _, err = run_cli("weekly", week / "weekly.yaml", "--runs-dir", tmp_path / "runs",
                           "--reports-dir", tmp_path / "reports")
    assert code == 2 and "deck.yaml" in err and "not_a_field" in err, err
    assert not (tmp_path / "runs").exists()


def test_weekly_checks_the_abstract_spec_before_running_experiments(run_cli, tmp_path):
    week = tmp_path / "week"
    shutil.copytree(EXAMPLES / "weekly", week)
    shutil.copy(EXAMPLES / "glossary.yaml", tmp_path / "glossary.yaml")
    (week / "abstract.yaml").write_text("title: [unclosed\n")
    code, _, err = run_cli("weekly", week / "weekly.yaml", "--runs-dir", tmp_path / "runs",
                           "--reports-dir", tmp_path / "reports")
    assert code == 2 and "abstract.yaml" in err, err
    assert not (tmp_path / "runs").exists()
