"""Charts as SVG drawn on the server by pygal: no script, nothing fetched by the browser."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date, timedelta

import pygal
from markupsafe import escape
from pygal.style import Style

from api.reports.schemas import ReportRow

_STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#1f2933",
    foreground_strong="#1f2933",
    foreground_subtle="#d5dbe1",
    colors=("#2f7d32", "#c27c0e"),
    font_family="system-ui, sans-serif",
    label_font_size=11,
    major_label_font_size=11,
    legend_font_size=12,
    value_font_size=12,
    tooltip_font_size=12,
)

_INLINE_SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)


def weekly_tonnes(
    rows: Sequence[ReportRow],
    first_week: date,
    weeks: int,
    labels: tuple[str, str, str],
    tonnes: Callable[[float], str],
) -> str:
    """Tonnes sold and delivered per week (weeks without sales drawn as zero)."""
    sold_label, delivered_label, title = labels
    by_week = {row.key["week"]: row for row in rows}
    days = [first_week + timedelta(weeks=n) for n in range(weeks)]
    chart = pygal.Bar(
        style=_STYLE, width=420, height=250, js=[], disable_xml_declaration=True,
        legend_at_bottom=True, legend_at_bottom_columns=2, show_y_guides=True,
        x_label_rotation=0, truncate_label=-1, margin=8, spacing=6, title=None,
        show_minor_x_labels=False, x_labels_major_every=3, print_values=False,
        value_formatter=tonnes, explicit_size=False,
    )  # fmt: skip
    chart.x_labels = [day.strftime("%d/%m") for day in days]
    sold = [by_week[d.isoformat()].sold.tonnes if d.isoformat() in by_week else 0 for d in days]
    delivered = [
        by_week[d.isoformat()].delivered.tonnes if d.isoformat() in by_week else 0 for d in days
    ]
    chart.add(sold_label, sold)
    chart.add(delivered_label, delivered)
    # pygal writes its config as an inline <script> even with js=[]: our CSP (script-src 'self')
    # blocks it and the browser logs an error on every load. Nothing reads it, so it goes.
    svg: str = _INLINE_SCRIPT.sub("", chart.render(is_unicode=True))
    # The chart's accessible name comes from our catalog, not from pygal.
    return svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1)
