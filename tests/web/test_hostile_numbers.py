"""Hostile numbers and document numbers on every path: decimal commas, values beyond their
column, computed OTBs and sums that would overflow, and PO/GRN numbers that break addresses."""
import io
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from kyros_web.errors import ValidationFailed
from kyros_web.models import (GRNRecord, OTBPlan, POStatus, PurchaseOrder, RangeIntent,
                              SeasonPlan, UploadStatus)
from kyros_web.planning.services import upsert_plan
from kyros_web.purchasing.rules import RESERVED
from kyros_web.purchasing.services import create_grn, create_grn_for, create_po
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.uploads import services as uploads

from .test_purchasing_pages import po_form

HX = {"HX-Request": "true"}
FEB = date(2026, 2, 1)
CONFIG = {"KYROS_OTB_POLICY": "warn", "KYROS_OVER_RECEIPT_TOLERANCE": D("0"),
          "KYROS_MAX_UPLOAD_MB": 25}
FORMAT = "use a dot for decimals"
BEYOND = "is beyond what can be stored"
HUGE = "9000000000000000"  # 9e15: fits NUMERIC(18,2) alone, not twice
BAD_NUMBERS = ["PO/1", "PO?1", "PO#1", "PO 1"]


@pytest.fixture
def buying(make):
    """A range_uploaded season; its one cell has OTB 3,000 in Feb 2026."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    return season, season.test_locations[0], season.test_leaves[0]


@pytest.fixture
def planning(make):
    """A locations_defined season with one location and one leaf."""
    season = make.season(SeasonStatus.LOCATIONS_DEFINED, locations=[make.location()],
                         leaves=[make.category()])
    return season, season.test_locations[0], season.test_leaves[0]


@pytest.fixture
def otb_season(make):
    """A plan_uploaded season: its one cell has an OTB row in Feb 2026."""
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    make.otb_row(season, loc, leaf, FEB, planned_sales="3000", planned_closing_stock="1000",
                 opening_stock="1000", on_order="0")
    return season, loc, leaf


def text(response):
    return response.get_data(as_text=True)


def count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def preview(session, user, kind, rows, season, config=CONFIG):
    """Preview a CSV of `rows` (the first is the header); the stored upload."""
    data = "\n".join(",".join(f'"{c}"' for c in row) for row in rows).encode()
    return uploads.preview_upload(session, user, kind=kind, data=data,
                                  file_name=f"{kind}.csv", season=season, config=config)


def xlsx(*rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def first_error(upload) -> dict:
    assert upload.status is UploadStatus.REJECTED, upload.summary
    return upload.summary["errors"][0]


# A decimal comma is refused on every path, naming the field.

def test_po_form_refuses_a_decimal_comma(login, session, buying):
    """The PO form stored 12,50 as 1,250.00; now it is refused next to the PO value."""
    season, loc, leaf = buying
    response = login("buyer").post(f"/purchasing/{season.season_code}/pos",
                                   po_form(loc, leaf, po_value="12,50"))
    assert response.status_code == 422
    assert f"PO value is not a number: {FORMAT}" in text(response)
    assert count(session, PurchaseOrder) == 0


def test_po_form_keeps_thousands_separators(login, session, buying):
    """1,234.56 is still read as thousands: one thousand two hundred and thirty-four."""
    season, loc, leaf = buying
    response = login("buyer").post(f"/purchasing/{season.season_code}/pos",
                                   po_form(loc, leaf, po_value="1,234.56"))
    assert response.status_code == 303
    assert session.scalar(select(PurchaseOrder.po_value)) == D("1234.56")


def test_grn_form_refuses_a_decimal_comma(login, session, make, buying):
    """The GRN form stored 0,5 as 5.00; now it is refused next to the received value."""
    season, loc, leaf = buying
    create_po(session, make.admin, season.id, po_number="PO-1", location_id=loc.id,
              category_id=leaf.id, po_value="100", order_date=FEB)
    response = login("buyer").post(f"/purchasing/{season.season_code}/grns", {
        "po_number": "PO-1", "grn_number": "GRN-1", "grn_date": "2026-02-10",
        "received_value": "0,5"})
    assert response.status_code == 422
    assert f"Received value is not a number: {FORMAT}" in text(response)
    assert count(session, GRNRecord) == 0


def test_plans_grid_refuses_a_decimal_comma(login, session, make, planning):
    """An inline plan edit with 12,50 is a 422 next to the planned sales, nothing changed."""
    season, loc, leaf = planning
    row = upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                      planned_sales="100", planned_margin="10").row
    response = login("planner").post(f"/planning/{season.season_code}/plans/{row.id}", {
        "planned_sales": "12,50", "planned_margin": "10", "version": "1"}, headers=HX)
    assert response.status_code == 422
    assert f"Planned sales is not a number: {FORMAT}" in text(response)
    session.refresh(row)
    assert row.planned_sales == D("100.00")


def test_otb_grid_refuses_a_decimal_comma(login, session, otb_season):
    """An inline OTB edit with 12,50 in opening stock is a 422 naming opening stock."""
    season, loc, leaf = otb_season
    row = session.scalar(select(OTBPlan))
    response = login("planner").post(f"/planning/{season.season_code}/otb/{row.id}", {
        "planned_sales": "3000", "planned_markdowns": "0", "planned_closing_stock": "1000",
        "opening_stock": "12,50", "on_order": "0", "version": "1"}, headers=HX)
    assert response.status_code == 422
    assert f"Opening stock is not a number: {FORMAT}" in text(response)
    session.refresh(row)
    assert row.opening_stock == D("1000.00")


def test_range_intent_refuses_a_decimal_comma(login, session, make):
    """Range intent with a core % of 60,5 is refused naming core %."""
    season = make.season(SeasonStatus.OTB_UPLOADED)
    leaf = season.test_leaves[0]
    response = login("planner").post(f"/planning/{season.season_code}/range/{leaf.id}", {
        "core_percent": "60,5", "fashion_percent": "39.5"}, headers=HX)
    assert response.status_code == 422
    assert f"Core % is not a number: {FORMAT}" in text(response)
    assert count(session, RangeIntent) == 0


@pytest.mark.parametrize("field,label", [("planned_sales", "Planned sales"),
                                         ("on_order", "On order")])
def test_otb_live_preview_refuses_a_decimal_comma(login, otb_season, field, label):
    """The OTB computed while typing refuses 12,50 with the same words as a save."""
    season, loc, leaf = otb_season
    inputs = {"planned_sales": "3000", "planned_closing_stock": "1000", "opening_stock": "1000",
              "on_order": "0", field: "12,50"}
    response = login("viewer").get(f"/planning/{season.season_code}/otb/preview",
                                   query_string=inputs)
    assert response.status_code == 200
    assert f"{label} is not a number: {FORMAT}" in text(response)
    assert "<strong>" not in text(response)


def test_po_live_figures_refuse_a_decimal_comma(login, buying):
    """The PO form's live figures say the typed value is not a number instead of reading 1,250."""
    season, loc, leaf = buying
    html = text(login("buyer").get(
        f"/purchasing/{season.season_code}/pos/figures?location_id={loc.id}"
        f"&category_id={leaf.id}&order_date=2026-02-10&po_value=12,50"))
    assert f"PO value is not a number: {FORMAT}" in html
    assert "Remaining after this PO" not in html


