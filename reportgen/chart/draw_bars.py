"""Bar charts on Axes: plain labelled bars or clusters per group, value labels, one callout.

The callout sits beside the bars on the side of the highlighted one, in a gutter sized to
its text, so the arrow never crosses another bar.
"""

from __future__ import annotations

import re

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.text import Text

from reportgen.chart.draw_style import SIZES, TEXT, axes_width_in, figure_size_in, text_size, wrap, y_axis
from reportgen.chart.model import Bar, ChartSpec
from reportgen.chart.names import group_label
from reportgen.chart.palette import CHECK_EDGE, CHECK_FILL


def draw_bars(ax: Axes, spec: ChartSpec) -> None:
    bars = spec.bars
    groups = list(dict.fromkeys(b.group for b in bars))
    clustered = grouped(spec)
    positions, centers = _bar_positions(bars, groups if clustered else [None])
    n_slots = len(bars)
    width = 0.5 if not clustered else 0.8 / max(1, len({b.category for b in bars}))
    label_size = SIZES["label"] if n_slots <= 4 else max(_MIN_LABEL, SIZES["label"] - (n_slots - 4) // 2 - 2)
    # Clustered bars stand side by side at a fraction of a plain bar's width: "100% (16/16)" on
    # one line runs into its neighbour's label.
    two_line = n_slots > 4 or clustered
    if clustered:
        label_size = min(label_size, SIZES["label"] - 2)
    # One bar call and one errorbar call per chart: per-bar calls cost ~10 ms each.
    drawn = ax.bar(positions, [b.estimate.value for b in bars], width=width, color=[b.color for b in bars],
                   edgecolor="none", zorder=2)
    in_legend: set[str] = set()
    for b, patch in zip(bars, drawn.patches):
        patch.set_gid(f"bar:{b.category}:{b.group or ''}")
        if b.estimate.check:
            # A bar that cannot fail by construction must not read as a finding (footnote says so).
            patch.set(facecolor=CHECK_FILL, edgecolor=CHECK_EDGE, hatch="//", linewidth=0.8, gid=f"check-bar:{b.category}")
        if clustered and b.category not in in_legend:
            in_legend.add(b.category)
            patch.set_label(b.label.splitlines()[0])
    with_interval = [(x, b.estimate) for x, b in zip(positions, bars) if b.estimate.has_interval]
    if with_interval:
        ax.errorbar([x for x, _ in with_interval], [e.value for _, e in with_interval],
                    yerr=[[max(0.0, e.value - e.low) for _, e in with_interval],
                          [max(0.0, e.high - e.value) for _, e in with_interval]],
                    fmt="none", ecolor="#333333", elinewidth=1.6, capsize=6 if not clustered else 3, zorder=3)
    if clustered:
        ax.set_xticks(centers, [group_label(str(g)) for g in groups])
        if slanted(spec, figure_size_in(ax)[0]):
            _slant(ax)
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncols=len({b.category for b in bars}),
                  frameon=False, fontsize=SIZES["legend"], handlelength=1.0, borderaxespad=0.2)
        lo, hi = min(positions) - width, max(positions) + width
        if spec.highlight is not None:  # a comparison's callout, right of the clusters
            hi += _callout_gutter(ax, spec.highlight.text, hi - lo, width)
        ax.set_xlim(lo, hi)
        if len(groups) > 6:
            for t in ax.get_xticklabels():
                t.set_fontsize(max(9, SIZES["tick"] - len(groups) // 3))
    else:
        # Long labels wrap, so neighbours on a narrow chart never run into each other.
        narrow = figure_size_in(ax)[0] < 8  # beside its prompt: the bars sit closer
        ax.set_xticks(positions, [wrap(b.label, 10 if narrow else 16) for b in bars])
        if narrow:
            ax.tick_params(axis="x", labelsize=12)
        if slanted(spec, figure_size_in(ax)[0]):
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
        if not slanted(spec, figure_size_in(ax)[0]):
            _fit_tick_labels(ax, positions, [wrap(b.label, 10 if narrow else 16) for b in bars],
                             12 if narrow else SIZES["tick"])
    # The labels are fitted once the x-axis is final (their room is the bars' spacing in
    # pixels), and the y-axis then leaves room for as many lines as they need.
    labels = _value_labels(ax, bars, positions, label_size, two_line)
    lines = max((t.get_text().count("\n") + 1 for t in labels), default=1)
    y_axis(ax, spec, [b.estimate.low for b in bars], [b.estimate.high for b in bars], 0.2 if lines > 1 else 0.14)
    ymin, ymax = ax.get_ylim()
    pad = 0.015 * (ymax - ymin)
    for t, b, x in zip(labels, bars, positions):
        e = b.estimate
        above = e.value >= 0
        t.set_position((x, (e.high + pad) if above else (e.low - pad)))
        t.set_verticalalignment("bottom" if above else "top")
    if spec.highlight is not None:
        _bar_callout(ax, spec, positions, width, "right" if clustered else _callout_side(spec))


#: The smallest value label (points): smaller is not read from the back of a room.
_MIN_LABEL = 9
#: Pixels kept free between two neighbouring value labels.
_LABEL_GAP = 4.0


def _label_variants(label_size: int, two_line: bool) -> list[tuple[str, int]]:
    """Layouts to try, most informative first: the count beside the value, under it, under it
    smaller, then the value alone (the backup numbers table gives the counts)."""
    out = [] if two_line else [("one", label_size)]
    out += [("two", s) for s in range(label_size, _MIN_LABEL - 1, -1)]
    out += [("value", s) for s in range(label_size, _MIN_LABEL - 1, -1)]
    return out


def _label_text(b: Bar, layout: str) -> str:
    e = b.estimate
    if layout == "value":
        return e.short()
    return e.label().replace(" (", "\n(", 1) if layout == "two" else e.label()


def _value_labels(ax: Axes, bars: Sequence[Bar], positions: Sequence[float], label_size: int,
                  two_line: bool) -> list[Text]:
    """One value label per bar, in the first layout whose labels all fit beside each other.

    Widths are measured with the figure's renderer, not estimated from character counts:
    "100% (42/42)" is far wider than "3% (1/30)", and on a narrow backup chart or one with
    many bars either may be wider than the spacing of the bars.
    """
    texts = [ax.text(x, 0.0, "", ha="center", va="bottom", fontsize=label_size, color=TEXT, zorder=4,
                     gid="value-label", linespacing=1.05) for x in positions]
    order = sorted(range(len(bars)), key=lambda i: positions[i])
    centres = [float(ax.transData.transform((positions[i], 0.0))[0]) for i in order]
    for layout, size in _label_variants(label_size, two_line):
        for t, b in zip(texts, bars):
            t.set_text(_label_text(b, layout))
            t.set_fontsize(size)
        if _neighbours_fit([texts[i].get_window_extent().width for i in order], centres):
            break
    return texts


def _neighbours_fit(widths: Sequence[float], centres: Sequence[float]) -> bool:
    """Whether texts of these widths (pixels), centred at these x positions in order, keep
    ``_LABEL_GAP`` between each pair of neighbours."""
    return all((widths[j] + widths[j + 1]) / 2 + _LABEL_GAP <= centres[j + 1] - centres[j]
               for j in range(len(centres) - 1))


def _fit_tick_labels(ax: Axes, positions: Sequence[float], labels: Sequence[str], size: int) -> None:
    """Condition names under the bars at the largest size (down to the smallest readable one)
    at which neighbours do not touch, measured with the renderer once the x-axis is final (a
    callout's gutter narrows the bars' spacing); as a last resort a long hyphenated word is
    broken after its hyphen ("Random-direction" over "ablation" ran into "Ablation")."""
    order = sorted(range(len(positions)), key=lambda i: positions[i])
    centres = [float(ax.transData.transform((positions[i], 0.0))[0]) for i in order]
    probe = ax.text(0.0, 0.0, "", transform=None, linespacing=1.0)

    def fits(texts: Sequence[str], pt: int) -> bool:
        widths = []
        for i in order:
            probe.set_text(texts[i])
            probe.set_fontsize(pt)
            widths.append(probe.get_window_extent().width)
        return _neighbours_fit(widths, centres)

    broken = [re.sub(r"(?<=\w)-(?=\w{4,})", "-\n", label) for label in labels]
    chosen = (broken, _MIN_LABEL)
    for texts in (list(labels), broken):
        size_that_fits = next((pt for pt in range(size, _MIN_LABEL - 1, -1) if fits(texts, pt)), None)
        if size_that_fits is not None:
            chosen = (texts, size_that_fits)
            break
    probe.remove()
    ax.set_xticks(list(positions), chosen[0])
    ax.tick_params(axis="x", labelsize=chosen[1])


def _tick_labels(spec: ChartSpec) -> list[str]:
    if grouped(spec):
        return [group_label(str(g)) for g in dict.fromkeys(b.group for b in spec.bars)]
    return [b.label for b in spec.bars]


def slanted(spec: ChartSpec, width_in: float) -> bool:
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
        t.set_horizontalalignment("right")
        t.set_rotation_mode("anchor")
        t.set_fontsize(min(t.get_fontsize(), 13))


def grouped(spec: ChartSpec) -> bool:
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
    w_in = text_size(ax, wrap(text, 22).splitlines(), SIZES["callout"])[0] * axes_width_in(ax)
    axes_in = axes_width_in(ax)
    gap = _CALLOUT_OFFSET + width / 2 - 0.6
    share = min(w_in / axes_in, 0.6)
    return (gap + share * span) / (1 - share) + 0.08




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
        half_label = len(e.label()) * SIZES["label"] / 72 * 0.3 * (x1 - x0) / axes_width_in(ax)
        x_edge = positions[idx] + max(width / 2 + 0.04, half_label + 0.03) * (1 if side == "right" else -1)
    y_target = max(y_target, ymin + 0.02 * (ymax - ymin))
    y_text = min(max(y_target + 0.18 * (ymax - ymin), ymin + 0.2 * (ymax - ymin)), ymin + 0.8 * (ymax - ymin))
    reach = max(_CALLOUT_OFFSET + width / 2, abs(x_edge - positions[idx]) + 0.25)
    x_text = positions[idx] + reach * (1 if side == "right" else -1)
    ax.annotate(
        wrap(h.text, 22), xy=(x_edge, y_target), xytext=(x_text, y_text),
        ha="left" if side == "right" else "right", va="center", fontsize=SIZES["callout"],
        fontweight="bold", color=spec.callout_color, zorder=5, gid="callout",
        arrowprops=dict(arrowstyle="-|>", color=spec.callout_color, lw=2.0, mutation_scale=22,
                        shrinkA=4, shrinkB=2, connectionstyle="arc3,rad=0.0"),
    )
