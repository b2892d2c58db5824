"""Exports of the analytics reports and of a season's data: CSV and XLSX with numbers as
numbers, dates as dates, and user text that a spreadsheet could run as a formula defused."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from ..ratios import Ratio
from ..templating import round_percent, safe_cell
from .report import COUNT, DATE, MONEY, MONTH, NUMBER, PERCENT, Report, Table

FORMATS = {MONEY: "#,##0.00", PERCENT: '0.0"%"', COUNT: "0", NUMBER: "0.00",
           DATE: "yyyy-mm-dd", MONTH: "mmm yyyy"}


def _plain(value):
    """A Ratio as its number, or the word the page shows instead of one."""
    if isinstance(value, Ratio):
        return value.word if value.value is None else value.value
    return value


def _csv_value(value, kind: str):
    value = _plain(value)
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


def table_csv(table: Table) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([c.title for c in table.columns])
    for row in table.rows + ([table.total] if table.total else []):
        writer.writerow([_csv_value(v, c.kind) for v, c in zip(row, table.columns)])
    return out.getvalue()


def _sheet_name(name: str, used: set) -> str:
    base = "".join(ch for ch in name if ch not in '[]:*?/\\')[:28] or "Sheet"
    candidate, n = base, 2
    while candidate.lower() in used:
        candidate, n = f"{base[:26]}{n}", n + 1
    used.add(candidate.lower())
    return candidate


def _append(sheet, table: Table) -> None:
    sheet.append([c.title for c in table.columns])
    for row in table.rows + ([table.total] if table.total else []):
        cells = []
        for value, column in zip(row, table.columns):
            value = _plain(value)
            if isinstance(value, str):
                value = safe_cell(value)
            elif isinstance(value, datetime):
                value = value.replace(tzinfo=None)
            cell = WriteOnlyCell(sheet, value=value)
            if column.kind in FORMATS and not isinstance(value, str):
                cell.number_format = FORMATS[column.kind]
            cells.append(cell)
        sheet.append(cells)


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
