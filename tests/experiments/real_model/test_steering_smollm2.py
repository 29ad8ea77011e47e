"""Steering on a model that barely refuses: a finished run that states the finding."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from experiments.steering.config import SteeringConfig
from experiments.steering.runner import run_steering

pytestmark = pytest.mark.real_model


def test_smollm2_steering_run_reports_that_there_is_no_refusal_to_remove(smollm2_lm, shared_datasets, tmp_path):
    rd = shared_datasets / "refusal_direction"
    cfg = SteeringConfig(
        model="smollm2", batch_size=8, max_new_tokens=8, random_controls=False,
        data={"harmful_train": str(rd / "harmful_train.json"), "harmless_train": str(rd / "harmless_val.json"),
              "harmful_eval": str(rd / "harmful_val.json"), "harmless_eval": str(rd / "harmless_val.json"),
              "n_train": 8, "n_val": 4, "n_eval": 2},
        sweep={"enabled": False}, cost={"enabled": False},
    )
    df = run_steering(cfg, tmp_path / "run", lm=smollm2_lm)
    info = json.loads((tmp_path / "run" / "run.json").read_text())
    assert info["finished_at"] is not None and info["direction"]["found"] is False
    k, n = map(int, info["refusal_filter"]["train_kept"]["harmful"].split("/"))
    assert n == 8 and k < 2  # SmolLM2-135M refuses almost none of them
    kv = int(info["refusal_filter"]["val_kept"]["harmful"].split("/")[0])
    assert f"refuses {k + kv}/12 harmful prompts" in info["direction"]["finding"]
    assert "little refusal to remove" in info["direction"]["finding"]
    assert (tmp_path / "run" / "candidates.csv").exists()
    kept = df[(df.experiment == "refusal_filter") & (df.group == "harmful")]
    assert len(kept) == 12 and kept.value.sum() == k + kv
    assert set(df[df.experiment == "harmful"].condition) == {"baseline"}
    assert pd.read_csv(tmp_path / "run" / "candidates.csv").empty
    prompts = [json.loads(line) for line in (tmp_path / "run" / "prompts.jsonl").read_text().splitlines()]
    filtered = {(p["condition"], p["group"], p["item_id"]): p for p in prompts if p["experiment"] == "refusal_filter"}
    rows = df[df.experiment == "refusal_filter"]
    assert len(filtered) == len(rows) == 24  # every filtered prompt, both classes, can be shown on its slide
    for r in rows.itertuples():
        p = filtered[(r.condition, r.group, r.item_id)]
        assert p["prompt"].startswith("<|im_start|>user\n") and p["instruction"] in p["prompt"]
        assert (p["refusal_score"] > 0 if r.group == "harmful" else p["refusal_score"] < 0) == bool(r.value)
        assert p["parsed_answer"] == ("kept" if r.value else "not kept")
