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

import ctypes
import math
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

import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator  # noqa: E402

from reportgen.chart.spec import Bar, ChartSpec, group_label  # noqa: E402
from reportgen.deck.geometry import CAPTION_BOX, CHART_BOX, FOOTNOTE_BOX, SLIDE_IN, Box
from reportgen.rundir.atomic import remove_stale_temps  # noqa: E402

DEFAULT_SIZE_IN = (CHART_BOX.width, CHART_BOX.height)
#: Pixels per inch of the PNGs: sharp on a projector and on a 4K screen, small files.
DPI = 150

FONT = "DejaVu Sans"
TEXT = "#222222"
MUTED = "#666666"
GRID = "#E6E6E6"
SIZES = {"tick": 15, "axis": 15, "label": 15, "callout": 16, "title": 22, "footnote": 11, "legend": 14}


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
    title = _wrap(spec.title, max(30, int((width - 0.5) * 5.0)))
    n_title = title.count("\n") + 1
    legend_top = spec.kind == "bars" and _grouped(spec)
    top_in = (0.35 + 0.42 * n_title if with_text else 0.3) + (0.45 if legend_top else 0.0)
    bottom_in = 0.95 if with_text else 0.75
    if spec.kind != "bars" or len({b.group for b in spec.bars}) > 1:
        bottom_in += 0.1
    if _slanted(spec, width):
        bottom_in += 0.85
    left_in = 1.25
    right_in = 0.35
    ax = fig.add_axes(
        (left_in / width, bottom_in / height, 1 - (left_in + right_in) / width, 1 - (top_in + bottom_in) / height)
    )
    _style_axes(ax)
    if spec.kind == "bars":
        _draw_bars(ax, spec)
    else:
        _draw_lines(ax, spec)
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
        try:
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="die-with-parent", daemon=True).start()


_PR_SET_PDEATHSIG = 1


def _render_many(specs: list[ChartSpec], paths: list[Path], size_in: tuple[float, float], with_text: bool) -> None:
    for s, p in zip(specs, paths):
        render_chart(s, p, size_in=size_in, with_text=with_text)


# ------------------------------------------------------------------ drawing


def _style_axes(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#999999")
    ax.tick_params(labelsize=SIZES["tick"], colors=TEXT, length=0)
    ax.yaxis.grid(True, color=GRID, linewidth=1)
    ax.set_axisbelow(True)


def _y_axis(ax: Axes, spec: ChartSpec, lows: list[float], highs: list[float], headroom: float) -> None:
    """Zero baseline; rates as % on 0–100 with room for the labels above the bars."""
    if spec.value_kind == "rate":
        ax.set_ylim(0, max(1.0, max(highs, default=1.0)) * (1 + headroom))
        ax.yaxis.set_major_locator(MultipleLocator(0.25))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.0f}%" if v <= 1.0001 else ""))
    else:
        lo = min(0.0, min(lows, default=0.0))
        hi = max(0.0, max(highs, default=0.0))
        span = (hi - lo) or 1.0
        ax.set_ylim(lo - (headroom * span if lo < 0 else 0), hi + headroom * span if hi > 0 else 0.0)
        ax.yaxis.set_major_locator(MaxNLocator(5))
        ax.axhline(0, color="#999999", linewidth=1)
    ax.set_ylabel(spec.y_label, fontsize=SIZES["axis"], color=TEXT)


