"""Make arbitrary model text safe to put on a slide, and lay it out in monospace lines.

Pure functions. Prompts and completions are shown *verbatim*, so nothing here rewords,
trims or collapses text; it only deals with what a slide file cannot hold or a reader
cannot see:

- line endings: CRLF and lone CR become LF (python-pptx would otherwise write a CR as
  the literal escape ``_x000D_``, which PowerPoint shows as text);
- control characters (C0 other than LF, DEL, C1) become Python-style escapes
  (ESC → ``\\x1b``), so an odd byte in a prompt is seen rather than silently lost; plain
  ASCII, because control-picture glyphs (``␛``) are missing from most monospace fonts
  and break the column count;
- characters XML 1.0 cannot hold at all (lone surrogates, U+FFFE/U+FFFF) become
  ``\\ufffe``-style escapes, because lxml refuses to write them;
- tabs are expanded to spaces, since slide renderers use their own tab stops and a
  monospace block must line up exactly as the model saw it.

Emoji, combining marks, right-to-left text and bidi/zero-width format characters are
kept unchanged.

Layout: slides do not reliably autofit text, so callers decide the font size and the
number of slides from an estimate. In a monospace font every character advances the
same width (about 0.6 em; East Asian wide characters and emoji take two columns), so
the number of columns per line is known and lines can be broken here, exactly, instead
of by the renderer. :func:`wrap_line` returns pieces whose concatenation is the original
line, so a reader of the slides can reassemble the prompt character for character.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from dataclasses import dataclass

TAB_SIZE = 4
#: Advance of one monospace column, in em. Consolas is 0.55, DejaVu/Liberation/Noto Mono
#: 0.60; estimating with the wider one means a line never runs past its box.
MONO_EM_PER_COLUMN = 0.6
#: Average advance of a proportional sans-serif character in em (Arial ≈ 0.50 for
#: mixed text; DejaVu Sans, LibreOffice's fallback, ≈ 0.55). Used for titles.
SANS_EM_PER_CHAR = 0.55

_NEWLINES = re.compile(r"\r\n|\r|\u0085|\u2028|\u2029")
# C0 controls except TAB (expanded) and LF (kept), DEL and the C1 controls.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Not representable in XML 1.0: lone surrogates and the non-characters U+FFFE/U+FFFF.
_XML_INVALID = re.compile(r"[\ud800-\udfff\ufffe\uffff]")


def normalize_text(text: str, tabsize: int = TAB_SIZE) -> str:
    """Return ``text`` as it should appear on a slide (see the module docstring).

    Idempotent: normalising twice gives the same string.
    """
    text = _NEWLINES.sub("\n", text)
    if "\t" in text:
        text = "\n".join(line.expandtabs(tabsize) for line in text.split("\n"))
    text = _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)
    return _XML_INVALID.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


def char_columns(ch: str) -> int:
    """Columns one character takes in a monospace font: 0, 1 or 2."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    # Emoji and other symbols above the BMP render from a colour/fallback font whose
    # glyphs are about an em wide.
    if ord(ch) >= 0x1F000:
        return 2
    return 1


def columns(text: str) -> int:
    """Display width of a single line in monospace columns."""
    return sum(char_columns(ch) for ch in text)


def wrap_line(line: str, width: int) -> list[str]:
    """Break one line (no ``\\n``) into pieces of at most ``width`` columns.

    Breaks after the last whitespace that leaves the piece at least half full, else
    hard-breaks at the width (long tokens, URLs, base64). ``"".join(pieces) == line``
    always holds, so the break points are the only thing added on a slide. A character
    wider than ``width`` still gets a piece of its own.
    """
    if width < 1:
        raise ValueError(f"width must be >= 1, got {width}")
    if line == "":
        return [""]
    pieces: list[str] = []
    start, n = 0, len(line)
    while start < n:
        used, end, last_break = 0, start, -1
        while end < n:
            w = char_columns(line[end])
            if used + w > width and end > start:
                break
            used += w
            end += 1
            if line[end - 1].isspace():
                last_break = end
        if end < n:
            if line[end] == " ":
                # One trailing space past the width is absorbed by the spare column
                # (see columns_that_fit); the next piece then starts with a word.
                end += 1
            elif not line[end - 1].isspace() and last_break > start:
                word_end = last_break
                while word_end < n and not line[word_end].isspace():
                    word_end += 1
                # Move the cut word to the next line only if it fits there whole;
                # a token longer than a line (URL, base64) fills this line instead.
                if columns(line[last_break:word_end]) <= width:
                    end = last_break
            # Never separate a combining mark, variation selector or ZWJ sequence
            # from the character it belongs to.
            while end < n and (char_columns(line[end]) == 0 or line[end - 1] == "\u200d"):
                end += 1
        pieces.append(line[start:end])
        start = end
    return pieces


def wrap_text(text: str, width: int) -> list[list[str]]:
    """Wrap every line of (already normalised) ``text``: one list of pieces per line."""
    return [wrap_line(line, width) for line in text.split("\n")]


