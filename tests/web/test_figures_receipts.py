"""Issue 15, items 3–6: received of committed on the delivery basis, receipts outside the
season, over-receipt consuming budget, and PO lateness, each on a small hand-made season,
checked on the page, in the CSV and XLSX exports and in the season pack."""
import csv
import io
import re
from datetime import date, timedelta
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from kyros_web.analytics import reports, sql as analytics_sql
from kyros_web.models import GRNRecord, PurchaseOrder
from kyros_web.planning.otb import committed
from kyros_web.planning.queries import GridFilters, cell_figures, pivot_sums
from kyros_web.purchasing.queries import (POFilters, committed_per_cell, po_totals,
                                          received_per_po)
from kyros_web.seasons.facts import season_facts
from kyros_web.purchasing.services import cancel_po, create_grn, create_po
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.uploads import services as uploads

FEB, MARCH = date(2026, 2, 1), date(2026, 3, 1)
CONFIG = {"KYROS_OTB_POLICY": "warn", "KYROS_OVER_RECEIPT_TOLERANCE": D("10"),
          "KYROS_GRN_DAYS_AHEAD": 7, "KYROS_UPLOAD_CHECK_SECONDS": 40}


@pytest.fixture
def tolerance(app):
    """Over-receipt allowed up to 10 % while the test runs."""
    app.config["KYROS_OVER_RECEIPT_TOLERANCE"] = D("10")
    yield
    app.config["KYROS_OVER_RECEIPT_TOLERANCE"] = D("0")


@pytest.fixture
def receipts(session, make, tolerance):
    """Season Feb–Apr 2026, one cell with OTB 3,000 in Feb (the factory's), three POs:

    Q1 Feb 1,000 ordered in January, 600 received on Jan 25 (before the season);
    Q2 Mar 1,000, 400 received on May 4 (after the season);
    Q3 Feb 2,000, 2,100 received on Feb 25 (over-received within 10 %): commits 2,100.
    Feb: committed 3,100 (remaining −100), received (GRN month) 2,100, received of
    committed (600 + 2,100) / 3,100 = 87.1 %. Mar: committed 1,000, received of committed
    400 / 1,000 = 40.0 %. Season: committed 4,100, received 3,100, 75.6 %.
    """
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    buyer = make.user("buyer")

    def po(number, value, ordered, due):
        return create_po(session, buyer, season.id, po_number=number, location_id=loc.id,
                         category_id=leaf.id, po_value=value, order_date=ordered,
                         delivery_date=due).po

    q1 = po("Q1", "1000", date(2026, 1, 10), date(2026, 2, 15))
    q2 = po("Q2", "1000", date(2026, 2, 1), date(2026, 3, 10))
    q3 = po("Q3", "2000", date(2026, 2, 1), date(2026, 2, 20))
    for grn, which, day, value in (("G1", q1, date(2026, 1, 25), "600"),
                                   ("G2", q2, date(2026, 5, 4), "400"),
                                   ("G3", q3, date(2026, 2, 25), "2100")):
        create_grn(session, buyer, po_id=which.id, grn_number=grn, grn_date=day,
                   received_value=value)
    season.cell = (loc, leaf)
    return season


