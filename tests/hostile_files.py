"""Hostile upload files built in the test: hand-made XLSX parts, zip headers that lie, XML
entity attacks and CSVs at the size limit."""
from __future__ import annotations

import base64
import io
import os
import struct
import zipfile
from typing import Iterable

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
HEAD = b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
WORKBOOK = HEAD + (f'<workbook xmlns="{MAIN_NS}" xmlns:r="{REL_NS}"><sheets>'
                   f'<sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>').encode()
RELS = HEAD + (f'<Relationships xmlns="{PKG_NS}">'
               f'<Relationship Id="rId1" Type="{REL_NS}/worksheet" Target="worksheets/sheet1.xml"/>'
               f'<Relationship Id="rId2" Type="{REL_NS}/sharedStrings" Target="sharedStrings.xml"/>'
               '</Relationships>').encode()
SHEET = "xl/worksheets/sheet1.xml"
LOCATION_HEADER = ("name", "type")


def row(number: int, values: Iterable[str]) -> bytes:
    cells = "".join(f'<c r="{chr(65 + i)}{number}" t="inlineStr"><is><t>{v}</t></is></c>'
                    for i, v in enumerate(values))
    return f'<row r="{number}">{cells}</row>'.encode()


def sheet(*body: bytes) -> bytes:
    return HEAD + f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode() + b"".join(body) \
        + b"</sheetData></worksheet>"


def workbook(sheet_xml: bytes | Iterable[bytes], shared: bytes | Iterable[bytes] | None = None,
             workbook_xml: bytes = WORKBOOK, extra: dict | None = None) -> bytes:
    """A zip with the parts our reader needs; a part given as chunks is streamed in."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", workbook_xml)
        z.writestr("xl/_rels/workbook.xml.rels", RELS)
        for name, part in ((SHEET, sheet_xml), ("xl/sharedStrings.xml", shared)):
            if part is None:
                continue
            with z.open(name, "w", force_zip64=False) as fh:
                for chunk in ([part] if isinstance(part, bytes) else part):
                    fh.write(chunk)
        for name, part in (extra or {}).items():
            z.writestr(name, part)
    return out.getvalue()


def repeated(prefix: bytes, piece: bytes, times: int, suffix: bytes) -> Iterable[bytes]:
    yield prefix
    block = piece * 4096
    for _ in range(times // 4096):
        yield block
    yield piece * (times % 4096)
    yield suffix


def declare_size(data: bytes, name: str, size: int) -> bytes:
    """The zip with `name`'s uncompressed size rewritten in its local and central headers."""
    raw = bytearray(data)
    encoded = name.encode()
    for signature, offset, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = raw.find(signature)
        while at >= 0:
            if raw[at + name_at:at + name_at + len(encoded)] == encoded:
                struct.pack_into("<I", raw, at + offset, size)
            at = raw.find(signature, at + 4)
    return bytes(raw)


def sparse_rows() -> bytes:
    """1.9 KB: a header and one row numbered 2,000,000,000."""
    return workbook(sheet(row(1, LOCATION_HEADER), row(2_000_000_000, ("Store", "store"))))


def shared_string_bomb(megabytes: int) -> bytes:
    """One shared string of `megabytes` MB of one letter: packs to about a thousandth."""
    strings = repeated(f'<sst xmlns="{MAIN_NS}"><si><t>'.encode(), b"a" * 256,
                       megabytes * 4096, b"</t></si></sst>")
    body = sheet(row(1, LOCATION_HEADER), b'<row r="2"><c r="A2" t="s"><v>0</v></c></row>')
    return workbook(body, shared=strings)


def lying_sheet(rows: int) -> bytes:
    """A real sheet of `rows` rows whose headers declare it unpacks to 1,000 bytes."""
    body = repeated(HEAD + f'<worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
                    + row(1, LOCATION_HEADER), b'<row><c t="inlineStr"><is><t>S</t></is></c>'
                    b'<c t="inlineStr"><is><t>store</t></is></c></row>', rows,
                    b"</sheetData></worksheet>")
    return declare_size(workbook(body), SHEET, 1000)


def long_text(characters: int) -> bytes:
    """An inline string of `characters` letters, beyond what a cell may hold."""
    return workbook(sheet(row(1, LOCATION_HEADER), row(2, ("x" * characters, "store"))))


def random_text(megabytes: int) -> bytes:
    """One cell of random letters (base64), which packs too poorly for the ratio check."""
    letters = base64.b64encode(os.urandom(megabytes * 1024 * 1024 * 3 // 4))
    return workbook(sheet(row(1, LOCATION_HEADER),
                          b'<row r="2"><c r="A2" t="inlineStr"><is><t>' + letters
                          + b"</t></is></c></row>"))


def wide_row(cells: int) -> bytes:
    return workbook(sheet(row(1, LOCATION_HEADER), b'<row r="2">' + b"<c/>" * cells + b"</row>"))


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
                  + b"".join(f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
                             .encode() for i in range(1, 10))
                  + f'<!ELEMENT worksheet ANY>]><worksheet xmlns="{MAIN_NS}"><sheetData>'.encode()
                  + b'<row r="1"><c r="A1" t="inlineStr"><is><t>&lol9;</t></is></c></row>'
                  + b"</sheetData></worksheet>")
QUADRATIC = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "' + b"a" * 50_000 + b'">]>'
             + f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'.encode()
             + b'<c r="A1" t="inlineStr"><is><t>' + b"&a;" * 50_000 + b"</t></is></c>"
             + b"</row></sheetData></worksheet>")
XXE = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
       + f'<worksheet xmlns="{MAIN_NS}"><sheetData><row r="1">'.encode()
       + b'<c r="A1" t="inlineStr"><is><t>&xxe;</t></is></c></row></sheetData></worksheet>')


def giant_csv_field(kilobytes: int) -> bytes:
    return b'name,type\n"' + b"x" * (kilobytes * 1024) + b'",store\n'


def tiny_csv_rows(megabytes: int) -> bytes:
    return b"name,type\n" + b"a,b\n" * (megabytes * 1024 * 1024 // 4)


def wide_csv_header(megabytes: int) -> bytes:
    return b"name,type" + b"," * (megabytes * 1024 * 1024) + b"\nA,store\n"


def wide_csv_row(megabytes: int) -> bytes:
    return b"name,type\nA,store" + b"," * (megabytes * 1024 * 1024) + b"\n"