def test_upload_row_refuses_a_decimal_comma(session, make, buying):
    """A PO file with 12,50 is rejected at preview, naming row 2 and the po_value column."""
    season, loc, leaf = buying
    upload = preview(session, make.admin, "pos", [
        ("po_number", "location_code", "category_code", "po_value", "order_date"),
        ("PO-1", loc.location_code, leaf.code, "12,50", "2026-02-03")], season)
    error = first_error(upload)
    assert (error["row"], error["column"], error["value"]) == (2, "po_value", "12,50")
    assert error["message"] == ("PO value is not a number: use a dot for decimals, and commas "
                                "only between groups of three digits (1234.56 or 1,234.56)")


def test_cli_import_refuses_a_decimal_comma(app, session, make, buying, tmp_path):
    """`flask kyros import` refuses 12,50 with the row, the column and the same words."""
    season, loc, leaf = buying
    make.admin
    path = tmp_path / "pos.csv"
    path.write_text("po_number,location_code,category_code,po_value,order_date\n"
                    f'PO-1,{loc.location_code},{leaf.code},"12,50",2026-02-03\n')
    result = app.test_cli_runner().invoke(args=["kyros", "import", "pos", str(path), "--season",
                                                season.season_code])
    assert result.exit_code == 1
    assert f"Row 2, po_value '12,50': PO value is not a number: {FORMAT}" in result.output
    assert count(session, PurchaseOrder) == 0


