"""Hostile upload files answer quickly with a clear message and store nothing; text files in
UTF-16, duplicate headers, who may confirm, and rejected rows served from storage (SPEC §6)."""
import io
import json
import os
import subprocess
import sys
import textwrap
import time
import zipfile
from decimal import Decimal as D
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kyros_web.errors import Forbidden, ValidationFailed
from kyros_web.models import Location, Upload, UploadStatus
from kyros_web.uploads import limits, parsing, services
from kyros_web.uploads.parsing import FileRejected, LimitExceeded

from .. import hostile_files as hostile

ROOT = Path(__file__).parent.parent.parent
CONFIG = {"KYROS_OTB_POLICY": "warn", "KYROS_OVER_RECEIPT_TOLERANCE": D("0"),
          "KYROS_MAX_UPLOAD_MB": 25, "KYROS_UPLOAD_CHECK_SECONDS": 40}
LOCATIONS = ["name", "type", "cluster", "address", "city", "country", "location_code"]


def table_rows(data: bytes, budget=None):
    table = parsing.open_table(data, LOCATIONS, ["name", "type"], budget)
    return list(table.rows())


def preview(session, user, data: bytes, config=CONFIG, name="locations.csv"):
    return services.preview_upload(session, user, kind="locations", data=data, file_name=name,
                                   season=None, config=config)


def test_a_row_numbered_two_billion_is_refused_at_once():
    """The sparse sheet is refused by its row number, without walking the rows between."""
    data = hostile.sparse_rows()
    assert len(data) < 2000
    start = time.monotonic()
    with pytest.raises(LimitExceeded, match="more than 1,000,000 rows"):
        table_rows(data)
    assert time.monotonic() - start < 2


def test_rows_the_sheet_skips_are_not_produced():
    """A row far down the sheet keeps its own number; nothing is made for the gap."""
    data = hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type")),
                                          hostile.row(900_000, ("Store", "store"))))
    start = time.monotonic()
    assert table_rows(data) == [(900_000, {"name": "Store", "type": "store"})]
    assert time.monotonic() - start < 2


def test_rich_text_is_read_without_its_phonetic_hints():
    """Shared and inline strings made of runs read as their joined text, as openpyxl did."""
    shared = (f'<sst xmlns="{hostile.MAIN_NS}"><si><r><t>Sto</t></r><r><t>re</t></r>'
              '<rPh><t>ignored</t></rPh></si></sst>').encode()
    body = (b'<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="inlineStr"><is>'
            b"<r><t>sto</t></r><r><t>re</t></r></is></c></row>")
    data = hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type")), body), shared=shared)
    assert table_rows(data) == [(2, {"name": "Store", "type": "store"})]


def test_a_shared_string_bomb_is_refused_by_its_ratio():
    """A 100 MB text packed into ~100 KB is refused before anything is unpacked."""
    data = hostile.shared_string_bomb(100)
    assert len(data) < 500_000
    with pytest.raises(LimitExceeded, match="unpacks to more than 200 times"):
        table_rows(data)


def test_shared_strings_are_bounded_in_length_and_number(monkeypatch):
    """A text longer than a cell may hold, or too many texts, are refused while reading."""
    long_one = hostile.workbook(
        hostile.sheet(hostile.row(1, ("name", "type"))),
        shared=f'<sst xmlns="{hostile.MAIN_NS}"><si><t>{"y" * 40_000}</t></si></sst>'.encode())
    with pytest.raises(LimitExceeded, match="longer than 32,767 characters"):
        table_rows(long_one)
    monkeypatch.setattr(limits, "MAX_SHARED_STRINGS", 3)
    many = hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type"))),
                            shared=f'<sst xmlns="{hostile.MAIN_NS}">'.encode()
                            + b"<si><t>s</t></si>" * 4 + b"</sst>")
    with pytest.raises(LimitExceeded, match="more than 3 texts"):
        table_rows(many)


def test_python_zipfile_stops_at_the_declared_size():
    """CPython's zipfile never hands out more than a part declares: it stops there and then
    fails the CRC check. Our reader counts what it reads on top of that."""
    data = hostile.lying_sheet(200_000)
    archive = zipfile.ZipFile(io.BytesIO(data))
    read = bytearray()
    with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
        with archive.open(hostile.SHEET) as fh:
            while chunk := fh.read(65536):
                read += chunk
    assert len(read) <= 1000


def test_a_zip_whose_sizes_lie_gets_no_further(monkeypatch):
    """Declared 1,000 bytes, really megabytes: refused as damaged, never read past the lie;
    and if zipfile ever read on, our own count refuses at the part's limit."""
    data = hostile.lying_sheet(200_000)
    with pytest.raises(FileRejected, match="damaged"):
        table_rows(data)
    honest = hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type")),
                                            *[hostile.row(n, ("S", "store"))
                                              for n in range(2, 2000)]))
    monkeypatch.setattr(limits, "MAX_UNPACKED", 50_000)
    with pytest.raises(LimitExceeded, match="unpacks to more than"):
        table_rows(honest)


