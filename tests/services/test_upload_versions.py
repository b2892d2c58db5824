"""A file's confirm is refused when rows it names changed after its preview (issue 12): the
preview showed the changes against the rows as they were, and confirming would silently
overwrite an edit nobody reviewed. The check runs inside the writing transaction."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.errors import StaleVersion
from kyros_web.models import (Category, Location, OTBPlan, PurchaseOrder, RangeIntent,
                              SeasonPlan, UploadStatus)
from kyros_web.planning.services import upsert_otb, upsert_plan, upsert_range
from kyros_web.purchasing.services import update_po
from kyros_web.seasons.services import advance_season

from .test_uploads import CONFIG, load, sample, sample_season  # noqa: F401 (fixture)


def test_a_row_edited_after_the_preview_stops_the_confirm(session, make, sample_season):
    """An inline edit between preview and confirm: nothing of the file is written, and the
    message names who changed the data."""
    admin = make.admin
    load(session, admin, "plans", sample("plans"), sample_season)
    changed = sample("plans").replace(b"20469.00,48.21", b"20470.00,48.21")
    upload = load(session, admin, "plans", changed, sample_season, commit=False)
    assert upload.status is UploadStatus.PREVIEWED and upload.rows_updated == 1
    planner = make.user("planner")
    row = session.scalar(select(SeasonPlan).where(SeasonPlan.planned_sales == D("20469.00")))
    upsert_plan(session, planner, sample_season.id, location_id=row.location_id,
                category_id=row.category_id, planned_sales="1", planned_margin="1",
                expected_version=1)
    with pytest.raises(StaleVersion) as exc:
        services_commit(session, admin, upload)
    assert "changed since its preview" in exc.value.message
    assert planner.email in exc.value.message
    session.expire_all()
    assert session.get(SeasonPlan, row.id).planned_sales == D("1.00")
    assert session.scalar(select(func.count(SeasonPlan.id)).where(
        SeasonPlan.planned_sales == D("20470.00"))) == 0


def test_a_row_added_after_the_preview_stops_the_confirm(session, make, sample_season):
    """A row the preview counted as new, entered by hand meanwhile, would be overwritten."""
    admin = make.admin
    upload = load(session, admin, "plans", sample("plans"), sample_season, commit=False)
    loc = session.scalar(select(Location).where(Location.location_code == "K4F81VEAQ6LNWWJZ"))
    leaf = session.scalar(select(Category).where(Category.code == "D01-P01-C01"))
    upsert_plan(session, admin, sample_season.id, location_id=loc.id, category_id=leaf.id,
                planned_sales="5", planned_margin="5")
    with pytest.raises(StaleVersion):
        services_commit(session, admin, upload)
    assert session.scalar(select(func.count(SeasonPlan.id))) == 1


def test_changes_elsewhere_in_the_season_do_not_stop_the_confirm(session, make, sample_season):
    """Only rows the file names count: a row it does not touch may change meanwhile."""
    admin = make.admin
    lines = sample("plans").splitlines()
    first_half = b"\n".join(lines[:30]) + b"\n"
    rest = b"\n".join(lines[:1] + lines[30:]) + b"\n"
    load(session, admin, "plans", rest, sample_season)
    upload = load(session, admin, "plans", first_half, sample_season, commit=False)
    row = session.scalar(select(SeasonPlan).limit(1))
    upsert_plan(session, admin, sample_season.id, location_id=row.location_id,
                category_id=row.category_id, planned_sales="7", planned_margin="7")
    services_commit(session, admin, upload)
    assert session.scalar(select(func.count(SeasonPlan.id))) == 72


def test_every_versioned_kind_is_guarded(session, make, sample_season):
    """OTB rows, range intent and POs are guarded like plans."""
    admin = make.admin
    load(session, admin, "plans", sample("plans"), sample_season)
    advance_season(session, admin, sample_season.id)
    load(session, admin, "otb", sample("otb"), sample_season)
    otb_file = load(session, admin, "otb", sample("otb"), sample_season, commit=False)
    row = session.scalar(select(OTBPlan).limit(1))
    upsert_otb(session, admin, sample_season.id, location_id=row.location_id,
               category_id=row.category_id, month=row.month, planned_sales="1",
               planned_markdowns="0", planned_closing_stock="1", opening_stock="1", on_order="0",
               expected_version=row.version)
    with pytest.raises(StaleVersion):
        services_commit(session, admin, otb_file)

    advance_season(session, admin, sample_season.id)
    load(session, admin, "range", sample("range"), sample_season)
    range_file = load(session, admin, "range", sample("range"), sample_season, commit=False)
    intent = session.scalar(select(RangeIntent).limit(1))
    upsert_range(session, admin, sample_season.id, category_id=intent.category_id,
                 core_percent="50", fashion_percent="50", expected_version=intent.version)
    with pytest.raises(StaleVersion):
        services_commit(session, admin, range_file)

    advance_season(session, admin, sample_season.id)
    load(session, admin, "pos", sample("pos"), sample_season)
    po_file = load(session, admin, "pos", sample("pos"), sample_season, commit=False)
    po = session.scalar(select(PurchaseOrder).where(PurchaseOrder.status == "open").limit(1))
    update_po(session, admin, po.id, expected_version=po.version, po_number=po.po_number,
              location_id=po.location_id, category_id=po.category_id,
              po_value=po.po_value + 1, order_date=po.order_date,
              delivery_date=po.delivery_date, supplier=po.supplier, source=po.source.value)
    with pytest.raises(StaleVersion):
        services_commit(session, admin, po_file)


def services_commit(session, user, upload):
    from kyros_web.uploads import services

    return services.commit_upload(session, user, upload.id, config=CONFIG)
