"""Generated files sent as attachments: one way for every CSV and workbook download."""
from __future__ import annotations

import io
from typing import BinaryIO

from flask import send_file

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
