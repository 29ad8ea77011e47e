"""`reportgen validate` and `reportgen chart` through the real entry point (exit codes, messages)."""

from __future__ import annotations

from pathlib import Path


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


def test_validate_examples_ok(run_cli):
    dirs = [str(EXAMPLES / d) for d in ("steering", "truncation", "bias", "aggregated")]
    code, out, err = run_cli("validate", *dirs)
    assert code == 0, err
    assert out.count("OK ") == 4 and "aggregated k/n rows" in out
    assert "Traceback" not in err


def test_validate_lists_every_problem_with_file_row_and_column(run_cli, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "results.csv").write_text(
        "experiment,task,model,condition,item_id,metric,value\n"
        "harmful,steering,m,baseline,1,refusal,1\n"
        "harmful,stearing,m,baseline,2,refusal,abc\n"
        ",steering,m,ablation,3,refusal,0\n",
        encoding="utf-8",
    )
    (bad / "prompts.jsonl").write_text('{"experiment": "harmful"}\nnot json\n', encoding="utf-8")
    agg = tmp_path / "agg"
    agg.mkdir()
    (agg / "results.csv").write_text("experiment,task,model,condition,metric,k,n\nh,steering,m,b,refusal,5,3\n")
    code, out, err = run_cli("validate", str(bad), str(EXAMPLES / "bias"), str(agg))
    assert code == 2
    assert "Traceback" not in err
    csv = bad / "results.csv"
    assert f"{csv}, row 3, column 'task': 'stearing' must be one of" in err
    assert f"{csv}, row 3, column 'value': cannot read 'abc'" in err
    assert f"{csv}, row 4, column 'experiment': missing value" in err
    assert f"{bad / 'prompts.jsonl'}, row 2: invalid JSON" in err
    assert f"{agg / 'results.csv'}, row 2, column 'k': k must be <= n" in err
    assert f"OK   {EXAMPLES / 'bias'}" in out  # the good directory is still checked and reported
    assert "2 of 3 run directories invalid" in err


def test_chart_writes_one_png_per_chart(run_cli, tmp_path):
    out_dir = tmp_path / "charts"
    code, out, err = run_cli("chart", str(EXAMPLES / "aggregated"), "-o", str(out_dir))
    assert code == 0, err
    names = sorted(p.name for p in out_dir.glob("*.png"))
    assert names == ["example-aggregated-harmful-main.png", "example-aggregated-harmless-main.png"]
    assert "Ablation drops refusal from 95% to 0%" in out


def test_chart_with_a_spec_naming_a_missing_condition_exits_2(run_cli, tmp_path):
    spec = tmp_path / "deck.yaml"
    spec.write_text("project: p\nexperiments:\n  - experiment: harmful\n    categories: [baseline, ablaton]\n")
    code, _, err = run_cli("chart", str(EXAMPLES / "aggregated"), "-o", str(tmp_path / "c"),
                           "--spec", str(spec))
    assert code == 2 and "Traceback" not in err
    assert f"{spec}: experiment 'harmful': categories ['ablaton'] are neither conditions" in err


def test_chart_with_the_example_spec_uses_its_categories_and_callout(run_cli, tmp_path):
    code, out, err = run_cli("chart", str(EXAMPLES / "steering"), "-o", str(tmp_path),
                             "--spec", str(EXAMPLES / "deck.yaml"), "--no-backup")
    assert code == 0, err
    assert "main   " in out and "backup " not in out
    assert "Ablation drops refusal from 98% to 3%" in out
    assert len(list(tmp_path.glob("*.png"))) == 3  # harmful, layer_sweep, harmless (cost is not in the spec: backup)
