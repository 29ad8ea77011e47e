"""Render a deck with LibreOffice and look for ink where no shape is: text that overflowed.

python-pptx cannot measure text, so sizes in :mod:`reportgen.deck.spec` are estimates.
This check is the ground truth a mentor sees: the deck is converted to PDF by
LibreOffice (``soffice --headless``), each page rasterised by ``pdftoppm``, and every
dark pixel outside all shapes' boxes (and the slide's own margins) is counted. Shapes
overlapping each other are reported from the geometry. Used by a test (skipped where
LibreOffice is missing) and runnable by hand::

    python -m reportgen.deck.render_check reports/2025-06-02/deck.pptx --png-dir /tmp/pngs
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from pptx import Presentation
from pptx.shapes.base import BaseShape

DPI = 50
#: Pixels of tolerance around every shape (anti-aliasing, glyph overhang).
SLACK = 3
#: Dark pixels outside every shape that count as overflow (a few stray anti-aliased ones do not).
MAX_STRAY = 25


@dataclass(frozen=True)
class Problem:
    slide: int
    what: str

    def __str__(self) -> str:
        return f"slide {self.slide}: {self.what}"


def available() -> bool:
    return shutil.which("soffice") is not None and shutil.which("pdftoppm") is not None


def render_pngs(pptx: Path, out_dir: Path, dpi: int = DPI) -> list[Path]:
    """Slide PNGs (``slide-01.png`` …) of ``pptx`` as LibreOffice draws them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp}/profile", "--convert-to",
                        "pdf", "--outdir", tmp, str(pptx)], check=True, capture_output=True, timeout=600)
        pdf = Path(tmp) / (pptx.stem + ".pdf")
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(out_dir / "slide")], check=True,
                       capture_output=True, timeout=600)
    return sorted(out_dir.glob("slide-*.png"))


def _boxes(shape_list: Iterable[BaseShape], scale: float) -> list[tuple[int, int, int, int]]:
    out = []
    for sh in shape_list:
        if sh.left is None or sh.width is None:
            continue
        out.append((int(sh.left * scale), int(sh.top * scale), int((sh.left + sh.width) * scale),
                    int((sh.top + sh.height) * scale)))
    return out


def check(pptx: Path, png_dir: Path | None = None) -> list[Problem]:
    """Overflowing text and overlapping shapes, per slide."""
    prs = Presentation(str(pptx))
    slide_w, slide_h = prs.slide_width, prs.slide_height
    if slide_w is None or slide_h is None:
        raise ValueError(f"{pptx}: no slide size in the presentation")
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory() as tmp:
        pngs = render_pngs(pptx, png_dir or Path(tmp))
        for number, (slide, png) in enumerate(zip(prs.slides, pngs), start=1):
            img = np.asarray(Image.open(png).convert("L"))
            scale = img.shape[1] / slide_w
            boxes = _boxes(slide.shapes, scale)
            # A table grows downwards when a cell wraps (LibreOffice and PowerPoint alike);
            # it may use the body down to the footer line.
            footer = int(slide_h * 6.95 / 7.5 * scale)
            boxes = [(b[0], b[1], b[2], max(b[3], footer)) if sh.has_table else b
                     for sh, b in zip([s for s in slide.shapes if s.left is not None and s.width is not None], boxes)]
            mask = np.zeros(img.shape, dtype=bool)
            for left, top, right, bottom in boxes:
                mask[max(0, top - SLACK):bottom + SLACK, max(0, left - SLACK):right + SLACK] = True
            stray = int(np.count_nonzero((img < 160) & ~mask))
            if stray > MAX_STRAY:
                problems.append(Problem(number, f"{stray} dark pixels outside every shape (text overflowing its box)"))
            named = [(sh.name, b) for sh, b in zip(slide.shapes, boxes)]
            for i, (na, a) in enumerate(named):
                for nb, b in named[i + 1:]:
                    if a[0] < b[2] - SLACK and b[0] < a[2] - SLACK and a[1] < b[3] - SLACK and b[1] < a[3] - SLACK:
                        problems.append(Problem(number, f"'{na}' overlaps '{nb}'"))
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("pptx", type=Path)
    ap.add_argument("--png-dir", type=Path, default=None, help="keep the slide PNGs here")
    args = ap.parse_args(argv)
    if not available():
        print("soffice and pdftoppm are needed (apt-get install libreoffice-impress poppler-utils)", file=sys.stderr)
        return 2
    problems = check(args.pptx, args.png_dir)
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