def test_declared_sizes_members_and_total_are_checked_first(monkeypatch):
    """The zip directory alone refuses too many parts or too much declared data."""
    many = hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type"))),
                            extra={f"xl/media/p{n}.bin": b"" for n in range(1001)})
    with pytest.raises(LimitExceeded, match="more than 1,000 parts"):
        table_rows(many)
    huge = hostile.declare_size(hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type")))),
                                hostile.SHEET, 2_000_000_000)
    with pytest.raises(LimitExceeded, match="unpacks to more than"):
        table_rows(huge)


def test_a_text_longer_than_any_cell_is_refused_while_streaming():
    """300 KB of text with no tag in it is refused before the parser holds it."""
    with pytest.raises(LimitExceeded, match="far longer than a cell"):
        table_rows(hostile.long_text(300_000))
    with pytest.raises(LimitExceeded, match="longer than 32,767 characters"):
        table_rows(hostile.long_text(40_000))


def test_a_row_wider_than_excel_is_refused():
    """More cells in one row than Excel's 16,384 columns."""
    with pytest.raises(FileRejected, match="more than 16,384 cells"):
        table_rows(hostile.wide_row(20_000))


def test_a_row_or_cell_of_too_many_parts_is_refused():
    """Rich-text runs without end, in one cell or spread over a row's cells."""
    one_cell = b'<row r="2"><c t="inlineStr"><is>' + b"<r><t>a</t></r>" * 600 + b"</is></c></row>"
    with pytest.raises(FileRejected, match="holds more parts"):
        table_rows(hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type")), one_cell)))
    cells = b'<c t="inlineStr"><is>' + b"<r><t>a</t></r>" * 200 + b"</is></c>"
    many = b'<row r="2">' + cells * 300 + b"</row>"
    with pytest.raises(FileRejected, match="holds more parts"):
        table_rows(hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type")), many)))


def test_deep_nesting_is_refused():
    """Elements nested deeper than any spreadsheet writes."""
    deep = hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type")),
                                          b"<x>" * 100 + b"</x>" * 100))
    with pytest.raises(FileRejected, match="nests deeper"):
        table_rows(deep)


@pytest.mark.parametrize("part", ["sheet", "workbook"])
@pytest.mark.parametrize("attack", ["BILLION_LAUGHS", "QUADRATIC", "XXE"])
def test_xml_entity_attacks_are_refused(attack, part):
    """Billion laughs, quadratic blow-up and external entities: any document type is refused."""
    xml = getattr(hostile, attack)
    data = (hostile.workbook(xml) if part == "sheet"
            else hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type"))),
                                  workbook_xml=xml))
    start = time.monotonic()
    with pytest.raises(FileRejected, match="declares a document type"):
        table_rows(data)
    assert time.monotonic() - start < 2


def test_a_giant_csv_field_is_refused_with_its_row():
    """A 500 KB field in one CSV row; a longer one is refused as a line too long."""
    with pytest.raises(FileRejected, match=r"Row 2 cannot be read as CSV: a field is longer "
                                           r"than 131,072 characters"):
        table_rows(hostile.giant_csv_field(500))


def test_a_csv_header_wider_than_excel_is_refused():
    """More header columns than Excel's 16,384, on a line short enough to be read."""
    with pytest.raises(FileRejected, match="The header row has more than 16,384 columns"):
        table_rows(b"name,type" + b",x" * 20_000 + b"\nA,store\n")


def test_csv_rows_count_as_written_blank_lines_too():
    """Blank lines count against the row limit as they are numbered in the file."""
    data = b"name,type\n" + b"\n" * 5000 + b"a,store\n"
    with pytest.raises(LimitExceeded, match="more than 1,000 rows"):
        table_rows(data, parsing.Budget(max_rows=1000))


