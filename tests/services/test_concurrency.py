"""No write lands in a season after another request has locked it (SPEC §3).

A lock transition and a PO write race on the same season from two threads, many times.
The write's status check is slowed down on purpose, so that without the season row lock
the transition would commit in the gap and the PO would land in a locked season.
"""
import threading
import time
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kyros_web.auth.models import User
from kyros_web.errors import SeasonLocked, StaleVersion
from kyros_web.extensions import db
from kyros_web.models import OTBPlan, PurchaseOrder
from kyros_web.planning.services import upsert_otb
from kyros_web.purchasing import services as purchasing
from kyros_web.seasons import services as seasons
from kyros_web.seasons.workflow import SeasonStatus

from ..conftest import PG_URL

ROUNDS = 25

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="row locks are PostgreSQL's; set KYROS_TEST_DATABASE_URL (CI does)")


def test_no_write_lands_after_the_lock(app, make, session, monkeypatch):
    real_require_editable = purchasing.require_editable

    def slow_require_editable(season, area):
        real_require_editable(season, area)
        time.sleep(0.02)  # the gap a concurrent transition would need

    monkeypatch.setattr(purchasing, "require_editable", slow_require_editable)
    admin_id, buyer_id = make.admin.id, make.user("buyer").id
    outcomes = {"written": 0, "refused": 0}

    for n in range(ROUNDS):
        season = make.season(SeasonStatus.RANGE_UPLOADED)
        sid, loc, leaf = season.id, season.test_locations[0].id, season.test_leaves[0].id
        start = threading.Barrier(2)
        seen_after_lock = {}
        errors = []

        def lock():
            with app.app_context():
                try:
                    start.wait()
                    seasons.advance_season(db.session, db.session.get(User, admin_id), sid)
                    seen_after_lock["pos"] = db.session.scalar(
                        select(func.count(PurchaseOrder.id)).where(PurchaseOrder.season_id == sid))
                except Exception as exc:  # reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        def write():
            with app.app_context():
                try:
                    start.wait()
                    time.sleep(0.001 * (n % 3))  # vary who gets there first
                    purchasing.create_po(db.session, db.session.get(User, buyer_id), sid,
                                         po_number=f"RACE-{n}", location_id=loc,
                                         category_id=leaf, po_value="10",
                                         order_date=date(2026, 2, 3), policy="warn")
                    outcomes["written"] += 1
                except SeasonLocked:
                    outcomes["refused"] += 1
                except Exception as exc:
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=lock), threading.Thread(target=write)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert not errors, errors
        session.expire_all()
        final = session.scalar(select(func.count(PurchaseOrder.id))
                               .where(PurchaseOrder.season_id == sid))
        assert final == seen_after_lock["pos"], f"round {n}: a PO landed after the lock"
    assert outcomes["written"] + outcomes["refused"] == ROUNDS


def test_chained_save_and_next_month_edit_lose_nothing(app, make, session):
    """March's closing stock chaining into April and an edit of April, at once: they take
    turns on the season lock; April keeps the edit or refuses it as stale, never drops it."""
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    sid, loc, leaf = season.id, season.test_locations[0].id, season.test_leaves[0].id
    figures = {"planned_markdowns": "0", "on_order": "0"}
    for month in (date(2026, 3, 1), date(2026, 4, 1)):
        make.otb_row(season, season.test_locations[0], season.test_leaves[0], month,
                     planned_sales="3000", planned_closing_stock="1000", opening_stock="1000",
                     **figures)
    session.commit()
    admin_id = make.admin.id
    start = threading.Barrier(2)
    outcomes, errors = {}, []

    def write(name, month, **inputs):
        with app.app_context():
            try:
                start.wait()
                upsert_otb(db.session, db.session.get(User, admin_id), sid, location_id=loc,
                           category_id=leaf, month=month, expected_version=1, **figures,
                           **inputs)
                outcomes[name] = "saved"
            except StaleVersion:
                outcomes[name] = "stale"
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=write, args=("march", date(2026, 3, 1)),
                                kwargs={"planned_sales": "3000", "planned_closing_stock": "1500",
                                        "opening_stock": "1000"}),
               threading.Thread(target=write, args=("april", date(2026, 4, 1)),
                                kwargs={"planned_sales": "3333", "planned_closing_stock": "1000",
                                        "opening_stock": "1000"})]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    assert outcomes["march"] == "saved"
    session.expire_all()
    april = session.scalar(select(OTBPlan).where(OTBPlan.season_id == sid,
                                                 OTBPlan.month == date(2026, 4, 1)))
    assert april.opening_stock == Decimal("1500")  # chained either way
    if outcomes["april"] == "saved":  # April went first: March's chain kept its sales
        assert (april.planned_sales, april.version) == (Decimal("3333"), 3)
    else:  # March went first: the April edit was based on version 1 and refused
        assert (april.planned_sales, april.version) == (Decimal("3000"), 2)
