"""`reportgen deck` and `reportgen abstract` end to end, through the real entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
from pptx import Presentation

from reportgen.inputs.recap import load_glossary

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.mark.parametrize("command", ["deck", "abstract"])
def test_help(run_cli, command):
    code, out, _ = run_cli(command, "--help")
    assert code == 0 and "Usage" in out and "-o" in out


def test_deck_from_example_runs(run_cli, tmp_path):
    out = tmp_path / "deck.pptx"
    code, stdout, err = run_cli("deck", EXAMPLES / "bias", "-o", out,
                                "--recap", EXAMPLES / "takeaways.yaml", "--glossary", EXAMPLES / "glossary.yaml")
    assert code == 0, err
    prs = Presentation(str(out))
    titles = [s.shapes.title.text for s in prs.slides]
    assert titles[1].startswith("Last week's takeaways") and titles[2] == "Summary"
    # The glossary follows the story (after the results, before Backup).
    g = next(i for i, t in enumerate(titles) if t.startswith("Terms used in this deck"))
    assert 3 < g < titles.index("Backup")
    # Only glossary terms that the deck's own slides use (prompts aside) are listed.
    listed = [line.split(" — ")[0] for line in prs.slides[g].shapes[1].text_frame.text.splitlines()]
    shapes = [sh for s in prs.slides if s is not prs.slides[g] for sh in s.shapes if sh.name != "Prompt text"]
    other = " ".join([sh.text_frame.text for sh in shapes if sh.has_text_frame]
                     + [c.text for sh in shapes if sh.has_table for r in sh.table.rows for c in r.cells]).lower()
    assert listed and all(term.lower() in other for term in listed)
    assert len(listed) < len(load_glossary(EXAMPLES / "glossary.yaml").root)
    assert "Backup" in titles and (tmp_path / "takeaways.yaml").exists()
    assert "slides" in stdout


def test_bad_spec_exits_2_naming_file_and_field(run_cli, tmp_path, make_run):
    run = make_run("steer")
    spec = tmp_path / "deck.yaml"
    spec.write_text("project: P\nexperiments:\n  - experiment: harmful\n    catagories: [baseline, ablation]\n")
    code, _, err = run_cli("deck", run, "-o", tmp_path / "d.pptx", "--spec", spec)
    assert code == 2 and "deck.yaml" in err and "catagories" in err and "Traceback" not in err
    recap = tmp_path / "takeaways.yaml"
    recap.write_text("takeaways:\n  - txt: hello\n")
    code, _, err = run_cli("deck", run, "-o", tmp_path / "d.pptx", "--recap", recap)
    assert code == 2 and "takeaways.yaml" in err and "takeaways[0].txt" in err
    assert not (tmp_path / "d.pptx").exists()


def test_bad_results_exit_2_naming_row_and_column(run_cli, tmp_path, make_run):
    run = make_run("steer")
    (run / "results.parquet").unlink()
    lines = (run / "results.csv").read_text().splitlines()
    lines[3] = lines[3].replace(",1.0,", ",yes,").replace(",0.0,", ",yes,")
    (run / "results.csv").write_text("\n".join(lines) + "\n")
    code, _, err = run_cli("deck", run, "-o", tmp_path / "d.pptx")
    assert code == 2 and "results.csv" in err and "row 4" in err and "'value'" in err


def test_abstract_hypothetical_then_measured(run_cli, tmp_path):
    spec = EXAMPLES / "abstract.yaml"
    guess, measured = tmp_path / "guess.md", tmp_path / "measured.md"
    assert run_cli("abstract", spec, "-o", guess)[0] == 0
    runs = [EXAMPLES / n for n in ("steering", "truncation", "bias")]
    assert run_cli("abstract", spec, "--results", *runs, "-o", measured)[0] == 0
    assert guess.read_text().startswith("> **⚠ Draft with hypothetical numbers")
    text = measured.read_text()
    assert "hypothetical)*" not in text and "## Hypothesis vs measured" in text
    code, _, err = run_cli("abstract", spec, "--results", "-o", measured)
    assert code == 2 and "--results needs at least one RUN_DIR" in err


def test_two_runs_with_one_run_id_are_refused(run_cli, tmp_path, make_run):
    a, b = make_run("a", run_id="same"), make_run("b", run_id="same")
    code, _, err = run_cli("deck", a, b, "-o", tmp_path / "d.pptx")
    assert code == 2 and "same run id 'same'" in err


def test_all_shipped_examples_make_one_deck_with_trimmed_keywords(run_cli, tmp_path):
    out = tmp_path / "deck.pptx"
    dirs = [EXAMPLES / d for d in ("aggregated", "bias", "steering", "truncation")]
    code, _, err = run_cli("deck", *dirs, "-o", out)
    assert code == 0, err
    keywords = Presentation(str(out)).core_properties.keywords
    assert 0 < len(keywords) <= 255 and keywords.endswith("…") and "steering" in keywords