def test_the_time_budget_refuses_a_slow_file(session, make):
    """A file still being checked when the time is up is refused; nothing is stored."""
    data = b"name,type\n" + b"Store,store\n" * 10_000
    with pytest.raises(LimitExceeded, match="took too long to check"):
        preview(session, make.admin, data, {**CONFIG, "KYROS_UPLOAD_CHECK_SECONDS": 1e-9})
    xlsx_data = hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type"))))
    with pytest.raises(LimitExceeded, match="took too long to check"):
        table_rows(xlsx_data, parsing.Budget(seconds=-1))
    assert session.scalar(select(func.count(Upload.id))) == 0


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_csv_with_byte_order_mark_is_read(session, make, encoding):
    """UTF-16 text (Excel's "Unicode text") is decoded, not called binary data."""
    bom = b"\xff\xfe" if encoding.endswith("le") else b"\xfe\xff"
    data = bom + "name;type\nKöln Store;store\n".encode(encoding)
    upload = preview(session, make.admin, data)
    assert upload.status is UploadStatus.PREVIEWED and upload.rows_new == 1
    services.commit_upload(session, make.admin, upload.id, config=CONFIG)
    assert session.scalar(select(Location.name)) == "Köln Store"


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_byte_order_mark_says_save_as_utf8(encoding):
    """Without its mark UTF-16 cannot be told for sure; it is named, not called binary."""
    with pytest.raises(FileRejected, match="looks like UTF-16 text without a byte order mark"):
        table_rows("name,type\nStore,store\n".encode(encoding))
    with pytest.raises(FileRejected, match="holds binary data"):
        table_rows(b"name\x00\x01\x02type\n")


def test_broken_utf16_and_utf32_say_save_as_utf8():
    """Text that cannot be read says how to fix it."""
    with pytest.raises(FileRejected, match="UTF-16 text but byte 5 cannot be read. Save the "
                                           "CSV as UTF-8"):
        table_rows(b"\xff\xfea\x00\x00\xd8b\x00")
    with pytest.raises(FileRejected, match="UTF-32 text. Save the CSV as UTF-8"):
        table_rows(b"\xff\xfe\x00\x00" + "name".encode("utf-32-le"))


@pytest.mark.parametrize("data", [
    b"name,type, Name \nA,store,B\n",
    hostile.workbook(hostile.sheet(hostile.row(1, ("name", "type", "NAME")))),
])
def test_a_duplicate_column_header_is_refused_by_name(data):
    """Headers match trimmed and case-insensitively, so ' Name ' repeats 'name'."""
    with pytest.raises(FileRejected, match=r"The column '(Name|NAME)' appears twice \(columns 1 "
                                           r"and 3\)"):
        table_rows(data)


def test_only_the_uploader_or_an_admin_may_confirm(session, make, login):
    """Another planner sees the preview read-only and the service refuses them."""
    owner = login("planner")
    response = owner.post("/uploads/", {"kind": "locations", "file": (
        io.BytesIO(b"name,type\nStore,store\n"), "l.csv")}, content_type="multipart/form-data")
    upload = session.scalar(select(Upload))
    other = login("planner")
    page = other.get(f"/uploads/{upload.id}").get_data(as_text=True)
    assert "Confirm import" not in page and "or an admin can confirm this import" in page
    assert ">Confirm import</button>" in owner.get(response.headers["Location"]).get_data(
        as_text=True)
    assert other.post(f"/uploads/{upload.id}/confirm").status_code == 403
    with pytest.raises(Forbidden):
        services.commit_upload(session, other.user, upload.id, config=CONFIG)
    assert session.scalar(select(func.count(Location.id))) == 0
    services.commit_upload(session, make.admin, upload.id, config=CONFIG)
    assert session.scalar(select(func.count(Location.id))) == 1


def test_a_second_confirm_is_told_it_was_imported(session, make):
    """Confirming twice imports once; the second gets a clear refusal."""
    upload = preview(session, make.admin, b"name,type\nStore,store\n")
    services.commit_upload(session, make.admin, upload.id, config=CONFIG)
    with pytest.raises(ValidationFailed, match="already imported"):
        services.commit_upload(session, make.admin, upload.id, config=CONFIG)
    assert session.scalar(select(func.count(Location.id))) == 1


def test_rejected_rows_are_served_from_storage(session, make, login, monkeypatch):
    """The download never reads the file again: it works with the file gone and no parser."""
    b = login("planner")
    data = b"name,type,note\nGood,store,x\nBad,castle,=HYPERLINK(1)\n"
    b.post("/uploads/", {"kind": "locations", "file": (io.BytesIO(data), "l.csv")},
           content_type="multipart/form-data")
    upload = session.scalar(select(Upload))
    assert upload.status is UploadStatus.REJECTED and upload.rejected_csv
    upload.content = None
    session.commit()

    def no_parsing(*args, **kwargs):
        raise AssertionError("the rejected rows were parsed again")

    monkeypatch.setattr(parsing, "open_table", no_parsing)
    response = b.get(f"/uploads/{upload.id}/rejected.csv")
    lines = response.get_data(as_text=True).splitlines()
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert lines[0] == "name,type,note,error"
    assert lines[1].startswith("Bad,castle,'=HYPERLINK(1),") and len(lines) == 2


