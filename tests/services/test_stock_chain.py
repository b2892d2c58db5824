"""Stock that chains (issue 14): a saved OTB row's closing stock becomes the opening stock of
the same location × category's next month, in the same transaction."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from kyros_web.audit import AuditEvent
from kyros_web.errors import StaleVersion
from kyros_web.models import OTBPlan
from kyros_web.planning.services import upsert_otb
from kyros_web.seasons.facts import season_facts
from kyros_web.seasons.services import advance_season, update_season
from kyros_web.seasons.workflow import SeasonStatus

FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
FIGURES = {"planned_sales": "3000", "planned_markdowns": "0", "on_order": "0"}


def otb_season(make, session, chain=True):
    """A plan_uploaded season (Feb–Apr) with March and April rows for its one cell:
    March closes at 1,000, April opens at 1,000 and closes at 800 (OTB 2,800)."""
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    if not chain:
        update_season(session, make.admin, season.id, name=season.name,
                      start_date=season.start_date, end_date=season.end_date, chain_stock=False)
    make.fill(season)
    advance_season(session, make.admin, season.id)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    make.otb_row(season, loc, leaf, MAR, planned_closing_stock="1000", opening_stock="1000",
                 **FIGURES)
    make.otb_row(season, loc, leaf, APR, planned_closing_stock="800", opening_stock="1000",
                 **FIGURES)
    return season, loc, leaf


def save(session, make, season, month, closing, version, **kw):
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    return upsert_otb(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                      month=month, planned_closing_stock=closing, opening_stock="1000",
                      expected_version=version, **FIGURES, **kw)


def row(session, season, month):
    session.expire_all()
    return session.scalar(select(OTBPlan).where(OTBPlan.season_id == season.id,
                                                OTBPlan.month == month))


def audits(session, otb):
    return session.scalars(select(AuditEvent).where(AuditEvent.entity == "otb_plan",
                                                    AuditEvent.entity_id == str(otb.id),
                                                    AuditEvent.action == "update")).all()


def test_new_seasons_chain_stock(make):
    assert make.season().chain_stock is True


def test_a_changed_closing_stock_opens_the_next_month(session, make):
    season, _, _ = otb_season(make, session)
    april = row(session, season, APR)
    assert (april.opening_stock, april.version, april.approved_spend_limit) == (
        D("1000"), 1, D("2800"))
    saved = save(session, make, season, MAR, "1500", version=1)
    assert saved.outcome == "updated"
    april = row(session, season, APR)
    assert april.opening_stock == D("1500")
    assert april.approved_spend_limit == D("2300")  # 3,000 + 0 + 800 − 1,500 − 0
    assert april.version == 2
    [event] = audits(session, april)
    assert event.before == {"opening_stock": "1000.00"}
    assert event.after == {"opening_stock": "1500.00", "chained_from": "2026-03"}
    # March's own typed opening stock stands; February (no row) is untouched.
    assert row(session, season, MAR).opening_stock == D("1000")


def test_a_new_row_opens_the_next_month(session, make):
    season, loc, _ = otb_season(make, session)
    other = make.category()  # a second cell: April first, then March is created
    make.otb_row(season, loc, other, APR, planned_closing_stock="5", opening_stock="7",
                 **FIGURES)
    make.otb_row(season, loc, other, MAR, planned_closing_stock="9", opening_stock="0",
                 **FIGURES)
    april = session.scalar(select(OTBPlan).where(OTBPlan.category_id == other.id,
                                                 OTBPlan.month == APR))
    assert (april.opening_stock, april.version) == (D("9"), 2)


def test_chain_off_leaves_the_next_month_alone(session, make):
    season, _, _ = otb_season(make, session, chain=False)
    save(session, make, season, MAR, "1500", version=1)
    april = row(session, season, APR)
    assert (april.opening_stock, april.version, april.approved_spend_limit) == (
        D("1000"), 1, D("2800"))
    assert audits(session, april) == []


def test_last_month_has_no_next_row(session, make):
    season, _, _ = otb_season(make, session)
    saved = save(session, make, season, APR, "700", version=1)
    assert saved.outcome == "updated" and saved.row.planned_closing_stock == D("700")


def test_no_next_row_changes_nothing_else(session, make):
    season, _, _ = otb_season(make, session)
    loc, leaf = season.test_locations[0], make.category()
    make.otb_row(season, loc, leaf, FEB, planned_closing_stock="10", opening_stock="0",
                 **FIGURES)
    make.otb_row(season, loc, leaf, APR, planned_closing_stock="10", opening_stock="3",
                 **FIGURES)
    upsert_otb(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
               month=FEB, planned_closing_stock="20", opening_stock="0", expected_version=1,
               **FIGURES)
    session.expire_all()
    april = session.scalar(select(OTBPlan).where(OTBPlan.category_id == leaf.id,
                                                 OTBPlan.month == APR))
    assert (april.opening_stock, april.version) == (D("3"), 1)


def test_unchanged_closing_stock_leaves_the_next_month_alone(session, make):
    season, loc, leaf = otb_season(make, session)
    upsert_otb(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
               month=APR, planned_closing_stock="800", opening_stock="900",
               expected_version=1, **FIGURES)  # April's own opening, typed: a break now
    upsert_otb(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
               month=MAR, planned_closing_stock="1000", opening_stock="1000",
               expected_version=1, planned_sales="3100", planned_markdowns="0", on_order="0")
    april = row(session, season, APR)
    assert (april.opening_stock, april.version) == (D("900"), 2)


def test_stale_edit_changes_neither_row(session, make):
    season, _, _ = otb_season(make, session)
    save(session, make, season, MAR, "1200", version=1)
    with pytest.raises(StaleVersion):
        save(session, make, season, MAR, "1500", version=1)
    march, april = row(session, season, MAR), row(session, season, APR)
    assert (march.planned_closing_stock, march.version) == (D("1200"), 2)
    assert (april.opening_stock, april.version) == (D("1200"), 2)


def test_saved_edit_leaves_no_chain_break(session, make):
    season, _, _ = otb_season(make, session)
    save(session, make, season, MAR, "1500", version=1)
    assert season_facts(session, season).stock_chain_breaks == 0
