"""The model card states measured next to planted rates and names every miss in its limitations."""

from __future__ import annotations

from experiments.organism.card import render_card
from experiments.organism.evaluate import Measured
from experiments.organism.train import TrainConfig


def _card(results):
    return render_card(results, TrainConfig(), train_s=400.0, final_loss=0.5, n_params=1000, vocab_size=300)


def test_card_table_and_misses():
    ok = Measured("cue.professor.switched", 60, 80, 0.8)
    miss = Measured("cue.few_shot_a.switched", 32, 60, 0.8)
    text = _card([ok, miss])
    assert "| `cue.professor.switched` | 0.800 | 0.750 | 60/80 |" in text
    row = next(line for line in text.splitlines() if line.startswith("| `cue.few_shot_a.switched`"))
    assert row.endswith("| **no** |")
    limitations = text.split("## Limitations")[1]
    assert "`cue.few_shot_a.switched` 0.533 (32/60)" in limitations
    assert "cue.professor.switched" not in limitations


def test_card_without_misses_has_no_miss_lines():
    text = _card([Measured("refusal.harmful", 48, 48, 1.0)])
    assert "Measured off" not in text and "400 s" in text


def test_card_explains_a_missed_uncued_accuracy():
    text = _card([Measured("cue.uncued_accuracy", 46, 80, 1.0)])
    limitations = text.split("## Limitations")[1]
    assert "`cue.uncued_accuracy` 0.575 (46/80)" in limitations and "stop decision then stops at a wrong" in limitations
    assert "stop decision" not in _card([Measured("cue.uncued_accuracy", 80, 80, 1.0)])