def _draw_bars(ax: Axes, spec: ChartSpec) -> None:
    bars = spec.bars
    groups = list(dict.fromkeys(b.group for b in bars))
    grouped = _grouped(spec)
    positions, centers = _bar_positions(bars, groups if grouped else [None])
    n_slots = len(bars)
    width = 0.5 if not grouped else 0.8 / max(1, len({b.category for b in bars}))
    label_size = SIZES["label"] if n_slots <= 4 else max(9, SIZES["label"] - (n_slots - 4) // 2 - 2)
    two_line = n_slots > 4
    # One bar call and one errorbar call per chart: per-bar calls cost ~10 ms each.
    drawn = ax.bar(positions, [b.estimate.value for b in bars], width=width, color=[b.color for b in bars],
                   edgecolor="none", zorder=2)
    in_legend: set[str] = set()
    for b, patch in zip(bars, drawn.patches):
        patch.set_gid(f"bar:{b.category}:{b.group or ''}")
        if grouped and b.category not in in_legend:
            in_legend.add(b.category)
            patch.set_label(b.label.splitlines()[0])
    with_interval = [(x, b.estimate) for x, b in zip(positions, bars) if b.estimate.has_interval]
    if with_interval:
        ax.errorbar([x for x, _ in with_interval], [e.value for _, e in with_interval],
                    yerr=[[max(0.0, e.value - e.low) for _, e in with_interval],
                          [max(0.0, e.high - e.value) for _, e in with_interval]],
                    fmt="none", ecolor="#333333", elinewidth=1.6, capsize=6 if not grouped else 3, zorder=3)
    headroom = 0.14 if not two_line else 0.2
    _y_axis(ax, spec, [b.estimate.low for b in bars], [b.estimate.high for b in bars], headroom)
    ymin, ymax = ax.get_ylim()
    pad = 0.015 * (ymax - ymin)
    for b, x in zip(bars, positions):
        e = b.estimate
        text = e.label().replace(" (", "\n(") if two_line else e.label()
        above = e.value >= 0
        y = (e.high + pad) if above else (e.low - pad)
        ax.text(x, y, text, ha="center", va="bottom" if above else "top", fontsize=label_size,
                color=TEXT, zorder=4, gid="value-label", linespacing=1.05)
    if grouped:
        ax.set_xticks(centers, [group_label(str(g)) for g in groups])
        if _slanted(spec, ax.figure.get_size_inches()[0]):
            _slant(ax)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=len({b.category for b in bars}),
                  frameon=False, fontsize=SIZES["legend"], handlelength=1.0, borderaxespad=0.2)
        lo, hi = min(positions) - width, max(positions) + width
        if spec.highlight is not None:  # a comparison's callout, right of the clusters
            hi += _callout_gutter(ax, spec.highlight.text, hi - lo, width)
        ax.set_xlim(lo, hi)
        if spec.highlight is not None:
            _bar_callout(ax, spec, positions, width, "right")
        if len(groups) > 6:
            for t in ax.get_xticklabels():
                t.set_fontsize(max(9, SIZES["tick"] - len(groups) // 3))
    else:
        # Long labels wrap, so neighbours on a narrow chart never run into each other.
        narrow = ax.figure.get_size_inches()[0] < 8  # beside its prompt: the bars sit closer
        ax.set_xticks(positions, [_wrap(b.label, 10 if narrow else 16) for b in bars])
        if narrow:
            ax.tick_params(axis="x", labelsize=12)
        if _slanted(spec, ax.figure.get_size_inches()[0]):
            _slant(ax)
        lo, hi = min(positions) - 0.6, max(positions) + 0.6
        side = _callout_side(spec)
        # Room for the callout beside the bars, on the side of the highlighted bar so the
        # arrow never crosses the other bar.
        if spec.highlight is not None:
            gutter = _callout_gutter(ax, spec.highlight.text, hi - lo, width)
            if side == "right":
                hi += gutter
            else:
                lo -= gutter
        ax.set_xlim(lo, hi)
        if spec.highlight is not None:
            _bar_callout(ax, spec, positions, width, side)


def _tick_labels(spec: ChartSpec) -> list[str]:
    if _grouped(spec):
        return [group_label(str(g)) for g in dict.fromkeys(b.group for b in spec.bars)]
    return [b.label for b in spec.bars]


def _slanted(spec: ChartSpec, width_in: float) -> bool:
    """Whether the x labels would collide side by side (12 conditions on one axis): then they
    are written at a slant, which keeps every label whole and readable."""
    if spec.kind != "bars" or not spec.bars:
        return False
    labels = _tick_labels(spec)
    slot_in = (width_in - 1.6) / max(1, len(labels))
    longest = max(len(t) for t in labels) * SIZES["tick"] / 72 * 0.58
    return len(labels) > 3 and longest > slot_in * 0.95


def _slant(ax: Axes) -> None:
    for t in ax.get_xticklabels():
        t.set_rotation(30)
        t.set_ha("right")
        t.set_rotation_mode("anchor")
        t.set_fontsize(min(t.get_fontsize(), 13))


def _grouped(spec: ChartSpec) -> bool:
    """A breakdown with group clusters (and a legend) rather than plain labelled bars."""
    groups = list(dict.fromkeys(b.group for b in spec.bars))
    return len(groups) > 1 or (bool(groups) and groups[0] is not None and spec.backup)


def _bar_positions(bars: Sequence[Bar], groups: list[str | None]) -> tuple[list[float], list[float]]:
    """x of each bar: consecutive for plain bars; for a breakdown, clustered per group
    with each category at the same offset in every cluster (a missing one leaves a gap)."""
    if groups == [None]:
        xs = [float(i) for i in range(len(bars))]
        return xs, xs
    cats = list(dict.fromkeys(b.category for b in bars))
    step = 0.8 / len(cats)
    gidx = {g: i for i, g in enumerate(groups)}
    positions = [gidx[b.group] + (cats.index(b.category) - (len(cats) - 1) / 2) * step for b in bars]
    return positions, [float(i) for i in range(len(groups))]


def _callout_side(spec: ChartSpec) -> str:
    h = spec.highlight
    if h is None or not spec.bars:
        return "right"
    idx = next((i for i, b in enumerate(spec.bars) if b.category == h.category), len(spec.bars) - 1)
    return "left" if idx == 0 and len(spec.bars) > 1 else "right"


def _callout_gutter(ax: Axes, text: str, span: float, width: float) -> float:
    """Data units to add beside the bars so the callout text fits, and no more.

    The text starts ``gap`` units past the plain x-limit and is ``w_in`` inches wide; the
    axes are ``axes_in`` inches for ``span + gutter`` units, hence the closed form.
    """
    w_in = _text_size(ax, _wrap(text, 22).splitlines(), SIZES["callout"])[0] * _axes_width_in(ax)
    axes_in = _axes_width_in(ax)
    gap = _CALLOUT_OFFSET + width / 2 - 0.6
    share = min(w_in / axes_in, 0.6)
    return (gap + share * span) / (1 - share) + 0.08


def _axes_width_in(ax: Axes) -> float:
    return ax.get_position().width * ax.figure.get_size_inches()[0]


#: Distance (data units) from the highlighted bar's edge to its callout text.
_CALLOUT_OFFSET = 0.45


def _bar_callout(ax: Axes, spec: ChartSpec, positions: list[float], width: float, side: str) -> None:
    h = spec.highlight
    assert h is not None
    idx = next((i for i, b in enumerate(spec.bars)
                if b.category == h.category and (h.group is None or b.group == h.group)), None)
    if idx is None:
        return
    e = spec.bars[idx].estimate
    ymin, ymax = ax.get_ylim()
    x_edge = positions[idx] + (width / 2 + 0.04) * (1 if side == "right" else -1)
    # Point at the upper part of the bar (or its top when it is short), and put the text
    # level with it, kept inside the plot.
    y_target = e.value * 0.8 if abs(e.value) > 0.25 * (ymax - ymin) else e.value
    if abs(e.value) < 0.03 * (ymax - ymin):
        # A bar of (almost) no height: the arrow goes to the side of its value label, not
        # to empty axis.
        y_target = max(e.high, e.value) + 0.05 * (ymax - ymin)
        x0, x1 = ax.get_xlim()
        half_label = len(e.label()) * SIZES["label"] / 72 * 0.3 * (x1 - x0) / _axes_width_in(ax)
        x_edge = positions[idx] + max(width / 2 + 0.04, half_label + 0.03) * (1 if side == "right" else -1)
    y_target = max(y_target, ymin + 0.02 * (ymax - ymin))
    y_text = min(max(y_target + 0.18 * (ymax - ymin), ymin + 0.2 * (ymax - ymin)), ymin + 0.8 * (ymax - ymin))
    reach = max(_CALLOUT_OFFSET + width / 2, abs(x_edge - positions[idx]) + 0.25)
    x_text = positions[idx] + reach * (1 if side == "right" else -1)
    ax.annotate(
        _wrap(h.text, 22), xy=(x_edge, y_target), xytext=(x_text, y_text),
        ha="left" if side == "right" else "right", va="center", fontsize=SIZES["callout"],
        fontweight="bold", color=spec.callout_color, zorder=5, gid="callout",
        arrowprops=dict(arrowstyle="-|>", color=spec.callout_color, lw=2.0, mutation_scale=22,
                        shrinkA=4, shrinkB=2, connectionstyle="arc3,rad=0.0"),
    )


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for w in words:
        if line and len(line) + 1 + len(w) > width:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    if line:
        lines.append(line)
    return "\n".join(lines)


def _draw_lines(ax: Axes, spec: ChartSpec) -> None:
    lows, highs = [], []
    for s in spec.series:
        xs = [p.x for p in s.points]
        ys = [p.estimate.value for p in s.points]
        lo = [p.estimate.low for p in s.points]
        hi = [p.estimate.high for p in s.points]
        lows += lo
        highs += hi
        ax.plot(xs, ys, color=s.color, linewidth=2.6, marker="o", markersize=7, zorder=3,
                label=s.label, gid=f"series:{s.category}")
        if spec.kind == "curve":
            ax.fill_between(xs, lo, hi, color=s.color, alpha=0.18, linewidth=0, zorder=2)
        else:
            ax.errorbar(xs, ys, yerr=[[max(0.0, y - l) for y, l in zip(ys, lo)], [max(0.0, h - y) for y, h in zip(ys, hi)]],
                        fmt="none", ecolor=s.color, elinewidth=1.4, capsize=3, zorder=2)
    for r in spec.references:
        lows.append(r.estimate.low)
        highs.append(r.estimate.high)
        ax.axhline(r.estimate.value, color=r.color, linestyle="--", linewidth=2, zorder=1,
                   gid=f"reference:{r.category}", label=f"{r.label} {r.estimate.short()}")
        if r.estimate.has_interval:
            ax.axhspan(r.estimate.low, r.estimate.high, color=r.color, alpha=0.12, linewidth=0, zorder=1)
    _y_axis(ax, spec, lows, highs, 0.1)
    xs_all = sorted({p.x for s in spec.series for p in s.points})
    if xs_all:
        span = (xs_all[-1] - xs_all[0]) or 1.0
        ax.set_xlim(xs_all[0] - 0.04 * span, xs_all[-1] + 0.04 * span)
    if spec.x_format == "percent":
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 100:.0f}%"))
        ax.set_xticks(xs_all if len(xs_all) <= 11 else ax.get_xticks())
    elif spec.x_format == "integer":
        if len(xs_all) <= 16:
            ax.set_xticks(xs_all, [f"{int(x)}" for x in xs_all])
        else:
            ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=14))
        ax.set_xlim(xs_all[0] - 0.6, xs_all[-1] + 0.6)
    if spec.x_label:
        ax.set_xlabel(spec.x_label, fontsize=SIZES["axis"], color=TEXT)
    obstacles = _obstacles(ax, spec)
    lines = _obstacles(ax, spec, lines_only=True)
    avoid: list[tuple[float, float, float, float]] = []
    if len(spec.series) > 1 or spec.kind == "curve" or spec.references:
        labels = [s.label for s in spec.series] + [f"{r.label} {r.estimate.short()}" for r in spec.references]
        w, h = _text_size(ax, labels, SIZES["legend"], bold=False)
        w += _inches_to_axes(ax, 0.75, 0)[0]  # the line handle
        loc, box = _emptiest_corner(obstacles, w, h)
        ax.legend(loc=loc, frameon=False, fontsize=SIZES["legend"])
        avoid.append(box)
    if spec.highlight is not None and spec.highlight.x is not None:
        _point_callout(ax, spec, obstacles, lines, avoid)