# Numbers beyond their column's precision are refused at preview, never a 500.

@pytest.mark.parametrize("fields,message", [
    ({"planned_sales": "99999999999999999999"}, f"Planned sales {BEYOND}"),
    ({"inventory_turns": "1,000,000"}, f"Inventory turns {BEYOND}"),
    ({"planned_margin": "123456"}, f"Planned margin {BEYOND}"),
    ({"planned_sales": "1e999999"}, f"Planned sales is not a number: {FORMAT}"),
    ({"planned_sales": "0.000001"}, "Planned sales may have at most 2 decimals"),
])
def test_plans_grid_refuses_numbers_beyond_their_column(login, session, make, planning, fields,
                                                        message):
    """Plan values beyond NUMERIC(18,2), (8,2) and (5,2) are a 422 naming the field."""
    season, loc, leaf = planning
    row = upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                      planned_sales="100", planned_margin="10").row
    response = login("planner").post(f"/planning/{season.season_code}/plans/{row.id}", {
        "planned_sales": "100", "planned_margin": "10", "version": "1", **fields}, headers=HX)
    assert response.status_code == 422
    assert message in text(response)


def test_range_intent_refuses_percentages_beyond_their_column(login, make):
    """A price band of 100000 % is refused as beyond NUMERIC(5,2), not by a 500."""
    season = make.season(SeasonStatus.OTB_UPLOADED)
    leaf = season.test_leaves[0]
    response = login("planner").post(f"/planning/{season.season_code}/range/{leaf.id}", {
        "core_percent": "60", "fashion_percent": "40", "price_band_low": "100000"}, headers=HX)
    assert response.status_code == 422
    assert f"Price band low {BEYOND}: it must be between -999.99 and 999.99" in text(response)


def test_plans_upload_refuses_values_beyond_their_column(session, make, planning):
    """Sales, turns and margin beyond their columns are row errors at preview."""
    season, loc, leaf = planning
    upload = preview(session, make.admin, "plans", [
        ("location_code", "category_code", "planned_sales", "planned_margin", "inventory_turns"),
        (loc.location_code, leaf.code, "99999999999999999999", "10", "1"),
        (loc.location_code, leaf.code + "X", "1", "10", "1000000"),
        (loc.location_code, leaf.code + "Y", "1", "100000", "1")], season)
    errors = {(e["row"], e["column"]): e["message"] for e in upload.summary["errors"]}
    assert errors[(2, "planned_sales")].startswith(f"Planned sales {BEYOND}")
    assert errors[(3, "inventory_turns")].startswith(f"Inventory turns {BEYOND}")
    assert errors[(4, "planned_margin")].startswith(f"Planned margin {BEYOND}")
    assert count(session, SeasonPlan) == 0


def test_xlsx_cells_beyond_their_column_are_row_errors(session, make, planning):
    """Real numeric XLSX cells of 1e17 and 1e-300 are refused, naming row and column."""
    season, loc, leaf = planning
    data = xlsx(("location_code", "category_code", "planned_sales", "planned_margin"),
                (loc.location_code, leaf.code, 1e17, 10),
                (loc.location_code, leaf.code + "X", 1e-300, 10))
    upload = uploads.preview_upload(session, make.admin, kind="plans", data=data,
                                    file_name="plans.xlsx", season=season, config=CONFIG)
    errors = {(e["row"], e["column"]): e["message"] for e in upload.summary["errors"]}
    assert errors[(2, "planned_sales")].startswith(f"Planned sales {BEYOND}")
    assert errors[(3, "planned_sales")] == "Planned sales may have at most 2 decimals"


OTB_INPUTS = {"planned_sales": HUGE, "planned_markdowns": "0", "planned_closing_stock": HUGE,
              "opening_stock": "0", "on_order": "0"}


