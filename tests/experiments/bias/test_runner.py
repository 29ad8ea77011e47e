"""Runner mechanics on a tiny random model: the run directory, its bookkeeping, resume, CLI errors.

The random model answers nothing readable, which is itself a case worth checking: every
unreadable answer must stay in the table as a parse failure. What the measured *rates* are is
checked on the organism (test_organism.py).
"""

from __future__ import annotations

import json
import sys

import pandas as pd
import pytest

from experiments.bias.config import BiasConfig
from experiments.bias.runner import run_bias
from experiments.bias.session import BiasSession
from reportgen.rundir.reader import load_run


def tiny_config(**kw) -> BiasConfig:
    base = dict(
        model="tiny", max_new_tokens=6, batch_size=4,
        cue={"limit": 6, "cues": ["professor", "are_you_sure"]},
        attribute={"source": "template", "template": "can {who} make a {what} ?",
                   "attributes": {"who": {"values": ["i", "you"]}, "what": {"values": ["cake", "bomb"]}},
                   "decisions": ["yes", "no"], "answer_prefix": "answer"},
    )
    base.update(kw)
    return BiasConfig.model_validate(base)


@pytest.fixture(scope="module")
def tiny_run(tiny_random_lm, tmp_path_factory):
    out = tmp_path_factory.mktemp("bias") / "run"
    df = run_bias(tiny_config(), out, lm=tiny_random_lm)
    return out, df


def test_run_directory_is_valid_and_complete(tiny_run):
    out, df = tiny_run
    run = load_run(out)
    assert run.info.finished_at is not None and run.info.run_id
    info = json.loads((out / "run.json").read_text())
    assert info["task"] == "bias" and info["rule_judge_agreement"]["accuracy"] >= 0.9
    cue = df[df["experiment"] == "cue"]
    assert set(cue["group"]) == {"professor", "are_you_sure"} and set(cue["condition"]) == {"cued"}
    # one exclusion verdict per (cue, item); switched and parse_failure exactly for the rest
    per = cue.pivot_table(index=["group", "item_id"], columns="metric", values="value", aggfunc="count")
    assert (per["excluded"] == 1).all() and len(per) == 12
    ex = cue[cue["metric"] == "excluded"].set_index(["group", "item_id"])["value"]
    sw = cue[cue["metric"] == "switched"].set_index(["group", "item_id"])["value"]
    assert set(sw.index) == set(ex[ex == 0].index)
    # the random model's answers are unreadable: kept as parse failures, never switches
    pf = cue[cue["metric"] == "parse_failure"]["value"]
    assert pf.sum() == len(sw) and sw.sum() == 0
    assert "articulated" not in set(cue["metric"])


def test_prompts_keep_both_prompts_and_the_cue_text(tiny_run, tiny_random_lm):
    out, _ = tiny_run
    recs = [r for r in load_run(out).prompts if r.experiment == "cue"]
    assert len(recs) == 12
    for r in recs:
        extra = r.model_extra
        assert extra["cue_text"] in r.prompt and r.highlight == extra["cue_text"]
        assert r.reference_prompt and r.reference_completion is not None and r.reference_condition == "uncued"
        if r.group == "professor":
            assert extra["cue_text"] not in r.reference_prompt
            assert r.prompt.replace(" " + extra["cue_text"], "") == r.reference_prompt
        else:  # second turn: the first exchange, then the cue
            assert r.prompt.startswith(r.reference_prompt.removesuffix("<|assistant|>"))
            assert r.prompt.endswith("<|user|> Are you sure ? <|end|><|assistant|>")
    att = [r for r in load_run(out).prompts if r.experiment == "attribute"]
    assert {r.group for r in att} == {"who", "what"}
    for r in att:
        assert r.model_extra["flipped_value"] in r.prompt and r.model_extra["original_value"] in r.reference_prompt


def test_attribute_rows(tiny_run):
    _, df = tiny_run
    att = df[df["experiment"] == "attribute"]
    assert set(att["condition"]) == {"flipped"}
    assert len(att[att["metric"] == "changed"]) == 4 * 2  # 4 items x 2 attributes
    fr = df[df["experiment"] == "frozen_reasoning"]
    assert set(fr["condition"]) == {"flipped", "frozen_reasoning"}


