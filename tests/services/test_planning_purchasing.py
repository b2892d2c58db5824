"""Plans, OTB, range intent, POs and GRNs: the rules of SPEC §2 and §5 in the services."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.errors import Forbidden, SeasonLocked, StaleVersion, ValidationFailed
from kyros_web.models import GRNRecord, POStatus, PurchaseOrder
from kyros_web.planning.queries import cell_figures
from kyros_web.planning.services import upsert_otb, upsert_plan, upsert_range
from kyros_web.purchasing import services as po
from kyros_web.seasons.facts import season_facts
from kyros_web.seasons.services import advance_season
from kyros_web.seasons.workflow import SeasonStatus

FEB = date(2026, 2, 1)
MAR = date(2026, 3, 1)


@pytest.fixture
def buying(make):
    """A range_uploaded season whose single cell has OTB 3,000 + 0 + 1,000 − 1,000 − 0 = 3,000 in Feb."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    return season, season.test_locations[0], season.test_leaves[0], make.user("buyer")


def new_po(session, buying, number="PO-1", value="1000", **kw):
    season, loc, leaf, buyer = buying
    kw.setdefault("order_date", date(2026, 2, 3))
    return po.create_po(session, buyer, season.id, po_number=number, location_id=loc.id,
                        category_id=leaf.id, po_value=value, **kw)


def test_po_within_otb(session, buying):
    result = new_po(session, buying)
    assert result.over_otb_by is None
    assert result.po.delivery_date == date(2026, 2, 3)  # defaults to the order date
    figures = cell_figures(session, buying[0].id, buying[1].id, buying[2].id, FEB)
    assert (figures.otb, figures.committed, figures.remaining) == (D("3000"), D("1000"), D("2000"))


def test_warn_policy_saves_and_flags(session, buying):
    new_po(session, buying, "PO-1", "2500")
    result = new_po(session, buying, "PO-2", "800", policy="warn")
    assert result.over_otb_by == D("300.00")
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 2


def test_block_policy_refuses_with_figures(session, buying):
    new_po(session, buying, "PO-1", "2500")
    with pytest.raises(ValidationFailed) as exc:
        new_po(session, buying, "PO-2", "800", policy="block")
    assert exc.value.message == ("This PO would take 2026-02 over OTB by 300.00: OTB 3,000.00, "
                                 "committed 2,500.00, remaining 500.00")
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 1


def test_delivery_month_must_be_in_season(session, buying):
    with pytest.raises(ValidationFailed, match="2026-05 is not a month"):
        new_po(session, buying, delivery_date=date(2026, 5, 2))


def test_delivery_before_order_refused(session, buying):
    with pytest.raises(ValidationFailed, match="on or after the order date"):
        new_po(session, buying, delivery_date=date(2026, 2, 1))


def test_po_number_unique(session, buying):
    new_po(session, buying)
    with pytest.raises(ValidationFailed, match="already used"):
        new_po(session, buying)


def test_po_value_must_be_positive_with_two_decimals(session, buying):
    for bad in ("0", "-5", "1.005", "abc", "NaN"):
        with pytest.raises(ValidationFailed):
            new_po(session, buying, value=bad)


def test_planner_cannot_buy(session, buying, make):
    season, loc, leaf, _ = buying
    with pytest.raises(Forbidden):
        po.create_po(session, make.user("planner"), season.id, po_number="X",
                     location_id=loc.id, category_id=leaf.id, po_value="1",
                     order_date=date(2026, 2, 3))


def test_grns_drive_po_status(session, buying):
    order = new_po(session, buying).po
    buyer = buying[3]
    po.create_grn(session, buyer, po_id=order.id, grn_number="G-1", grn_date=date(2026, 2, 10),
                  received_value="400")
    assert order.status is POStatus.PARTIALLY_RECEIVED
    po.create_grn(session, buyer, po_id=order.id, grn_number="G-2", grn_date=date(2026, 2, 11),
                  received_value="600")
    assert order.status is POStatus.RECEIVED


def test_over_receipt_refused(session, buying):
    order = new_po(session, buying).po
    with pytest.raises(ValidationFailed, match="at most 1,000.00 more"):
        po.create_grn(session, buying[3], po_id=order.id, grn_number="G-1",
                      grn_date=date(2026, 2, 10), received_value="1000.01")
    assert session.scalar(select(func.count(GRNRecord.id))) == 0


def test_over_receipt_tolerance(session, buying, app):
    order = new_po(session, buying).po
    app.config["KYROS_OVER_RECEIPT_TOLERANCE"] = D("5")
    try:
        po.create_grn(session, buying[3], po_id=order.id, grn_number="G-1",
                      grn_date=date(2026, 2, 10), received_value="1050")
    finally:
        app.config["KYROS_OVER_RECEIPT_TOLERANCE"] = D("0")
    assert order.status is POStatus.RECEIVED


def test_grn_before_order_date_refused(session, buying):
    order = new_po(session, buying).po
    with pytest.raises(ValidationFailed, match="on or after the PO's order date"):
        po.create_grn(session, buying[3], po_id=order.id, grn_number="G-1",
                      grn_date=date(2026, 2, 2), received_value="1")


def test_cancel_only_without_grns_and_no_grn_after(session, buying):
    a = new_po(session, buying, "PO-A").po
    b = new_po(session, buying, "PO-B").po
    po.create_grn(session, buying[3], po_id=b.id, grn_number="G-1", grn_date=date(2026, 2, 10),
                  received_value="10")
    with pytest.raises(ValidationFailed, match="short-close it instead"):
        po.cancel_po(session, buying[3], b.id)
    po.cancel_po(session, buying[3], a.id)
    assert a.status is POStatus.CANCELLED
    with pytest.raises(ValidationFailed, match="is cancelled"):
        po.create_grn(session, buying[3], po_id=a.id, grn_number="G-2",
                      grn_date=date(2026, 2, 10), received_value="1")


