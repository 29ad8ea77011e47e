"""One config, both prompt formats: the organism's truncation run under chat and completion.

The two formats must give genuinely different prompts (the chat template's role tokens in one,
the completion template in the other) and every row must carry the format it was run under.
"""

from __future__ import annotations

import json

import pytest

from experiments.core.errors import ConfigError
from experiments.core.formats import SUBDIR, format_configs, run_formats
from experiments.core.prompting import DEFAULT_SYSTEM, format_prompt
from experiments.truncation.config import TruncationConfig
from experiments.truncation.runner import run_truncation
from reportgen.rundir.reader import load_run

N_ITEMS = 4
CHAT_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")


@pytest.fixture(scope="module")
def both_formats(organism_lm, tmp_path_factory):
    out = tmp_path_factory.mktemp("formats") / "run"
    # The template's own system turn in chat; none in completion ("{system}" is not in its template).
    data = {"limit": N_ITEMS, "max_new_tokens": 48, "batch_size": 16, "system_prompt": DEFAULT_SYSTEM,
            "prompt_format": ["chat", "completion"]}
    configs = format_configs(data, TruncationConfig)
    df = run_formats(configs, lambda cfg, d: run_truncation(cfg, d, lm=organism_lm), out, task="truncation")
    return out, df


@pytest.mark.slow
def test_rows_carry_their_format_and_match_one_for_one(both_formats):
    out, df = both_formats
    run = load_run(out)
    assert run.info.finished_at is not None and set(df["run_id"]) == {run.info.run_id}
    assert set(df["prompt_format"]) == {"chat", "completion"}
    key = ["experiment", "condition", "item_id", "metric", "x", "group"]
    chat = df[df["prompt_format"] == "chat"][key].astype(str).sort_values(key).reset_index(drop=True)
    comp = df[df["prompt_format"] == "completion"][key].astype(str).sort_values(key).reset_index(drop=True)
    assert len(chat) > 0 and chat.equals(comp)  # the same observations, once per format
    for fmt in ("chat", "completion"):  # each format also stands alone as a valid run
        sub = load_run(out / SUBDIR.format(fmt=fmt))
        assert len(sub.results) == (df["prompt_format"] == fmt).sum()
    # The combined run is labelled like its parts (the reporter reads the runner's vocabulary).
    combined = json.loads((out / "run.json").read_text())
    part = json.loads((out / SUBDIR.format(fmt="chat") / "run.json").read_text())
    assert combined["vocabulary"] == part["vocabulary"] and combined["vocabulary"]["labels"]


@pytest.mark.slow
def test_the_two_formats_send_genuinely_different_prompts(both_formats, organism_lm):
    out, _ = both_formats
    prompts = load_run(out).prompts
    by_format: dict[str, dict[tuple, str]] = {"chat": {}, "completion": {}}
    for p in prompts:
        by_format[p.prompt_format][(p.experiment, p.condition, p.item_id, p.x)] = p.prompt
    assert by_format["chat"].keys() == by_format["completion"].keys() and by_format["chat"]
    for k, chat in by_format["chat"].items():
        comp = by_format["completion"][k]
        assert chat != comp
        assert all(t in chat for t in CHAT_TOKENS) and not any(t in comp for t in CHAT_TOKENS)
    # Each prompt starts exactly as format_prompt renders the question in its own format.
    tok = organism_lm.tokenizer
    chat_head = format_prompt(tok, "", fmt="chat", system=DEFAULT_SYSTEM).split("<|user|>")[0]
    comp_head = format_prompt(tok, "Q", fmt="completion", completion_template="User : {user}\nAssistant : ")
    comp_head = comp_head.split("Q")[0]  # BOS + "User : "
    assert all(p.startswith(chat_head + "<|user|>") for p in by_format["chat"].values())
    assert all(p.startswith(comp_head) for p in by_format["completion"].values())


@pytest.mark.parametrize("formats", [["chat", "chat"], ["json"], []])
def test_bad_format_lists_are_config_errors(formats):
    with pytest.raises(ConfigError, match="prompt_format"):
        format_configs({"prompt_format": formats}, TruncationConfig, "cfg.yaml")


def test_one_format_or_none_given():
    assert list(format_configs({}, TruncationConfig)) == ["chat", "completion"]
    assert list(format_configs({"prompt_format": "completion"}, TruncationConfig)) == ["completion"]


def test_cli_names_the_config_file_on_a_bad_format_list(monkeypatch, capsys, tmp_path):
    import sys

    from reportgen.cli.entry import main

    cfg = tmp_path / "both.yaml"
    cfg.write_text("prompt_format: [chat, chat]\nlimit: 2\n")
    monkeypatch.setattr(sys, "argv", ["reportgen", "run", "formats", "truncation", "--config", str(cfg),
                                      "--out", str(tmp_path / "run")])
    with pytest.raises(SystemExit) as exc:
        main()
    err = capsys.readouterr().err
    assert exc.value.code == 2 and str(cfg) in err and "prompt_format" in err
    assert not (tmp_path / "run").exists()
