"""`reportgen import inspect`: a real inspect_ai eval (mock model) -> a validated run dir -> a deck.

The log is produced here by running a tiny inspect task against inspect's own mock model
(``mockllm/model``), so the importer is tested on exactly what inspect writes, not on a
hand-made imitation of its file format.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pptx import Presentation

from experiments.importers.inspect_log import classify_scores
from reportgen.rundir.reader import load_run

#: What the mock model answers per prompt; "four" for q3 is wrong for `match` but right for `color`.
ANSWERS = {"Say 4": "4", "Say 5": "five", "Say four": "four"}


def _mock_reply(messages, tools, tool_choice, config):  # signature of mockllm's custom_outputs
    from inspect_ai.model import ModelOutput, ModelUsage

    out = ModelOutput.from_content(model="mockllm", content=ANSWERS[messages[-1].text])
    # Usage given up front: mockllm would otherwise count tokens with tiktoken, which downloads.
    out.usage = ModelUsage(input_tokens=3, output_tokens=1, total_tokens=4)
    return out


@pytest.fixture(scope="module")
def inspect_log(tmp_path_factory) -> Path:
    from inspect_ai import Task
    from inspect_ai import eval as inspect_eval
    from inspect_ai.dataset import Sample
    from inspect_ai.model import get_model
    from inspect_ai.scorer import CORRECT, INCORRECT, PARTIAL, Score, Target, match, mean, scorer
    from inspect_ai.solver import generate

    @scorer(metrics=[mean()])
    def length():
        async def score(state, target: Target) -> Score:
            return Score(value=len(state.output.completion) / 10)
        return score

    @scorer(metrics=[mean()])
    def lenient():
        async def score(state, target: Target) -> Score:
            text = state.output.completion
            return Score(value=CORRECT if text == target.text else PARTIAL if text.startswith("f") else INCORRECT)
        return score

    @scorer(metrics=[])
    def color():
        async def score(state, target: Target) -> Score:
            return Score(value="blue")
        return score

    task = Task(
        dataset=[Sample(input="Say 4", target="4", id="q1"), Sample(input="Say 5", target="5", id="q2"),
                 Sample(input="Say four", target="4", id="q3")],
        solver=[generate()], scorer=[match(), length(), lenient(), color()], name="tiny_arith",
    )
    log_dir = tmp_path_factory.mktemp("inspect_logs")
    logs = inspect_eval(task, model=get_model("mockllm/model", custom_outputs=_mock_reply),
                        log_dir=str(log_dir), display="none")
    assert logs[0].status == "success", logs[0].error
    return Path(logs[0].location)


def test_import_maps_samples_scores_and_prompts(run_cli, tmp_path, inspect_log):
    out = tmp_path / "run"
    code, stdout, err = run_cli("import", "inspect", inspect_log, "--out", out)
    assert code == 0, err
    run = load_run(out)  # validates the table, prompts and run.json against the schema
    df = run.results
    assert set(df["experiment"]) == {"tiny_arith"} and set(df["model"]) == {"mockllm/model"}
    assert set(df["task"]) == {"other"} and set(df["condition"]) == {"baseline"}
    value = {(r.item_id, r.metric): r.value for r in df.itertuples()}
    # match: C/I -> 1/0 per sample (q1 "4" right; q2 "five" and q3 "four" wrong).
    assert [value[(i, "match")] for i in ("q1", "q2", "q3")] == [1.0, 0.0, 0.0]
    # A numeric score stays continuous; partial credit is 0.5 inside declared bounds.
    assert [value[(i, "length")] for i in ("q1", "q2", "q3")] == pytest.approx([0.1, 0.4, 0.4])
    assert [value[(i, "lenient")] for i in ("q1", "q2", "q3")] == [1.0, 0.5, 0.5]
    lenient = df[df["metric"] == "lenient"]
    assert (lenient["lower_bound"] == 0).all() and (lenient["upper_bound"] == 1).all()
    assert "color" not in set(df["metric"])  # free-text score: skipped, and said so
    assert "skipped score 'color': non-numeric values such as 'blue'" in stdout

    prompts = {p["item_id"]: p for p in map(json.loads, (out / "prompts.jsonl").read_text().splitlines())}
    assert prompts["q2"]["prompt"] == "user: Say 5" and prompts["q2"]["completion"] == "five"
    assert {p["prompt_format"] for p in prompts.values()} == {"chat"}

    info = json.loads((out / "run.json").read_text())
    assert info["source_log"] == str(inspect_log.resolve()) and info["inspect_version"]
    assert info["run_id"] == f"inspect-{info['inspect_eval_id']}" and set(df["run_id"]) == {info["run_id"]}
    assert info["metric_kinds"] == {"match": "rate", "length": "continuous", "lenient": "partial"}
    assert info["finished_at"] is not None

    deck = tmp_path / "deck.pptx"
    code, _, err = run_cli("deck", out, "-o", deck)
    assert code == 0, err
    text = " ".join(sh.text_frame.text for s in Presentation(str(deck)).slides for sh in s.shapes
                    if sh.has_text_frame)
    assert "33%" in text and "Wilson" in text  # match: 1/3 as a rate, not a mean of 0.33


def test_bad_logs_name_the_file(run_cli, tmp_path, inspect_log):
    garbage = tmp_path / "broken.eval"
    garbage.write_text("not a zip")
    for bad in (garbage, tmp_path / "missing.eval"):
        code, _, err = run_cli("import", "inspect", bad, "--out", tmp_path / "out")
        assert code == 2 and str(bad) in err and "Traceback" not in err
    assert not (tmp_path / "out" / "results.parquet").exists()
    # A directory already holding another run is refused, not mixed.
    other = tmp_path / "other"
    assert run_cli("import", "inspect", inspect_log, "--out", other, "--condition", "a")[0] == 0
    code, _, err = run_cli("import", "inspect", inspect_log, "--out", other, "--condition", "b")
    assert code == 2 and "different config" in err


@pytest.mark.parametrize(("values", "expected"), [
    (["C", "I", "N"], ("rate", {0: 1.0, 1: 0.0, 2: 0.0})),
    ([True, "no", 1], ("rate", {0: 1.0, 1: 0.0, 2: 1.0})),
    (["C", "P"], ("partial", {0: 1.0, 1: 0.5})),
    ([0.25, "3"], ("continuous", {0: 0.25, 1: 3.0})),
    ([{"a": 1}], "non-numeric values such as \"{'a': 1}\""),
])
def test_classify_scores(values, expected):
    assert classify_scores(values) == expected
