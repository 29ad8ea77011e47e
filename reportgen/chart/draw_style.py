"""The look every chart shares: fonts, sizes, axes, the y scale, text measured in axes units.

Sizes are points on the projected slide (charts are drawn at the size they occupy), so a
change here changes every chart of the deck alike.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, MultipleLocator

from reportgen.chart.model import ChartSpec

FONT = "DejaVu Sans"
TEXT = "#222222"
MUTED = "#666666"
GRID = "#E6E6E6"
SIZES = {"tick": 15, "axis": 15, "label": 15, "callout": 16, "title": 22, "footnote": 11, "legend": 14}

def style_axes(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#999999")
    ax.tick_params(labelsize=SIZES["tick"], colors=TEXT, length=0)
    ax.yaxis.grid(True, color=GRID, linewidth=1)
    ax.set_axisbelow(True)


def y_axis(ax: Axes, spec: ChartSpec, lows: list[float], highs: list[float], headroom: float) -> None:
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


def figure_size_in(ax: Axes) -> tuple[float, float]:
    """The whole figure's size in inches (charts are drawn on a Figure, never a SubFigure)."""
    fig = ax.get_figure(root=True)
    assert isinstance(fig, Figure)
    width, height = fig.get_size_inches()
    return float(width), float(height)

def axes_width_in(ax: Axes) -> float:
    return ax.get_position().width * figure_size_in(ax)[0]


def inches_to_axes(ax: Axes, w_in: float, h_in: float) -> tuple[float, float]:
    fig_w, fig_h = figure_size_in(ax)
    pos = ax.get_position()
    return w_in / (pos.width * fig_w), h_in / (pos.height * fig_h)


def text_size(ax: Axes, lines: Sequence[str], fontsize: float, bold: bool = True) -> tuple[float, float]:
    """Approximate box of a text block in axes fraction (DejaVu Sans averages ~0.6 em per glyph)."""
    em = fontsize / 72.0
    width = max((len(line) for line in lines), default=0) * em * (0.64 if bold else 0.58)
    height = len(lines) * em * 1.3
    return inches_to_axes(ax, width, height)


def wrap(text: str, width: int) -> str:
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