def test_otb_grid_refuses_a_computed_otb_beyond_its_column(login, session, otb_season):
    """Inputs that fit alone but give an OTB of 1.8e16 are refused before the database
    computes it into NUMERIC(18,2)."""
    season, loc, leaf = otb_season
    row = session.scalar(select(OTBPlan))
    response = login("planner").post(f"/planning/{season.season_code}/otb/{row.id}",
                                     {**OTB_INPUTS, "version": "1"}, headers=HX)
    assert response.status_code == 422
    assert f"The OTB these figures give" in text(response) and BEYOND in text(response)
    session.refresh(row)
    assert row.planned_sales == D("3000.00")


def test_otb_add_form_refuses_a_computed_otb_beyond_its_column(login, session, make):
    """Adding a row whose OTB overflows is a 422 on the add form, nothing stored."""
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    response = login("planner").post(f"/planning/{season.season_code}/otb", {
        "location_id": str(loc.id), "category_id": str(leaf.id), "month": "2026-03",
        **OTB_INPUTS}, headers=HX)
    assert response.status_code == 422 and BEYOND in text(response)
    assert count(session, OTBPlan) == 0


def test_otb_upload_refuses_a_computed_otb_beyond_its_column(session, make, otb_season):
    """An OTB file row whose computed OTB overflows is a row error at preview."""
    season, loc, leaf = otb_season
    upload = preview(session, make.admin, "otb", [
        ("location_code", "category_code", "month", "planned_sales", "planned_closing_stock",
         "opening_stock", "on_order"),
        (loc.location_code, leaf.code, "2026-03", HUGE, HUGE, "0", "0")], season)
    error = first_error(upload)
    assert (error["row"], error["column"]) == (2, "planned_sales")
    assert error["message"].startswith("The OTB these figures give") and BEYOND in error["message"]


@pytest.mark.parametrize("value,message", [
    ("1e999999", FORMAT), ("1e-999999", FORMAT), ("NaN", FORMAT), ("Infinity", FORMAT),
    ("-Infinity", FORMAT), ("99999999999999999999", BEYOND), ("0.001", "at most 2 decimals"),
])
def test_otb_live_preview_refuses_hostile_numbers(login, otb_season, value, message):
    """Exponents, NaN, infinities and overlong numbers give a message, never a 500."""
    season, loc, leaf = otb_season
    response = login("viewer").get(f"/planning/{season.season_code}/otb/preview", query_string={
        **OTB_INPUTS, "planned_closing_stock": "0", "planned_sales": value})
    assert response.status_code == 200
    assert "Planned sales" in text(response) and message in text(response)


def test_otb_live_preview_refuses_a_computed_otb_beyond_its_column(login, otb_season):
    """The preview refuses what a save would refuse: an OTB of 1.8e16."""
    season, loc, leaf = otb_season
    response = login("viewer").get(f"/planning/{season.season_code}/otb/preview",
                                   query_string=OTB_INPUTS)
    assert response.status_code == 200
    assert "The OTB these figures give" in text(response) and BEYOND in text(response)


@pytest.mark.parametrize("value,message", [
    ("100000000000000000", f"PO value {BEYOND}"), ("1e17", f"PO value is not a number"),
    ("NaN", "PO value is not a number"), ("Infinity", "PO value is not a number")])
def test_po_form_refuses_values_beyond_money(login, session, buying, value, message):
    """A PO value of 1e17 (typed out or as an exponent) is a 422 naming the PO value."""
    season, loc, leaf = buying
    response = login("buyer").post(f"/purchasing/{season.season_code}/pos",
                                   po_form(loc, leaf, po_value=value))
    assert response.status_code == 422 and message in text(response)
    assert count(session, PurchaseOrder) == 0


def test_grn_form_refuses_values_beyond_money(login, session, make, buying):
    """A received value of 1e17 is a 422 naming the received value."""
    season, loc, leaf = buying
    create_po(session, make.admin, season.id, po_number="PO-1", location_id=loc.id,
              category_id=leaf.id, po_value="100", order_date=FEB)
    response = login("buyer").post(f"/purchasing/{season.season_code}/grns", {
        "po_number": "PO-1", "grn_number": "GRN-1", "grn_date": "2026-02-10",
        "received_value": "100000000000000000"})
    assert response.status_code == 422 and f"Received value {BEYOND}" in text(response)
    assert count(session, GRNRecord) == 0