def _inches_to_axes(ax: Axes, w_in: float, h_in: float) -> tuple[float, float]:
    fig_w, fig_h = ax.figure.get_size_inches()
    pos = ax.get_position()
    return w_in / (pos.width * fig_w), h_in / (pos.height * fig_h)


def _text_size(ax: Axes, lines: Sequence[str], fontsize: float, bold: bool = True) -> tuple[float, float]:
    """Approximate box of a text block in axes fraction (DejaVu Sans averages ~0.6 em per glyph)."""
    em = fontsize / 72.0
    width = max((len(line) for line in lines), default=0) * em * (0.64 if bold else 0.58)
    height = len(lines) * em * 1.3
    return _inches_to_axes(ax, width, height)


def _obstacles(ax: Axes, spec: ChartSpec, lines_only: bool = False) -> np.ndarray:
    """Points (axes fraction) along every line, interval edge and reference line: where text must not go.

    ``lines_only`` leaves out the interval edges (an arrow may cross a shaded band).
    """
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()

    def frac(x: float, y: float) -> tuple[float, float]:
        return (x - x0) / (x1 - x0), (y - y0) / (y1 - y0)

    pts: list[tuple[float, float]] = []
    for s in spec.series:
        for a, b in zip(s.points, s.points[1:]):
            for t in [i / 12 for i in range(13)]:
                x = a.x + t * (b.x - a.x)
                pts.append(frac(x, a.estimate.value + t * (b.estimate.value - a.estimate.value)))
                if lines_only:
                    continue
                pts.append(frac(x, a.estimate.low + t * (b.estimate.low - a.estimate.low)))
                pts.append(frac(x, a.estimate.high + t * (b.estimate.high - a.estimate.high)))
        for p in s.points:
            pts.append(frac(p.x, p.estimate.value))
    for r in spec.references:
        for t in [i / 40 for i in range(41)]:
            pts.append((t, frac(x0, r.estimate.value)[1]))
    return np.asarray(pts, dtype=float).reshape(-1, 2)