def columns_that_fit(box_width_pt: float, font_pt: float, em_per_column: float = MONO_EM_PER_COLUMN) -> int:
    """Monospace columns that fit across a box of the given inner width, with one spare.

    The spare column absorbs rounding in the renderer's glyph advances, so a line we
    think is full never wraps a second time on screen.
    """
    return max(1, int(box_width_pt // (font_pt * em_per_column)) - 1)


def estimate_lines(text: str, box_width_pt: float, font_pt: float, em_per_char: float = SANS_EM_PER_CHAR) -> int:
    """Lines a proportional-font paragraph will take, by greedy word wrap on an average width.

    An estimate (proportional glyphs vary), made deliberately on the wide side; callers
    use it to pick a font size for titles and captions, never to cut text.
    """
    per_line = max(1, int(box_width_pt // (font_pt * em_per_char)))
    total = 0
    for line in normalize_text(text).split("\n"):
        count, used = 1, 0
        for word in line.split(" "):
            w = len(word)
            if used == 0:
                used = w
            elif used + 1 + w <= per_line:
                used += 1 + w
            else:
                count += 1
                used = w
            while used > per_line:
                count += 1
                used -= per_line
        total += count
    return total


@dataclass(frozen=True)
class Fragment:
    """Part of one source line placed on one slide: its visual pieces.

    ``continues`` is True when the fragment carries on a line begun on the previous
    slide (the line was longer than what was left of that slide).
    """

    pieces: tuple[str, ...]
    continues: bool = False

    @property
    def text(self) -> str:
        return "".join(self.pieces)


@dataclass(frozen=True)
class BlockPart:
    """The part of one text block (prompt, completion …) that lands on one page."""

    block: int
    fragments: tuple[Fragment, ...]
    first: bool

    @property
    def n_lines(self) -> int:
        return sum(len(f.pieces) for f in self.fragments)

    @property
    def text(self) -> str:
        """The part's characters, lines joined by ``\n`` (no wrap breaks)."""
        return "\n".join(f.text for f in self.fragments)


def flow(
    blocks: list[list[list[str]]],
    page_height: float,
    line_height: float,
    block_overhead: float,
    min_lines: int = 2,
) -> list[list[BlockPart]]:
    """Lay wrapped text blocks one below the other onto as many pages as they need.

    ``blocks`` holds, per block, the output of :func:`wrap_text`. Each block placed on
    a page costs ``block_overhead`` (its label, padding and the gap after it) plus
    ``line_height`` per visual line. A block starts on a new page rather than leave
    fewer than ``min_lines`` of itself at the bottom of one (no orphaned first lines).
    Lines are split across pages only when they do not fit whole; the parts of every
    block, concatenated, give back the block's text.
    """
    capacity = int((page_height - block_overhead) // line_height)
    if capacity < 1:
        raise ValueError("page too small for one line of text")
    pages: list[list[BlockPart]] = [[]]
    room_h = page_height
    for b, lines in enumerate(blocks):
        queue = deque((pieces, False) for pieces in lines)
        left = sum(len(p) for p in lines)
        first = True
        while queue:
            room = int((room_h - block_overhead) // line_height)
            if room < 1 or room < min(min_lines, left):
                pages.append([])
                room_h = page_height
                continue
            frags: list[Fragment] = []
            while queue and room > 0:
                pieces, cont = queue.popleft()
                take = pieces[:room]
                frags.append(Fragment(tuple(take), cont))
                room -= len(take)
                left -= len(take)
                if len(take) < len(pieces):
                    queue.appendleft((pieces[len(take):], True))
            part = BlockPart(b, tuple(frags), first)
            pages[-1].append(part)
            room_h -= block_overhead + part.n_lines * line_height
            first = False
    return [p for p in pages if p]


#: Chat-template control tokens of the common families (ChatML/Qwen, Llama 2 and 3,
#: Gemma, Mistral, Phi, DeepSeek, reasoning tags). They are shown as text, verbatim;
#: matching them only lets a renderer tint them so the template is easy to tell apart
#: from the user's words.
TEMPLATE_TOKEN = re.compile(
    r"<\|[^<>|\s]{1,40}\|>"  # <|im_start|>, <|start_header_id|>, <|user|>
    r"|<｜[^<>｜]{1,40}｜>"  # DeepSeek's full-width bars
    r"|</?s>|<</?SYS>>|\[/?INST\]"  # Llama 2, Mistral
    r"|<(?:start|end)_of_turn>|<bos>|<eos>|<pad>"  # Gemma
    r"|</?think>"
)


def token_spans(line: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every chat-template token in one line."""
    return [m.span() for m in TEMPLATE_TOKEN.finditer(line)]


Span = tuple[int, int, str]
"""``(start, end, kind)`` in a line; kind ``token`` (template token) or ``highlight``."""


def line_spans(line: str, highlight: str | None = None) -> list[Span]:
    """Marked spans of one line: template tokens, and every occurrence of ``highlight``
    (e.g. the cue a bias prompt adds). A token inside the highlight is part of it."""
    marks: list[Span] = []
    if highlight:
        start = line.find(highlight)
        while start >= 0:
            marks.append((start, start + len(highlight), "highlight"))
            start = line.find(highlight, start + len(highlight))
    for s, e in token_spans(line):
        if not any(a < e and s < b for a, b, _ in marks):
            marks.append((s, e, "token"))
    return sorted(marks)


def split_runs(piece: str, offset: int, spans: list[Span]) -> list[tuple[str, str | None]]:
    """Cut ``piece`` (starting at ``offset`` in its line) into (text, kind) runs, kind None
    for plain text. A span broken across two wrapped pieces is marked in both."""
    runs: list[tuple[str, str | None]] = []
    pos, end = offset, offset + len(piece)
    for s, e, kind in spans:
        if e <= pos or s >= end:
            continue
        if s > pos:
            runs.append((piece[pos - offset : s - offset], None))
        a, b = max(s, pos), min(e, end)
        runs.append((piece[a - offset : b - offset], kind))
        pos = b
    if pos < end or not runs:
        runs.append((piece[pos - offset :], None))
    return runs
