"""Draw the slide specs of :mod:`reportgen.deck.spec` with python-pptx; nothing is decided here.

Positions come from :mod:`reportgen.deck.geometry`, the boxes the builders sized the text for.

Every text box has autofit switched off and explicit sizes, because python-pptx cannot
compute autofit and PowerPoint, Keynote, Google Slides and LibreOffice each apply it
differently; the sizes chosen by the builders are what every viewer shows. Titles are
real title placeholders (so the outline view, slide sorter and screen readers see them),
moved to the left-aligned position the layout needs. Fonts are Arial for text and
Consolas for prompts: both exist on Windows, macOS and in Google Slides, and
LibreOffice substitutes metric-compatible faces, so the preview matches what a mentor
sees.

The file is written atomically (see :mod:`reportgen.rundir.atomic`).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import io
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.oxml import parse_xml
from pptx.oxml.ns import nsdecls, qn
from pptx.presentation import Presentation as PptxPresentation
from pptx.shapes.autoshape import Shape
from pptx.shapes.base import BaseShape
from pptx.slide import Slide as PptxSlide
from pptx.text.text import TextFrame, _Paragraph
from pptx.util import Emu, Pt

from reportgen.deck import geometry as geo
from reportgen.deck import spec as ds
from reportgen.deck.textnorm import line_spans, normalize_text, split_runs
from reportgen.rundir.atomic import write_atomic

TEXT_FONT = "Arial"
MONO_FONT = "Consolas"
INK = RGBColor(0x1F, 0x1F, 0x1F)
MUTED = RGBColor(0x59, 0x59, 0x59)
ACCENT = RGBColor(0x00, 0x72, 0xB2)  # Okabe–Ito blue, as in the charts
TOKEN = RGBColor(0x9A, 0x3E, 0x8C)  # chat-template tokens: visible, but not the user's words
CUE = RGBColor(0xB3, 0x4A, 0x00)  # the highlighted part of a prompt (a cue): bold vermilion
PROMPT_FILL, PROMPT_LINE = RGBColor(0xF3, 0xF3, 0xF3), RGBColor(0xBF, 0xBF, 0xBF)
COMPLETION_FILL, COMPLETION_LINE = RGBColor(0xE8, 0xF1, 0xFA), RGBColor(0x5B, 0x9B, 0xD5)

_LAYOUT_TITLE_ONLY = 5


def _emu(points: float) -> Emu:
    return Emu(int(round(points * 12700)))


def render_deck(deck: ds.Deck, images: Mapping[str, Path], out: Path | str) -> Path:
    """Write ``deck`` to ``out`` (a .pptx); ``images`` maps chart ids to PNG files."""
    missing = [s.chart_id for s in deck.slides if isinstance(s, ds.ChartSlide) and s.chart_id not in images]
    if missing:
        raise ValueError(f"no chart image for: {', '.join(missing)}")
    prs = Presentation()
    prs.slide_width, prs.slide_height = _emu(geo.SLIDE_W), _emu(geo.SLIDE_H)
    _set_properties(prs, deck.properties)
    total = len(deck.slides)
    for number, spec in enumerate(deck.slides, start=1):
        slide = prs.slides.add_slide(prs.slide_layouts[_LAYOUT_TITLE_ONLY])
        _DRAW[type(spec)](slide, spec, images)
        if not isinstance(spec, ds.TitleSlide):
            _text(slide, geo.SLIDE_W - geo.MARGIN - 60, geo.FOOTER_TOP, 60, geo.FOOTER_H, [f"{number}/{total}"],
                  10, color=MUTED, align=PP_ALIGN.RIGHT, anchor=MSO_ANCHOR.BOTTOM)
        if spec.notes:
            slide.notes_slide.notes_text_frame.text = normalize_text(spec.notes)
    buf = io.BytesIO()
    prs.save(buf)
    return write_atomic(out, buf.getvalue())


# ------------------------------------------------------------------ text helpers


def _frame(tf: TextFrame, inset_x: float = 0.0, inset_y: float = 0.0,
           anchor: MSO_ANCHOR = MSO_ANCHOR.TOP, wrap: bool = True) -> TextFrame:
    tf.auto_size = MSO_AUTO_SIZE.NONE
    tf.word_wrap = wrap
    tf.vertical_anchor = anchor
    tf.margin_left = tf.margin_right = _emu(inset_x)
    tf.margin_top = tf.margin_bottom = _emu(inset_y)
    return tf


@functools.cache
def _rpr_template(size: float, bold: bool, color: str, font: str) -> Any:  # an lxml element (untyped)
    """A run-properties element, built once per style and copied for every run.

    Equivalent to setting ``run.font.size/bold/name/color`` through python-pptx, which
    costs about a millisecond per run and dominated the time of table-heavy decks.
    East Asian and complex-script (Arabic, Hebrew) text take their own font slots, so
    those are set too, or a viewer picks a theme default of another size.
    """
    return parse_xml(
        f'<a:rPr {nsdecls("a")} lang="en-US" sz="{int(round(size * 100))}" b="{int(bold)}" dirty="0">'
        f'<a:solidFill><a:srgbClr val="{color}"/></a:solidFill>'
        f'<a:latin typeface="{font}"/><a:ea typeface="{font}"/><a:cs typeface="{font}"/></a:rPr>'
    )


def _run(p: _Paragraph, text: str, size: float, bold: bool = False, color: RGBColor = INK,
         font: str = TEXT_FONT) -> None:
    """Append one styled run; ``text`` must already be normalised (see textnorm)."""
    r = p._p.add_r()
    r.insert(0, copy.deepcopy(_rpr_template(float(size), bool(bold), str(color), font)))
    r.t.text = text


def _para(p: _Paragraph, text: str, size: float, bold: bool = False, color: RGBColor = INK,
          align: PP_ALIGN = PP_ALIGN.LEFT, font: str = TEXT_FONT) -> _Paragraph:
    p.alignment = align
    _run(p, normalize_text(text), size, bold, color, font)
    return p


def _text(slide: PptxSlide, left: float, top: float, width: float, height: float, lines: list[str],
          size: float, bold: bool = False, color: RGBColor = INK, align: PP_ALIGN = PP_ALIGN.LEFT,
          anchor: MSO_ANCHOR = MSO_ANCHOR.TOP) -> Shape:
    box = slide.shapes.add_textbox(_emu(left), _emu(top), _emu(width), _emu(height))
    tf = _frame(box.text_frame, anchor=anchor)
    for i, line in enumerate(lines):
        _para(tf.paragraphs[0] if i == 0 else tf.add_paragraph(), line, size, bold, color, align)
    return box


def _title(slide: PptxSlide, text: str, size: float, top: float = geo.TITLE_TOP, height: float = geo.TITLE_H,
           anchor: MSO_ANCHOR = MSO_ANCHOR.MIDDLE, color: RGBColor = INK) -> None:
    ph = slide.shapes.title
    if ph is None:  # every layout used here has one; a custom template might not
        raise ValueError("the slide layout has no title placeholder")
    ph.left, ph.top, ph.width, ph.height = _emu(geo.MARGIN), _emu(top), _emu(geo.CONTENT_W), _emu(height)
    tf = _frame(ph.text_frame, anchor=anchor)
    tf.text = ""
    _para(tf.paragraphs[0], text, size, bold=True, color=color)


def _plain(shape: BaseShape) -> None:
    """Drop the theme style of an autoshape (its shadow, white text, accent outline).

    Fill, outline and text colours are then exactly the ones set here, in every viewer.
    """
    style = shape._element.find(qn("p:style"))
    if style is not None:
        shape._element.remove(style)


def _bullet(p: _Paragraph, size: float) -> None:
    """A real bullet (hanging indent), which text boxes do not have by default."""
    ppr = p._p.get_or_add_pPr()
    indent = int(size * 1.1 * 12700)
    ppr.set("marL", str(indent))
    ppr.set("indent", str(-indent))
    for tag in ("a:buFont", "a:buChar"):
        old = ppr.find(qn(tag))
        if old is not None:
            ppr.remove(old)
    bu_font = ppr.makeelement(qn("a:buFont"), {"typeface": TEXT_FONT})
    bu_char = ppr.makeelement(qn("a:buChar"), {"char": "•"})
    ppr.append(bu_font)
    ppr.append(bu_char)


# ------------------------------------------------------------------ slide kinds


def _draw_title(slide: PptxSlide, s: ds.TitleSlide, images: Mapping[str, Path]) -> None:
    _title(slide, s.title, s.title_pt, top=2.2 * geo.INCH,
           height=1.6 * geo.INCH, anchor=MSO_ANCHOR.BOTTOM)
    lines = [s.subtitle] + ([s.author] if s.author else [])
    _text(slide, geo.MARGIN, 4.05 * geo.INCH, geo.CONTENT_W, 1.2 * geo.INCH, lines, 22, color=MUTED)
    bar = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, _emu(geo.MARGIN), _emu(3.93 * geo.INCH),
                                 _emu(1.2 * geo.INCH), _emu(4))
    _plain(bar)
    bar.fill.solid()
    bar.fill.fore_color.rgb = ACCENT
    bar.line.fill.background()


def _draw_section(slide: PptxSlide, s: ds.SectionSlide, images: Mapping[str, Path]) -> None:
    _title(slide, s.title, 40, top=2.6 * geo.INCH, height=1.2 * geo.INCH, anchor=MSO_ANCHOR.BOTTOM)
    if s.subtitle:
        _text(slide, geo.MARGIN, 3.9 * geo.INCH, geo.CONTENT_W, 0.8 * geo.INCH, [s.subtitle], 20, color=MUTED)


def _draw_bullets(slide: PptxSlide, s: ds.BulletSlide, images: Mapping[str, Path]) -> None:
    _title(slide, s.title, 28)
    box = slide.shapes.add_textbox(_emu(geo.MARGIN), _emu(geo.BODY_TOP), _emu(geo.CONTENT_W),
                                   _emu(geo.PROMPT_BODY_BOTTOM - geo.BODY_TOP))
    tf = _frame(box.text_frame)
    for i, item in enumerate(s.bullets):
        p = _para(tf.paragraphs[0] if i == 0 else tf.add_paragraph(), item, s.font_pt)
        p.space_after = Pt(s.font_pt * 0.5)
        _bullet(p, s.font_pt)


def _draw_glossary(slide: PptxSlide, s: ds.GlossarySlide, images: Mapping[str, Path]) -> None:
    _title(slide, s.title, 28)
    box = slide.shapes.add_textbox(_emu(geo.MARGIN), _emu(geo.BODY_TOP), _emu(geo.CONTENT_W),
                                   _emu(geo.PROMPT_BODY_BOTTOM - geo.BODY_TOP))
    tf = _frame(box.text_frame)
    for i, (term, definition) in enumerate(s.entries):
        p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
        p.space_after = Pt(s.font_pt * 0.5)
        _para(p, term, s.font_pt, bold=True)
        _run(p, normalize_text(f" — {definition}"), s.font_pt)
        _bullet(p, s.font_pt)


def _draw_chart(slide: PptxSlide, s: ds.ChartSlide, images: Mapping[str, Path]) -> None:
    _title(slide, s.title, s.title_pt)
    left, top, _, height = geo.CHART_BOX.points
    width = s.chart_w
    pic = slide.shapes.add_picture(str(images[s.chart_id]), _emu(left), _emu(top))
    # Fit the picture into the box, keeping its aspect ratio; left-aligned under the title.
    scale = min(_emu(width) / pic.width, _emu(height) / pic.height)
    pic.width, pic.height = Emu(int(pic.width * scale)), Emu(int(pic.height * scale))
    pic.top = Emu(_emu(top) + (_emu(height) - pic.height) // 2)
    pic.name = f"Chart {s.chart_id}"
    _text(slide, *geo.CAPTION_BOX.points, [s.caption], s.caption_pt, anchor=MSO_ANCHOR.MIDDLE)
    _panels(slide, s.panels, s.prompt_font_pt)
    _text(slide, *geo.FOOTNOTE_BOX.points, [s.footnote], s.footnote_pt, color=MUTED, anchor=MSO_ANCHOR.BOTTOM)


def _draw_prompt(slide: PptxSlide, s: ds.PromptSlide, images: Mapping[str, Path]) -> None:
    _title(slide, s.title, s.title_pt, height=geo.PROMPT_TITLE_H)
    _panels(slide, s.panels, s.font_pt)


def _panels(slide: PptxSlide, panels: tuple[ds.Panel, ...], font_pt: float) -> None:
    """Labelled boxes of verbatim monospace text (a prompt slide, or beside a chart)."""
    for panel in panels:
        # A label longer than the panel is wide would wrap onto its box: a smaller size instead.
        label_pt, label = geo.fit_text(panel.label, geo.PANEL_LABEL_H, (12, 11, 10), panel.width, max_lines=1,
                                       min_size=9)
        _text(slide, panel.left, panel.top, panel.width, geo.PANEL_LABEL_H, [label], label_pt, bold=True,
              color=MUTED, anchor=MSO_ANCHOR.MIDDLE)
        fill, line = (PROMPT_FILL, PROMPT_LINE) if panel.role == "prompt" else (COMPLETION_FILL, COMPLETION_LINE)
        box = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, _emu(panel.left), _emu(panel.top + geo.PANEL_LABEL_H),
                                     _emu(panel.width), _emu(panel.height - geo.PANEL_LABEL_H))
        box.name = f"{panel.role.capitalize()} text"
        _plain(box)
        box.fill.solid()
        box.fill.fore_color.rgb = fill
        box.line.color.rgb = line
        box.line.width = Pt(0.75 if panel.role == "prompt" else 1.25)
        tf = _frame(box.text_frame, geo.PANEL_INSET_X, geo.PANEL_INSET_Y)
        for i, pieces in enumerate(panel.lines):
            p = tf.paragraphs[0] if i == 0 else tf.add_paragraph()
            p.alignment = PP_ALIGN.LEFT
            p.line_spacing = Pt(font_pt * geo.LINE_SPACING)
            p.space_before = p.space_after = Pt(0)
            _mono_line(p, pieces, font_pt, panel.highlight)


def _mono_line(p: _Paragraph, pieces: tuple[str, ...], size: float, highlight: str | None = None) -> None:
    """One source line: its wrapped pieces separated by line breaks, tokens tinted, the
    highlight (a cue) in bold vermilion."""
    spans = line_spans("".join(pieces), highlight)
    offset = 0
    for j, piece in enumerate(pieces):
        if j:
            p.add_line_break()
        for text, kind in split_runs(piece, offset, spans):
            if not text:
                continue
            if kind == "highlight":
                _run(p, text, size, bold=True, color=CUE, font=MONO_FONT)
            else:
                _run(p, text, size, color=TOKEN if kind == "token" else INK, font=MONO_FONT)
        offset += len(piece)
    if not any(pieces):
        # An empty paragraph still needs its size, or it takes the theme's 18 pt height.
        end = p._p.get_or_add_endParaRPr()
        end.set("sz", str(int(size * 100)))


def _draw_table(slide: PptxSlide, s: ds.TableSlide, images: Mapping[str, Path]) -> None:
    _title(slide, s.title, s.title_pt)
    row_h = 0.34 * geo.INCH
    n_rows = len(s.rows) + 1
    shape = slide.shapes.add_table(n_rows, len(s.columns), _emu(geo.MARGIN), _emu(geo.BODY_TOP),
                                   _emu(geo.CONTENT_W), _emu(row_h * n_rows))
    table = shape.table
    for j, frac in enumerate(s.column_widths):
        table.columns[j].width = _emu(geo.CONTENT_W * frac)
    numeric = {"Value", "95% interval", "n", "x"}
    white = RGBColor(0xFF, 0xFF, 0xFF)
    # Cells are filled through lxml: the python-pptx cell API costs milliseconds per cell,
    # which made the backup tables the slowest part of a 20-experiment deck.
    for i, tr in enumerate(table._tbl.tr_lst):
        tr.h = _emu(row_h)
        values = s.columns if i == 0 else s.rows[i - 1]
        for j, (tc, value) in enumerate(zip(tr.tc_lst, values)):
            tcpr = tc.get_or_add_tcPr()
            tcpr.set("marT", str(_emu(2)))
            tcpr.set("marB", str(_emu(2)))
            tcpr.set("anchor", "ctr")
            body = tc.get_or_add_txBody()
            for old in body.findall(qn("a:p")):
                body.remove(old)
            align = "r" if s.columns[j] in numeric else "l"
            para = parse_xml(f'<a:p {nsdecls("a")}><a:pPr algn="{align}"/></a:p>')
            run = para.makeelement(qn("a:r"), {})
            run.append(copy.deepcopy(_rpr_template(geo.TABLE_FONT_PT, i == 0, str(white if i == 0 else INK), TEXT_FONT)))
            t = run.makeelement(qn("a:t"), {})
            t.text = normalize_text(value)
            run.append(t)
            para.append(run)
            body.append(para)
    _text(slide, *geo.FOOTNOTE_BOX.points, [s.footnote], geo.FOOTNOTE_SIZE, color=MUTED, anchor=MSO_ANCHOR.BOTTOM)


#: Each drawer takes its own slide kind; the table is keyed by that kind, so ``Any`` here.
_DRAW: dict[type, Callable[[PptxSlide, Any, Mapping[str, Path]], None]] = {
    ds.TitleSlide: _draw_title,
    ds.SectionSlide: _draw_section,
    ds.BulletSlide: _draw_bullets,
    ds.GlossarySlide: _draw_glossary,
    ds.ChartSlide: _draw_chart,
    ds.PromptSlide: _draw_prompt,
    ds.TableSlide: _draw_table,
}


#: python-pptx (and the OOXML core-properties part) refuse longer text fields.
CORE_PROPERTY_MAX = 255


def _meta(text: str, sep: str = " ") -> str:
    """``text`` cut to what a core property holds, at a ``sep`` boundary, with "…": a deck of
    many experiments has more keywords than fit, and metadata must never stop a deck."""
    text = normalize_text(text)
    if len(text) <= CORE_PROPERTY_MAX:
        return text
    cut = text[: CORE_PROPERTY_MAX - 1]
    if sep in cut:
        cut = cut[: cut.rindex(sep)]
    return cut.rstrip() + "…"


def _set_properties(prs: PptxPresentation, props: ds.DeckProperties) -> None:
    cp = prs.core_properties
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    cp.title = _meta(props.title)
    cp.author = _meta(props.author) or "reportgen"
    cp.last_modified_by = cp.author
    cp.subject = _meta(props.subject)
    cp.keywords = _meta(props.keywords, "; ")
    cp.comments = _meta(props.comments)
    cp.category = _meta(props.category)
    cp.content_status = "Draft"
    cp.created = cp.modified = now
    cp.revision = 1
