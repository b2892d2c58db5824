"""Reading upload files (SPEC §6): CSV or XLSX told apart by content, headers matched, and the
cell parsers for numbers, dates and months. Pure: bytes in, values out, no database."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Callable, Iterator

from . import xlsx
# Budget, FileRejected and LimitExceeded are used through this module by services and tests.
from .limits import (MAX_COLUMNS, MAX_CSV_LINE, Budget, FileRejected, LimitExceeded,  # noqa: F401
                     too_many_rows)

from ..values import MONEY, NUMBER_FORMAT, Digits, NumberFormatError, read_decimal

XLSX_MAGIC = b"PK\x03\x04"
UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
SAVE_AS_UTF8 = "Save the CSV as UTF-8, or upload an XLSX file."
DELIMITERS = (",", ";", "\t")
CHECK_EVERY = 4096  # rows between two looks at the clock


class CellError(ValueError):
    """One cell's value breaks a format rule; the message says which and how to fix it."""


@dataclass
class Table:
    # "csv" or "xlsx"; "api" for the JSON rows of a bulk write (a PO row naming no source
    # takes its table's format as its source)
    format: str
    headers: list[str]  # as found, trimmed
    columns: dict[str, int]  # known column name → position
    unknown: list[str] = field(default_factory=list)
    _rows: Iterator = None
    budget: Budget = field(default_factory=Budget)
    # Told (row number, cells as read, messages) of each row the reader of rows() rejected.
    on_rejected: Callable[[int, list, str], None] | None = None

    def rows(self, rejected: dict[int, str] | None = None
             ) -> Iterator[tuple[int, dict[str, object]]]:
        """(row number in the file, {column: raw value}) for every non-empty data row; when
        the reader has put the row in `rejected` by the time it asks for the next one, the row
        as read goes to `on_rejected` with its messages, which leave `rejected` (so rejected
        rows are kept in one pass, and never all held in memory)."""
        columns = list(self.columns.items())
        last = max(self.columns.values(), default=-1)
        for count, (number, cells) in enumerate(self._rows, start=1):
            if count % CHECK_EVERY == 0:
                self.budget.check()
            for cell in cells:  # the first cell is nearly always filled: a quick test
                if cell is not None and (not isinstance(cell, str) or cell.strip()):
                    break
            else:
                continue
            if last < len(cells):
                yield number, {name: cells[i] for name, i in columns}
            else:
                yield number, {name: (cells[i] if i < len(cells) else None)
                               for name, i in columns}
            if rejected and self.on_rejected is not None and number in rejected:
                self.on_rejected(number, cells, rejected.pop(number))

    def raw_rows(self) -> Iterator[tuple[int, list]]:
        """(row number in the file, every cell as read) for every row, blank ones included."""
        return self._rows


def sniff_format(data: bytes) -> str:
    """'xlsx' or 'csv' from the content, not the name; FileRejected for anything else.

    A workbook's zip directory is checked against the size limits here, before any part is
    unpacked; UTF-16 text (with its byte order mark) is a CSV too."""
    if not data or data.isspace():
        raise FileRejected("The file is empty.")
    if data.startswith(XLSX_MAGIC):
        xlsx.open_archive(data).close()
        return "xlsx"
    if data.startswith(UTF32_BOMS):
        raise FileRejected(f"The file is UTF-32 text. {SAVE_AS_UTF8}")
    if data.startswith(UTF16_BOMS):
        return _text_in(data, "utf-16", "The file is UTF-16 text but byte {byte} cannot be read.")
    if b"\x00" in data[:65536]:
        if _looks_utf16(data[:65536]):
            raise FileRejected("The file looks like UTF-16 text without a byte order mark. "
                               f"{SAVE_AS_UTF8}")
        raise FileRejected("The file is not a CSV or XLSX file (it holds binary data).")
    return _text_in(data, "utf-8", "The file is not UTF-8 text (byte {byte} cannot be read).")