def test_rejected_rows_are_kept_while_the_file_is_checked(session, make, monkeypatch):
    """The preview reads the file once, keeping rejected rows as it goes, in file order."""
    opened = []
    real_open_table = parsing.open_table
    monkeypatch.setattr(parsing, "open_table",
                        lambda *a, **kw: opened.append(1) or real_open_table(*a, **kw))
    data = b"name,type\nA,castle\n\nB,store\nC,\nA,store\n"
    upload = preview(session, make.admin, data)
    assert len(opened) == 1
    lines = b"".join(services.rejected_rows_csv(upload)).decode().splitlines()
    assert lines == ["name,type,error", "A,castle,Type must be store or warehouse",
                     "C,,Type is required", 'A,store,"Duplicate of row 2: each location code (or '
                     'name, without a code) may appear once"']


def test_rows_rejected_by_whole_file_checks_are_kept_too(session, make):
    """Parent categories that form a cycle are found after the last row; they are kept too."""
    data = b"code,name,parent_code\nA,Alpha,B\nOK,Fine,\nB,Beta,A\n"
    upload = services.preview_upload(session, make.admin, kind="categories", data=data,
                                     file_name="c.csv", season=None, config=CONFIG)
    lines = b"".join(services.rejected_rows_csv(upload)).decode().splitlines()
    assert lines == ["code,name,parent_code,error", "A,Alpha,B,The parent codes form a cycle",
                     "B,Beta,A,The parent codes form a cycle"]


def test_rejected_rows_not_kept_say_so(session, make, login):
    """A preview refused as a whole keeps no rows; the download says so instead of failing."""
    b = login("planner")
    b.post("/uploads/", {"kind": "locations", "file": (io.BytesIO(b"nope\nx\n"), "l.csv")},
           content_type="multipart/form-data")
    upload = session.scalar(select(Upload))
    assert upload.status is UploadStatus.REJECTED and upload.rejected_csv is None
    assert b.get(f"/uploads/{upload.id}/rejected.csv").status_code == 404


CHILD = textwrap.dedent("""
    import json, os, resource, sys, tempfile, time
    folder = tempfile.mkdtemp(prefix="kyros-hostile-")
    os.environ["KYROS_INSTANCE_DIR"] = folder
    os.environ.setdefault("KYROS_SECRET_KEY", "hostile-test")
    from flask_migrate import upgrade
    from kyros_web import create_app
    from kyros_web.auth.services import create_user
    from kyros_web.extensions import db
    from kyros_web.uploads import parsing, services
    from tests import hostile_files as hostile
    data = getattr(hostile, sys.argv[1])(*map(int, sys.argv[2:]))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/k.db"})
    with app.app_context():
        upgrade()
        admin = create_user(db.session, None, email="a@example.com", role="admin",
                            password="hostile-password-1")
        start = time.monotonic()
        try:
            upload = services.preview_upload(db.session, admin, kind="locations", data=data,
                                             file_name="f", season=None, config=app.config)
            message = upload.status.value + ": " + str((upload.summary or {}).get("message"))
        except parsing.FileRejected as exc:
            message = exc.message
        # This process's own peak (VmHWM, kB): Linux carries ru_maxrss over from the forked
        # test runner across exec, so it would report the runner's size.
        try:
            with open("/proc/self/status") as status:
                peak = next(int(line.split()[1]) for line in status
                            if line.startswith("VmHWM:"))
        except OSError:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"size": len(data), "seconds": time.monotonic() - start,
                          "message": message, "peak_mb": peak / 1024}))
""")


@pytest.mark.parametrize("maker,args,message", [
    ("sparse_rows", [], "more than 1,000,000 rows"),
    ("shared_string_bomb", [2000], "200 times its packed size"),
    ("lying_sheet", [3_000_000], "damaged"),
    ("long_text", [20_000_000], "200 times its packed size"),
    ("random_text", [20], "far longer than a cell"),
    ("giant_csv_field", [24 * 1024], "Line 2 of the file is longer than"),
    ("tiny_csv_rows", [24], "more than 1,000,000 rows"),
    ("wide_csv_header", [24], "Line 1 of the file is longer than 1,048,576 characters"),
    ("wide_csv_row", [24], "Line 2 of the file is longer than 1,048,576 characters"),
])
def test_hostile_files_stay_under_400_mb_and_60_seconds(maker, args, message):
    """Each file is previewed in its own process; its peak resident memory is measured."""
    out = subprocess.run([sys.executable, "-c", CHILD, maker, *map(str, args)], cwd=ROOT,
                         capture_output=True, text=True, timeout=60,
                         env={**os.environ, "KYROS_ENV": "development"})
    assert out.returncode == 0, out.stderr[-2000:]
    found = json.loads(out.stdout.strip().splitlines()[-1])
    assert message in found["message"], found
    assert found["size"] <= 25 * 1024 * 1024
    assert found["peak_mb"] < 400, found
    assert found["seconds"] < 60, found
    print(maker, found)
