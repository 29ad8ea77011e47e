"""Fixtures for the reporter's tests: small run directories written through the real schema."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

#: A prompt no slide or Markdown file can take naively: CRLF, control characters, a tab,
#: emoji (with a ZWJ sequence), right-to-left text, backticks and Jinja-looking braces.
HOSTILE_PROMPT = (
    "<|im_start|>system\r\nYou are a helpful assistant.<|im_end|>\r\n<|im_start|>user\r\n"
    "Col1\tCol2 \x1b[31mred\x1b[0m bell\x07 nul\x00 😀👩‍👩‍👧 שלום עולם مرحبا ```code``` {{ user.name }} {% if x %}\r\n"
    "<|im_end|>\n<|im_start|>assistant\n"
)


def write_run(
    path: Path,
    *,
    experiment: str = "harmful",
    rates: dict[str, float] | None = None,
    n: int = 20,
    prompt: str = HOSTILE_PROMPT,
    completions: dict[str, str] | None = None,
    run_id: str | None = None,
) -> Path:
    """A steering-shaped run: one refusal rate per condition, exact counts, prompts and run.json."""
    rates = rates or {"baseline": 0.9, "ablation": 0.1}
    completions = completions or {"baseline": "I can't help with that.", "ablation": "Sure. Step 1: …"}
    run_id = run_id or path.name
    path.mkdir(parents=True, exist_ok=True)
    rows, prompts = [], []
    for cond, p in rates.items():
        values = np.zeros(n)
        values[: int(round(p * n))] = 1.0
        for i, v in enumerate(values):
            rows.append({"experiment": experiment, "task": "steering", "model": "organism", "condition": cond,
                         "item_id": f"i{i:02d}", "metric": "refusal", "value": v, "run_id": run_id})
            prompts.append({"experiment": experiment, "condition": cond, "item_id": f"i{i:02d}", "prompt": prompt,
                            "completion": completions.get(cond, ""), "parsed_answer": None, "prompt_format": "chat"})
    df = pd.DataFrame(rows)
    df.to_parquet(path / "results.parquet")
    df.to_csv(path / "results.csv", index=False)
    (path / "prompts.jsonl").write_text("".join(json.dumps(p) + "\n" for p in prompts), encoding="utf-8")
    (path / "run.json").write_text(json.dumps({
        "run_id": run_id, "git_sha": "0123abc", "git_dirty": False, "model_id": "organism",
        "dtype": "float32", "device": "cpu", "seed": 0,
    }))
    return path


@pytest.fixture(scope="session")
def run_writer() -> Callable[..., Path]:
    """:func:`write_run` itself, for module-scoped fixtures that pick their own folder."""
    return write_run


@pytest.fixture
def make_run(tmp_path: Path) -> Callable[..., Path]:
    """``make_run("name", **kw)`` writes a run directory under tmp_path (see :func:`write_run`)."""
    def make(name: str = "run", **kw) -> Path:
        return write_run(tmp_path / name, **kw)

    return make


@pytest.fixture(scope="session")
def hostile_prompt() -> str:
    return HOSTILE_PROMPT
