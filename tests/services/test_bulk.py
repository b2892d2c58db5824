"""The bulk INSERT (COPY on PostgreSQL) stores what insert() would; the bulk UPDATE (one
statement per set of columns on PostgreSQL) what an UPDATE by primary key would; a step run
with the collector paused turns it back on."""
import gc
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from kyros_web.models import POSource, POStatus, PurchaseOrder, RangeIntent
from kyros_web.modelbase import utcnow
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.bulk import collector_paused, insert_rows, update_rows
from kyros_web.versions import current, season_scope


def po_record(season, number, **extra):
    return {"po_number": number, "season_id": season.id,
            "location_id": season.test_locations[0].id, "category_id": season.test_leaves[0].id,
            "supplier": None, "order_date": date(2026, 2, 3), "delivery_date": date(2026, 2, 20),
            "po_value": D("1234.50"), "created_by": season.created_by, **extra}


def test_rows_keep_types_and_get_python_defaults(session, make):
    """Enums as their values, money exact, NULLs, JSON; id, timestamps, status from defaults."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    insert_rows(session, PurchaseOrder, [
        po_record(season, "BULK-1", source=POSource.CSV, status=POStatus.PARTIALLY_RECEIVED),
        po_record(season, "BULK-2", source=POSource.XLSX, status=POStatus.OPEN,
                  supplier="Näme, \"quoted\"\ttab\\slash")], scope=season_scope(season.id))
    leaf = make.category()
    now = utcnow()
    insert_rows(session, RangeIntent, [
        {"season_id": season.id, "category_id": leaf.id, "core_percent": D("60.00"),
         "fashion_percent": D("40.00"), "price_band_mix": {"low": "30", "mid": "70"},
         "version": 1, "created_at": now, "updated_at": now}], scope=season_scope(season.id))
    session.commit()
    first, second = session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.po_number.like("BULK-%")).order_by(PurchaseOrder.po_number)).all()
    assert (first.source, first.status, first.po_value, first.supplier, first.version) == (
        POSource.CSV, POStatus.PARTIALLY_RECEIVED, D("1234.50"), None, 1)
    assert second.supplier == "Näme, \"quoted\"\ttab\\slash"
    assert first.id != second.id and first.created_at is not None
    intent = session.scalar(select(RangeIntent).where(RangeIntent.category_id == leaf.id))
    assert intent.price_band_mix == {"low": "30", "mid": "70"}
    assert intent.core_percent == D("60.00")


def test_a_refused_row_raises_the_usual_integrity_error(session, make):
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    session.commit()
    with pytest.raises(IntegrityError):
        insert_rows(session, PurchaseOrder, [po_record(season, "SAME", source=POSource.CSV,
                                                       status=POStatus.OPEN)] * 2,
                    scope=season_scope(season.id))
    session.rollback()
    assert session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.po_number == "SAME")) is None


def test_bulk_rows_move_their_season_version(session, make):
    """COPY is invisible to the ORM; the rows' season version still moves at commit."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    session.commit()
    before = current(session, season.id)
    insert_rows(session, PurchaseOrder, [po_record(season, "BULK-V", source=POSource.CSV,
                                                   status=POStatus.OPEN)],
                scope=season_scope(season.id))
    session.commit()
    season_version, shared_version = current(session, season.id)
    assert season_version == before[0] + 1 and shared_version == before[1]


def test_updates_naming_different_columns_store_each_record(session, make):
    """Records may name different columns; a value shared by every row and one per row are
    both stored, and columns a record leaves out keep their values."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    insert_rows(session, PurchaseOrder, [
        po_record(season, f"UPD-{n}", source=POSource.CSV, status=POStatus.OPEN)
        for n in range(3)], scope=season_scope(season.id))
    session.commit()
    first, second, third = session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.po_number.like("UPD-%")).order_by(PurchaseOrder.po_number)).all()
    update_rows(session, PurchaseOrder, [
        {"id": first.id, "supplier": "Same", "po_value": D("10.00")},
        {"id": second.id, "supplier": "Same", "po_value": D("20.00")},
        {"id": third.id, "status": POStatus.CANCELLED}], scope=season_scope(season.id))
    session.commit()
    session.expire_all()
    rows = session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.po_number.like("UPD-%")).order_by(PurchaseOrder.po_number)).all()
    assert [(r.supplier, r.po_value, r.status) for r in rows] == [
        ("Same", D("10.00"), POStatus.OPEN), ("Same", D("20.00"), POStatus.OPEN),
        (None, D("1234.50"), POStatus.CANCELLED)]


def test_the_collector_runs_again_after_a_paused_step():
    """A step run with the collector paused leaves it on again, even when the step fails,
    and leaves it off when it was off before."""
    @collector_paused()
    def step(fail: bool) -> bool:
        if fail:
            raise ValueError("refused")
        return gc.isenabled()

    assert gc.isenabled() and step(False) is False and gc.isenabled()
    with pytest.raises(ValueError):
        step(True)
    assert gc.isenabled()
    gc.disable()
    try:
        step(False)
        assert not gc.isenabled()
    finally:
        gc.enable()
