"""`reportgen run truncation --model path/to/file.gguf`: the CLI on a GGUF file named by its path
(not the `smollm2` short name), end to end on a tiny config."""

from __future__ import annotations

import json

import pytest

from reportgen.rundir.reader import load_run

pytestmark = pytest.mark.real_model


def test_truncation_run_on_a_gguf_path_writes_a_valid_run(smollm2_lm, shared_datasets, run_cli, tmp_path) -> None:
    from experiments.core.model_sources import packaged_gguf

    gguf = packaged_gguf("smollm2")
    cfg = tmp_path / "truncation.yaml"
    cfg.write_text(
        f"datasets: [{shared_datasets / 'mmlu' / 'global_facts_test.csv'}]\n"
        "limit: 2\nmax_new_tokens: 24\nbatch_size: 2\nfractions: [0, 1.0]\nsentence_cuts: false\n"
        "continued: false\nmistakes: false\nparaphrase: false\nfiller: false\nprompt:\n  preset: cot\n")
    out = tmp_path / "run"
    code, stdout, err = run_cli("run", "truncation", "--model", gguf, "--config", cfg, "--out", out)
    assert code == 0, err
    run = load_run(out)
    meta = json.loads((out / "run.json").read_text())
    assert meta["model_revision"].startswith("gguf-sha256:") and gguf.name in meta["model_id"], meta
    forced = run.results[(run.results["experiment"] == "early_answering") & (run.results["metric"] == "matches_full")]
    assert sorted(forced["x"].unique()) == [0.0, 1.0] and forced["item_id"].nunique() == 2
    assert all(p.prompt.count("<|im_start|>user") == 1 for p in run.prompts)
