"""Inline SVG charts drawn on the server: grouped and stacked bars with axes, a legend, a
`<title>` on every bar for its value, and fill patterns that still tell series apart in
black and white. Geometry uses floats; every tooltip shows the figure as the table does
(templating.figure), and category labels are drawn whole."""
from __future__ import annotations

import hashlib
from decimal import Decimal
import math
from markupsafe import Markup, escape

from ..ratios import Ratio
from ..templating import figure
from .report import MONEY, PERCENT

WIDTH, HEIGHT = 760, 300
AXIS_UNITS = {PERCENT: " %"}
LEFT, RIGHT, TOP, BOTTOM = 80, 16, 16, 70
PATTERNS = """<defs>
<pattern id="p0" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#1f4e79"/></pattern>
<pattern id="p1" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="#c0504d"/></pattern>
<pattern id="p2" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#ffffff"/><circle cx="3" cy="3" r="1.6" fill="#2e7d32"/></pattern>
<pattern id="p3" width="6" height="6" patternUnits="userSpaceOnUse"><rect width="6" height="6" fill="#bfbfbf"/></pattern>
<pattern id="p4" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="6" height="6" fill="#ffffff"/><rect width="2" height="6" fill="#7f6000"/></pattern>
</defs>"""


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    exponent = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * exponent:
            return step * exponent
    return 10 * exponent


def _short(value: float) -> str:
    for limit, suffix in ((1e9, "bn"), (1e6, "m"), (1e3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:g}{suffix}"
    return f"{value:g}"


# Category labels are drawn whole, slanted at 30°: the space below the plot and left of it
# grows to fit the longest one (an estimate of the glyphs' width at 11 px).
CHAR_W = 6.2
SIN30, COS30 = 0.5, 0.866


def _label_room(labels: list[str], slot: float) -> tuple[float, float]:
    """(height below the plot, width needed left of the frame) for the slanted labels."""
    longest = max((len(label) for label in labels), default=0) * CHAR_W
    below = max(BOTTOM, 24 + longest * SIN30)
    first = len(labels[0]) * CHAR_W * COS30 if labels else 0
    return below, max(0.0, first - (LEFT + slot / 2) + 4)


LEGEND_CHAR_W = 7.2  # the width of a character of the legend's 12-pixel type, about


def _legend_places(names: list[str], width: float) -> list[tuple[float, int]]:
    """(x offset, row) of each legend entry: side by side, each as wide as its words, on as
    many rows as they need (a long name never runs into the next one)."""
    places, x, row = [], 0.0, 0
    for name in names:
        need = 22 + len(name) * LEGEND_CHAR_W + 24
        if x and x + need > width:
            x, row = 0.0, row + 1
        places.append((x, row))
        x += need
    return places


def _frame(title: str, labels: list[str], top: float, body: list[str], legend: list[str],
           unit: str) -> Markup:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    below, left_pad = _label_room(labels, slot)
    legend_y = TOP + plot_h + below
    places = _legend_places(legend, WIDTH - RIGHT - LEFT)
    height = legend_y + 24 * (max((row for _, row in places), default=-1) + 1)
    parts = [f'<svg class="chart" viewBox="{-left_pad:.1f} 0 {WIDTH + left_pad:.1f} {height:.1f}" '
             f'role="img" aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(title)}</title>", PATTERNS]
    for i in range(5):
        v = top * i / 4
        y = TOP + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" '
                     f'stroke="#d0d0d0" stroke-width="1"/>')
        parts.append(f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">'
                     f"{_short(v)}{escape(unit)}</text>")
    parts.append(f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>')
    parts.append(f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_h}" '
                 f'stroke="#333"/>')
    for i, label in enumerate(labels):
        x = LEFT + slot * i + slot / 2
        parts.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 14}" font-size="11" text-anchor="end" '
                     f'transform="rotate(-30 {x:.1f} {TOP + plot_h + 14})">{escape(label)}</text>')
    parts.extend(body)
    for i, (name, (offset, row)) in enumerate(zip(legend, places)):
        lx = LEFT + offset
        ly = legend_y + 4 + 24 * row
        parts.append(f'<rect x="{lx}" y="{ly:.1f}" width="16" height="12" fill="url(#p{i % 5})" '
                     f'stroke="#333"/><text x="{lx + 22}" y="{ly + 11:.1f}" font-size="12">'
                     f"{escape(name)}</text>")
    parts.append("</svg>")
    # Pattern ids unique per chart: a page holds several charts.
    cid = "c" + hashlib.sha1(title.encode()).hexdigest()[:8]
    return Markup("".join(parts).replace('id="p', f'id="{cid}p').replace("url(#p", f"url(#{cid}p"))


def _number(value) -> Decimal:
    if isinstance(value, Ratio):
        value = value.value
    return Decimal(value or 0)


def _tooltip(series: str, label: str, value, kind: str) -> str:
    """A bar's `<title>`: the figure written exactly as the table beside the chart shows it (a
    Ratio with no number: its word)."""
    said = (value.word if isinstance(value, Ratio) and value.value is None
            else figure(value, kind))
    return f"<title>{escape(series)}, {escape(label)}: {escape(said)}</title>"


def bar_chart(title: str, labels: list[str], series: list[tuple[str, list]],
              kind: str = MONEY) -> Markup:
    """Grouped bars: one group per label, one bar per series, its figures of `kind` (a column
    kind). Negative values draw as 0; a Ratio with no number (over budget, n/a) draws no bar
    and says its word."""
    values = [float(_number(v)) for _, vs in series for v in vs]
    top = _nice_max(max(values + [0]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    body = []
    for s, (name, vs) in enumerate(series):
        for i, raw in enumerate(vs):
            v = max(float(_number(raw)), 0.0)
            h = plot_h * v / top
            x = LEFT + slot * i + slot * 0.1 + bar_w * s
            body.append(f'<rect x="{x:.1f}" y="{TOP + plot_h - h:.1f}" width="{bar_w:.1f}" '
                        f'height="{h:.1f}" fill="url(#p{s % 5})" stroke="#333" stroke-width="0.6">'
                        f"{_tooltip(name, labels[i], raw, kind)}</rect>")
    return _frame(title, labels, top, body, [n for n, _ in series], AXIS_UNITS.get(kind, ""))


def stacked_chart(title: str, labels: list[str], series: list[tuple[str, list]],
                  kind: str = PERCENT) -> Markup:
    """Stacked bars, e.g. a price band mix adding up to 100 % per label."""
    totals = [sum(float(vs[i] or 0) for _, vs in series) for i in range(len(labels))]
    top = _nice_max(max(totals + [0]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_w / max(len(labels), 1)
    body = []
    for i, label in enumerate(labels):
        base = 0.0
        for s, (name, vs) in enumerate(series):
            v = max(float(vs[i] or 0), 0.0)
            h = plot_h * v / top
            y = TOP + plot_h - plot_h * base / top - h
            body.append(f'<rect x="{LEFT + slot * i + slot * 0.2:.1f}" y="{y:.1f}" '
                        f'width="{slot * 0.6:.1f}" height="{h:.1f}" fill="url(#p{s % 5})" '
                        f'stroke="#333" stroke-width="0.6">{_tooltip(name, label, vs[i], kind)}'
                        f"</rect>")
            base += v
    return _frame(title, labels, top, body, [n for n, _ in series], AXIS_UNITS.get(kind, ""))
