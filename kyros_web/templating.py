"""Display filters: the one place money and percentages are rounded (half-up, SPEC §5)."""
from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from markupsafe import Markup, escape

from .ratios import NOTHING, OVER_BUDGET, UNDEFINED, Ratio

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
RATIO_WORDS = (OVER_BUDGET, NOTHING, UNDEFINED)


def money(value) -> str:
    """1234567.895 → '1,234,567.90'; blank for None."""
    if value is None:
        return ""
    return f"{Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP):,}"


def round_percent(value) -> Decimal:
    """A percentage rounded half-up to 1 decimal, never −0.0 (a tiny negative shows as 0.0)."""
    rounded = Decimal(value).quantize(TENTH, rounding=ROUND_HALF_UP)
    return rounded if rounded else abs(rounded)


def percent(value) -> str:
    """11.3636 → '11.4 %'; a Ratio with no number shows its word ('over budget', '—', 'n/a')
    with its reason as a tooltip; blank for None."""
    if value is None:
        return ""
    if isinstance(value, Ratio):
        if value.value is None:
            return Markup('<span class="ratio-word" title="{}">{}</span>').format(value.why,
                                                                                  value.word)
        value = value.value
    elif isinstance(value, str) and value in RATIO_WORDS:
        return value
    return f"{round_percent(value):,} %"


def count(value) -> str:
    """1234 → '1,234'; blank for None."""
    if value is None:
        return ""
    return f"{value:,}"


def number(value) -> str:
    """A ratio such as stock-to-sales or turns: 1234.565 → '1,234.57' (half-up)."""
    return money(value)


def day(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def month(value) -> str:
    """A month as "Feb 2026"; a line's own label (e.g. "Before season") as it is."""
    if isinstance(value, str):
        return value
    return value.strftime("%b %Y") if value else ""


KIND_FORMATS = {"money": money, "percent": percent, "count": count, "number": number,
                "date": day, "month": month}


def figure(value, kind: str) -> str:
    """A figure as every table cell, KPI and chart tooltip shows it, by its kind (the column
    kinds of analytics/report.py); text kinds as they are."""
    if value is None:
        return ""
    if isinstance(value, Ratio):
        if value.value is None:
            return percent(value)  # the word, with its reason as a tooltip
        value = value.value
    show = KIND_FORMATS.get(kind)
    return show(value) if show else str(value)


def safe_cell(value):
    """Neutralise user text a spreadsheet would run as a formula (=, +, -, @)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def audit_value(value) -> str:
    """A before/after value of the audit trail as a person reads it."""
    if value is None:
        return "(empty)"
    if isinstance(value, list):
        return ", ".join(audit_value(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k} {audit_value(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


FILTERS = {"money": money, "percent": percent, "count": count, "day": day, "month": month,
           "figure": figure, "audit_value": audit_value}


NUMBER_KINDS = ("money", "percent", "count", "number")  # right-aligned in report tables


def _drilled(html: str, filters, code: str | None) -> str:
    """`html` linked to the OTB grid of season `code` filtered by `filters` (None: no link)."""
    if code and filters is not None:
        from flask import url_for

        href = escape(url_for("planning.otb", code=code, **filters))
        return f'<a href="{href}">{html}</a>'
    return html


def _shown(value, kind: str, code: str | None) -> str:
    """A report figure by its kind, escaped; a PO number links to its PO."""
    if kind == "po" and code and value:
        from flask import url_for

        href = escape(url_for("purchasing.po_detail", code=code, po_number=value))
        return f'<a href="{href}">{escape(value)}</a>'
    return escape(figure(value, kind))


def report_cell(value, kind: str, filters, season) -> Markup:
    """One report figure (a KPI) as shown on a page, linked to the OTB grid by `filters`."""
    code = season.season_code if season else None
    return Markup(_drilled(_shown(value, kind, code), filters, code))


def report_row(table, row, link, season, header: bool = False) -> Markup:
    """The cells of one row of a report table (templates/analytics/_report.html), each figure
    shown by its column's kind and linked to the OTB grid filtered to it: the row's own
    filters (`link`) with the column's `drill`, the first cell the row's alone. A PO number
    links to its PO. Built here rather than by template macros per cell: a table of 200
    locations has some 4,000 cells (issue 16, the In season page by location). Plain string
    joins of escaped parts: Markup.format costs several times more per cell."""
    code = season.season_code if season else None
    cells = []
    for i, (value, column) in enumerate(zip(row, table.columns)):
        if link is not None and column.drill:
            filters = dict(link, **column.drill)
        else:
            filters = link if i == 0 else None
        if header and i == 0:
            cells.append(f'<th scope="row">{_drilled(escape(value), filters, code)}</th>')
            continue
        kind = column.kind
        css = "num" if kind in NUMBER_KINDS else "prose" if kind == "prose" else ""
        cells.append(f'<td class="{css}">{_drilled(_shown(value, kind, code), filters, code)}'
                     '</td>')
    return Markup("".join(cells))
