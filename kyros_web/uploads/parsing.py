"""Reading upload files (SPEC §6): CSV or XLSX told apart by content, headers matched, and the
cell parsers for numbers, dates and months. Pure: bytes in, values out, no database."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Iterator

from openpyxl import load_workbook

from ..values import MONEY, NUMBER_FORMAT, Digits, NumberFormatError, read_decimal

XLSX_MAGIC = b"PK\x03\x04"
DELIMITERS = (",", ";", "\t")


class FileRejected(Exception):
    """The whole file is refused (format, size, headers); nothing about single rows."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class LimitExceeded(FileRejected):
    """The file is over the size or row limit: refused before anything is stored."""


class CellError(ValueError):
    """One cell's value breaks a format rule; the message says which and how to fix it."""


@dataclass
class Table:
    format: str  # "csv" or "xlsx"
    headers: list[str]  # as found, trimmed
    columns: dict[str, int]  # known column name → position
    unknown: list[str] = field(default_factory=list)
    _rows: Iterator = None

    def rows(self) -> Iterator[tuple[int, dict[str, object]]]:
        """(row number in the file, {column: raw value}) for every non-empty data row."""
        for number, cells in self._rows:
            if all(_blank(c) for c in cells):
                continue
            yield number, {name: (cells[i] if i < len(cells) else None)
                           for name, i in self.columns.items()}


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def sniff_format(data: bytes) -> str:
    """'xlsx' or 'csv' from the content, not the name; FileRejected for anything else."""
    if not data.strip():
        raise FileRejected("The file is empty.")
    if data.startswith(XLSX_MAGIC):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                if "xl/workbook.xml" in z.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise FileRejected("The file is a ZIP archive but not an XLSX workbook. Upload a CSV "
                           "or an XLSX file.")
    if b"\x00" in data[:65536]:
        raise FileRejected("The file is not a CSV or XLSX file (it holds binary data).")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileRejected(f"The file is not UTF-8 text (byte {exc.start + 1} cannot be read). "
                           "Save the CSV as UTF-8, or upload an XLSX file.") from None
    return "csv"


def _delimiter(first_line: str) -> str:
    """The delimiter of the header line: the most frequent of comma, semicolon and tab."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _csv_rows(data: bytes) -> tuple[list[str], Iterator]:
    text = data.decode("utf-8-sig")
    first_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    try:
        headers = next(reader)
    except StopIteration:
        raise FileRejected("The file has no header row.") from None
    except csv.Error as exc:
        raise FileRejected(f"The header row cannot be read: {exc}.") from None

    def rows():
        number = 1
        try:
            for cells in reader:
                number += 1
                yield number, cells
        except csv.Error as exc:
            raise FileRejected(f"Row {number + 1} cannot be read as CSV: {exc}.") from None

    return headers, rows()


def _xlsx_rows(data: bytes) -> tuple[list[str], Iterator]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a damaged workbook
        raise FileRejected("The XLSX workbook cannot be opened; it may be damaged.") from None
    if not workbook.worksheets:
        raise FileRejected("The XLSX workbook has no sheet.")
    iterator = workbook.worksheets[0].iter_rows(values_only=True)
    try:
        headers = next(iterator)
    except StopIteration:
        raise FileRejected("The first sheet is empty.") from None
    headers = ["" if h is None else str(h) for h in headers]

    def rows():
        for number, cells in enumerate(iterator, start=2):
            yield number, list(cells)
        workbook.close()

    return headers, rows()


def open_table(data: bytes, known: list[str], required: list[str]) -> Table:
    """The file as a table of known columns; FileRejected when required ones are missing."""
    kind = sniff_format(data)
    headers, rows = _csv_rows(data) if kind == "csv" else _xlsx_rows(data)
    headers = [h.strip() for h in headers]
    positions: dict[str, int] = {}
    unknown = []
    for i, header in enumerate(headers):
        name = header.lower()
        if name in known and name not in positions:
            positions[name] = i
        elif header:
            unknown.append(header)
    missing = [c for c in required if c not in positions]
    if missing:
        raise FileRejected("Missing required column" + ("s" if len(missing) > 1 else "") + ": "
                           + ", ".join(missing) + ". The first row must name the columns: "
                           + ", ".join(required) + ".")
    return Table(format=kind, headers=headers, columns=positions, unknown=unknown, _rows=rows)


# Cell parsers: raise CellError with a message for the user.

ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ISO_MONTH = re.compile(r"^(\d{4})-(\d{2})(-01)?$")


def text(value, max_length: int | None = None) -> str | None:
    """Trimmed text, or None when empty; numbers from XLSX cells read as written."""
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    result = str(value).strip()
    if not result:
        return None
    if max_length and len(result) > max_length:
        raise CellError(f"is longer than {max_length} characters")
    return result


def number(value, digits: Digits = MONEY) -> Decimal | None:
    """Typed text as read_decimal reads it, or a numeric XLSX cell, that a column of `digits`
    can store (its decimals and its size)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.strip():
            return None
        try:
            result = read_decimal(value)
        except NumberFormatError as exc:
            raise CellError(str(exc)) from None
    elif isinstance(value, bool):
        raise CellError(NUMBER_FORMAT)
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise CellError(NUMBER_FORMAT)
        result = Decimal(repr(value))
    elif isinstance(value, Decimal):
        result = value
    else:
        raise CellError(NUMBER_FORMAT)
    if not result.is_finite():
        raise CellError(NUMBER_FORMAT)
    problem = digits.problem(result)
    if problem:
        raise CellError(problem)
    return digits.exact(result)


def day(value) -> date | None:
    """YYYY-MM-DD, or a date cell."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = str(value).strip()
    if not ISO_DATE.match(raw):
        raise CellError("is not a date (write YYYY-MM-DD)")
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise CellError("is not a real date") from None


def month(value) -> date | None:
    """YYYY-MM or YYYY-MM-01, or a date cell on the first of a month."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, (datetime, date)):
        d = value.date() if isinstance(value, datetime) else value
        if d.day != 1:
            raise CellError("is not a month (write YYYY-MM or YYYY-MM-01)")
        return d
    match = ISO_MONTH.match(str(value).strip())
    if not match:
        raise CellError("is not a month (write YYYY-MM or YYYY-MM-01)")
    try:
        return date(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise CellError("is not a real month") from None
