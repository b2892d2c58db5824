"""Generated files sent as attachments: one way for every CSV and workbook download, and
the plain sheets (a header row, then rows) that upload templates and grid values are."""
from __future__ import annotations

import csv
import io
from typing import BinaryIO, Iterable

from flask import send_file
from openpyxl import Workbook

from .templating import safe_cell

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def attachment(body: str | bytes | BinaryIO, name: str, mimetype: str):
    """The body (text, bytes or a file read as it is sent) as a download named `name`
    (Flask quotes and encodes the name)."""
    if isinstance(body, str):
        body = body.encode("utf-8")
    if isinstance(body, bytes):
        body = io.BytesIO(body)
    return send_file(body, mimetype=mimetype, as_attachment=True, download_name=name,
                     max_age=0)


def csv_file(text: str, name: str):
    return attachment(text, name, "text/csv")


def xlsx_file(data: bytes, name: str):
    return attachment(data, name, XLSX)


def sheet_csv(headers: list, rows: Iterable[list]) -> str:
    """A header row and the rows as CSV text, formulas defused."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(headers)
    writer.writerows([safe_cell(c) for c in row] for row in rows)
    return out.getvalue()


def sheet_xlsx(headers: list, rows: Iterable[list], title: str = "Template") -> bytes:
    """A header row and the rows as a one-sheet workbook (written as it goes), formulas
    defused."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    sheet.append(headers)
    for row in rows:
        sheet.append([safe_cell(c) for c in row])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