def page_text(response) -> str:
    """The page's visible text, one table cell per '|'."""
    html = response.get_data(as_text=True)
    html = re.sub(r"</t[dh]>\s*<t[dh][^>]*>", "|", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def line(page: str, label: str, *cells: str, after: bool = False) -> bool:
    """Whether the row `label` holds `cells` one after another: its first cells, or (`after`)
    its last ones, with the net remaining and the figures beside it between."""
    sep = r"\s*\|\s*"
    run = sep.join(re.escape(c) for c in cells)
    middle = r"[^A-Z]*?" + sep if after else ""
    return re.search(re.escape(label) + sep + middle + run + (r"\s*(\||$| [A-Z])" if after else sep),
                     page) is not None


def csv_rows(response) -> dict:
    return {row[0]: row[1:] for row in csv.reader(io.StringIO(response.get_data(as_text=True)))}


def xlsx_rows(data: bytes) -> dict:
    """Every row of every sheet, by its first cell."""
    book = load_workbook(io.BytesIO(data))
    return {row[0]: list(row[1:]) for sheet in book.worksheets
            for row in sheet.iter_rows(values_only=True) if row and row[0] is not None}


# Items 3 and 4: one time basis for received of committed; receipts outside the season.

def test_month_table_on_the_delivery_basis_with_lines_outside_the_season(session, receipts):
    """Before and after season are lines of their own; each month's ratio divides the
    receipts of the POs due in it by their commitments."""
    table = reports.budget_vs_actual(session, receipts).tables[0]
    rows = {r[0]: r[1:] for r in table.rows}
    assert list(rows) == ["Before season", FEB, MARCH, "After season"]
    # OTB, adjustments, committed, received, net remaining.
    assert rows["Before season"][:5] == [D("0.00"), D("0.00"), D("0.00"), D("600.00"), D("0.00")]
    assert rows[FEB][:5] == [D("3000.00"), D("0.00"), D("3100.00"), D("2100.00"), D("-100.00")]
    assert rows[FEB][9].value.quantize(D("0.01")) == D("87.10")  # 2,700 / 3,100
    assert rows[MARCH][:5] == [D("0.00"), D("0.00"), D("1000.00"), D("0.00"), D("-1000.00")]
    assert rows[MARCH][9].value == D("40")  # 400 / 1,000
    assert rows["After season"][:5] == [D("0.00"), D("0.00"), D("0.00"), D("400.00"), D("0.00")]
    assert table.total[1:6] == [D("3000.00"), D("0.00"), D("4100.00"), D("3100.00"),
                                D("-1100.00")]
    assert table.total[10].value.quantize(D("0.01")) == D("75.61")  # 3,100 / 4,100


def test_month_table_on_page_export_and_pack(login, receipts):
    """The same lines and the labelled ratio on the page, in CSV and XLSX, and in the pack."""
    v = login("viewer")
    base = f"/analytics/{receipts.season_code}"
    page = page_text(v.get(f"{base}/budget"))
    assert "Received of committed (POs due that month)" in page
    assert "what the POs due (delivery month) in the month have received" in page
    assert "Before season|0.00|0.00|0.00|600.00|0.00" in page
    # Net remaining, open to buy, over-bought and over-bought cells stand between.
    assert line(page, "Feb 2026", "3,000.00", "0.00", "3,100.00", "2,100.00", "-100.00") and line(
        page, "Feb 2026", "103.3 %", "87.1 %", after=True)
    assert line(page, "Mar 2026", "0.00", "0.00", "1,000.00", "0.00", "-1,000.00") and line(
        page, "Mar 2026", "over budget", "40.0 %", after=True)
    assert "After season|0.00|0.00|0.00|400.00|0.00" in page
    assert "Jan 2026" not in page and "May 2026" not in page
    rows = csv_rows(v.get(f"{base}/budget?format=csv&table=budget_vs_actual"))
    assert rows["Month"][-1] == "Received of committed (POs due that month)"
    assert rows["Before season"][:4] == ["0.00", "0.00", "0.00", "600.00"]
    assert rows["2026-02"][:5] == ["3000.00", "0.00", "3100.00", "2100.00", "-100.00"]
    assert rows["2026-02"][-2:] == ["103.3", "87.1"]
    assert rows["2026-03"][-1] == "40.0" and rows["After season"][3] == "400.00"
    assert rows["Season"][-1] == "75.6"
    book = xlsx_rows(v.get(f"{base}/budget?format=xlsx").data)
    assert book["Before season"][3] == 600 and book["After season"][3] == 400
    assert round(book["Season"][-1], 1) == 75.6
    pack = page_text(v.get(f"{base}/pack"))
    assert "Before season|0.00|0.00|0.00|600.00|0.00" in pack and "|87.1 %" in pack
    packed = xlsx_rows(v.get(f"{base}/pack.xlsx").data)
    assert packed["After season"][3] == 400


def test_dashboard_fulfilment_is_the_season_received_of_committed(session, receipts):
    kpis = {k.label: k.value for k in reports.dashboard(session, receipts).kpis}
    assert kpis["Committed"] == D("4100.00") and kpis["Received"] == D("3100.00")
    assert kpis["Net remaining"] == D("-1100.00")
    assert kpis["Fulfilment rate"].value.quantize(D("0.01")) == D("75.61")


def test_cancelled_po_receipts_count_nowhere(session, make, receipts):
    """A cancelled PO commits nothing and its receipts leave the ratio too."""
    loc, leaf = receipts.cell
    buyer = make.user("buyer")
    q4 = create_po(session, buyer, receipts.id, po_number="Q4", location_id=loc.id,
                   category_id=leaf.id, po_value="500", order_date=MARCH).po
    cancel_po(session, buyer, q4.id)
    rows = {r[0]: r[1:] for r in reports.budget_vs_actual(session, receipts).tables[0].rows}
    assert rows[MARCH][2] == D("1000.00") and rows[MARCH][9].value == D("40")


# Item 4: a GRN dated before its PO's order or too far ahead is refused on every path.

def grn_form(po_number, grn_date, number="G9"):
    return {"po_number": po_number, "grn_number": number, "grn_date": grn_date.isoformat(),
            "received_value": "10"}


@pytest.mark.parametrize("days,refused", [(7, False), (8, True)])
def test_grn_form_refuses_a_date_too_far_ahead(login, session, receipts, days, refused):
    """Up to KYROS_GRN_DAYS_AHEAD (7) days after today is accepted; one more is refused
    next to the date, nothing stored."""
    ahead = date.today() + timedelta(days=days)
    response = login("buyer").post(f"/purchasing/{receipts.season_code}/grns",
                                   grn_form("Q2", ahead))
    stored = session.scalar(select(func.count()).select_from(GRNRecord))
    if refused:
        assert response.status_code == 422
        assert (f"GRN date {ahead.isoformat()} is more than 7 days after today "
                f"({date.today().isoformat()})") in response.get_data(as_text=True)
        assert stored == 3
    else:
        assert response.status_code == 303 and stored == 4


def test_grn_form_refuses_a_date_before_the_order(login, session, receipts):
    response = login("buyer").post(f"/purchasing/{receipts.season_code}/grns",
                                   grn_form("Q1", date(2026, 1, 9)))
    assert response.status_code == 422
    assert "GRN date must be on or after the PO&#39;s order date (2026-01-10)" in \
        response.get_data(as_text=True)
    assert session.scalar(select(func.count()).select_from(GRNRecord)) == 3


def test_days_ahead_setting_reaches_the_form(app, login, session, receipts):
    """KYROS_GRN_DAYS_AHEAD 0: tomorrow is already too far."""
    app.config["KYROS_GRN_DAYS_AHEAD"] = 0
    try:
        response = login("buyer").post(f"/purchasing/{receipts.season_code}/grns",
                                       grn_form("Q2", date.today() + timedelta(days=1)))
    finally:
        app.config["KYROS_GRN_DAYS_AHEAD"] = 7
    assert response.status_code == 422 and "more than 0 days after today" in \
        response.get_data(as_text=True)


def test_grn_upload_refuses_dates_naming_row_and_column(session, make, receipts):
    """Row 2 before its PO's order date, row 3 too far ahead: both rejected on grn_date,
    nothing stored."""
    ahead = (date.today() + timedelta(days=8)).isoformat()
    data = (f"grn_number,po_number,grn_date,received_value\n"
            f"G8,Q1,2026-01-09,10\nG9,Q2,{ahead},10\n").encode()
    upload = uploads.preview_upload(session, make.admin, kind="grns", data=data,
                                    file_name="grns.csv", season=receipts, config=CONFIG)
    errors = upload.summary["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(2, "grn_date"), (3, "grn_date")]
    assert errors[0]["message"] == ("GRN date must be on or after the PO's order date "
                                    "(2026-01-10)")
    assert errors[1]["message"].startswith(f"GRN date {ahead} is more than 7 days after today")
    assert session.scalar(select(func.count()).select_from(GRNRecord)) == 3


# Item 5: an over-receipt consumes budget, in SQL and in Python alike, on every page.

def test_sql_committed_is_the_python_committed(session, receipts):
    """Every SQL form of committed gives what planning/otb.py gives for the same POs."""
    loc, leaf = receipts.cell
    got = received_per_po()
    pos = session.execute(select(PurchaseOrder.status, PurchaseOrder.po_value,
                                 func.coalesce(got.c.received, 0))
                          .outerjoin(got, got.c.po_id == PurchaseOrder.id)
                          .where(PurchaseOrder.season_id == receipts.id,
                                 PurchaseOrder.delivery_date < MARCH)).all()
    python = committed([(s, D(v), D(r)) for s, v, r in pos])
    assert python == D("3100.00")
    assert cell_figures(session, receipts.id, loc.id, leaf.id, FEB).committed == python
    cells = committed_per_cell(receipts.id)
    assert session.execute(select(cells.c.committed).where(cells.c.month == FEB)).scalar() \
        == python
    assert po_totals(session, receipts.id, POFilters(month=FEB)).committed == python
    pivot = pivot_sums(session, receipts.id, GridFilters(), ("location",), {})
    assert {r.month: r.committed for r in pivot}[FEB] == python
    months = {r.month: r for r in analytics_sql.by_month(session, receipts.id)}
    assert months[FEB].committed == python
    # Q1 and Q3 (Feb: 3,100 > 3,000, over only by Q3's over-receipt) and Q2 (Mar: no OTB).
    assert season_facts(session, receipts).pos_over_otb == 3


def test_over_receipt_moves_every_page_together(login, receipts):
    """Feb's committed 3,100 and remaining −100 on the OTB grid, the pivot, the cell page,
    the PO list and page, and the analytics."""
    b = login("buyer")
    code = receipts.season_code
    loc, leaf = receipts.cell
    grid = page_text(b.get(f"/planning/{code}/otb"))
    assert "3,100.00|-100.00" in grid
    pivot = page_text(b.get(f"/planning/{code}/otb/pivot"))
    assert "3,100.00" in pivot and "-100.00" in pivot
    cell = page_text(b.get(f"/planning/{code}/otb/cell/{loc.location_code}/{leaf.code}/2026-02"))
    assert "2,100.00" in cell and "3,100.00" in cell and "-100.00" in cell
    pos = page_text(b.get(f"/purchasing/{code}/pos"))
    assert "2,000.00|2,100.00|2,100.00" in pos  # Q3: value, received, committed
    assert "4,100.00" in pos
    po = page_text(b.get(f"/purchasing/{code}/pos/Q3"))
    assert "Committed (all POs due) 3,100.00" in po
    assert "|3,100.00|" in page_text(b.get(f"/analytics/{code}/budget"))


def test_po_upload_impact_starts_from_the_over_received_commitment(session, make, receipts):
    """A new PO of 100 due in Feb: the preview's OTB impact goes from 3,100 to 3,200."""
    loc, leaf = receipts.cell
    data = ("po_number,location_code,category_code,po_value,order_date\n"
            f"Q5,{loc.location_code},{leaf.code},100,2026-02-03\n").encode()
    upload = uploads.preview_upload(session, make.admin, kind="pos", data=data,
                                    file_name="pos.csv", season=receipts, config=CONFIG)
    feb = next(m for m in upload.summary["impact"] if m["month"] == "2026-02-01")
    assert (D(feb["before"]), D(feb["after"])) == (D("3100.00"), D("3200.00"))


# Item 6: PO ageing counts days late.

@pytest.fixture
def late(session, make):
    """A season around today; POs not fully received due at 3 days ahead … 91 days ago.

    not yet due: +3 (100), today (200); 1–30: −1 (400), −30 (800); 31–60: −31 (1,600),
    −60 (3,200, 1,000 received); 61–90: −61 (6,400), −90 (12,800); over 90: −91 (25,600).
    Left out: a received PO (50) and a cancelled one (70), both 40 days late.
    """
    today = date.today()
    start = (today.replace(day=1) - timedelta(days=100)).replace(day=1)
    end = (today.replace(day=1) + timedelta(days=62)).replace(day=1) - timedelta(days=1)
    season = make.season(SeasonStatus.RANGE_UPLOADED, start=start, end=end)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    buyer = make.user("buyer")

    def po(number, value, days_late):
        due = today - timedelta(days=days_late)
        return create_po(session, buyer, season.id, po_number=number, location_id=loc.id,
                         category_id=leaf.id, po_value=value, order_date=due - timedelta(days=5),
                         delivery_date=due).po

    for n, (value, days_late) in enumerate(((100, -3), (200, 0), (400, 1), (800, 30),
                                            (1600, 31), (6400, 61), (12800, 90),
                                            (25600, 91)), start=1):
        po(f"L{n}", str(value), days_late)
    partly = po("L9", "3200", 60)
    create_grn(session, buyer, po_id=partly.id, grn_number="GL9", grn_date=today,
               received_value="1000")
    received = po("L10", "50", 40)
    create_grn(session, buyer, po_id=received.id, grn_number="GL10", grn_date=today,
               received_value="50")
    cancel_po(session, buyer, po("L11", "70", 40).id)
    return season


LATE_ROWS = {"Not yet due": [2, D("300.00"), D("300.00")],
             "1–30 days late": [2, D("1200.00"), D("1200.00")],
             "31–60 days late": [2, D("4800.00"), D("3800.00")],
             "61–90 days late": [2, D("19200.00"), D("19200.00")],
             "Over 90 days late": [1, D("25600.00"), D("25600.00")]}


def test_ageing_counts_days_past_delivery(session, late):
    table = reports.po_status(session, late, as_of=date.today()).table("ageing")
    assert table.columns[0].title == "Days late"
    assert {r[0]: r[1:] for r in table.rows} == LATE_ROWS
    # Seen 100 days later, everything not fully received is over 90 days late.
    later = reports.po_status(session, late, as_of=date.today() + timedelta(days=100))
    assert {r[0]: r[1] for r in later.table("ageing").rows}["Over 90 days late"] == 9


def test_ageing_on_page_export_and_pack(login, late):
    v = login("viewer")
    base = f"/analytics/{late.season_code}"
    page = page_text(v.get(f"{base}/pos"))
    assert f"Days late of POs not fully received on {date.today().isoformat()}" in page
    assert "Days late: the days from a PO's delivery date" in page.replace("&#39;", "'")
    assert "31–60 days late|2|4,800.00|3,800.00" in page
    assert "Not yet due|2|300.00|300.00" in page
    rows = csv_rows(v.get(f"{base}/pos?format=csv&table=ageing"))
    assert rows["Days late"] == ["POs", "PO value", "Still to receive"]
    assert rows["Over 90 days late"] == ["1", "25600.00", "25600.00"]
    book = xlsx_rows(v.get(f"{base}/pos?format=xlsx").data)
    assert book["61–90 days late"] == [2, 19200, 19200]
    assert "1–30 days late|2|1,200.00|1,200.00" in page_text(v.get(f"{base}/pack"))
    assert xlsx_rows(v.get(f"{base}/pack.xlsx").data)["Not yet due"] == [2, 300, 300]