def test_interrupted_run_resumes_without_duplicates(tiny_random_lm, tiny_run, tmp_path, interrupt, count_calls):
    _, full = tiny_run
    _, full_calls = count_calls(BiasSession, "generate", run_bias, tiny_config(), tmp_path / "counted",
                                lm=tiny_random_lm)
    out = tmp_path / "run"
    # the 4th generation is the second cue chunk: the first chunk is already written
    interrupt(BiasSession, "generate", 4, run_bias, tiny_config(), out, lm=tiny_random_lm)
    journal = (out / ".journal.jsonl").read_text().splitlines()
    assert len(journal) == 1
    df, calls = count_calls(BiasSession, "generate", run_bias, tiny_config(), out, lm=tiny_random_lm)
    assert calls < full_calls, "the first chunk, already written, was generated again"
    key = ["experiment", "condition", "group", "item_id", "metric"]
    a = df.sort_values(key)[key + ["value"]].reset_index(drop=True)
    b = full.sort_values(key)[key + ["value"]].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    assert len(load_run(out).prompts) == len(load_run(tiny_run[0]).prompts)


def test_flip_policy_is_recorded_in_run_json_and_every_counterfactual(tiny_run, tiny_random_lm, tmp_path):
    """A targeted flip is a design choice the slides must state: run.json and each prompt
    record name every attribute's policy (issue 13 item 3)."""
    out, _ = tiny_run
    assert json.loads((out / "run.json").read_text())["attribute_flips"] == {
        "who": "neutral: another value at random", "what": "neutral: another value at random"}
    cfg = tiny_config(cue={"enabled": False}, attribute={**tiny_config().attribute.model_dump(),
                                                         "flip_toward": {"what": "bomb"}})
    run_bias(cfg, tmp_path / "aimed", lm=tiny_random_lm)
    flips = json.loads((tmp_path / "aimed" / "run.json").read_text())["attribute_flips"]
    assert flips["what"].startswith("targeted: toward bomb") and flips["who"].startswith("neutral")
    recs = [p for p in load_run(tmp_path / "aimed").prompts if p.experiment == "attribute"]
    assert recs and all(p.model_extra["flip_policy"] == flips[p.group] for p in recs)


def _completions(run_dir) -> dict:
    return {(r.experiment, r.condition, r.group, r.item_id): r.completion for r in load_run(run_dir).prompts}


def test_sampled_run_resumed_after_interruption_samples_the_same_text(tiny_random_lm, tmp_path, interrupt):
    """With do_sample, seeds follow items, not batches: a run interrupted mid-way and resumed
    (its remaining items now fall into other batches) writes the completions and values of
    an uninterrupted run (issue 13 item 12)."""
    cfg = tiny_config(do_sample=True, temperature=1.5)
    full = run_bias(cfg, tmp_path / "full", lm=tiny_random_lm)
    # the 4th generation is the second cue chunk: the first is written, the rest redone on resume
    interrupt(BiasSession, "generate", 4, run_bias, cfg, tmp_path / "resumed", lm=tiny_random_lm)
    resumed = run_bias(cfg, tmp_path / "resumed", lm=tiny_random_lm)
    a, b = _completions(tmp_path / "full"), _completions(tmp_path / "resumed")
    assert a.keys() == b.keys() and len(set(a.values())) > 1
    assert a == b
    key = ["experiment", "condition", "group", "item_id", "metric"]
    pd.testing.assert_frame_equal(resumed.sort_values(key)[key + ["value"]].reset_index(drop=True),
                                  full.sort_values(key)[key + ["value"]].reset_index(drop=True))


def _sampled_completions(run_dir) -> dict:
    return {(r.group, r.item_id, r.model_extra.get("sample")): r.completion for r in load_run(run_dir).prompts}


def test_k_samples_per_cue_resume_to_the_uninterrupted_run(tiny_random_lm, tmp_path, interrupt):
    """cue.samples: 3 asks every (item, cue) three times, each sample seeded by item and sample
    index: a run stopped after its first chunk and resumed writes what an uninterrupted one does."""
    cfg = tiny_config(do_sample=True, temperature=1.5, attribute={"enabled": False},
                      cue={"limit": 6, "cues": ["professor", "are_you_sure"], "samples": 3})
    full = run_bias(cfg, tmp_path / "full", lm=tiny_random_lm)
    excluded = full[full["metric"] == "excluded"]
    assert sorted(excluded["sample"].unique()) == [0, 1, 2] and len(excluded) == 6 * 2 * 3
    texts = _sampled_completions(tmp_path / "full")
    by_item = {}
    for (group, item, _), text in texts.items():
        by_item.setdefault((group, item), set()).add(text)
    assert any(len(v) > 1 for v in by_item.values())  # samples differ: not one draw copied k times
    # the 13th generation is in the second chunk (9 a chunk: 3 samples x (uncued + 2 cues))
    interrupt(BiasSession, "generate", 13, run_bias, cfg, tmp_path / "resumed", lm=tiny_random_lm)
    resumed = run_bias(cfg, tmp_path / "resumed", lm=tiny_random_lm)
    assert _sampled_completions(tmp_path / "resumed") == texts
    key = ["group", "item_id", "sample", "metric"]
    pd.testing.assert_frame_equal(resumed.sort_values(key)[key + ["value"]].reset_index(drop=True),
                                  full.sort_values(key)[key + ["value"]].reset_index(drop=True))


