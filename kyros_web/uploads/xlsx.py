"""Reading the first sheet of an XLSX workbook as a stream (SPEC §6), with every size, count,
nesting and second bounded, so that no small hostile file can hold a worker. Pure: bytes in,
rows out, no database."""
from __future__ import annotations

import io
import posixpath
import warnings
import zipfile
from typing import Iterator
from xml.etree.ElementTree import ParseError, XMLPullParser

from openpyxl.styles.numbers import builtin_format_code, is_date_format, is_timedelta_format
from openpyxl.utils.datetime import CALENDAR_MAC_1904, WINDOWS_EPOCH
from openpyxl.utils.cell import column_index_from_string as column_index
from openpyxl.worksheet._reader import WorkSheetParser, _cast_number
from openpyxl.xml.constants import SHEET_MAIN_NS

from . import limits
from .limits import Budget, FileRejected, LimitExceeded

MAIN = "{%s}" % SHEET_MAIN_NS
OFFICE_REL = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
PACKAGE_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
ROW, CELL, SI, T, RPH = MAIN + "row", MAIN + "c", MAIN + "si", MAIN + "t", MAIN + "rPh"
VALUE, INLINE = MAIN + "v", MAIN + "is"
CHUNK = 64 * 1024  # below MAX_TEXT_RUN, so a long run always spans a chunk boundary
DAMAGED = "The XLSX workbook cannot be opened; it may be damaged."


class SharedStrings(list):
    """The workbook's shared strings; a reference outside the table is a damaged file."""

    def __getitem__(self, index):
        if index < 0 or index >= len(self):
            raise FileRejected(f"A cell refers to shared string {index}, which the workbook "
                               "does not have; it may be damaged.")
        return list.__getitem__(self, index)


def open_archive(data: bytes) -> zipfile.ZipFile:
    """The workbook's zip, its central directory checked before any part is unpacked: the
    number of parts, each part's declared size and ratio, the total, the compression."""
    handle = io.BytesIO(data)
    try:
        # zipfile's own reader of the end record (stable since Python 2); it tells the
        # directory's size before ZipFile builds an object for every entry in it.
        end = zipfile._EndRecData(handle)
    except OSError:
        end = None
    if not end:
        raise FileRejected("The file is a ZIP archive but not an XLSX workbook. Upload a CSV "
                           "or an XLSX file.")
    if (end[zipfile._ECD_ENTRIES_TOTAL] > limits.MAX_MEMBERS
            or end[zipfile._ECD_SIZE] > limits.MAX_DIRECTORY_BYTES):
        raise LimitExceeded(f"The workbook holds more than {limits.MAX_MEMBERS:,} parts; "
                            "nothing was stored. Save it again from Excel as one sheet.")
    try:
        archive = zipfile.ZipFile(handle)
    except (zipfile.BadZipFile, ValueError, OSError):
        raise FileRejected("The file is a ZIP archive but not an XLSX workbook. Upload a CSV "
                           "or an XLSX file.") from None
    infos = archive.infolist()
    if len(infos) > limits.MAX_MEMBERS:
        raise LimitExceeded(f"The workbook holds more than {limits.MAX_MEMBERS:,} parts; "
                            "nothing was stored. Save it again from Excel as one sheet.")
    total = 0
    for info in infos:
        if info.flag_bits & 0x1:
            raise FileRejected("The workbook is encrypted. Save it without a password.")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise FileRejected(f"The workbook part {info.filename!r} uses a compression Excel "
                               "does not write. Save the workbook again from Excel.")
        total += info.file_size
        if (info.file_size > limits.RATIO_FROM
                and info.file_size > limits.MAX_RATIO * max(info.compress_size, 1)):
            raise LimitExceeded(f"The workbook part {info.filename!r} unpacks to more than "
                                f"{limits.MAX_RATIO} times its packed size, which no real "
                                "spreadsheet does; nothing was stored.")
    if total > limits.MAX_UNPACKED:
        raise LimitExceeded(f"The workbook unpacks to more than {limits.MAX_UNPACKED // limits.MB:,}"
                            " MB; nothing was stored. Split it into smaller files.")
    if "xl/workbook.xml" not in archive.namelist():
        raise FileRejected("The file is a ZIP archive but not an XLSX workbook. Upload a CSV "
                           "or an XLSX file.")
    return archive


