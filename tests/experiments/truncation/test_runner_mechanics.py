"""Runner mechanics on a random model: exact prompts, forced reads, schema, resume.

A random model's answers are noise; these tests check what must hold for *any* model
(prompts are literal prefixes, forced reads equal an unpadded forward pass, every
item is counted at every cut, an interrupted run resumes to the same table).
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
import torch

from experiments.truncation import runner as runner_mod
from experiments.truncation.answers import AnswerReader
from experiments.truncation.config import TruncationConfig
from experiments.truncation.runner import CachedReasoning, run_truncation
from experiments.truncation.segment import kept_tokens, token_offsets
from reportgen.rundir.reader import load_run

SYSTEM = "You are a helpful assistant ."


def small_config(**kw) -> TruncationConfig:
    # Random weights put next to no probability on the options; every read here is mechanics,
    # so the low-mass parse failure (min_option_mass) is off.
    base = dict(limit=6, max_new_tokens=16, batch_size=4, system_prompt=SYSTEM, min_option_mass=0.0)
    return TruncationConfig(**{**base, **kw})


@pytest.fixture(scope="module")
def organism_run(random_organism_lm, tmp_path_factory):
    out = tmp_path_factory.mktemp("trunc") / "run"
    df = run_truncation(small_config(), out, lm=random_organism_lm)
    return out, df


def _records(out) -> list[dict]:
    return [json.loads(line) for line in (out / "prompts.jsonl").read_text().splitlines()]


def test_run_dir_is_valid_and_every_item_is_counted_at_every_cut(organism_run):
    out, df = organism_run
    run = load_run(out)
    assert run.info.finished_at is not None and (out / "reasoning.jsonl").exists()
    early = df[df["experiment"] == "early_answering"]
    for cond in ("forced", "continued"):
        sub = early[(early["condition"] == cond) & (early["metric"] != "aoc")]
        counts = sub.groupby(["metric", "x"])["item_id"].nunique()
        assert set(counts.index.get_level_values("metric")) == {"matches_full", "correct", "parse_failure"}
        assert (counts == 6).all() and sorted(sub["x"].unique()) == [0, 0.25, 0.5, 0.75, 1.0]
    binary = df[df["metric"] != "aoc"]
    assert set(binary["value"].unique()) <= {0.0, 1.0}
    # A parse failure is its own outcome: never also a match or correct.
    wide = binary.pivot_table(index=["experiment", "condition", "item_id", "x"], columns="metric",
                              values="value", dropna=False)
    failed = wide[wide["parse_failure"] == 1]
    assert (failed["matches_full"] == 0).all() and (failed["correct"] == 0).all()
    aoc = df[df["metric"] == "aoc"]
    assert aoc["x"].isna().all() and aoc["group"].notna().all()
    assert set(aoc.groupby(["experiment", "condition"]).size()) == {6}
    assert aoc["value"].between(0, 1).all()


def test_forced_prompts_are_the_question_plus_a_literal_reasoning_prefix(organism_run, organism_tokenizer):
    out, _ = organism_run
    recs = _records(out)
    full = {r["item_id"]: r for r in recs if r["condition"] == "full"}
    assert len(full) == 6
    forced = [r for r in recs if r["experiment"] == "early_answering" and r["condition"] == "forced"]
    assert len(forced) == 30
    for r in forced:
        f = full[r["item_id"]]
        assert f["reasoning"].startswith(r["kept_reasoning"])
        assert r["prompt"] == f["prompt"] + r["kept_reasoning"] + " </reasoning> answer :"
        total = len(token_offsets(organism_tokenizer, f["reasoning"]))
        assert r["total_tokens"] == total and r["n_tokens_kept"] == kept_tokens(r["x"], total)
        kept_ids = organism_tokenizer(r["kept_reasoning"], add_special_tokens=False)["input_ids"]
        all_ids = organism_tokenizer(f["reasoning"], add_special_tokens=False)["input_ids"]
        assert kept_ids == all_ids[: r["n_tokens_kept"]]
        assert sum(r["option_probs"].values()) == pytest.approx(1.0, abs=1e-4)
        assert r["parsed_answer"] == max(r["option_probs"], key=r["option_probs"].get)
        if r["x"] == 1.0:
            assert r["parsed_answer"] == f["forced_full_answer"]
    continued = [r for r in recs if r["experiment"] == "early_answering" and r["condition"] == "continued"]
    assert all(r["prompt"] == full[r["item_id"]]["prompt"] + r["kept_reasoning"] for r in continued)


def test_forced_read_equals_an_unpadded_forward_pass(organism_run, random_organism_lm):
    out, _ = organism_run
    lm = random_organism_lm
    recs = [r for r in _records(out) if r["condition"] == "forced"][:8]
    digits = [str(d) for d in range(10)]
    ids = [lm.tokenizer.convert_tokens_to_ids(d) for d in digits]
    for r in recs:
        enc = lm.tokenizer(r["prompt"], return_tensors="pt", add_special_tokens=False)
        with torch.no_grad():
            logits = lm.model(**enc).logits[0, -1]
        assert digits[int(torch.argmax(logits[ids]))] == r["parsed_answer"]


def test_mistake_prompts_corrupt_one_step_and_keep_a_clean_control(organism_run):
    out, df = organism_run
    recs = [r for r in _records(out) if r["experiment"] == "adding_mistakes"]
    by_item: dict[str, dict] = {}
    for r in recs:
        by_item.setdefault(r["item_id"], {})[r["condition"]] = r
    for pair in by_item.values():
        m, c = pair["mistake"], pair["continued"]
        assert m["original_step"] != m["corrupted_step"]
        assert c["prompt"].endswith(m["original_step"]) and m["prompt"].endswith(m["corrupted_step"])
        assert m["prompt"][: -len(m["corrupted_step"])] == c["prompt"][: -len(m["original_step"])]
    changed = df[(df["experiment"] == "adding_mistakes") & (df["metric"] == "answer_changed")]
    assert len(changed) == 2 * len(by_item)


def test_rerunning_a_finished_run_returns_it_and_a_new_config_is_refused(organism_run, random_organism_lm,
                                                                        monkeypatch):
    out, df = organism_run
    monkeypatch.setattr(runner_mod, "load_model", lambda *a, **k: pytest.fail("model loaded for a finished run"))
    again = run_truncation(small_config(), out)
    pd.testing.assert_frame_equal(again.reset_index(drop=True), df.reset_index(drop=True), check_dtype=False)
    from experiments.core.errors import RunDirError

    with pytest.raises(RunDirError, match="different config"):
        run_truncation(small_config(fractions=[0, 1]), out, lm=random_organism_lm)


def test_interrupted_run_resumes_without_regenerating_or_duplicating(random_organism_lm, tmp_path, monkeypatch,
                                                                      interrupt):
    cfg = small_config(sentence_cuts=False)
    clean = run_truncation(cfg, tmp_path / "clean", lm=random_organism_lm)

    # Call 1 generates the reasoning, call 2 the first batch of continuations; the third is
    # interrupted, after the forced stage and one continued batch were written.
    out = tmp_path / "resumed"
    interrupt(AnswerReader, "continued", 3, run_truncation, cfg, out, lm=random_organism_lm)
    assert not (out / "results.parquet").exists()
    cached = (out / "reasoning.jsonl").read_text().splitlines()
    assert len(cached) == 6

    regenerated = []
    monkeypatch.setattr(runner_mod, "_append_cache", lambda path, recs: regenerated.extend(recs))
    resumed = run_truncation(cfg, out, lm=random_organism_lm)
    assert regenerated == []  # the cached reasoning was reused, not generated again
    key = ["experiment", "condition", "item_id", "metric", "x", "group"]
    a = clean.drop(columns="run_id").sort_values(key).reset_index(drop=True)
    b = resumed.drop(columns="run_id").sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, check_dtype=False)


def test_sampled_reasoning_resumed_after_interruption_is_the_same(random_organism_lm, tmp_path, interrupt):
    """With do_sample, the reasoning stage seeds each item, not each chunk: a run stopped after
    its first chunk of reasoning and resumed (the rest now a chunk of its own) samples the
    reasoning and values of an uninterrupted run (issue 13 item 12)."""
    cfg = small_config(do_sample=True, temperature=1.5, batch_size=1, sentence_cuts=False, mistakes=False)
    clean = run_truncation(cfg, tmp_path / "clean", lm=random_organism_lm)
    out = tmp_path / "resumed"
    # the 2nd call is the second reasoning chunk (4 items per chunk at batch_size 1)
    interrupt(AnswerReader, "continued", 2, run_truncation, cfg, out, lm=random_organism_lm)
    assert len((out / "reasoning.jsonl").read_text().splitlines()) == 4
    resumed = run_truncation(cfg, out, lm=random_organism_lm)
    texts = lambda d: {r["item_id"]: r["completion"] for r in map(json.loads, (d / "reasoning.jsonl").read_text().splitlines())}  # noqa: E731
    a, b = texts(tmp_path / "clean"), texts(out)
    assert len(a) == 6 and len(set(a.values())) > 1
    assert a == b
    key = ["experiment", "condition", "item_id", "metric", "x", "group"]
    pd.testing.assert_frame_equal(clean.drop(columns="run_id").sort_values(key).reset_index(drop=True),
                                  resumed.drop(columns="run_id").sort_values(key).reset_index(drop=True),
                                  check_dtype=False)


def test_free_form_questions_are_never_dropped(random_organism_lm, tmp_path):
    data = tmp_path / "short.jsonl"
    data.write_text("\n".join(json.dumps({"id": f"s{i}", "question": f"How many legs does a cat have ? {i}",
                                          "answer": "4"}) for i in range(3)))
    cfg = small_config(datasets=[str(data)], limit=None, mistakes=False, continued=False, answer_tokens=3)
    df = run_truncation(cfg, tmp_path / "run", lm=random_organism_lm)
    forced = df[(df["condition"] == "forced") & (df["experiment"] == "early_answering")]
    assert forced.groupby("x")["item_id"].nunique().eq(3).all()
    recs = [json.loads(x) for x in (tmp_path / "run" / "prompts.jsonl").read_text().splitlines()]
    forced_recs = [r for r in recs if r["condition"] == "forced"]
    assert all(r["option_probs"] == {} for r in forced_recs)  # generated, not read from options
    fails = forced[forced["metric"] == "parse_failure"]["value"]
    parsed = [r for r in forced_recs if r["parsed_answer"] is not None]
    assert int(fails.sum()) == len(forced_recs) - len(parsed)


def test_lettered_questions_read_letters(random_organism_lm, tmp_path):
    data = tmp_path / "mc.jsonl"
    data.write_text("\n".join(json.dumps({"id": f"m{i}", "question": "Is a cat an animal ?",
                                          "options": ["yes", "no", "True"], "answer": "A"}) for i in range(2)))
    cfg = small_config(datasets=[str(data)], limit=None, mistakes=False, continued=False)
    run_truncation(cfg, tmp_path / "run", lm=random_organism_lm)
    recs = [json.loads(x) for x in (tmp_path / "run" / "prompts.jsonl").read_text().splitlines()]
    forced = [r for r in recs if r["condition"] == "forced"]
    assert forced and all(set(r["option_probs"]) == {"A", "B", "C"} for r in forced)
    assert all(r["parsed_answer"] in {"A", "B", "C"} and r["prompt"].endswith("answer : (") for r in forced)
    assert all(r["gold"] == "A" for r in forced)
    full = [r for r in recs if r["condition"] == "full"]
    assert "( A ) yes" in full[0]["prompt"] or "(A) yes" in full[0]["prompt"]


def test_cached_reasoning_round_trips(tmp_path):
    rec = CachedReasoning("i", "p", "c", "r", True, "5", "5", {"5": 1.0}, 3, 1)
    runner_mod._append_cache(tmp_path / "c.jsonl", [rec])
    with (tmp_path / "c.jsonl").open("a") as fh:
        fh.write('{"item_id": "torn')  # killed mid-write
    assert runner_mod._read_cache(tmp_path / "c.jsonl") == {("i", 0): rec}


def test_k_sampled_reasonings_resume_to_the_uninterrupted_run(random_organism_lm, tmp_path, interrupt):
    """samples: 3 samples three reasonings per item, each seeded by item and sample index and
    cut, continued and corrupted on its own: a run stopped in the reasoning stage and resumed
    writes the table of an uninterrupted one, every row tagged with its sample."""
    cfg = small_config(do_sample=True, temperature=1.5, top_p=0.9, samples=3, limit=4, batch_size=2,
                       sentence_cuts=False, fractions=[0.0, 0.5, 1.0])
    clean = run_truncation(cfg, tmp_path / "clean", lm=random_organism_lm)
    out = tmp_path / "resumed"
    # the 2nd call is the second reasoning chunk (8 of the 12 item-samples per chunk)
    interrupt(AnswerReader, "continued", 2, run_truncation, cfg, out, lm=random_organism_lm)
    resumed = run_truncation(cfg, out, lm=random_organism_lm)
    texts = lambda d: {(r["item_id"], r["sample"]): r["completion"]  # noqa: E731
                       for r in map(json.loads, (d / "reasoning.jsonl").read_text().splitlines())}
    a = texts(tmp_path / "clean")
    assert len(a) == 12 and a == texts(out)
    assert all(len({a[(i, s)] for s in range(3)}) > 1 for i in {i for i, _ in a})  # samples differ per item
    assert sorted(clean["sample"].unique()) == [0, 1, 2]
    forced = clean[(clean["condition"] == "forced") & (clean["metric"] == "matches_full")]
    assert len(forced) == 4 * 3 * 3  # items x samples x fractions
    key = ["experiment", "condition", "item_id", "sample", "metric", "x", "group"]
    pd.testing.assert_frame_equal(clean.drop(columns="run_id").sort_values(key).reset_index(drop=True),
                                  resumed.drop(columns="run_id").sort_values(key).reset_index(drop=True),
                                  check_dtype=False)


def test_samples_need_sampling():
    with pytest.raises(ValueError, match="needs do_sample"):
        small_config(samples=2)


def test_bbh_and_mmlu_with_the_cot_style(random_organism_lm, tmp_path, shared_datasets):
    cfg = small_config(
        datasets=[str(shared_datasets / "bbh" / "navigate"), str(shared_datasets / "mmlu" / "global_facts_test.csv")],
        limit=2, mistakes=False, sentence_cuts=False, max_new_tokens=8, prompt={"preset": "cot"},
    )
    df = run_truncation(cfg, tmp_path / "run", lm=random_organism_lm)
    assert df["item_id"].nunique() == 4
    recs = [json.loads(x) for x in (tmp_path / "run" / "prompts.jsonl").read_text().splitlines()]
    forced = [r for r in recs if r["condition"] == "forced"]
    assert all(r["prompt"].endswith("So the best answer is: (") for r in forced)
    assert {r["gold"] for r in forced} <= {"A", "B", "C", "D"}
    full = [r for r in recs if r["condition"] == "full"]
    assert all("Answer choices:\n(A)" in r["prompt"] and "The best answer is: (X)" in r["prompt"] for r in full)


def test_example_config_validates():
    from pathlib import Path

    from experiments.core.config import load_config

    path = Path(__file__).resolve().parents[3] / "experiments" / "truncation" / "example.yaml"
    cfg = load_config(path, TruncationConfig)
    assert cfg.prompt.preset == "cot" and cfg.fractions == [0, 0.25, 0.5, 0.75, 1.0]
