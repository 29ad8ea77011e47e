"""Curves and sweeps on Axes: lines with interval bands or bars, reference lines, legend, callout.

The legend goes to the emptiest corner and the callout to the nearest free spot of a grid
of candidates, tested against every line, interval edge and reference line.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

import numpy as np
from matplotlib.axes import Axes
from matplotlib.ticker import FuncFormatter, MaxNLocator

from reportgen.chart.draw_style import SIZES, TEXT, inches_to_axes, text_size, wrap, y_axis
from reportgen.chart.model import ChartSpec


def draw_lines(ax: Axes, spec: ChartSpec) -> None:
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
        checks = [p for p in s.points if p.estimate.check]
        if checks:
            # hollow: a point that cannot fail by construction is no finding (footnote says so)
            ax.plot([p.x for p in checks], [p.estimate.value for p in checks], linestyle="none", marker="o",
                    markersize=9, markerfacecolor="white", markeredgecolor=s.color, markeredgewidth=2.2, zorder=4,
                    gid=f"check-points:{s.category}")
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
    y_axis(ax, spec, lows, highs, 0.1)
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
        w, h = text_size(ax, labels, SIZES["legend"], bold=False)
        w += inches_to_axes(ax, 0.75, 0)[0]  # the line handle
        loc, box = _emptiest_corner(obstacles, w, h)
        ax.legend(loc=loc, frameon=False, fontsize=SIZES["legend"])
        avoid.append(box)
    if spec.highlight is not None and spec.highlight.x is not None:
        _point_callout(ax, spec, obstacles, lines, avoid)


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


Corner = Literal["lower right", "upper left", "lower left", "upper right"]


def _emptiest_corner(pts: np.ndarray, w: float,
                     h: float) -> tuple[Corner, tuple[float, float, float, float]]:
    corners: dict[Corner, tuple[float, float, float, float]] = {
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
    text = f"{wrap(h.text, 24)}\n{p.estimate.label()}"
    w, ht = text_size(ax, text.splitlines(), SIZES["callout"])
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
