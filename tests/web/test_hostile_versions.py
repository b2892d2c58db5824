"""An edit of a versioned row (plan, OTB row, range intent, PO) that sends no version, or one
that is not a whole number, is refused with 422 and changes nothing (issue 12)."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.audit import AuditEvent
from kyros_web.models import OTBPlan, PurchaseOrder, RangeIntent, SeasonPlan
from kyros_web.planning.services import upsert_plan, upsert_range
from kyros_web.purchasing.services import create_po
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.versioning import version_number

HX = {"HX-Request": "true"}
BAD_VERSIONS = [None, "", "abc", "1.0", "-1", "1e3", "١", "99999999999999999999"]


def updates(session) -> int:
    return session.scalar(select(func.count(AuditEvent.id)).where(AuditEvent.action == "update"))


@pytest.mark.parametrize("raw", BAD_VERSIONS)
def test_version_number_refuses_what_is_not_a_whole_number(raw):
    """The one reader of versions names the field and asks for a reload."""
    from kyros_web.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as exc:
        version_number(raw)
    assert "version" in exc.value.errors and "reload" in exc.value.errors["version"]


def test_version_number_reads_whole_numbers():
    assert version_number("7") == 7 and version_number(" 12 ") == 12 and version_number(3) == 3


def form_without(data: dict, version) -> dict:
    return {**data, "version": version} if version is not None else dict(data)


@pytest.mark.parametrize("version", BAD_VERSIONS)
@pytest.mark.parametrize("htmx", [True, False], ids=["htmx", "plain"])
def test_plan_save_without_a_good_version_is_422(login, make, session, version, htmx):
    """The plans grid refuses an edit with no version or a bad one, and keeps the row."""
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    row = upsert_plan(session, make.admin, season.id, location_id=season.test_locations[0].id,
                      category_id=make.category().id, planned_sales="100",
                      planned_margin="10").row
    p = login("planner")
    before = updates(session)
    response = p.post(f"/planning/{season.season_code}/plans/{row.id}",
                      form_without({"planned_sales": "999", "planned_margin": "10"}, version),
                      headers=HX if htmx else {})
    assert response.status_code == 422
    assert "reload the page" in response.get_data(as_text=True)
    session.expire_all()
    row = session.get(SeasonPlan, row.id)
    assert row.planned_sales == D("100.00") and row.version == 1 and updates(session) == before


@pytest.mark.parametrize("version", ["", "abc", None])
def test_otb_save_without_a_good_version_is_422(login, make, session, version):
    """The OTB grid refuses an edit with no version or a bad one, and keeps the row."""
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    row = make.otb_row(season, season.test_locations[0], season.test_leaves[0],
                       date(2026, 2, 1), planned_sales="3000", planned_closing_stock="1000",
                       opening_stock="1000", on_order="0")
    p = login("planner")
    response = p.post(f"/planning/{season.season_code}/otb/{row.id}", form_without(
        {"planned_sales": "5", "planned_markdowns": "0", "planned_closing_stock": "1",
         "opening_stock": "1", "on_order": "0"}, version), headers=HX)
    assert response.status_code == 422
    assert "reload the page" in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(OTBPlan, row.id).planned_sales == D("3000.00")


@pytest.mark.parametrize("version,message", [
    ("", "reload the page"), ("abc", "reload the page"), ("2.5", "reload the page"),
    (None, "already exists"),
])
def test_range_save_without_a_good_version_never_overwrites(login, make, session, version,
                                                            message):
    """Range intent refuses a version that is not a whole number; with no version the form
    adds intent, which for a category that has it is refused. The row is kept either way."""
    season = make.season(SeasonStatus.OTB_UPLOADED)
    leaf = season.test_leaves[0]
    upsert_range(session, make.admin, season.id, category_id=leaf.id, core_percent="60",
                 fashion_percent="40")
    p = login("planner")
    response = p.post(f"/planning/{season.season_code}/range/{leaf.id}", form_without(
        {"category": str(leaf.id), "core_percent": "10", "fashion_percent": "90"}, version),
        headers=HX)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert session.scalar(select(RangeIntent.core_percent)) == D("60.00")


@pytest.mark.parametrize("version", ["", "abc", None])
def test_po_save_without_a_good_version_is_422(login, make, session, version):
    """The PO form refuses an edit with no version or a bad one, and keeps the PO."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    create_po(session, make.admin, season.id, po_number="PO-V", location_id=loc.id,
              category_id=leaf.id, po_value="100", order_date=date(2026, 2, 3))
    b = login("buyer")
    response = b.post(f"/purchasing/{season.season_code}/pos/PO-V", form_without(
        {"po_number": "PO-V", "location_id": str(loc.id), "category_id": str(leaf.id),
         "order_date": "2026-02-03", "delivery_date": "", "po_value": "500", "supplier": "",
         "source": "manual"}, version))
    assert response.status_code == 422
    assert "reload the page" in response.get_data(as_text=True)
    session.expire_all()
    po = session.scalar(select(PurchaseOrder))
    assert po.po_value == D("100.00") and po.version == 1


def test_a_422_keeps_the_version_the_editor_saw(login, make, session):
    """A refused value re-renders the row with the version sent, not the stored one, so a
    change someone made meanwhile is not overwritten by the corrected resubmission."""
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    row = upsert_plan(session, make.admin, season.id, location_id=season.test_locations[0].id,
                      category_id=make.category().id, planned_sales="100",
                      planned_margin="10").row
    upsert_plan(session, make.admin, season.id, location_id=row.location_id,
                category_id=row.category_id, planned_sales="150", planned_margin="10")
    p = login("planner")
    response = p.post(f"/planning/{season.season_code}/plans/{row.id}",
                      {"planned_sales": "-5", "planned_margin": "10", "version": "1"},
                      headers=HX)
    assert response.status_code == 422
    assert 'name="version" value="1"' in response.get_data(as_text=True)


def test_an_edit_of_a_deleted_row_does_not_create_it_again(make, session):
    """A row deleted while someone edits it stays deleted; the edit is told to reload."""
    from kyros_web.errors import StaleVersion
    from kyros_web.planning.services import delete_plan

    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    loc, leaf = season.test_locations[0], make.category()
    row = upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                      planned_sales="100", planned_margin="10").row
    delete_plan(session, make.admin, season.id, row.id)
    with pytest.raises(StaleVersion, match="deleted since you loaded it"):
        upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                    planned_sales="200", planned_margin="10", expected_version=1)
    assert session.scalar(select(func.count(SeasonPlan.id)).where(
        SeasonPlan.category_id == leaf.id)) == 0
