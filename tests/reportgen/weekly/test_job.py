"""The weekly pipeline's bookkeeping: skip what is unchanged, rerun what changed, isolate
failures, recap last week — with runners that write example-shaped run directories.

The real runners on the organism (and a real kill signal) are exercised in
tests/test_weekly_e2e.py; here the runner is a plain function so each rule is checked
in milliseconds.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import json
import shutil
from pathlib import Path

import pytest
import yaml
from pptx import Presentation
from pydantic import BaseModel, ConfigDict

from reportgen.inputs.weekly_yaml import load_weekly_config
from reportgen.weekly.job import Runner, load_runs, previous_takeaways, run_experiments, write_report

ROOT = Path(__file__).resolve().parents[3]


def _examples():
    spec = importlib.util.spec_from_file_location("make_examples", ROOT / "examples" / "make_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class FakeConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")
    model: str = "organism"
    shape: str = "steering"
    fail: bool = False


class Calls:
    def __init__(self):
        self.runs: list[tuple[str, bool]] = []


@pytest.fixture
def registry():
    calls = Calls()
    examples = _examples()
    makers = {"steering": examples.make_steering, "truncation": examples.make_truncation, "bias": examples.make_bias}

    def load(source, overrides):
        data = dict(source or {})
        data.update(overrides)
        return FakeConfig.model_validate(data)  # a ValidationError fails that experiment only

    def run(config, out, overwrite):
        calls.runs.append((out.name, overwrite))
        if config.fail:
            raise RuntimeError("boom")
        if out.exists() and overwrite:
            shutil.rmtree(out)
        makers[config.shape](out)

    return {"fake": Runner("fake", load, run, lambda cfg: "code-v1")}, calls


def _weekly(tmp_path: Path, experiments: list[dict], **extra) -> Path:
    (tmp_path / "glossary.yaml").write_text("ablation: removing a direction\n")
    data = {"project": "Test week", "author": "A. Researcher", "experiments": experiments,
            "glossary": "glossary.yaml", **extra}
    path = tmp_path / "weekly.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_unchanged_runs_are_skipped_and_changed_ones_rerun(tmp_path, registry):
    reg, calls = registry
    exps = [{"name": "steer", "runner": "fake", "config": {"shape": "steering"}},
            {"name": "trunc", "runner": "fake", "config": {"shape": "truncation"}}]
    cfg, base = load_weekly_config(_weekly(tmp_path, exps))
    first = run_experiments(cfg, base, tmp_path / "runs", reg, log=lambda _: None)
    assert [o.status for o in first] == ["ran", "ran"]
    again = run_experiments(cfg, base, tmp_path / "runs", reg, log=lambda _: None)
    assert [o.status for o in again] == ["skipped", "skipped"]
    assert len(calls.runs) == 2

    exps[1]["model"] = "other-model"  # a changed config reruns that experiment from scratch
    cfg, base = load_weekly_config(_weekly(tmp_path, exps))
    third = run_experiments(cfg, base, tmp_path / "runs", reg, log=lambda _: None)
    assert [o.status for o in third] == ["skipped", "ran"]
    assert calls.runs[-1] == ("trunc", True)


def test_an_interrupted_run_resumes_without_overwrite(tmp_path, registry):
    reg, calls = registry
    cfg, base = load_weekly_config(_weekly(tmp_path, [{"name": "steer", "runner": "fake"}]))
    run_experiments(cfg, base, tmp_path / "runs", reg, log=lambda _: None)
    stamp = tmp_path / "runs" / "steer" / "weekly.json"
    data = json.loads(stamp.read_text())
    stamp.write_text(json.dumps({**data, "state": "running"}))  # as a killed pipeline leaves it
    (outcome,) = run_experiments(cfg, base, tmp_path / "runs", reg, log=lambda _: None)
    assert outcome.status == "resumed"
    assert calls.runs[-1] == ("steer", False)


def test_a_broken_experiment_fails_alone_and_the_report_says_so(tmp_path, registry):
    reg, _ = registry
    exps = [{"name": "steer", "runner": "fake", "config": {"shape": "steering"}},
            {"name": "typo", "runner": "fake", "config": {"shpe": "bias"}},
            {"name": "crash", "runner": "fake", "config": {"fail": True}},
            {"name": "bias", "runner": "fake", "config": {"shape": "bias"}}]
    cfg, base = load_weekly_config(_weekly(tmp_path, exps))
    outcomes = run_experiments(cfg, base, tmp_path / "runs", reg, log=lambda _: None)
    assert [o.status for o in outcomes] == ["ran", "failed", "failed", "ran"]
    assert "shpe" in outcomes[1].error
    assert "boom" in outcomes[2].error and "RuntimeError" in outcomes[2].error

    missing: list[str] = []
    runs = load_runs(outcomes, missing)
    assert len(runs) == 2 and len(missing) == 2
    out = tmp_path / "reports" / "2026-11-23"
    report = write_report(cfg, base, runs, out, missing=missing, today=dt.date(2026, 11, 23),
                          reports_dir=tmp_path / "reports", log=lambda _: None)
    for name in ("deck.pptx", "summary.md", "takeaways.yaml"):
        assert (out / name).is_file()
    assert any((out / "charts").glob("*.png"))
    titles = [s.shapes.title.text for s in Presentation(out / "deck.pptx").slides if s.shapes.title is not None]
    assert titles[1].startswith("Not in this deck")
    summary = (out / "summary.md").read_text()
    assert "typo (fake) failed" in summary and "crash (fake) failed" in summary
    assert report.files["deck"] == out / "deck.pptx"


def test_recap_is_last_report_takeaways(tmp_path, registry):
    reg, _ = registry
    reports = tmp_path / "reports"
    (reports / "2026-11-09").mkdir(parents=True)
    (reports / "2026-11-09" / "takeaways.yaml").write_text("takeaways: [Old news]\n")
    (reports / "2026-11-16").mkdir()
    (reports / "2026-11-16" / "takeaways.yaml").write_text("takeaways: [Ablation drops refusal from 97% to 4%]\n")
    (reports / "2026-11-23").mkdir()
    (reports / "2026-11-23" / "takeaways.yaml").write_text("takeaways: [Today's own output]\n")
    assert previous_takeaways(reports, dt.date(2026, 11, 23)) == reports / "2026-11-16" / "takeaways.yaml"
    assert previous_takeaways(reports, dt.date(2026, 11, 9)) is None

    cfg, base = load_weekly_config(_weekly(tmp_path, [{"name": "steer", "runner": "fake"}]))
    outcomes = run_experiments(cfg, base, tmp_path / "runs", reg, log=lambda _: None)
    runs = load_runs(outcomes, [])
    write_report(cfg, base, runs, reports / "2026-11-23", missing=[], today=dt.date(2026, 11, 23),
                 reports_dir=reports, log=lambda _: None)
    prs = Presentation(reports / "2026-11-23" / "deck.pptx")
    texts = [sh.text_frame.text for s in prs.slides for sh in s.shapes if sh.has_text_frame]
    assert any("Ablation drops refusal from 97% to 4%" in t for t in texts)
    assert not any("Today's own output" in t or "Old news" in t for t in texts)
    written = yaml.safe_load((reports / "2026-11-23" / "takeaways.yaml").read_text())
    assert written["takeaways"], "this week's takeaways are written for next week's recap"


def test_weekly_file_errors_name_the_field(tmp_path):
    from reportgen.inputs.deck_yaml import SpecError

    path = tmp_path / "weekly.yaml"
    path.write_text("experiments:\n  - name: a b\n    runner: steering\n  - name: x\n    runnr: bias\n")
    with pytest.raises(SpecError) as err:
        load_weekly_config(path)
    text = str(err.value)
    assert "experiments.0.name" in text or "experiments[0].name" in text
    assert "runnr" in text


class _BadInput(Exception):
    """A runner's own "your input is wrong" error (declared in its registry entry)."""


@pytest.mark.parametrize("declared", [True, False])
def test_declared_user_errors_are_reported_without_a_code_location(tmp_path, declared):
    def run(config, out, overwrite):
        raise _BadInput("data.csv, row 3: no 'instruction' column")

    load = lambda source, overrides: FakeConfig.model_validate({**(source or {}), **overrides})  # noqa: E731
    runner = Runner("fake", load, run, lambda cfg: "code-v1", (_BadInput,) if declared else ())
    cfg, base = load_weekly_config(_weekly(tmp_path, [{"name": "bad", "runner": "fake"}]))
    (outcome,) = run_experiments(cfg, base, tmp_path / "runs", {"fake": runner}, log=lambda _: None)
    assert outcome.status == "failed"
    if declared:
        assert outcome.error == "data.csv, row 3: no 'instruction' column"
    else:  # an undeclared exception is a bug: say where it came from
        assert outcome.error.startswith("_BadInput: data.csv") and "test_job.py:" in outcome.error
