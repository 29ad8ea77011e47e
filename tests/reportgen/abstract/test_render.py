"""Hypothetical-abstract drafts: marked guesses, measured numbers, literal user text, safe fences."""

from __future__ import annotations

import re

import pytest

from reportgen.abstract.render import (
    AbstractError,
    AbstractSpec,
    build_context,
    fence,
    md_cell,
    render_abstract,
)
from reportgen.rundir.reader import load_run

SPEC = {
    "title": "Refusal {{ is }} one direction",
    "question": "Does the organism refuse through one direction?",
    "method": "We ablate it; prompts look like `{% raw %}` and {{ user }}.",
    "result": "Refusal drops from {base} to {ablated}, {{ablated}} stays literal.",
    "implication": "Steering works at this scale.",
    "interesting": "Only if the drop is large.",
    "claims": [
        {"id": "base", "label": "Baseline refusal", "hypothetical": "90%",
         "measure": {"experiment": "harmful", "metric": "refusal", "condition": "baseline"}},
        {"id": "ablated", "label": "Ablated | refusal", "hypothetical": "10%",
         "measure": {"experiment": "harmful", "metric": "refusal", "condition": "ablation"},
         "expect": {"below": "50%"}},
    ],
    "example_prompt": {"experiment": "harmful", "condition": "ablation"},
}


def _render(runs=None, **changes) -> str:
    spec = AbstractSpec.model_validate({**SPEC, **changes})
    return render_abstract(build_context(spec, runs, "abstract.yaml"))


def test_hypothetical_draft_marks_every_number_under_a_banner():
    md = _render()
    assert md.startswith("> **⚠ Draft with hypothetical numbers.**")
    assert "from ≈90%*(hypothetical)* to ≈10%*(hypothetical)*" in md
    assert "Hypothesis vs measured" not in md
    for line in md.splitlines():
        if line.startswith("| Baseline") or line.startswith("| Ablated"):
            assert "*(hypothetical)*" in line


def test_measured_draft_has_no_banner_and_compares_with_the_guess(make_run):
    runs = [load_run(make_run("steer", rates={"baseline": 0.9, "ablation": 0.05}))]
    md = _render(runs)
    assert "hypothetical" not in md.split("## Hypothesis vs measured")[0]
    assert "Refusal drops from 90% to 5%" in md
    key, compared = [line for line in md.splitlines() if line.startswith("| Ablated")]
    assert key == "| Ablated \\| refusal | 5% | 1% to 24% | 20 | measured (steer; 95% Wilson) |"
    assert compared == "| Ablated \\| refusal | 10% | 5% (1% to 24%) | −5 pp | held |"
    # The prompt is fenced with more backticks than it contains, and shown verbatim.
    block = md.split("verbatim\n\n", 1)[1]
    assert block.startswith("````text\n") and "```code```" in block and "{{ user.name }}" in block


def test_mixed_measured_and_guessed_numbers_keep_the_banner(make_run):
    runs = [load_run(make_run("steer"))]
    claims = [SPEC["claims"][0], {"id": "ablated", "label": "Not run yet", "hypothetical": "10%"}]
    md = _render(runs, claims=claims)
    assert md.startswith("> **⚠") and "to ≈10%*(hypothetical)*" in md and "from 90% " in md


def test_user_text_is_never_compiled_as_a_template():
    md = _render()
    assert "# Refusal {{ is }} one direction" in md
    assert "`{% raw %}` and {{ user }}." in md and "{{ablated}} stays literal" in md


def test_unknown_claim_reference_names_the_field():
    with pytest.raises(ValueError, match=r"result: unknown claim \{abalted\} \(claims: ablated, base\)"):
        AbstractSpec.model_validate({**SPEC, "result": "drops to {abalted}"})


def test_undefined_template_variable_is_a_clear_error(tmp_path):
    template = tmp_path / "mine.md.j2"
    template.write_text("# {{ title }}\n{{ abstrct }}\n")
    spec = AbstractSpec.model_validate(SPEC)
    with pytest.raises(AbstractError, match=r"mine\.md\.j2: 'abstrct' is undefined"):
        render_abstract(build_context(spec), template)
    template.write_text("{% for x in %}")
    with pytest.raises(AbstractError, match=r"mine\.md\.j2, line 1: template syntax error"):
        render_abstract(build_context(spec), template)


@pytest.mark.parametrize("text, bars", [("plain", 3), ("a ``` b", 4), ("````` and `", 6)])
def test_fence_is_longer_than_any_backtick_run(text, bars):
    out = fence(text)
    assert out.startswith("`" * bars + "text\n") and out.endswith("\n" + "`" * bars)
    assert max(len(m) for m in re.findall(r"`+", out)) == bars


def test_md_cell_keeps_a_table_row_on_one_line():
    assert md_cell("a | b\nc") == "a \\| b c"


def test_example_prompt_can_ask_for_an_item_with_a_given_outcome(make_run):
    """`metric: refusal, value: 0` quotes a baseline item the model did not refuse, not the first one."""
    runs = [load_run(make_run("steer", rates={"baseline": 0.9, "ablation": 0.1}, n=20))]
    choice = {"experiment": "harmful", "condition": "baseline"}
    first = _render(runs, example_prompt=choice)
    picked = _render(runs, example_prompt={**choice, "metric": "refusal", "value": 0})
    assert "item i00 " in first and "item i18 " in picked
    with pytest.raises(Exception, match="metric and value together"):
        AbstractSpec.model_validate({**SPEC, "example_prompt": {**choice, "metric": "refusal"}})
