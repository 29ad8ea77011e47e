"""Rendered charts read back from the matplotlib Axes: heights, labels, intervals, callout."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from matplotlib.patches import Rectangle
from PIL import Image

from reportgen.chart.render import CHART_BOX, DPI, draw_chart, render_charts
from reportgen.chart.spec import build_chart_specs
from reportgen.rundir.reader import Run
from reportgen.rundir.schema import validate_results


def rate_rows(experiment, condition, k, n, metric="refusal", x=None, group=None, task="steering"):
    return [
        {"experiment": experiment, "task": task, "model": "m", "condition": condition, "item_id": f"i{i:03d}",
         "metric": metric, "value": float(i < k), "x": x, "group": group}
        for i in range(n)
    ]


def charts_for(*parts):
    df = validate_results(pd.DataFrame([r for p in parts for r in p]))
    return build_chart_specs([Run(path=Path("r"), results=df)])


@pytest.fixture(scope="module")
def bar_charts():
    return charts_for(
        rate_rows("harmful", "baseline", 58, 100, group="a"),
        rate_rows("harmful", "ablation", 3, 100, group="b"),
        rate_rows("harmful", "random_ablation", 55, 100, group="a"),
    )


def bars_of(ax):
    return [p for p in ax.patches if isinstance(p, Rectangle) and str(p.get_gid()).startswith("bar:")]


def texts(ax, gid):
    return [t for t in ax.texts if t.get_gid() == gid]


def test_bar_heights_labels_and_zero_baseline(bar_charts):
    main = bar_charts[0]
    fig = draw_chart(main)
    ax = fig.axes[0]
    bars = bars_of(ax)
    assert [b.get_height() for b in bars] == pytest.approx([0.58, 0.03])
    assert [b.get_gid() for b in bars] == ["bar:baseline:", "bar:ablation:"]
    assert [t.get_text() for t in texts(ax, "value-label")] == ["58% (58/100)", "3% (3/100)"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Baseline", "Ablation"]
    assert ax.get_ylim()[0] == 0
    assert {t.get_text() for t in ax.get_yticklabels()} >= {"0%", "50%", "100%"}
    assert tuple(fig.get_size_inches()) == pytest.approx((CHART_BOX.width, CHART_BOX.height))


def test_interval_bars_span_the_wilson_interval(bar_charts):
    main = bar_charts[0]
    ax = draw_chart(main).axes[0]
    spans = []
    for container in ax.containers:
        if hasattr(container, "lines") and container.lines[2]:
            segs = container.lines[2][0].get_segments()
            spans.extend((float(s[0][1]), float(s[1][1])) for s in segs)
    expected = [v for b in main.bars for v in (b.estimate.low, b.estimate.high)]
    assert [v for span in spans for v in span] == pytest.approx(expected)


def test_one_callout_arrow_points_at_the_highlighted_bar_without_covering_a_bar(bar_charts):
    main = bar_charts[0]
    fig = draw_chart(main)
    ax = fig.axes[0]
    (callout,) = texts(ax, "callout")
    assert callout.get_text().replace("\n", " ") == main.highlight.text
    assert callout.arrow_patch is not None
    target = bars_of(ax)[1]  # ablation
    x, _ = callout.xy
    assert target.get_x() + target.get_width() <= x <= target.get_x() + target.get_width() + 0.1
    fig.canvas.draw()
    box = callout.get_window_extent()
    for bar in bars_of(ax):
        assert not box.overlaps(bar.get_window_extent()), "callout text covers a bar"


def test_title_and_footnote_only_in_standalone_charts(bar_charts):
    main = bar_charts[0]
    bare = draw_chart(main)
    assert not [t for t in bare.texts if t.get_gid() == "title"]
    full = draw_chart(main, with_text=True)
    (title,) = [t for t in full.texts if t.get_gid() == "title"]
    assert title.get_text().replace("\n", " ") == main.title
    assert title.get_horizontalalignment() == "left"
    assert any(t.get_text() == main.footnote for t in full.texts)


def test_backup_breakdown_draws_every_category_per_group(bar_charts):
    backup = next(c for c in bar_charts if c.backup)
    ax = draw_chart(backup).axes[0]
    assert [b.get_height() for b in bars_of(ax)] == pytest.approx([b.estimate.value for b in backup.bars])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"Baseline", "Ablation", "Random-direction ablation"}


def test_curve_lines_follow_the_estimates_and_callout_avoids_the_lines():
    parts = []
    for x, forced, continued in ((0.0, 10, 24), (0.5, 18, 36), (1.0, 40, 40)):
        parts.append(rate_rows("early_answering", "forced", forced, 40, "matches_full", x=x, task="truncation"))
        parts.append(rate_rows("early_answering", "continued", continued, 40, "matches_full", x=x, task="truncation"))
    main = charts_for(*parts)[0]
    fig = draw_chart(main)
    ax = fig.axes[0]
    lines = {str(line.get_gid()): line for line in ax.lines if str(line.get_gid()).startswith("series:")}
    assert list(lines["series:forced"].get_ydata()) == pytest.approx([0.25, 0.45, 1.0])
    assert list(lines["series:continued"].get_xdata()) == pytest.approx([0.0, 0.5, 1.0])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0%", "50%", "100%"]
    (callout,) = texts(ax, "callout")
    assert callout.xy == pytest.approx((0.5, 0.9))
    assert "90% (36/40)" in callout.get_text()
    fig.canvas.draw()
    box = callout.get_window_extent()
    for line in lines.values():
        for pt in ax.transData.transform(line.get_xydata()):
            assert not box.contains(*pt), "callout text covers a data point"


def test_sweep_draws_the_baseline_as_a_reference_line():
    parts = [rate_rows("layer_sweep", "baseline", 38, 40)]
    for layer in range(8):
        parts.append(rate_rows("layer_sweep", "ablation", 4 if layer == 5 else 36, 40, x=layer))
    main = charts_for(*parts)[0]
    ax = draw_chart(main).axes[0]
    (ref,) = [line for line in ax.lines if str(line.get_gid()).startswith("reference:")]
    assert ref.get_ydata()[0] == pytest.approx(0.95)
    (callout,) = texts(ax, "callout")
    assert callout.xy == pytest.approx((5, 0.1))


def test_render_charts_writes_pngs_at_slide_size(tmp_path, bar_charts):
    paths = render_charts(bar_charts, tmp_path / "charts", workers=1)
    assert [p.name for p in paths] == [f"{c.chart_id}.png" for c in bar_charts]
    with Image.open(paths[0]) as im:
        width, height = im.size
    assert abs(width - CHART_BOX.width * DPI) <= 1 and abs(height - CHART_BOX.height * DPI) <= 1
    assert not list((tmp_path / "charts").glob(".*.tmp"))


EXAMPLES = Path(__file__).resolve().parents[3] / "examples"


@pytest.fixture(scope="module")
def example_charts():
    from reportgen.rundir.reader import load_run

    runs = [load_run(EXAMPLES / d) for d in ("steering", "truncation", "bias", "aggregated")]
    return build_chart_specs(runs)


def test_example_charts_have_no_overlapping_text_and_nothing_outside_the_figure(example_charts):
    """What a mentor would notice first: labels on top of each other, a callout over a bar, clipping."""
    for spec in example_charts:
        fig = draw_chart(spec, with_text=True)
        fig.canvas.draw()
        ax = fig.axes[0]
        renderer = fig.canvas.get_renderer()
        ticks = [t.label1 for axis, (lo, hi) in ((ax.xaxis, ax.get_xlim()), (ax.yaxis, ax.get_ylim()))
                 for t in axis.get_major_ticks() if lo <= t.get_loc() <= hi and t.label1.get_text()]
        texts = [t for t in ax.texts if t.get_text()] + ticks
        legend = ax.get_legend()
        boxes = [(t.get_text(), t.get_window_extent(renderer)) for t in texts]
        if legend is not None:
            boxes.append(("legend", legend.get_window_extent(renderer)))
        for i, (a, box_a) in enumerate(boxes):
            for b, box_b in boxes[i + 1:]:
                assert not box_a.overlaps(box_b), f"{spec.chart_id}: {a!r} overlaps {b!r}"
        fig_box = fig.bbox
        for name, box in boxes + [(t.get_text(), t.get_window_extent(renderer)) for t in fig.texts]:
            assert fig_box.x0 <= box.x0 and box.x1 <= fig_box.x1 + 1, f"{spec.chart_id}: {name!r} clipped"
            assert fig_box.y0 <= box.y0 and box.y1 <= fig_box.y1 + 1, f"{spec.chart_id}: {name!r} clipped"
        for callout in texts:
            if callout.get_gid() != "callout":
                continue
            for patch in bars_of(ax):
                assert not callout.get_window_extent(renderer).overlaps(patch.get_window_extent(renderer)), spec.chart_id


def _label_boxes(fig):
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = sorted(texts(ax, "value-label"), key=lambda t: t.get_position()[0])
    return labels, [t.get_window_extent() for t in labels]


@pytest.mark.parametrize(("n", "size_in"), [(4, (6.9, 5.1)), (12, (6.9, 5.1)), (16, (13.0, 5.6)), (16, (6.9, 5.1))])
def test_value_labels_of_neighbouring_bars_never_overlap(n, size_in):
    """Bars with "100% (42/42)"-wide labels, at slide width and beside a prompt (a backup chart
    of many conditions; four bars narrowed): each label fits beside its neighbours (the count
    moves under the value, shrinks, or is left to the backup table), and still gives its value."""
    parts = [rate_rows("probe", f"condition_{i}", 42 - i % 3, 42, metric="correct", task="other") for i in range(n)]
    chart = max((c for c in charts_for(*parts) if c.kind == "bars"), key=lambda c: len(c.bars))
    assert len(chart.bars) == n
    labels, boxes = _label_boxes(draw_chart(chart, size_in=size_in))
    assert [t.get_text().split()[0] for t in labels] == [b.estimate.short() for b in chart.bars]
    for (a, ta), (b, tb) in zip(zip(boxes, labels), zip(boxes[1:], labels[1:])):
        assert not a.overlaps(b), (size_in, ta.get_text(), tb.get_text())


def test_value_labels_keep_their_count_when_there_is_room(bar_charts):
    labels, boxes = _label_boxes(draw_chart(bar_charts[0], size_in=(6.9, 5.1)))
    assert [t.get_text().replace("\n", " ") for t in labels] == ["58% (58/100)", "3% (3/100)"]
    assert not boxes[0].overlaps(boxes[1])


def test_condition_names_under_narrowed_bars_do_not_run_into_each_other():
    """Beside a prompt, the callout's gutter narrows the bars' spacing: "Random-direction
    ablation" (one 16-letter word) ran into "Ablation" on the weekly deck's steering slide."""
    chart = next(c for c in charts_for(rate_rows("harmful", "random_ablation", 32, 32),
                                       rate_rows("harmful", "ablation", 2, 32)) if c.kind == "bars" and not c.backup)
    import dataclasses

    chart = dataclasses.replace(chart, highlight=dataclasses.replace(
        chart.highlight, text="refusal drops — that's what we want"))  # the weekly deck's callout
    fig = draw_chart(chart, size_in=(6.9, 5.1))
    fig.canvas.draw()
    ax = fig.axes[0]
    ticks = sorted((t for t in ax.get_xticklabels() if t.get_text()), key=lambda t: t.get_position()[0])
    assert [t.get_text().replace("-\n", "-").replace("\n", " ") for t in ticks] == [
        "Random-direction ablation", "Ablation"]
    boxes = [t.get_window_extent() for t in ticks]
    assert not boxes[0].overlaps(boxes[1]), [t.get_text() for t in ticks]
    assert min(t.get_fontsize() for t in ticks) >= 9
