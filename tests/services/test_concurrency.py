"""No write lands in a season after another request has locked it (SPEC §3).

A lock transition and a PO write race on the same season from two threads, many times.
The write's status check is slowed down on purpose, so that without the season row lock
the transition would commit in the gap and the PO would land in a locked season.
"""
import threading
import time
from datetime import date

import pytest
from sqlalchemy import func, select

from kyros_web.auth.models import User
from kyros_web.errors import SeasonLocked
from kyros_web.extensions import db
from kyros_web.models import PurchaseOrder
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
