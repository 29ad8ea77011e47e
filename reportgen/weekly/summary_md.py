"""The deck as Markdown (``summary.md``): the same slides, readable in a terminal or a PR.

Built from the pure deck spec, so it says exactly what the slides say: each chart's
takeaway, caption, footnote and picture, each prompt verbatim in a fence longer than
any backtick run inside it, the backup tables as Markdown tables. Failures and lint
findings go on top, where a reader looks first.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from reportgen.abstract.render import fence, md_cell
from reportgen.deck.spec import (
    BulletSlide,
    ChartSlide,
    Deck,
    GlossarySlide,
    PromptSlide,
    SectionSlide,
    TableSlide,
    TitleSlide,
)


def deck_markdown(
    deck: Deck,
    images: Mapping[str, Path],
    *,
    missing: Sequence[str] = (),
    lint: Sequence[str] = (),
    abstracts: Sequence[str] = (),
) -> str:
    """Markdown for ``deck``; ``images`` maps chart ids to paths relative to the file."""
    out: list[str] = []
    slides = list(deck.slides)
    prompt_parts: dict[str, list[PromptSlide]] = {}
    for s in slides:
        if isinstance(s, PromptSlide):
            prompt_parts.setdefault(_base_title(s), []).append(s)
    shown_prompts: set[str] = set()

    for s in slides:
        if isinstance(s, TitleSlide):
            out.append(f"# {s.title}\n")
            meta = " · ".join(x for x in (s.subtitle, s.author) if x)
            if meta:
                out.append(f"*{meta}*\n")
            if missing:
                out.append("> **Missing this week.**")
                out.extend(f"> - {m}" for m in missing)
                out.append("")
            if lint:
                out.append("**Deck lint**\n")
                out.extend(f"- {f}" for f in lint)
                out.append("")
            if abstracts:
                out.append("Abstract draft(s): " + ", ".join(f"[{a}]({a})" for a in abstracts) + "\n")
        elif isinstance(s, SectionSlide):
            out.append(f"## {s.title}\n")
            if s.subtitle:
                out.append(f"*{s.subtitle}*\n")
        elif isinstance(s, BulletSlide):
            if s.title.startswith("Not in this deck"):
                continue  # already on top
            out.append(f"### {s.title}\n")
            out.extend(f"- {b}" for b in s.bullets)
            out.append("")
        elif isinstance(s, GlossarySlide):
            out.append(f"### {s.title}\n")
            out.extend(f"- **{t}**: {d}" for t, d in s.entries)
            out.append("")
        elif isinstance(s, ChartSlide):
            out.append(f"### {s.title}\n")
            if s.chart_id in images:
                out.append(f"![{md_cell(s.title)}]({images[s.chart_id].as_posix()})\n")
            out.append(f"{s.caption}  \n*{s.footnote}*\n")
            for p in s.panels:  # a short prompt shown beside its chart
                out.append(f"{p.label}:\n" if p.text else f"{p.label}.\n")
                if p.text:
                    out.append(fence(p.text) + "\n")
        elif isinstance(s, PromptSlide):
            key = _base_title(s)
            if key in shown_prompts:
                continue
            shown_prompts.add(key)
            out.append(f"#### {key}\n")
            # One fenced block per panel (the prompt, then each condition's completion),
            # its pages on continuation slides joined up again.
            # A line split across pages is joined back without a break, so the text is verbatim.
            blocks: dict[str, list[str]] = {}
            for part in prompt_parts[key]:
                for p in part.panels:
                    texts = blocks.setdefault(p.label.removesuffix(" (continued)"), [])
                    texts.append(("" if p.joins_previous or not texts else "\n") + p.text)
            for label, texts in blocks.items():
                text = "".join(texts)
                if text:
                    out.append(f"{label}:\n")
                    out.append(fence(text) + "\n")
                else:  # a forced answer read from next-token probabilities: the label says it
                    out.append(f"{label}.\n")
        elif isinstance(s, TableSlide):
            out.append(f"### {s.title}\n")
            out.append("| " + " | ".join(md_cell(c) for c in s.columns) + " |")
            out.append("|" + "---|" * len(s.columns))
            out.extend("| " + " | ".join(md_cell(c) for c in row) + " |" for row in s.rows)
            out.append("")
            if s.footnote:
                out.append(f"*{s.footnote}*\n")
    return "\n".join(out).rstrip() + "\n"


def _base_title(s: PromptSlide) -> str:
    """A prompt's title without the continuation marker, so its pages join up again."""
    return s.title.split(" (cont.")[0]
