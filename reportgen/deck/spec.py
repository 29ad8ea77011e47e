"""The weekly deck as a list of typed slide specs: what each slide shows, no python-pptx.

Order (what mentors ask for): title → last week's takeaways → the jargon used in this
deck → per result a chart slide (the takeaway sentence as title) and the prompt behind
it, verbatim → next steps → a Backup section (every category, the numbers as tables).

These dataclasses are the contract between the decisions and the drawing: the builders
(:mod:`reportgen.deck.build`, :mod:`reportgen.deck.slides`) decide every text, font
size and position in pure code, so tests can check them without rendering;
:mod:`reportgen.deck.render` only draws them, and :mod:`reportgen.weekly.summary_md`
and :mod:`reportgen.weekly.lint` read them. Geometry is in points on a 13.333 × 7.5 in
(16:9) slide, defined in :mod:`reportgen.deck.geometry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from reportgen.deck.geometry import CHART_BOX, CONTENT_W, MARGIN
from reportgen.inputs.recap import Takeaways


@dataclass(frozen=True)
class TitleSlide:
    title: str
    title_pt: int
    subtitle: str
    author: str
    notes: str = ""
    kind: Literal["title"] = "title"


@dataclass(frozen=True)
class SectionSlide:
    """A divider, e.g. the start of the Backup section."""

    title: str
    subtitle: str = ""
    notes: str = ""
    kind: Literal["section"] = "section"


@dataclass(frozen=True)
class BulletSlide:
    """Recap and next steps: short sentences, one per bullet."""

    title: str
    bullets: tuple[str, ...]
    font_pt: int
    notes: str = ""
    kind: Literal["bullets"] = "bullets"


@dataclass(frozen=True)
class GlossarySlide:
    title: str
    entries: tuple[tuple[str, str], ...]
    font_pt: int
    notes: str = ""
    kind: Literal["glossary"] = "glossary"


@dataclass(frozen=True)
class ChartSlide:
    """One chart, one message: the takeaway sentence is the title."""

    title: str
    title_pt: int
    chart_id: str
    caption: str
    caption_pt: int
    footnote: str
    footnote_pt: int
    backup: bool
    notes: str
    kind: Literal["chart"] = "chart"
    chart_w: float = CHART_BOX.points[2]
    """Width of the chart picture's box; narrower when the prompt shares the slide."""
    panels: tuple[Panel, ...] = ()
    """The prompt and completion beside the chart, when they are short enough to share it."""
    prompt_font_pt: int = 0


@dataclass(frozen=True)
class Panel:
    """One labelled box of verbatim monospace text on a prompt slide.

    ``lines`` holds one tuple of wrapped pieces per source line; the renderer puts a
    line break between pieces and a paragraph break between lines, so the box shows
    exactly the columns computed here.
    """

    role: Literal["prompt", "completion"]
    label: str
    lines: tuple[tuple[str, ...], ...]
    top: float
    height: float
    continued: bool
    highlight: str | None = None
    """Text to emphasise wherever it occurs (the cue a bias prompt adds)."""
    joins_previous: bool = False
    """The first line carries on the previous page's last line (one long line split across
    slides), so joining the pages back up adds no line break there."""
    left: float = MARGIN
    width: float = CONTENT_W

    @property
    def text(self) -> str:
        """The characters shown, without the wrap breaks (lines joined by ``\\n``)."""
        return "\n".join("".join(pieces) for pieces in self.lines)


@dataclass(frozen=True)
class PromptSlide:
    title: str
    title_pt: int
    page: int
    pages: int
    font_pt: int
    columns: int
    panels: tuple[Panel, ...]
    notes: str
    kind: Literal["prompt"] = "prompt"


@dataclass(frozen=True)
class TableSlide:
    title: str
    title_pt: int
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    column_widths: tuple[float, ...]  # fractions of the content width
    footnote: str
    notes: str
    kind: Literal["table"] = "table"


Slide = TitleSlide | SectionSlide | BulletSlide | GlossarySlide | ChartSlide | PromptSlide | TableSlide


@dataclass(frozen=True)
class DeckProperties:
    """The file's core properties (what a file browser and PowerPoint's Info pane show)."""

    title: str
    author: str
    subject: str
    keywords: str
    comments: str
    category: str = "Weekly research update"


@dataclass(frozen=True)
class Deck:
    slides: tuple[Slide, ...]
    properties: DeckProperties
    takeaways: Takeaways
    chart_ids: tuple[str, ...] = field(default=())
    main_budget: int | None = None
    """Most slides the main results section may take (the deck spec's ``main_budget``)."""

    def slide_text(self, include_prompts: bool = False) -> str:
        return "\n".join(slide_words(s, include_prompts) for s in self.slides)


def slide_words(slide: Slide, include_prompts: bool = False) -> str:
    """The visible text of a slide, for the glossary's "is this term used?" check.

    Prompts and completions are the model's words, not the researcher's jargon, so
    they are left out unless asked for.
    """
    if isinstance(slide, TitleSlide):
        return "\n".join((slide.title, slide.subtitle, slide.author))
    if isinstance(slide, SectionSlide):
        return f"{slide.title}\n{slide.subtitle}"
    if isinstance(slide, BulletSlide):
        return "\n".join((slide.title, *slide.bullets))
    if isinstance(slide, GlossarySlide):
        return "\n".join(f"{t} {d}" for t, d in slide.entries)
    if isinstance(slide, ChartSlide):
        return "\n".join((slide.title, slide.caption, slide.footnote))
    if isinstance(slide, PromptSlide):
        return slide.title + ("\n" + "\n".join(p.text for p in slide.panels) if include_prompts else "")
    return "\n".join((slide.title, *slide.columns, *(" ".join(r) for r in slide.rows), slide.footnote))
