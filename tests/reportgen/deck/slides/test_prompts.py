"""Prompt slides (pure): pagination, font size, labels, comparisons."""

from __future__ import annotations

import pytest

from reportgen.deck.geometry import PROMPT_BODY_BOTTOM, PROMPT_BODY_TOP, PROMPT_SIZES
from reportgen.deck.slides.prompts import prompt_slides
from reportgen.deck.textnorm import columns, normalize_text
from reportgen.rundir.schema import PromptRecord


def _record(text: str, completion: str = "ok") -> PromptRecord:
    return PromptRecord(experiment="e", condition="ablation", item_id="7", prompt=text, completion=completion,
                        prompt_format="completion")


MULTILINE = "".join(f"step {i}: " + "lorem ipsum " * (i % 13) + ("\r\n" if i % 3 else "\t") for i in range(900))


@pytest.mark.parametrize("text", [(MULTILINE * 3)[:20_000], "x" * 20_000], ids=["multiline", "one-line"])
def test_long_prompt_continues_on_further_slides_and_never_overflows(text):
    slides = prompt_slides(_record(text, completion="final answer"), "Prompt: e · ablation · item 7", "notes")
    assert len(slides) > 3
    assert [s.title for s in slides][-1].endswith(f"(cont. {len(slides)}/{len(slides)})")
    shown = ""
    for s in slides:
        assert s.font_pt == PROMPT_SIZES[-1]
        for panel in s.panels:
            assert panel.top >= PROMPT_BODY_TOP and panel.top + panel.height <= PROMPT_BODY_BOTTOM + 0.01
            assert all(columns(piece) <= s.columns + 1 for pieces in panel.lines for piece in pieces)
        shown += "".join(p.text for p in s.panels if p.role == "prompt")
    # Every character, in order, and nothing else (line breaks compared separately).
    assert shown.replace("\n", "") == normalize_text(text).replace("\n", "")
    assert slides[-1].panels[-1].role == "completion" and slides[-1].panels[-1].text == "final answer"


def test_short_prompt_gets_the_largest_font_on_one_slide():
    slides = prompt_slides(_record("<|user|> hi <|end|>"), "Prompt", "")
    assert len(slides) == 1 and slides[0].font_pt == PROMPT_SIZES[0]


def test_completion_label_from_the_record_names_what_was_scored():
    plain = prompt_slides(_record("<|user|> hi <|end|>"), "Prompt", "")[0].panels[-1]
    assert plain.label == "Completion (ablation)"
    rec = _record("<|user|> hi <|end|>", completion="sure . step one")
    rec = rec.model_copy(update={"completion_label": "Baseline answer, scored under ablation"})
    panel = prompt_slides(rec, "Prompt", "")[0].panels[-1]
    assert panel.label == "Baseline answer, scored under ablation" and panel.text == "sure . step one"


def test_a_comparison_with_another_prompt_shows_both_prompts_and_answers():
    forced = PromptRecord(experiment="e", condition="forced", item_id="7", x=0.25, prompt="<r> a . </r> answer :",
                          completion="", parsed_answer="1", prompt_format="chat")
    cont = PromptRecord(experiment="e", condition="continued", item_id="7", x=0.25, prompt="<r> a .",
                        completion="b . </r> answer : 0", parsed_answer="0", prompt_format="chat")
    (slide,) = prompt_slides(cont, "Prompt", "", forced)
    assert [(p.role, p.text) for p in slide.panels] == [
        ("prompt", forced.prompt), ("prompt", cont.prompt), ("completion", cont.completion)]
    assert "forced answer" in slide.panels[0].label and "continued reasoning" in slide.panels[1].label
    # the forced answer was scored, not generated: its answer is in its prompt's label, no empty box
    assert slide.panels[0].label.endswith("nothing generated, answer read from next-token probabilities: 1")
    assert "next-token" not in slide.panels[1].label


def test_a_scored_answer_after_a_long_prompt_adds_no_slide_holding_an_empty_box():
    """A forced answer has no completion text; an empty completion box used to spill onto a
    "(cont.)" slide of its own when the prompt filled the first one."""
    prompt = "\n".join(f"line {i}: the answer is (B) 80%" for i in range(26))
    rec = PromptRecord(experiment="e", condition="forced", item_id="7", x=0.75, prompt=prompt, completion="",
                       parsed_answer="D", prompt_format="chat")
    slides = prompt_slides(rec, "Prompt", "")
    assert all(p.role == "prompt" for s in slides for p in s.panels)
    assert slides[0].panels[0].label.endswith(": D")
    unreadable = prompt_slides(rec.model_copy(update={"parsed_answer": None}), "Prompt", "")
    assert unreadable[0].panels[0].label.endswith(": none readable")