def test_po_and_grn_uploads_refuse_values_beyond_money(session, make, buying):
    """XLSX cells of 1e17 in PO and GRN files are row errors naming the value column."""
    season, loc, leaf = buying
    create_po(session, make.admin, season.id, po_number="PO-0", location_id=loc.id,
              category_id=leaf.id, po_value="100", order_date=FEB)
    pos = uploads.preview_upload(session, make.admin, kind="pos", data=xlsx(
        ("po_number", "location_code", "category_code", "po_value", "order_date"),
        ("PO-1", loc.location_code, leaf.code, 1e17, "2026-02-03")), file_name="pos.xlsx",
        season=season, config=CONFIG)
    assert first_error(pos)["column"] == "po_value"
    assert first_error(pos)["message"].startswith(f"PO value {BEYOND}")
    grns = uploads.preview_upload(session, make.admin, kind="grns", data=xlsx(
        ("grn_number", "po_number", "grn_date", "received_value"),
        ("GRN-1", "PO-0", "2026-02-10", 1e17)), file_name="grns.xlsx", season=season,
        config=CONFIG)
    assert first_error(grns)["column"] == "received_value"
    assert first_error(grns)["message"].startswith(f"Received value {BEYOND}")


# Sums the database computes (a cell's committed, a PO's received) must fit as well.

def test_cell_committed_total_cannot_overflow_on_the_form(login, session, make, buying):
    """Two POs of 9e15 in one cell would sum past NUMERIC(18,2); the second is refused."""
    season, loc, leaf = buying
    create_po(session, make.admin, season.id, po_number="PO-0", location_id=loc.id,
              category_id=leaf.id, po_value=HUGE, order_date=FEB)
    response = login("buyer").post(f"/purchasing/{season.season_code}/pos",
                                   po_form(loc, leaf, po_value=HUGE))
    assert response.status_code == 422
    assert "The committed total of the cell in 2026-02 with this PO" in text(response)
    assert count(session, PurchaseOrder) == 1
    grid = login("viewer").get(f"/planning/{season.season_code}/otb")
    assert grid.status_code == 200


def test_cell_committed_total_cannot_overflow_in_a_file(session, make, buying):
    """Two maximal PO rows for one cell: the second is rejected at preview, not at confirm."""
    season, loc, leaf = buying
    upload = preview(session, make.admin, "pos", [
        ("po_number", "location_code", "category_code", "po_value", "order_date"),
        ("PO-1", loc.location_code, leaf.code, HUGE, "2026-02-03"),
        ("PO-2", loc.location_code, leaf.code, HUGE, "2026-02-04")], season)
    error = first_error(upload)
    assert (error["row"], error["column"]) == (3, "po_value")
    assert error["message"].startswith("The committed total of the cell in 2026-02")
    assert upload.rows_rejected == 1


def test_received_total_cannot_overflow(app, session, make, buying):
    """With a large tolerance, receipts that sum past NUMERIC(18,2) are refused in the service
    and in a file."""
    season, loc, leaf = buying
    po = create_po(session, make.admin, season.id, po_number="PO-1", location_id=loc.id,
                   category_id=leaf.id, po_value=HUGE, order_date=FEB).po
    app.config["KYROS_OVER_RECEIPT_TOLERANCE"] = D("900")
    try:
        create_grn(session, make.admin, po_id=po.id, grn_number="GRN-1", grn_date=FEB,
                   received_value=HUGE)
        with pytest.raises(ValidationFailed) as exc:
            create_grn(session, make.admin, po_id=po.id, grn_number="GRN-2", grn_date=FEB,
                       received_value=HUGE)
    finally:
        app.config["KYROS_OVER_RECEIPT_TOLERANCE"] = D("0")
    assert exc.value.errors["received_value"].startswith("The total received against PO PO-1")
    upload = preview(session, make.admin, "grns", [
        ("grn_number", "po_number", "grn_date", "received_value"),
        ("GRN-3", "PO-1", "2026-02-10", HUGE)], season,
        config={**CONFIG, "KYROS_OVER_RECEIPT_TOLERANCE": D("900")})
    assert first_error(upload)["message"].startswith("The total received against PO PO-1")
    assert count(session, GRNRecord) == 1


# One rule for PO and GRN numbers.

