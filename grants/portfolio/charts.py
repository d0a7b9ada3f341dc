"""Horizontal bar charts as server-side SVG: no JavaScript, no inline CSS (the CSP forbids it;
presentation attributes only).

Each chart is an `<svg role="img">` named by its `<title>` and described by its `<desc>` (which
also lists every value, for screen readers); the page puts a real table with the same numbers
next to or under it. Values are printed at the end of each bar, in dark ink on white, and with
several series each value names its series, so nothing depends on telling colours apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup, escape

INK = "#1b2430"
AXIS = "#5a6573"
# Fills, each at least 4.5:1 against the white background (tests/test_portfolio.py checks).
BLUE = "#1f4e8c"
ORANGE = "#9c4a00"
GREEN = "#1d6b3a"
PURPLE = "#6b3fa0"

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', 'DejaVu Sans', sans-serif"
FONT_SIZE = 14
CHAR_WIDTH = 7.8          # a generous average width of a character at FONT_SIZE
MAX_LABEL_CHARS = 30      # longer labels are shortened with "…" (the full text is a tooltip)
BAR_HEIGHT = 20
BAR_GAP = 4               # between the bars of one row
ROW_GAP = 12              # between rows
PAD = 8
LEGEND_HEIGHT = 28
MIN_PLOT_WIDTH = 160


@dataclass(frozen=True)
class Series:
    name: str
    colour: str


@dataclass(frozen=True)
class Bar:
    value: float | None   # None: no bar (e.g. a success rate without decisions)
    text: str             # what is printed at the end of the bar


@dataclass(frozen=True)
class ChartRow:
    label: str
    bars: tuple[Bar, ...]


def _text_width(text: str) -> float:
    return len(text) * CHAR_WIDTH


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[:MAX_LABEL_CHARS - 1] + "…"


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def describe(rows: list[ChartRow], series: list[Series]) -> str:
    """Every value in words: 'Draft: 3. Submitted: 2.' / 'Kulturrådet 2026: requested 1 000
    kr, granted 500 kr.'"""
    parts = []
    for row in rows:
        if len(series) == 1:
            parts.append(f"{row.label}: {row.bars[0].text}.")
        else:
            parts.append(f"{row.label}: " + ", ".join(bar.text for bar in row.bars) + ".")
    return " ".join(parts)


def bar_chart(chart_id: str, title: str, summary: str, rows: list[ChartRow],
              series: list[Series], *, max_value: float | None = None,
              width: int = 640) -> Markup:
    """A horizontal bar chart: one row per `rows` item, one bar per series in each row.
    `summary` opens the description (what is shown, where the table is); the values follow."""
    if not rows:
        raise ValueError("a chart needs at least one row")
    if any(len(row.bars) != len(series) for row in rows):
        raise ValueError("every row needs one bar per series")
    largest = max_value if max_value is not None else max(
        (bar.value or 0 for row in rows for bar in row.bars), default=0)
    label_width = max(_text_width(_short(row.label)) for row in rows) + 2 * PAD
    value_width = max(_text_width(bar.text) for row in rows for bar in row.bars) + 2 * PAD
    width = max(width, int(label_width + value_width + MIN_PLOT_WIDTH + PAD))
    plot_x = label_width
    plot_width = width - label_width - value_width - PAD
    legend = len(series) > 1
    top = PAD + (LEGEND_HEIGHT if legend else 0)
    row_height = len(series) * BAR_HEIGHT + (len(series) - 1) * BAR_GAP
    height = top + len(rows) * (row_height + ROW_GAP) - ROW_GAP + PAD

    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="portfolio-chart" id="{escape(chart_id)}"'
        f' role="img" aria-labelledby="{escape(title_id)} {escape(desc_id)}"'
        f' viewBox="0 0 {width} {_num(height)}" width="{width}" height="{_num(height)}"'
        f' focusable="false"'
        f' font-family="{escape(FONT_FAMILY)}" font-size="{FONT_SIZE}">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(summary)} {escape(describe(rows, series))}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{_num(height)}" fill="#ffffff"/>',
    ]
    if legend:
        x = plot_x
        for item in series:
            out.append(f'<rect x="{_num(x)}" y="{PAD + 4}" width="14" height="14"'
                       f' fill="{escape(item.colour)}"/>')
            out.append(f'<text x="{_num(x + 20)}" y="{PAD + 11}" dominant-baseline="middle"'
                       f' fill="{INK}">{escape(item.name)}</text>')
            x += 20 + _text_width(item.name) + 24
    y = top
    for row in rows:
        label = _short(row.label)
        tooltip = f"<title>{escape(row.label)}</title>" if label != row.label else ""
        out.append(f'<text x="{_num(plot_x - PAD)}" y="{_num(y + row_height / 2)}"'
                   f' text-anchor="end" dominant-baseline="middle" fill="{INK}">'
                   f'{tooltip}{escape(label)}</text>')
        for index, (bar, item) in enumerate(zip(row.bars, series, strict=False)):
            bar_y = y + index * (BAR_HEIGHT + BAR_GAP)
            length = 0.0
            if bar.value and largest:
                length = max(1.0, plot_width * min(bar.value, largest) / largest)
                out.append(f'<rect x="{_num(plot_x)}" y="{_num(bar_y)}" width="{_num(length)}"'
                           f' height="{BAR_HEIGHT}" fill="{escape(item.colour)}"/>')
            out.append(f'<text x="{_num(plot_x + length + 6)}" y="{_num(bar_y + BAR_HEIGHT / 2)}"'
                       f' dominant-baseline="middle" fill="{INK}">{escape(bar.text)}</text>')
        y += row_height + ROW_GAP
    out.append(f'<line x1="{_num(plot_x)}" y1="{top - 4}" x2="{_num(plot_x)}"'
               f' y2="{_num(height - PAD + 4)}" stroke="{AXIS}" stroke-width="1"/>')
    out.append("</svg>")
    return Markup("\n".join(out))


def contrast_ratio(colour: str, background: str = "#ffffff") -> float:
    """WCAG contrast ratio of two #rrggbb colours."""
    def luminance(hex_colour: str) -> float:
        channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]
    lighter, darker = sorted((luminance(colour), luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)