class _Part:
    """One part's bytes as they are unpacked, refused as soon as they break a limit.

    zipfile already stops at a part's declared size (and then fails its CRC check), but the
    count here does not rely on that: it bounds what is actually read.
    """

    def __init__(self, reader: "Workbook", name: str, limit: int):
        self.reader, self.name, self.limit = reader, name, limit
        self.read = 0
        self.run = 0  # bytes since the last '<'
        self.tail = b""

    def chunks(self) -> Iterator[bytes]:
        try:
            stream = self.reader.archive.open(self.name)
        except KeyError:
            raise FileRejected(f"The workbook has no part {self.name!r}; it may be damaged.") \
                from None
        with stream:
            first = True
            while True:
                try:
                    chunk = stream.read(CHUNK)
                except (zipfile.BadZipFile, OSError, EOFError, ValueError):
                    raise FileRejected(DAMAGED) from None
                if not chunk:
                    return
                if first and (chunk.startswith((b"\xfe\xff", b"\xff\xfe")) or b"\x00" in chunk[:4]):
                    raise FileRejected(f"The workbook part {self.name!r} is not UTF-8 XML; save "
                                       "the workbook again from Excel.")
                first = False
                self._count(chunk)
                yield chunk

    def _count(self, chunk: bytes) -> None:
        self.read += len(chunk)
        self.reader.unpacked += len(chunk)
        if self.read > self.limit or self.reader.unpacked > limits.MAX_UNPACKED:
            raise LimitExceeded("The workbook unpacks to more than its parts declare or than "
                                f"{self.limit // limits.MB:,} MB; nothing was stored.")
        # Spreadsheets never declare a document type; refusing one refuses every entity
        # trick (billion laughs, quadratic blow-up, external entities) before expat sees it.
        window = self.tail + chunk
        if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
            raise FileRejected(f"The workbook part {self.name!r} declares a document type or "
                               "entities, which spreadsheets never do; it is refused.")
        self.tail = chunk[-8:]
        last = chunk.rfind(b"<")
        if last < 0:
            self.run += len(chunk)
        else:
            self.run += chunk.find(b"<")
        if self.run > limits.MAX_TEXT_RUN:
            raise LimitExceeded("The workbook holds a text far longer than a cell may hold "
                                f"({limits.MAX_CELL_CHARS:,} characters); nothing was stored.")
        if last >= 0:
            self.run = len(chunk) - last - 1
        self.reader.budget.check()


def _events(part: _Part) -> Iterator[tuple[str, object]]:
    """Start and end events of a part; an element is dropped from its parent once its end
    was seen, so memory grows with nesting depth, never with the part's length."""
    parser = XMLPullParser(events=("start", "end"))
    stack: list = []
    try:
        for chunk in part.chunks():
            parser.feed(chunk)
            for event, element in parser.read_events():
                if event == "start":
                    stack.append(element)
                    if len(stack) > limits.MAX_DEPTH:
                        raise FileRejected(f"The workbook part {part.name!r} nests deeper than "
                                           "any spreadsheet does; it is refused.")
                    yield event, element
                else:
                    stack.pop()
                    yield event, element
                    if stack:
                        stack[-1].remove(element)
        parser.close()
    except ParseError as exc:
        raise FileRejected(f"The workbook part {part.name!r} is not well-formed XML "
                           f"({exc}); it may be damaged.") from None