def _inside(pts: np.ndarray, box: tuple[float, float, float, float]) -> int:
    l, b, r, t = box
    return int(np.count_nonzero((pts[:, 0] >= l) & (pts[:, 0] <= r) & (pts[:, 1] >= b) & (pts[:, 1] <= t)))


def _emptiest_corner(pts: np.ndarray, w: float,
                     h: float) -> tuple[str, tuple[float, float, float, float]]:
    corners = {
        "lower right": (0.98 - w, 0.03, 0.98, 0.03 + h),
        "upper left": (0.02, 0.97 - h, 0.02 + w, 0.97),
        "lower left": (0.02, 0.03, 0.02 + w, 0.03 + h),
        "upper right": (0.98 - w, 0.97 - h, 0.98, 0.97),
    }
    loc = min(corners, key=lambda k: _inside(pts, corners[k]))
    return loc, corners[loc]


def _crosses(pts: np.ndarray, start: tuple[float, float], end: tuple[float, float],
             box: tuple[float, float, float, float]) -> bool:
    """Whether the arrow from the text box to the point would cut through a line."""
    (sx, sy), (ex, ey) = start, end
    dx, dy = ex - sx, ey - sy
    length2 = dx * dx + dy * dy or 1e-9
    t = ((pts[:, 0] - sx) * dx + (pts[:, 1] - sy) * dy) / length2
    near_target = np.hypot(pts[:, 0] - ex, pts[:, 1] - ey) < 0.04
    in_box = (pts[:, 0] >= box[0]) & (pts[:, 0] <= box[2]) & (pts[:, 1] >= box[1]) & (pts[:, 1] <= box[3])
    dist = np.hypot(pts[:, 0] - (sx + t * dx), pts[:, 1] - (sy + t * dy))
    return bool(np.any((t > 0) & (t < 1) & ~near_target & ~in_box & (dist < 0.01)))


