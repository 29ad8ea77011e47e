"""Backup tables: every cell of an experiment with its value, interval and exact n.

The backup's answer to "what are the actual numbers?". Rows are split into slides by
the lines they take (a long metric name wraps), so no table runs into the footnote.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportgen.chart.spec import ChartSpec, bin_fractions, condition_label, experiment_label, metric_noun
from reportgen.deck.geometry import CONTENT_W, TABLE_CELL_INSET, TABLE_FONT_PT, TABLE_ROWS_PER_SLIDE, fit_title
from reportgen.deck.slides.notes import provenance_notes
from reportgen.deck.spec import TableSlide
from reportgen.deck.textnorm import estimate_lines
from reportgen.numbers.stats import describe_intervals, format_number, format_percent
from reportgen.numbers.summarize import summarize
from reportgen.rundir.reader import Run


def number_tables(run: Run, chart: ChartSpec, label_run: bool = False) -> list[TableSlide]:
    """Every cell of an experiment (all metrics × conditions × groups × x) with exact counts.

    The backup's answer to "what are the actual numbers?": value, interval and n per
    cell, from the same :func:`reportgen.numbers.summarize.summarize` the charts use.
    """
    df = bin_fractions(run.results[run.results["experiment"] == chart.experiment])
    by = tuple(d for d in ("condition", "group", "x") if d in df.columns)
    cells = summarize(df, by=by, experiment=chart.experiment, model=chart.model)  # type: ignore[arg-type]
    has_group = any(c.group is not None for c in cells)
    has_x = any(c.x is not None for c in cells)
    columns = ["Metric", "Condition"] + (["Group"] if has_group else []) + (["x"] if has_x else [])
    columns += ["Value", "95% interval", "n"]
    rows = []
    for c in cells:
        e = c.estimate
        noun = metric_noun(c.metric)
        row = [noun[:1].upper() + noun[1:], condition_label(c.condition) if c.condition else "—"]
        if has_group:
            row.append(c.group or "—")
        if has_x:
            row.append("—" if c.x is None else format_number(c.x) if not float(c.x).is_integer() else str(int(c.x)))
        if e.kind == "rate":
            # Rows repeating items (k samples each) show no k/n: n is the items, not the rows.
            value = format_percent(e.value, e.k, e.n) + ("" if e.clustered else f" ({e.k}/{e.n})")
            row += [value, f"{e.low * 100:.1f}–{e.high * 100:.1f}%", str(e.n_items)]
        else:
            interval = f"{format_number(e.low)} to {format_number(e.high)}" if e.has_interval else "—"
            row += [format_number(e.value), interval, str(e.n_items)]
        rows.append(tuple(row))
    methods = describe_intervals(sorted({c.estimate.method for c in cells}))
    widths = {"Metric": 2.2, "Condition": 2.2, "Group": 1.8, "x": 0.8, "Value": 1.6, "95% interval": 1.6, "n": 0.8}
    total = sum(widths[c] for c in columns)
    fractions = tuple(widths[c] / total for c in columns)
    base = f"Numbers: {experiment_label(chart.experiment)}"
    if run.results["model"].nunique() > 1:
        base += f" ({chart.shown_model})"
    if label_run:
        # A sweep's runs are told apart by model and grid point; other runs by their id.
        named = ", ".join(x for x in (chart.shown_model if chart.grid_label or chart.model_label else "",
                                      chart.grid_label) if x)
        base += f" ({named})" if named else f" (run {run.run_id})"
    chunks = _table_pages(rows, fractions)
    out = []
    for i, chunk in enumerate(chunks, start=1):
        title = base if len(chunks) == 1 else f"{base} ({i}/{len(chunks)})"
        out.append(
            TableSlide(
                title=title,
                title_pt=fit_title(title)[0],
                columns=tuple(columns),
                rows=tuple(chunk),
                column_widths=fractions,
                footnote="; ".join(methods) + ". Rates as % (k/n).",
                notes=provenance_notes(run, chart),
            )
        )
    return out


def row_lines(row: Sequence[str], fractions: Sequence[float]) -> int:
    """Lines the tallest cell of a table row wraps to at the table's font size."""
    return max(
        estimate_lines(cell, CONTENT_W * frac - TABLE_CELL_INSET, TABLE_FONT_PT) for cell, frac in zip(row, fractions)
    )


def _table_pages(rows: Sequence[tuple[str, ...]], fractions: Sequence[float]) -> list[list[tuple[str, ...]]]:
    """Rows split into slides by the height they take, not their count: a long metric name
    wraps to two lines, and fourteen such rows ran over the footer."""
    pages: list[list[tuple[str, ...]]] = [[]]
    used = 0
    for row in rows:
        lines = row_lines(row, fractions)
        if pages[-1] and used + lines > TABLE_ROWS_PER_SLIDE:
            pages.append([])
            used = 0
        pages[-1].append(row)
        used += lines
    return pages