class Workbook:
    """The parts of one workbook that reading its first sheet needs."""

    def __init__(self, data: bytes, budget: Budget):
        self.budget = budget
        self.unpacked = 0
        self.archive = open_archive(data)
        self.epoch = WINDOWS_EPOCH
        self.sheet, self.strings_part, self.styles_part = self._locate()
        self.strings = self._shared_strings()
        self.date_formats, self.timedelta_formats = self._date_styles()

    def _part(self, name: str, limit: int = limits.MAX_SMALL_PART) -> _Part:
        return _Part(self, name, limit)

    def _has(self, name: str | None) -> bool:
        return name is not None and name in self.archive.NameToInfo

    def _locate(self) -> tuple[str, str | None, str | None]:
        sheets = []
        for event, element in _events(self._part("xl/workbook.xml")):
            if event != "start":
                continue
            if element.tag == MAIN + "workbookPr" and element.get("date1904") in ("1", "true"):
                self.epoch = CALENDAR_MAC_1904
            elif element.tag == MAIN + "sheet":
                sheets.append(element.get(OFFICE_REL + "id"))
        targets = {}
        if self._has("xl/_rels/workbook.xml.rels"):
            for event, element in _events(self._part("xl/_rels/workbook.xml.rels")):
                if event == "start" and element.tag == PACKAGE_REL + "Relationship":
                    target = element.get("Target", "")
                    path = (target.lstrip("/") if target.startswith("/")
                            else posixpath.normpath(posixpath.join("xl", target)))
                    targets[element.get("Id")] = (element.get("Type", "").rsplit("/", 1)[-1],
                                                  path)
        first = next((targets[r][1] for r in sheets
                      if r in targets and targets[r][0] == "worksheet"), None)
        if first is None:
            if sheets and not targets and self._has("xl/worksheets/sheet1.xml"):
                first = "xl/worksheets/sheet1.xml"
            else:
                raise FileRejected("The XLSX workbook has no sheet.")
        by_type = {kind: path for kind, path in targets.values()}
        strings = by_type.get("sharedStrings", "xl/sharedStrings.xml")
        styles = by_type.get("styles", "xl/styles.xml")
        return (first, strings if self._has(strings) else None,
                styles if self._has(styles) else None)

    def _shared_strings(self) -> SharedStrings:
        strings = SharedStrings()
        if self.strings_part is None:
            return strings
        total = 0
        pieces: list[str] = []
        phonetic = 0
        part = self._part(self.strings_part, limits.MAX_UNPACKED)
        for event, element in _events(part):
            tag = element.tag
            if event == "start":
                if tag == SI:
                    pieces = []
                elif tag == RPH:
                    phonetic += 1
                continue
            if tag == T and not phonetic:
                pieces.append(element.text or "")
            elif tag == RPH:
                phonetic -= 1
            elif tag == SI:
                value = "".join(pieces).replace("x005F_", "")
                if len(value) > limits.MAX_CELL_CHARS:
                    raise LimitExceeded(f"A text in the workbook is longer than "
                                        f"{limits.MAX_CELL_CHARS:,} characters, more than "
                                        "Excel allows in a cell; nothing was stored.")
                total += len(value)
                strings.append(value)
                if len(strings) > limits.MAX_SHARED_STRINGS or total > limits.MAX_SHARED_CHARS:
                    raise LimitExceeded(
                        f"The workbook holds more than {limits.MAX_SHARED_STRINGS:,} texts or "
                        f"{limits.MAX_SHARED_CHARS // 1_000_000:,} million characters of text; "
                        "nothing was stored. Split it into smaller files.")
        return strings

    def _date_styles(self) -> tuple[set, set]:
        """The cell styles that show numbers as dates or durations, as openpyxl reads them."""
        if self.styles_part is None:
            return set(), set()
        custom: dict[int, str] = {}
        formats: list[int] = []
        in_cell_xfs = False
        for event, element in _events(self._part(self.styles_part)):
            tag = element.tag
            if tag == MAIN + "cellXfs":
                in_cell_xfs = event == "start"
            elif event != "start":
                continue
            elif tag == MAIN + "numFmt":
                try:
                    custom[int(element.get("numFmtId"))] = element.get("formatCode", "")
                except (TypeError, ValueError):
                    continue
            elif tag == MAIN + "xf" and in_cell_xfs:
                try:
                    formats.append(int(element.get("numFmtId", 0)))
                except ValueError:
                    formats.append(0)
        dates, durations = set(), set()
        for index, number_format in enumerate(formats):
            code = custom.get(number_format) or builtin_format_code(number_format)
            if code and is_date_format(code):
                dates.add(index)
            if code and is_timedelta_format(code):
                durations.add(index)
        return dates, durations

    def rows(self) -> Iterator[tuple[int, dict[int, object]]]:
        """(row number as written in the sheet, {column number: value}) for each row element;
        rows the sheet skips are never produced, and numbers past the row limit are refused.

        One loop over the parser's events (this is the hot path): a cell and its parts stay
        attached to their row until the row is read; every other element is dropped from its
        parent when it ends, so memory grows with one row, never with the sheet."""
        cells = WorkSheetParser(None, self.strings, data_only=True, epoch=self.epoch,
                                date_formats=self.date_formats,
                                timedelta_formats=self.timedelta_formats)
        max_number = self.budget.max_rows + 1  # the header row and the data rows
        count = row_cells = row_parts = held = inside = 0
        stack: list = []
        parser = XMLPullParser(events=("start", "end"))
        part = self._part(self.sheet, limits.MAX_UNPACKED)
        try:
            for chunk in part.chunks():
                parser.feed(chunk)
                for event, element in parser.read_events():
                    if inside:
                        if event == "start":
                            inside += 1
                            held += 1
                            row_parts += 1
                            if held > limits.MAX_CELL_PARTS or row_parts > limits.MAX_ROW_PARTS:
                                raise FileRejected("A cell or row of the sheet holds more parts "
                                                   "than any spreadsheet writes; it is "
                                                   "refused.")
                        else:
                            inside -= 1
                        continue
                    if event == "start":
                        tag = element.tag
                        if tag == CELL and stack and stack[-1].tag == ROW:
                            inside, held = 1, 0
                            row_cells += 1
                            row_parts += 1
                            if row_cells > limits.MAX_COLUMNS:
                                raise FileRejected(f"Row {cells.row_counter:,} has more than "
                                                   f"{limits.MAX_COLUMNS:,} cells, more than "
                                                   "Excel allows; it is refused.")
                            continue
                        stack.append(element)
                        if len(stack) > limits.MAX_DEPTH:
                            raise FileRejected("The sheet nests deeper than any spreadsheet "
                                               "does; it is refused.")
                        if tag == ROW:
                            row_cells = row_parts = 0
                            count += 1
                            number = _row_number(element.get("r"), cells.row_counter)
                            if number > max_number or count > max_number:
                                raise limits.too_many_rows(self.budget.max_rows)
                            cells.row_counter, cells.col_counter = number, 0
                        continue
                    stack.pop()
                    if element.tag == ROW:
                        yield cells.row_counter, _cells(cells, element)
                    if stack:
                        stack[-1].remove(element)
            parser.close()
        except ParseError as exc:
            raise FileRejected(f"The sheet is not well-formed XML ({exc}); it may be "
                               "damaged.") from None

    def close(self) -> None:
        self.archive.close()