@pytest.mark.parametrize("number", BAD_NUMBERS + ["new", ".hidden", "x" * 51])
def test_po_form_refuses_numbers_that_break_addresses(login, session, buying, number):
    """PO/1, PO?1, PO#1, PO 1 (and reserved or overlong ones) are a 422 naming the field."""
    season, loc, leaf = buying
    response = login("buyer").post(f"/purchasing/{season.season_code}/pos",
                                   po_form(loc, leaf, po_number=number))
    assert response.status_code == 422
    assert "PO number " in text(response) and 'aria-invalid="true"' in text(response)
    assert count(session, PurchaseOrder) == 0


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_services_refuse_numbers_that_break_addresses(session, make, buying, number):
    """The PO and GRN services refuse the same numbers, whoever calls them."""
    season, loc, leaf = buying
    with pytest.raises(ValidationFailed) as exc:
        create_po(session, make.admin, season.id, po_number=number, location_id=loc.id,
                  category_id=leaf.id, po_value="100", order_date=FEB)
    assert exc.value.errors["po_number"].startswith("PO number may hold only letters")
    po = create_po(session, make.admin, season.id, po_number="PO-1", location_id=loc.id,
                   category_id=leaf.id, po_value="100", order_date=FEB).po
    with pytest.raises(ValidationFailed) as exc:
        create_grn(session, make.admin, po_id=po.id, grn_number=number, grn_date=FEB,
                   received_value="10")
    assert exc.value.errors["grn_number"].startswith("GRN number may hold only letters")
    with pytest.raises(ValidationFailed) as exc:
        create_grn_for(session, make.admin, season.id, po_number=number, grn_number="GRN-1",
                       grn_date=FEB, received_value="10")
    assert exc.value.errors["po_number"].startswith("PO number may hold only letters")
    assert count(session, PurchaseOrder) == 1 and count(session, GRNRecord) == 0


@pytest.mark.parametrize("number", BAD_NUMBERS)
def test_grn_form_refuses_numbers_that_break_addresses(login, session, make, buying, number):
    """The GRN form refuses the same GRN numbers next to the field."""
    season, loc, leaf = buying
    create_po(session, make.admin, season.id, po_number="PO-1", location_id=loc.id,
              category_id=leaf.id, po_value="100", order_date=FEB)
    response = login("buyer").post(f"/purchasing/{season.season_code}/grns", {
        "po_number": "PO-1", "grn_number": number, "grn_date": "2026-02-10",
        "received_value": "10"})
    assert response.status_code == 422 and "GRN number may hold only letters" in text(response)
    assert count(session, GRNRecord) == 0


def test_uploads_refuse_numbers_that_break_addresses(session, make, buying):
    """PO and GRN files name the row and the column of each bad number."""
    season, loc, leaf = buying
    pos = preview(session, make.admin, "pos", [
        ("po_number", "location_code", "category_code", "po_value", "order_date"),
        *[(n, loc.location_code, leaf.code, "10", "2026-02-03") for n in BAD_NUMBERS]], season)
    assert [(e["row"], e["column"], e["value"]) for e in pos.summary["errors"]] == [
        (row, "po_number", n) for row, n in enumerate(BAD_NUMBERS, start=2)]
    assert all(e["message"].startswith("PO number may hold only letters")
               for e in pos.summary["errors"])
    create_po(session, make.admin, season.id, po_number="PO-1", location_id=loc.id,
              category_id=leaf.id, po_value="100", order_date=FEB)
    grns = preview(session, make.admin, "grns", [
        ("grn_number", "po_number", "grn_date", "received_value"),
        *[(n, "PO-1", "2026-02-10", "1") for n in BAD_NUMBERS]], season)
    assert [(e["row"], e["column"]) for e in grns.summary["errors"]] == [
        (row, "grn_number") for row in range(2, 2 + len(BAD_NUMBERS))]
    assert count(session, PurchaseOrder) == 1 and count(session, GRNRecord) == 0