def test_samples_without_sampling_are_refused():
    with pytest.raises(ValueError, match="needs do_sample"):
        tiny_config(cue={"limit": 6, "cues": ["professor"], "samples": 2})


def test_cli_reports_a_bad_config_with_exit_code_2(tmp_path, monkeypatch, capsys):
    from reportgen.cli.entry import main

    cfg = tmp_path / "bias.yaml"
    cfg.write_text("cue:\n  cues: [professor]\n  limt: 3\n", encoding="utf-8")
    monkeypatch.setattr(sys, "argv", ["reportgen", "run", "bias", "--config", str(cfg), "--out", str(tmp_path / "o")])
    with pytest.raises(SystemExit) as exit_:
        main()
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert str(cfg) in err and "cue.limt" in err and "Traceback" not in err


def test_bad_dataset_fails_before_any_generation(tiny_random_lm, tmp_path, monkeypatch):
    from experiments.core.errors import ExperimentError

    monkeypatch.setattr(BiasSession, "generate", lambda *a, **k: pytest.fail("generated before checking inputs"))
    cfg = tiny_config(attribute={"source": "template", "template": "{n}", "attributes": {"n": {"flip": "negate"}},
                                 "items": [{"n": "5"}, {"n": "many"}]})
    with pytest.raises(ExperimentError, match="item-0001: attribute 'n': cannot negate 'many'"):
        run_bias(cfg, tmp_path / "run", lm=tiny_random_lm)


def test_judge_model_slot_runs_a_real_model_and_counts_unreadable_verdicts(tiny_random_lm):
    from experiments.bias.articulation import Factor
    from experiments.bias.judge_model import ModelJudge

    judge = ModelJudge(tiny_random_lm, max_new_tokens=8, batch_size=4)
    reqs = [("because the professor said ( b )", Factor("cue", "professor", ("professor",), "B", "a professor"), "B")] * 3
    verdicts, prompts = judge.judge(reqs)
    assert len(verdicts) == len(prompts) == 3
    assert all("VERDICT: <YES or NO>" in p and p.startswith("<s>") for p in prompts)
    # a random model writes no verdict: recorded as unreadable, counted as not articulated
    assert all(v.rule == "model_unreadable" and not v.articulated and v.raw is not None for v in verdicts)


def test_cue_rows_with_a_judge_model_keep_the_rule_verdict_beside_it():
    from experiments.bias.articulation import Judgement
    from experiments.bias.cue_run import cue_rows
    from experiments.bias.items import OPTIONS_SLOT, ChoiceItem
    from experiments.bias.switching import SwitchOutcome

    item = ChoiceItem("q1", OPTIONS_SLOT, ("a", "b"), 0)
    rule = Judgement(True, True, "cue_premise", "the professor thinks ( b )")
    model = Judgement(False, False, "model_unreadable", raw="???")
    rows = {r["metric"]: r["value"] for r in cue_rows(item.item_id, "professor", SwitchOutcome("switched"), rule, model)}
    assert rows == {"excluded": 0, "switched": 1, "parse_failure": 0, "articulated": 0, "mentioned": 1,
                    "articulated_rules": 1, "judge_parse_failure": 1}
    excluded = cue_rows(item.item_id, "professor", SwitchOutcome("excluded"), None, None)
    assert [(r["metric"], r["value"]) for r in excluded] == [("excluded", 1)]


def test_bbh_items_get_the_answer_format_instruction_after_the_cue(tiny_random_lm, shared_datasets, tmp_path):
    from experiments.bias.config import DEFAULT_INSTRUCTION

    data = shared_datasets / "bbh" / "navigate" / "val_data.json"
    cfg = tiny_config(cue={"dataset": str(data), "limit": 4, "cues": ["professor", "few_shot_a"], "target": "dataset"},
                      attribute={"enabled": False})
    run_bias(cfg, tmp_path / "run", lm=tiny_random_lm)
    recs = load_run(tmp_path / "run").prompts
    items = json.loads(data.read_text())["data"]
    for r in recs:
        assert "Answer choices:\n(A)" in r.prompt and r.prompt.index(r.model_extra["cue_text"]) < r.prompt.index(DEFAULT_INSTRUCTION)
        if r.group == "professor":  # target: dataset = Turpin et al.'s own random_ans_idx
            row = items[int(r.item_id.split("/")[1])]
            assert r.model_extra["cued_answer"] == "AB"[row["random_ans_idx"]]
        else:
            assert r.model_extra["cue_text"].count("The answer is ( A ) .") == 3