def _row_number(written: str | None, previous: int) -> int:
    if written is None:
        return previous + 1
    try:
        number = int(written)
    except ValueError:
        raise FileRejected(f"A row of the sheet is numbered {written[:20]!r}, which is not a "
                           "row number; the workbook may be damaged.") from None
    if number < 1:
        raise FileRejected(f"A row of the sheet is numbered {number}; the workbook may be "
                           "damaged.")
    return number


def _cells(parser: WorkSheetParser, row) -> dict[int, object]:
    values = {}
    for element in row:
        try:
            column, value = _cell(parser, element)
        except FileRejected:
            raise
        except (ValueError, TypeError, IndexError, OverflowError, KeyError):
            raise FileRejected(f"A cell of row {parser.row_counter:,} cannot be read; the "
                               "workbook may be damaged.") from None
        if column > limits.MAX_COLUMNS:
            raise FileRejected(f"Row {parser.row_counter:,} has a cell past column "
                               f"{limits.MAX_COLUMNS:,}, more than Excel allows.")
        if value is not None:
            values[column] = value
    return values


def _cell(parser: WorkSheetParser, element) -> tuple[int, object]:
    """(column, value) of one cell: text and plain numbers read here, the rest (dates,
    booleans, errors) by openpyxl's own cell reader, so values match openpyxl's."""
    kind = element.get("t", "n")
    ref = element.get("r")
    if ref:
        column = column_index(ref.rstrip("0123456789"))
        parser.col_counter = column
    else:
        parser.col_counter += 1
        column = parser.col_counter
    if kind == "inlineStr":
        text = element.find(INLINE)
        return column, (None if text is None else _inline(text))
    if kind == "s" or kind == "str" or (kind == "n" and int(element.get("s", 0) or 0)
                                        not in parser.date_formats):
        value = element.findtext(VALUE)
        if not value:
            return column, None
        if kind == "s":
            return column, parser.shared_strings[int(value)]
        return column, (value if kind == "str" else _cast_number(value))
    with warnings.catch_warnings():
        # openpyxl warns about a date serial out of range and reads it as "#VALUE!".
        warnings.simplefilter("ignore")
        return column, parser.parse_cell(element)["value"]


def _inline(element) -> str:
    """An inline string's text, its rich-text runs joined, phonetic hints left out."""
    if len(element) == 1 and element[0].tag == T:
        value = element[0].text or ""
        if len(value) <= limits.MAX_CELL_CHARS:
            return value
    parts = [element.findtext(T) or ""]
    parts += [run.findtext(T) or "" for run in element.iterfind(MAIN + "r")]
    value = "".join(parts)
    if len(value) > limits.MAX_CELL_CHARS:
        raise LimitExceeded(f"A cell is longer than {limits.MAX_CELL_CHARS:,} characters, more "
                            "than Excel allows; nothing was stored.")
    return value