def _overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _point_callout(ax: Axes, spec: ChartSpec, obstacles: np.ndarray,
                   lines: np.ndarray, avoid: Sequence[tuple[float, float, float, float]]) -> None:
    """Arrow to the highlighted point, its text in the nearest empty spot of the plot.

    Candidate positions on a grid are tested against the lines, their interval bands and
    the legend; among the free ones, the one nearest a comfortable distance wins.
    """
    h = spec.highlight
    assert h is not None and h.x is not None
    s = next((s for s in spec.series if s.category == h.category and (h.group is None or s.group == h.group)),
             spec.series[0] if spec.series else None)
    if s is None:
        return
    p = min(s.points, key=lambda p: abs(p.x - h.x))  # type: ignore[operator]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    fx = (p.x - x0) / (x1 - x0)
    fy = (p.estimate.value - y0) / (y1 - y0)
    # The point's exact count rides in the callout box, so the arrow starts from the
    # box's edge and crosses no text.
    text = f"{_wrap(h.text, 24)}\n{p.estimate.label()}"
    w, ht = _text_size(ax, text.splitlines(), SIZES["callout"])
    pad = 0.015
    best: tuple[float, float, float] | None = None
    for i in range(25):
        cx = 0.03 + w / 2 + i * (0.95 - w) / 24
        for j in range(21):
            cy = 0.04 + ht / 2 + j * (0.94 - ht) / 20
            box = (cx - w / 2 - pad, cy - ht / 2 - pad, cx + w / 2 + pad, cy + ht / 2 + pad)
            if box[0] < 0 or box[2] > 1 or box[1] < 0 or box[3] > 1:
                continue
            if _inside(obstacles, box) or any(_overlaps(box, a) for a in avoid):
                continue
            dx = max(box[0] - fx, 0.0, fx - box[2])
            dy = max(box[1] - fy, 0.0, fy - box[3])
            d = math.hypot(dx, dy * 0.8)
            score = abs(d - 0.12) + (0.5 if d < 0.04 else 0.0)
            score += 0.3 * _crosses(lines, (cx, cy), (fx, fy), box)
            if best is None or score < best[0]:
                best = (score, cx, cy)
    if best is None:
        cx, cy = min(max(fx + (0.15 if fx < 0.6 else -0.15), 0.1), 0.9), min(max(fy + 0.25, 0.15), 0.85)
    else:
        cx, cy = best[1], best[2]
    ax.annotate(
        text, xy=(p.x, p.estimate.value), xycoords="data",
        xytext=(cx, cy), textcoords="axes fraction",
        ha="center", va="center", fontsize=SIZES["callout"], fontweight="bold",
        color=spec.callout_color, zorder=6, gid="callout", linespacing=1.25,
        arrowprops=dict(arrowstyle="-|>", color=spec.callout_color, lw=2.0, mutation_scale=22, shrinkA=4, shrinkB=7),
    )


__all__ = [
    "Box", "CHART_BOX", "CAPTION_BOX", "FOOTNOTE_BOX", "SLIDE_IN", "DEFAULT_SIZE_IN", "DPI",
    "draw_chart", "render_chart", "render_charts", "chart_filename",
]