def test_short_close_releases_the_rest(session, buying):
    season, loc, leaf, buyer = buying
    order = new_po(session, buying, value="1000").po
    po.create_grn(session, buyer, po_id=order.id, grn_number="G-1", grn_date=date(2026, 2, 10),
                  received_value="250.50")
    po.close_po(session, buyer, order.id)
    assert order.status is POStatus.CLOSED
    assert cell_figures(session, season.id, loc.id, leaf.id, FEB).committed == D("250.50")


def test_purchasing_refused_after_lock(session, make):
    season = make.season(SeasonStatus.LOCKED)
    with pytest.raises(SeasonLocked):
        po.create_po(session, make.admin, season.id, po_number="X",
                     location_id=season.test_locations[0].id,
                     category_id=season.test_leaves[0].id, po_value="1",
                     order_date=date(2026, 2, 3))


def test_otb_row_spend_limit_follows_edits(session, make):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    row = make.otb_row(season, loc, leaf, FEB, planned_sales="100000", planned_markdowns="0",
                       planned_closing_stock="50000", opening_stock="30000", on_order="10000")
    assert row.approved_spend_limit == D("110000")
    updated = upsert_otb(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                         month=FEB, planned_sales="100000", planned_markdowns="5000",
                         planned_closing_stock="50000", opening_stock="30000",
                         on_order="10000", expected_version=1)
    assert updated.outcome == "updated" and updated.row.approved_spend_limit == D("115000")


def test_otb_month_must_be_in_season(session, make):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    with pytest.raises(ValidationFailed, match="2026-07 is not a month"):
        make.otb_row(season, season.test_locations[0], season.test_leaves[0], date(2026, 7, 1),
                     planned_sales="1", planned_closing_stock="1", opening_stock="1", on_order="0")


def test_stale_version_is_refused(session, make):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    loc, leaf = season.test_locations[0], make.category()
    upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                planned_sales="1", planned_margin="1")
    upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                planned_sales="2", planned_margin="1", expected_version=1)
    with pytest.raises(StaleVersion, match="reload"):
        upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                    planned_sales="3", planned_margin="1", expected_version=1)


def test_plan_needs_a_leaf_and_an_assigned_location(session, make):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    parent = make.category()
    make.category(parent=parent)
    with pytest.raises(ValidationFailed, match="leaf categories only"):
        upsert_plan(session, make.admin, season.id, location_id=season.test_locations[0].id,
                    category_id=parent.id, planned_sales="1", planned_margin="1")
    with pytest.raises(ValidationFailed, match="not assigned"):
        upsert_plan(session, make.admin, season.id, location_id=make.location().id,
                    category_id=make.category().id, planned_sales="1", planned_margin="1")


@pytest.mark.parametrize("core,fashion,bands,message", [
    ("60", "41", None, "add up to 100"),
    ("110", "-10", None, "between 0 and 100"),
    ("60", "40", {"low": "50", "mid": "40", "high": "20"}, "Price bands must add up to 100"),
    ("60", "40", {"low": "-5", "mid": "85", "high": "20"}, "0 or more"),
])
def test_range_rules(session, make, core, fashion, bands, message):
    season = make.season(SeasonStatus.OTB_UPLOADED)
    with pytest.raises(ValidationFailed, match=message):
        upsert_range(session, make.admin, season.id, category_id=season.test_leaves[0].id,
                     core_percent=core, fashion_percent=fashion, price_bands=bands)


def test_money_is_exact_to_the_cent_in_sql(session, make):
    """POs of 0.10 + 0.20 against an OTB of 0.30 are exactly at OTB, not over it
    (binary floats would say 0.30000000000000004 > 0.3)."""

    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    # March opens with February's closing stock of 1,000 (make.fill adds February and the
    # season chains stock), so the stock terms cancel and the OTB stays 0.30.
    make.otb_row(season, loc, leaf, MAR, planned_sales="0.30", planned_markdowns="0",
                 planned_closing_stock="1000", opening_stock="1000", on_order="0")
    make.fill(season)
    advance_season(session, make.admin, season.id)
    make.fill(season)
    advance_season(session, make.admin, season.id)
    buyer = make.user("buyer")
    for number, value in (("PO-A", "0.10"), ("PO-B", "0.20")):
        result = po.create_po(session, buyer, season.id, po_number=number, location_id=loc.id,
                              category_id=leaf.id, po_value=value, order_date=MAR,
                              policy="block")
        assert result.over_otb_by is None
    figures = cell_figures(session, season.id, loc.id, leaf.id, MAR)
    assert (figures.otb, figures.committed, figures.remaining) == (D("0.30"), D("0.30"), D("0"))
    assert season_facts(session, season).pos_over_otb == 0


def test_plan_reconciliation_uses_a_true_one_percent(session, make):
    """3,000 planned: OTB sales of 3,029 are within 1 %, 3,031 are not."""
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    row = make.otb_row(season, loc, leaf, FEB, planned_sales="3029", planned_closing_stock="0",
                       opening_stock="0", on_order="0")
    assert season_facts(session, season).otb_plan_mismatches == 0
    upsert_otb(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
               month=FEB, planned_sales="3031", planned_markdowns="0",
               planned_closing_stock="0", opening_stock="0", on_order="0",
               expected_version=row.version)
    assert season_facts(session, season).otb_plan_mismatches == 1
