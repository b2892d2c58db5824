"""The database itself refuses bad rows (SPEC §2): each violating insert fails."""
import uuid
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import delete, insert
from sqlalchemy.exc import IntegrityError

from kyros_web.models import (Category, Cluster, GRNRecord, Location, OTBPlan, PurchaseOrder,
                              RangeIntent, Season, SeasonLocation, SeasonPlan, User)
from kyros_web.seasons.workflow import SeasonStatus


@pytest.fixture
def world(make):
    """A season with a location, and a fresh leaf category no row uses yet."""
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    return {"season": season, "loc": season.test_locations[0], "leaf": make.category(),
            "user": make.admin}


def base_rows(w):
    s, loc, leaf, u = w["season"].id, w["loc"].id, w["leaf"].id, w["user"].id
    return {
        "users": (User, dict(email="x@example.com", full_name="X", role="viewer",
                             is_active=True, password_hash="h", session_version=1)),
        "clusters": (Cluster, dict(name="Fresh cluster")),
        "locations": (Location, dict(location_code="ABCDEFGHIJKLMNOP", name="L", type="store",
                                     is_active=True)),
        "categories": (Category, dict(code="NEWCAT", name="N")),
        "seasons": (Season, dict(season_code="ABCD-EFGH", name="S", start_date=date(2026, 1, 1),
                                 end_date=date(2026, 1, 31), status="created", created_by=u)),
        "season_plans": (SeasonPlan, dict(season_id=s, location_id=loc, category_id=leaf,
                                          planned_sales=D("1"), planned_margin=D("1"),
                                          version=1, approved=False)),
        "otb_plan": (OTBPlan, dict(season_id=s, location_id=loc, category_id=leaf,
                                   month=date(2026, 3, 1), planned_sales=D("1"),
                                   planned_markdowns=D("0"), planned_closing_stock=D("1"),
                                   opening_stock=D("1"), on_order=D("0"), version=1)),
        "range_intents": (RangeIntent, dict(season_id=s, category_id=leaf, core_percent=D("60"),
                                            fashion_percent=D("40"), price_band_mix={},
                                            version=1)),
        "purchase_orders": (PurchaseOrder, dict(po_number="PO-NEW", season_id=s, location_id=loc,
                                                category_id=leaf, order_date=date(2026, 2, 1),
                                                delivery_date=date(2026, 2, 1), po_value=D("10"),
                                                source="manual", status="open", version=1,
                                                created_by=u)),
    }


def insert_row(session, model, values):
    values = {"id": uuid.uuid4(), "created_at": date(2026, 1, 1), "updated_at": date(2026, 1, 1),
              **values}
    session.execute(insert(model).values(**values))
    session.flush()


def test_base_rows_are_valid(session, world):
    """The baseline rows insert cleanly, so each failure below is the one bad value."""
    for model, values in base_rows(world).values():
        insert_row(session, model, values)
    session.rollback()


BAD = [
    ("users", {"role": "superuser"}),
    ("users", {"email": None}),
    ("locations", {"type": "kiosk"}),
    ("locations", {"location_code": "SHORT"}),
    ("locations", {"location_code": "abcdefghijklmnop"}),
    ("categories", {"code": "lower"}),
    ("categories", {"parent_id": uuid.uuid4()}),
    ("seasons", {"end_date": date(2025, 12, 31)}),
    ("seasons", {"status": "archived"}),
    ("seasons", {"season_code": "ABCD-EFG"}),
    ("seasons", {"created_by": uuid.uuid4()}),
    ("season_plans", {"planned_sales": D("-1")}),
    ("season_plans", {"planned_margin": D("100")}),
    ("season_plans", {"planned_margin": D("-100")}),
    ("season_plans", {"inventory_turns": D("-0.5")}),
    ("season_plans", {"season_id": uuid.uuid4()}),
    ("otb_plan", {"opening_stock": D("-1")}),
    ("otb_plan", {"planned_markdowns": D("-0.01")}),
    ("otb_plan", {"on_order": None}),
    ("range_intents", {"core_percent": D("60"), "fashion_percent": D("41")}),
    ("range_intents", {"core_percent": D("120"), "fashion_percent": D("-20")}),
    ("purchase_orders", {"po_value": D("0")}),
    ("purchase_orders", {"delivery_date": date(2026, 1, 31)}),
    ("purchase_orders", {"status": "lost"}),
    ("purchase_orders", {"source": "fax"}),
]


@pytest.mark.parametrize("table,bad", BAD, ids=[f"{t}-{'-'.join(b)}" for t, b in BAD])
def test_violating_insert_fails(session, world, table, bad):
    model, values = base_rows(world)[table]
    with pytest.raises(IntegrityError):
        insert_row(session, model, {**values, **bad})
    session.rollback()


UNIQUE = [
    ("users", {"email": "X@EXAMPLE.COM"}),
    ("clusters", {"name": "FRESH CLUSTER"}),
    ("locations", {"name": "Other"}),
    ("categories", {"name": "Other"}),
    ("seasons", {"name": "Other"}),
    ("season_plans", {"planned_sales": D("2")}),
    ("otb_plan", {"planned_sales": D("2")}),
    ("range_intents", {"core_percent": D("50"), "fashion_percent": D("50")}),
    ("purchase_orders", {"po_value": D("20")}),
]


@pytest.mark.parametrize("table,change", UNIQUE, ids=[t for t, _ in UNIQUE])
def test_unique_keys_hold(session, world, table, change):
    """A second row with the same natural key (case-insensitive for names) fails."""
    model, values = base_rows(world)[table]
    insert_row(session, model, values)
    with pytest.raises(IntegrityError):
        insert_row(session, model, {**values, **change})
    session.rollback()


def test_grn_constraints(session, world, make):
    model, values = base_rows(world)["purchase_orders"]
    insert_row(session, model, values)
    po_id = session.scalar(PurchaseOrder.__table__.select().with_only_columns(
        PurchaseOrder.id).where(PurchaseOrder.po_number == "PO-NEW"))
    good = dict(grn_number="GRN-1", po_id=po_id, grn_date=date(2026, 2, 2),
                received_value=D("5"), created_by=world["user"].id)
    for bad in ({"received_value": D("0")}, {"po_id": uuid.uuid4()}):
        with pytest.raises(IntegrityError):
            insert_row(session, GRNRecord, {**good, **bad})
        session.rollback()


def test_deleting_referenced_business_data_is_restricted(session, world):
    """Foreign keys RESTRICT: a location with plans cannot vanish with them."""
    session.execute(delete(SeasonLocation))
    with pytest.raises(IntegrityError):
        session.execute(delete(Location).where(Location.id == world["loc"].id))
        session.flush()
    session.rollback()


def test_otb_spend_limit_is_computed_by_the_database(session, world):
    """approved_spend_limit is the formula, whatever the writer."""
    model, values = base_rows(world)["otb_plan"]
    insert_row(session, model, {**values, "planned_sales": D("100000"),
                                "planned_closing_stock": D("50000"),
                                "opening_stock": D("30000"), "on_order": D("10000")})
    row = session.scalar(OTBPlan.__table__.select().with_only_columns(
        OTBPlan.approved_spend_limit).where(OTBPlan.month == date(2026, 3, 1)))
    assert row == D("110000.00")
    session.rollback()