def _text_in(data: bytes, encoding: str, unreadable: str) -> str:
    """'csv' when the whole file decodes as `encoding`; else FileRejected saying which byte
    (`unreadable` names it as `{byte}`, counted from 1) and how to fix it."""
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        raise FileRejected(f"{unreadable.format(byte=exc.start + 1)} {SAVE_AS_UTF8}") from None
    return "csv"


def _looks_utf16(head: bytes) -> bool:
    """Mostly-ASCII text in UTF-16: every other byte is zero, the others are not."""
    head = head[:len(head) // 2 * 2]
    for zeros, letters in ((head[1::2], head[0::2]), (head[0::2], head[1::2])):
        if zeros and zeros.count(0) > 0.9 * len(zeros) and letters.count(0) == 0:
            return True
    return False


def _delimiter(first_line: str) -> str:
    """The delimiter of the header line: the most frequent of comma, semicolon and tab."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else ","


def _text(data: bytes) -> io.TextIOWrapper:
    # Decoded as it is read: a 25 MB file never sits in memory as one string.
    encoding = "utf-16" if data.startswith(UTF16_BOMS) else "utf-8-sig"
    return io.TextIOWrapper(io.BytesIO(data), encoding=encoding, newline="")


def _lines(stream: io.TextIOWrapper) -> Iterator[str]:
    """The file's lines, refused past MAX_CSV_LINE characters: the csv module would split one
    25 MB line of commas into a list of 25 million fields before anything could look at it."""
    number = 0
    while line := stream.readline(MAX_CSV_LINE + 1):
        number += 1
        if len(line) > MAX_CSV_LINE:
            raise FileRejected(f"Line {number:,} of the file is longer than {MAX_CSV_LINE:,} "
                               "characters; no row of a spreadsheet is that long.")
        yield line


def _csv_error(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a field is longer than {csv.field_size_limit():,} characters"
    return str(exc)


def _csv_rows(data: bytes, budget: Budget | None = None) -> tuple[list[str], Iterator]:
    budget = budget or Budget()
    first_line = _text(data).readline(65536).split("\n", 1)[0]
    reader = csv.reader(_lines(_text(data)), delimiter=_delimiter(first_line))
    try:
        headers = next(reader)
    except StopIteration:
        raise FileRejected("The file has no header row.") from None
    except csv.Error as exc:
        raise FileRejected(f"The header row cannot be read: {_csv_error(exc)}.") from None

    def rows():
        number = 1
        try:
            for cells in reader:
                number += 1
                if number > budget.max_rows + 1:
                    raise too_many_rows(budget.max_rows)
                yield number, cells
        except csv.Error as exc:
            raise FileRejected(f"Row {number + 1} cannot be read as CSV: {_csv_error(exc)}.") \
                from None

    return headers, rows()


def _xlsx_rows(data: bytes, budget: Budget | None = None) -> tuple[list[str], Iterator]:
    book = xlsx.Workbook(data, budget or Budget())
    found = book.rows()
    # The header is the first row holding anything; rows are numbered as the sheet numbers them.
    values = next((cells for _, cells in found if cells), None)
    if values is None:
        book.close()
        raise FileRejected("The first sheet is empty.")
    width = max(values)
    headers = ["" if values.get(i) is None else str(values.get(i)) for i in range(1, width + 1)]

    def rows():
        try:
            for number, cells in found:
                yield number, [cells.get(i) for i in range(1, width + 1)]
        finally:
            book.close()

    return headers, rows()


def open_table(data: bytes, known: list[str], required: list[str],
               budget: Budget | None = None) -> Table:
    """The file as a table of known columns; FileRejected when required ones are missing, a
    column header appears twice, or the header row is wider than Excel allows."""
    budget = budget or Budget()
    kind = sniff_format(data)
    headers, rows = _csv_rows(data, budget) if kind == "csv" else _xlsx_rows(data, budget)
    if len(headers) > MAX_COLUMNS:
        raise FileRejected(f"The header row has more than {MAX_COLUMNS:,} columns.")
    headers = [h.strip() for h in headers]
    positions: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    unknown = []
    for i, header in enumerate(headers):
        name = header.lower()
        if header and name in first_seen:
            raise FileRejected(f"The column {header!r} appears twice (columns "
                               f"{first_seen[name] + 1} and {i + 1}); each column may "
                               "appear once.")
        first_seen[name] = i
        if name in known:
            positions[name] = i
        elif header:
            unknown.append(header)
    missing = [c for c in required if c not in positions]
    if missing:
        raise FileRejected("Missing required column" + ("s" if len(missing) > 1 else "") + ": "
                           + ", ".join(missing) + ". The first row must name the columns: "
                           + ", ".join(required) + ".")
    return Table(format=kind, headers=headers, columns=positions, unknown=unknown, _rows=rows,
                 budget=budget)


def rows_table(rows: list[dict], known: list[str], budget: Budget | None = None) -> Table:
    """Rows of a JSON bulk write (issue 18) as a table of the kind's columns: row numbers are
    the rows' 0-based indexes. The caller has checked each row is an object naming only
    known columns (bulk_shape_problems)."""
    def cells():
        for index, row in enumerate(rows):
            yield index, [row.get(name) for name in known]

    return Table(format="api", headers=list(known), columns={n: i for i, n in enumerate(known)},
                 _rows=cells(), budget=budget or Budget())


def bulk_shape_problems(rows, known: list[str], limit: int) -> list[dict]:
    """What makes a bulk body unreadable, per row: not an object, a field the kind does not
    have, or a value that is not text, a number or null (the first `limit`)."""
    found: list[dict] = []
    for index, row in enumerate(rows):
        if len(found) >= limit:
            break
        if not isinstance(row, dict):
            found.append({"index": index, "field": None, "message": "Each row must be an object "
                          "of column names and values"})
            continue
        for name, value in row.items():
            if name not in known:
                found.append({"index": index, "field": str(name)[:100],
                              "message": f"Unknown field {str(name)[:100]!r}; the fields are: "
                                         + ", ".join(known)})
            elif isinstance(value, (bool, dict, list)):
                found.append({"index": index, "field": name,
                              "message": f"{name} must be text, a number or null"})
    return found


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


def number_reader(digits: Digits = MONEY) -> Callable[[object], Decimal | None]:
    """`number` for a column of `digits`, quicker for the plain numbers most cells hold: text
    such as 1234.5 or -12 whose digits the column can store is spelled with the column's
    decimals and read once, giving the very Decimal `number` gives (same value, same places);
    anything else goes through `number`."""
    scale = digits.scale
    plain = re.compile(rf"-?[0-9]{{1,{digits.precision - scale}}}"
                       + (rf"(?:\.[0-9]{{1,{scale}}})?" if scale else ""))
    whole = "." + "0" * scale if scale else ""

    def read(value):
        if value.__class__ is str:
            raw = value.strip()
            if plain.fullmatch(raw):
                dot = raw.find(".")
                return Decimal(raw + whole if dot < 0 else raw + "0" * (scale - len(raw) + dot + 1))
        return number(value, digits)

    return read


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


# Month texts read so far (a file names a few dozen months in each of its rows): each is
# parsed once. Bounded, for a hostile file of many different texts.
_MONTHS_READ: dict[str, date] = {}
MONTHS_KEPT = 4096


def month(value) -> date | None:
    """YYYY-MM or YYYY-MM-01, or a date cell on the first of a month."""
    if value.__class__ is str:
        found = _MONTHS_READ.get(value)
        if found is not None:
            return found
        result = _month(value)
        if result is not None and len(_MONTHS_READ) < MONTHS_KEPT:
            _MONTHS_READ[value] = result
        return result
    return _month(value)


def _month(value) -> date | None:
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
