"""The rendered .pptx, read back with python-pptx: what a mentor opens is what the specs say."""

from __future__ import annotations

import datetime as dt
import re
import zipfile

import pytest
from PIL import Image
from pptx import Presentation
from pptx.enum.shapes import MSO_SHAPE_TYPE
from pptx.util import Emu

from reportgen.chart.spec import build_chart_specs
from reportgen.deck import geometry as geo
from reportgen.deck.build import build_deck
from reportgen.deck.render import render_deck
from reportgen.deck.textnorm import normalize_text
from reportgen.inputs.deck_yaml import DeckSpec
from reportgen.inputs.recap import Glossary, Takeaways, load_takeaways, write_takeaways
from reportgen.rundir.reader import load_run

LONG = 20_000


@pytest.fixture(scope="module")
def rendered(run_writer, hostile_prompt, tmp_path_factory):
    """A deck whose second experiment has a 20,000-character hostile prompt (built once)."""
    tmp_path = tmp_path_factory.mktemp("deck")
    long_prompt = (hostile_prompt + "\n".join(f"Turn {i}: " + "lorem ipsum dolor " * (i % 9) for i in range(2000)))[:LONG]
    runs = [load_run(run_writer(tmp_path / "steer")),
            load_run(run_writer(tmp_path / "long", experiment="harmless", prompt=long_prompt))]
    spec = DeckSpec(project="Refusal ✓ שלום", author="A. Researcher", week="Week 3", next_steps=["Sweep layers"])
    charts = build_chart_specs(runs, spec)
    deck = build_deck(runs, charts, spec, Takeaways(takeaways=[{"text": "Last week: baseline works"}]),
                         Glossary({"Ablation": "removing the direction"}), today=dt.date(2025, 6, 2))
    images = {}
    for c in charts:  # stand-in pictures at the chart box's aspect ratio; the charts have their own tests
        images[c.chart_id] = tmp_path / f"{c.chart_id}.png"
        Image.new("RGB", (1819, 765), "white").save(images[c.chart_id])
    out = tmp_path / "out" / "deck.pptx"
    render_deck(deck, images, out)
    return deck, Presentation(str(out)), out, long_prompt


def _texts(slide) -> list[str]:
    return [sh.text_frame.text for sh in slide.shapes if sh.has_text_frame]


def test_slides_titles_and_pictures_match_the_specs(rendered):
    deck, prs, out, _ = rendered
    assert (prs.slide_width, prs.slide_height) == (Emu(int(round(geo.SLIDE_W * 12700))), Emu(int(round(geo.SLIDE_H * 12700))))
    assert abs(prs.slide_width / prs.slide_height - 16 / 9) < 0.001
    assert len(prs.slides) == len(deck.slides)
    assert [s.shapes.title.text for s in prs.slides] == [s.title for s in deck.slides]
    for spec, slide in zip(deck.slides, prs.slides):
        pictures = [sh for sh in slide.shapes if sh.shape_type == MSO_SHAPE_TYPE.PICTURE]
        assert len(pictures) == (1 if spec.kind == "chart" else 0)
        if spec.kind == "chart":
            texts = _texts(slide)
            assert spec.caption in texts and spec.footnote in texts
            assert slide.shapes.title.text_frame.paragraphs[0].alignment == 1  # PP_ALIGN.LEFT
    assert [s.title for s in deck.slides if s.kind == "section"] == ["Backup"]
    assert any(sh.has_table for s in prs.slides for sh in s.shapes)


def test_every_shape_lies_on_the_slide(rendered):
    _, prs, _, _ = rendered
    for i, slide in enumerate(prs.slides, start=1):
        for sh in slide.shapes:
            assert sh.left >= 0 and sh.top >= 0, (i, sh.name)
            assert sh.left + sh.width <= prs.slide_width and sh.top + sh.height <= prs.slide_height, (i, sh.name)


def test_prompt_is_verbatim_across_continuation_slides(rendered, hostile_prompt):
    deck, prs, _, long_prompt = rendered
    pages = [(spec, slide) for spec, slide in zip(deck.slides, prs.slides)
             if spec.kind == "prompt" and "Harmless" in spec.title]
    assert len(pages) > 2
    assert all(f"(cont. {i}/{len(pages)})" in slide.shapes.title.text for i, (_, slide) in enumerate(pages, 1))
    shown = ""
    for _, slide in pages:
        boxes = [sh for sh in slide.shapes if sh.name == "Prompt text"]
        # \v is a wrap break added for layout, \n a line of the prompt.
        shown += "".join(b.text_frame.text.replace("\v", "") for b in boxes)
    expected = normalize_text(long_prompt)
    assert shown.replace("\n", "") == expected.replace("\n", "")
    assert "<|im_start|>assistant" in shown and "😀👩‍👩‍👧 שלום עולם" in shown and "{{ user.name }}" in shown
    assert "\\x1b[31mred" in shown and "\\x00" in shown
    # The short prompt shares its chart's slide.
    first = next(slide for spec, slide in zip(deck.slides, prs.slides) if spec.kind == "chart" and spec.panels)
    prompt_box = next(sh for sh in first.shapes if sh.name == "Prompt text")
    assert prompt_box.text_frame.text.replace("\v", "") == normalize_text(hostile_prompt)
    assert prompt_box.text_frame.paragraphs[0].runs[0].font.name == "Consolas"
    completions = [sh.text_frame.text for sh in first.shapes if sh.name == "Completion text"]
    assert completions == ["I can't help with that.", "Sure. Step 1: …"]


def test_file_is_clean_xml_with_notes_and_properties(rendered):
    deck, prs, out, _ = rendered
    with zipfile.ZipFile(out) as z:
        xml = "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))
    text = "".join(re.findall(r"<a:t>([^<]*)</a:t>", xml))
    assert "שלום" in text and "_x000D_" not in text and not re.search(r"_x[0-9A-F]{4}_|[\r\x00-\x08]", text)
    assert not [p for p in out.parent.iterdir() if p.name != "deck.pptx"]  # no temp file left
    for spec, slide in zip(deck.slides, prs.slides):
        if spec.kind == "chart":
            notes = slide.notes_slide.notes_text_frame.text
            assert "Run: " in notes and "0123abc" in notes and "Model: organism" in notes and "n: 40" in notes
    cp = prs.core_properties
    assert cp.title == "Refusal ✓ שלום — Week 3" and cp.author == "A. Researcher"
    assert cp.subject.startswith("Weekly update") and "steering" in cp.keywords and "long" in cp.comments
    assert cp.revision == 1 and cp.created.year >= 2025


def test_takeaways_round_trip_into_next_weeks_recap(rendered, tmp_path):
    deck, _, _, _ = rendered
    path = write_takeaways(tmp_path / "takeaways.yaml", deck.takeaways)
    again = load_takeaways(path)
    assert [t.text for t in again.takeaways] == [s.title for s in deck.slides if s.kind == "chart" and not s.backup]
    assert again.week == "Week 3"


def test_missing_chart_image_is_an_error_and_keeps_the_old_deck(make_run, tmp_path):
    runs = [load_run(make_run("steer"))]
    charts = build_chart_specs(runs)
    out = tmp_path / "deck.pptx"
    out.write_bytes(b"last week's deck")
    with pytest.raises(ValueError, match="no chart image"):
        render_deck(build_deck(runs, charts), {}, out)
    assert out.read_bytes() == b"last week's deck"
