"""Draw :class:`~reportgen.chart.spec.ChartSpec` objects with matplotlib (the I/O half).

Charts are drawn **at the size they occupy on a 16:9 slide** (13.333 × 7.5 in), so a
16 pt label in the figure is a 16 pt label on the projected slide — no rescaling that
turns text into specks. The deck places the PNG in :data:`CHART_BOX` (below the title,
above the caption and footnote lines); ``reportgen chart`` draws the same figure with
the title and footnote added, for pasting elsewhere.

:func:`draw_chart` returns the matplotlib ``Figure`` so tests read bar heights, labels
and the callout straight from the Axes instead of parsing PNGs. It uses the
object-oriented ``Figure`` API (no pyplot state), which keeps parallel rendering safe.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import matplotlib

matplotlib.use("Agg", force=False)

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from reportgen.chart.draw_bars import draw_bars, grouped, slanted
from reportgen.chart.draw_lines import draw_lines
from reportgen.chart.draw_style import FONT, MUTED, SIZES, TEXT, style_axes, wrap
from reportgen.chart.model import ChartSpec
from reportgen.deck.geometry import CAPTION_BOX, CHART_BOX, FOOTNOTE_BOX, SLIDE_IN, Box
from reportgen.rundir.atomic import remove_stale_temps

DEFAULT_SIZE_IN = (CHART_BOX.width, CHART_BOX.height)
#: Pixels per inch of the PNGs: sharp on a projector and on a 4K screen, small files.
DPI = 150

# ------------------------------------------------------------------ public API


def draw_chart(spec: ChartSpec, *, size_in: tuple[float, float] = DEFAULT_SIZE_IN,
               with_text: bool = False) -> Figure:
    """The chart as a matplotlib Figure (not saved).

    ``with_text`` adds the takeaway title (left-aligned, top) and the footnote (bottom)
    inside the figure, for standalone PNGs; on a slide the title and footnote are slide
    text instead, so the deck leaves it False.
    """
    fig = Figure(figsize=size_in, dpi=DPI)
    FigureCanvasAgg(fig)  # a real canvas, so callers (and tests) can draw and measure text
    fig.set_facecolor("white")
    width, height = size_in
    title = wrap(spec.title, max(30, int((width - 0.5) * 5.0)))
    n_title = title.count("\n") + 1
    legend_top = spec.kind == "bars" and grouped(spec)
    top_in = (0.35 + 0.42 * n_title if with_text else 0.3) + (0.45 if legend_top else 0.0)
    bottom_in = 0.95 if with_text else 0.75
    if spec.kind != "bars" or len({b.group for b in spec.bars}) > 1:
        bottom_in += 0.1
    if slanted(spec, width):
        bottom_in += 0.85
    left_in = 1.25
    right_in = 0.35
    ax = fig.add_axes(
        (left_in / width, bottom_in / height, 1 - (left_in + right_in) / width, 1 - (top_in + bottom_in) / height)
    )
    style_axes(ax)
    if spec.kind == "bars":
        draw_bars(ax, spec)
    else:
        draw_lines(ax, spec)
    if with_text:
        fig.text(left_in / width * 0.35, 1 - 0.25 / height, title, ha="left", va="top",
                 fontsize=SIZES["title"], color=TEXT, fontweight="bold", family=FONT, gid="title")
        if spec.footnote:
            fig.text(left_in / width * 0.35, 0.12 / height, spec.footnote, ha="left", va="bottom",
                     fontsize=SIZES["footnote"], color=MUTED, family=FONT)
    return fig


def render_chart(spec: ChartSpec, path: Path | str, *, size_in: tuple[float, float] = DEFAULT_SIZE_IN,
                 with_text: bool = False, dpi: int = DPI) -> Path:
    """Draw one chart to a PNG at ``path`` (written atomically) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if spec.size_in is not None and not with_text:
        size_in = spec.size_in  # a chart that shares its slide with the prompt
    fig = draw_chart(spec, size_in=size_in, with_text=with_text)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    # zlib level 1: flat-colour charts compress almost as well, several times faster.
    fig.savefig(tmp, dpi=dpi, format="png", facecolor="white", pil_kwargs={"compress_level": 1})
    os.replace(tmp, path)
    return path


def chart_filename(spec: ChartSpec) -> str:
    return f"{spec.chart_id}.png"


def render_charts(specs: Sequence[ChartSpec], out_dir: Path | str, *,
                  size_in: tuple[float, float] = DEFAULT_SIZE_IN, with_text: bool = False,
                  workers: int | None = None) -> list[Path]:
    """Render every chart into ``out_dir`` as ``<chart_id>.png``; paths in input order.

    With more than a handful of charts the work is spread over processes (one per core,
    at most ``workers``): matplotlib's rasterising is CPU-bound and holds the GIL.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / chart_filename(s) for s in specs]
    for p in paths:  # what a killed earlier run left half-written
        remove_stale_temps(p)
    if workers is None:
        workers = min(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1, 4)
    if workers <= 1 or len(specs) < 6:
        for s, p in zip(specs, paths):
            render_chart(s, p, size_in=size_in, with_text=with_text)
        return paths
    chunks = [list(range(i, len(specs), workers)) for i in range(workers)]
    with ProcessPoolExecutor(max_workers=workers, initializer=die_with_parent, initargs=(os.getpid(),)) as pool:
        futures = [
            pool.submit(_render_many, [specs[i] for i in idx], [paths[i] for i in idx], size_in, with_text)
            for idx in chunks if idx
        ]
        for f in futures:
            f.result()
    return paths


def die_with_parent(parent: int) -> None:
    """Make a chart worker exit when the process that started it is gone.

    A killed ``reportgen weekly`` (kill -9, an OOM kill) cannot shut its pool down, and the
    workers (hundreds of MB each) would wait on their queue forever: they inherited its
    write end, so it never reports end-of-file. Linux kills them with the parent
    (PR_SET_PDEATHSIG); a watchdog thread covers other systems and the race before prctl.
    """
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


_PR_SET_PDEATHSIG = 1


def _render_many(specs: list[ChartSpec], paths: list[Path], size_in: tuple[float, float], with_text: bool) -> None:
    for s, p in zip(specs, paths):
        render_chart(s, p, size_in=size_in, with_text=with_text)


__all__ = [
    "CAPTION_BOX",
    "CHART_BOX",
    "DEFAULT_SIZE_IN",
    "DPI",
    "FOOTNOTE_BOX",
    "SLIDE_IN",
    "Box",
    "chart_filename",
    "draw_chart",
    "render_chart",
    "render_charts",
]