def test_every_page_of_a_po_with_an_odd_allowed_number(login, session, buying):
    """PO-1.A_2 is created, listed, shown, edited, received against, short-closed, found."""
    season, loc, leaf = buying
    b = login("buyer")
    code, number = season.season_code, "PO-1.A_2"
    created = b.post(f"/purchasing/{code}/pos", po_form(loc, leaf, po_number=number))
    assert created.status_code == 303
    detail = f"/purchasing/{code}/pos/{number}"
    assert created.headers["Location"] == detail
    assert number in text(b.get(f"/purchasing/{code}/pos")) and f'href="{detail}"' in text(
        b.get(f"/purchasing/{code}/pos"))
    assert b.get(detail).status_code == 200 and b.get(f"{detail}/edit").status_code == 200
    updated = b.post(detail, po_form(loc, leaf, po_number=number, po_value="2,000.00",
                                     version="1"))
    assert updated.status_code == 303 and updated.headers["Location"] == detail
    received = b.post(f"/purchasing/{code}/grns", {
        "po_number": number, "grn_number": "GRN-1.A_2", "grn_date": "2026-02-10",
        "received_value": "500.00", "from": "po"})
    grn = session.scalar(select(GRNRecord))
    assert received.status_code == 303
    assert received.headers["Location"] == f"{detail}?recorded={grn.id}#grn-{grn.id}"
    assert "GRN-1.A_2" in text(b.get(detail))
    assert b.post(f"{detail}/close").status_code == 303
    assert "Closed" in text(b.get(detail))
    assert "GRN-1.A_2" in text(b.get(f"/purchasing/{code}/grns?number=GRN-1.A_2"))
    assert number in text(b.get(f"/purchasing/{code}/pos?number={number}"))
    po = session.scalar(select(PurchaseOrder))
    session.refresh(po)
    assert (po.po_value, po.status) == (D("2000.00"), POStatus.CLOSED)


def test_reserved_numbers_are_the_po_pages_own_words(app):
    """Every fixed word under /pos/ is reserved, so no PO number can hide one of those pages."""
    words = set()
    for rule in app.url_map.iter_rules():
        parts = rule.rule.split("/")
        if len(parts) == 5 and parts[1:3] == ["purchasing", "<code>"] and parts[3] == "pos" \
                and not parts[4].startswith("<"):
            words.add(parts[4])
    assert words == RESERVED


def test_samples_and_demo_numbers_follow_the_rule():
    """The demo files as each demo season tags them, the bench generator's files and the test
    samples all pass the rule."""
    import csv
    from pathlib import Path

    from kyros_web import demo
    from kyros_web.demo.bench import bench_files
    from kyros_web.purchasing.rules import number_problem

    root = Path(__file__).parent.parent.parent
    texts = [(root / path).read_text() for path in (
        "kyros_web/demo/pos.csv", "kyros_web/demo/grns.csv", "tests/data/pos.csv",
        "tests/data/grns.csv")]
    bench = bench_files(scale=0.02)
    texts += [bench["pos"].decode(), bench["grns"].decode()]
    numbers = [row[key] for body in texts for row in csv.DictReader(io.StringIO(body))
               for key in ("po_number", "grn_number") if key in row]
    numbers += [demo._tagged(n, spec.tag) for n in numbers[:50] for spec in demo.SEASONS]
    assert len(numbers) > 100
    assert [n for n in numbers if number_problem(n) is not None] == []


def test_totals_of_many_maximal_rows_still_answer(login, session, make):
    """Twelve plan rows at the largest storable value: the grid and its totals answer (on
    SQLite money is 64-bit cents and its own SUM overflowed past ten such rows)."""
    leaves = [make.category() for _ in range(12)]
    season = make.season(SeasonStatus.LOCATIONS_DEFINED, locations=[make.location()],
                         leaves=leaves)
    loc = season.test_locations[0]
    for leaf in leaves:
        upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                    planned_sales="9999999999999999.99", planned_margin="10")
    response = login("viewer").get(f"/planning/{season.season_code}/plans")
    assert response.status_code == 200
    assert "9,999,999,999,999,999.99" in text(response)


def test_unbounded_sum_keeps_sqlite_sum_semantics():
    """NULLs are skipped, nothing gives NULL, whole numbers stay exact, text reads as SUM does."""
    from kyros_web.dbsetup import UnboundedSum

    s = UnboundedSum()
    assert s.value() is None
    for v in (None, 2 ** 62, 2 ** 62, 1):
        s.step(v)
    assert s.value() == float(2 ** 63 + 1)
    s.inverse(2 ** 62)
    assert s.value() == 2 ** 62 + 1 and isinstance(s.value(), int)
    s.inverse(2 ** 62)
    s.inverse(1)
    assert s.value() is None
    for v in ("3", b"1.5", "x"):
        s.step(v)
    assert s.value() == 4.5
