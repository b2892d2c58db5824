"""Exports of the analytics reports and of a season's data: CSV and XLSX with numbers as
numbers, dates as dates, and user text that a spreadsheet could run as a formula defused;
JSON for the API (issue 18) with money and percentages as decimal strings, keyed by column.
The three walk a table the same way (`row_cells`), each turning a value by its column's
kind."""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from ..ratios import Ratio
from ..templating import round_percent, safe_cell
from .report import COUNT, DATE, MONEY, MONTH, NUMBER, PERCENT, Column, Report, Table

FORMATS = {MONEY: "#,##0.00", PERCENT: '0.0"%"', COUNT: "0", NUMBER: "0.00",
           DATE: "yyyy-mm-dd", MONTH: "mmm yyyy"}


def _plain(value):
    """A Ratio as its number, or the word the page shows instead of one."""
    if isinstance(value, Ratio):
        return value.word if value.value is None else value.value
    return value


def _csv_value(value, kind: str):
    if value is None:
        return ""
    if isinstance(value, Decimal):
        if kind == PERCENT:
            return str(round_percent(value))
        return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if isinstance(value, date):
        return value.strftime("%Y-%m") if kind == MONTH else value.isoformat()
    if isinstance(value, str):
        return safe_cell(value)
    return value


def row_cells(table: Table, row: list, convert) -> list:
    """A row of the table, each value as `convert(value, column)` makes it, a Ratio read as
    its number or its word first."""
    return [convert(_plain(value), column) for value, column in zip(row, table.columns)]


def _lines(table: Table) -> list[list]:
    """The rows, then the totals line."""
    return table.rows + ([table.total] if table.total else [])


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.title for c in table.columns])
    writer.writerows(row_cells(table, row, lambda value, column: _csv_value(value, column.kind))
                     for row in _lines(table))
    return out.getvalue()


def _sheet_name(name: str, used: set) -> str:
    base = "".join(ch for ch in name if ch not in '[]:*?/\\')[:28] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in used:
        candidate, n = f"{base[:26]}{n}", n + 1
    used.add(candidate.lower())
    return candidate


def _append(sheet, table: Table) -> None:
    def cell(value, column: Column):
        if isinstance(value, str):
            value = safe_cell(value)
        elif isinstance(value, datetime):
            value = value.replace(tzinfo=None)
        made = WriteOnlyCell(sheet, value=value)
        if column.kind in FORMATS and not isinstance(value, str):
            made.number_format = FORMATS[column.kind]
        return made

    sheet.append([c.title for c in table.columns])
    for row in _lines(table):
        sheet.append(row_cells(table, row, cell))


def workbook(tables: list[tuple[str, Table]], header: list[str] | None = None) -> bytes:
    """One sheet per table; `header` lines (season, fingerprint) go on a first sheet."""
    book = Workbook(write_only=True)
    used: set = set()
    if header:
        about = book.create_sheet(_sheet_name("About", used))
        for line in header:
            about.append([safe_cell(line)])
    for name, table in tables:
        _append(book.create_sheet(_sheet_name(name, used)), table)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def report_workbook(report: Report, header: list[str]) -> bytes:
    return workbook([(t.title, t) for t in report.exported], header)


# JSON ---------------------------------------------------------------------------------------

def column_key(title: str) -> str:
    """A column's key in JSON, from its title: "Sales variance %" → "sales_variance_percent",
    "Committed (delivery month)" → "committed_delivery_month", "#" → "number"."""
    words = title.replace("%", " percent ").replace("#", " number ").replace("+", " plus ")
    plain = unicodedata.normalize("NFKD", words).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_") or "value"


def column_keys(columns: list[Column]) -> list[str]:
    """The keys of a table's columns, in order; a key met twice gets a number."""
    keys: list[str] = []
    for column in columns:
        key, n = column_key(column.title), 2
        while key in keys:
            key, n = f"{column_key(column.title)}_{n}", n + 1
        keys.append(key)
    return keys


def json_value(value, column: Column):
    """A cell as JSON: money and numbers (stock-to-sales, turns) as decimal strings with 2
    places and percentages with 1, rounded half-up as the pages round them; counts as
    integers; dates in ISO 8601 (a month as its first day); a word standing in for a ratio
    ("over budget", "—", "n/a"), a line's label and text as strings; empty as null."""
    kind = column.kind
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, date):
        return value.isoformat()
    if kind == PERCENT:
        return str(round_percent(value))
    if kind in (MONEY, NUMBER):
        return str(Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    if kind == COUNT:
        return int(value)
    return value if isinstance(value, int) else str(value)


def table_json(table: Table) -> dict:
    """A table as JSON: its columns in order (key, title, kind), each row and the total line
    as an object keyed by the columns' keys, and the note that defines its figures."""
    keys = column_keys(table.columns)

    def keyed(row):
        return dict(zip(keys, row_cells(table, row, json_value)))

    return {"name": table.name, "title": table.title, "note": table.note or None,
            "columns": [{"key": k, "name": c.title, "kind": c.kind}
                        for k, c in zip(keys, table.columns)],
            "rows": [keyed(row) for row in table.rows],
            "total": keyed(table.total) if table.total else None}


def report_json(report: Report) -> dict:
    """A report as JSON: its filters, notes, KPIs (each with its kind, and why a ratio has
    no number) and tables; the charts are left out (they draw the tables' figures)."""
    kpis = []
    if report.kpis:
        figures = table_json(report.exported[0])
        kpis = [{"key": column["key"], "name": kpi.label, "kind": kpi.kind,
                 "value": figures["rows"][0][column["key"]],
                 "note": getattr(kpi.value, "why", "") or None}
                for column, kpi in zip(figures["columns"], report.kpis)]
    return {"slug": report.slug, "title": report.title,
            "filters": {column_key(k): v if isinstance(v, int) else str(v)
                        for k, v in report.filters.items() if k != "levels"},
            "notes": list(report.notes), "kpis": kpis,
            "tables": [table_json(t) for t in report.tables]}
