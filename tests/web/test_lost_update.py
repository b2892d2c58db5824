"""No lost update (issue 12): two planners save the same row at the same moment with the same
version, through gunicorn on PostgreSQL. Exactly one is told "saved", the other "changed by …
reload", and the audit trail holds one change per pair.

Each pair of clients meets at a thread barrier and posts at once, so the second save starts
within a millisecond or two of the first: the window in which a read-compare-write check
lets both through.
"""
from __future__ import annotations

import threading
import urllib.error
import urllib.parse
import urllib.request
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from kyros_web.audit import AuditEvent
from kyros_web.models import OTBPlan, PurchaseOrder, RangeIntent, SeasonPlan
from kyros_web.planning import services as planning
from kyros_web.purchasing import services as purchasing
from kyros_web.seasons.workflow import SeasonStatus

from ..benchmarks.common import Client, app_env, gunicorn
from ..conftest import PG_URL

PAIRS = 20

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="simultaneous saves through gunicorn on PostgreSQL; set "
                       "KYROS_TEST_DATABASE_URL (CI does)")

HX = {"HX-Request": "true"}


def post(client: Client, path: str, fields: dict, headers: dict | None = None) -> tuple[int, str]:
    """POST a form; (status, body) whatever the status."""
    body = urllib.parse.urlencode(fields).encode()
    request = urllib.request.Request(client.base + path, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", **(headers or {})})
    try:
        with client.opener.open(request, timeout=60) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def race(clients: list[Client], path: str, forms: list[dict], headers=None) -> list[tuple]:
    """Both clients post at the same moment; their (status, body) in client order."""
    barrier = threading.Barrier(len(clients))
    results: list = [None] * len(clients)

    def go(i):
        barrier.wait(timeout=30)
        results[i] = post(clients[i], path, forms[i], headers)

    threads = [threading.Thread(target=go, args=(i,)) for i in range(len(clients))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def logged_in(base: str, users) -> list[Client]:
    clients = []
    for user in users:
        c = Client(base)
        c.login(user.email, "correct-horse-battery")
        c.token_value = Client.token(c.get("/seasons/"))
        clients.append(c)
    return clients


def audited_updates(session, entity: str, entity_id) -> int:
    return session.scalar(select(func.count(AuditEvent.id)).where(
        AuditEvent.entity == entity, AuditEvent.entity_id == str(entity_id),
        AuditEvent.action == "update"))


def one_saved_one_refused(results, saved_status=200) -> None:
    statuses = sorted(status for status, _ in results)
    assert statuses == sorted([saved_status, 409]), [(s, b[:300]) for s, b in results]
    refused = next(body for status, body in results if status == 409)
    assert "changed by" in refused and "reload" in refused


@pytest.fixture(scope="module")
def server(database_url):
    """gunicorn with four workers on the test database, shared by this module's tests."""
    with gunicorn(app_env(database_url), workers=4) as (base, _pid):
        yield base


def two_planners(make):
    return [make.user("planner"), make.user("planner")]


def test_simultaneous_plan_saves(make, session, server):
    """20 plan rows, each saved by two planners at once: one wins, one is told to reload."""
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    loc = season.test_locations[0]
    leaves = [make.category() for _ in range(PAIRS)]
    rows = [planning.upsert_plan(session, make.admin, season.id, location_id=loc.id,
                                 category_id=leaf.id, planned_sales="100",
                                 planned_margin="10").row for leaf in leaves]
    users = two_planners(make)
    ids = [r.id for r in rows]
    session.commit()
    clients = logged_in(server, users)
    for n, row_id in enumerate(ids):
        path = f"/planning/{season.season_code}/plans/{row_id}"
        forms = [{"planned_sales": str(200 + i), "planned_margin": "10", "version": "1",
                  "csrf_token": c.token_value} for i, c in enumerate(clients)]
        one_saved_one_refused(race(clients, path, forms, HX))
    session.expire_all()
    for row_id in ids:
        row = session.get(SeasonPlan, row_id)
        assert row.version == 2
        assert audited_updates(session, "season_plan", row_id) == 1


def test_simultaneous_otb_saves(make, session, server):
    """OTB rows saved by two planners at once: one wins, one is told to reload."""
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc = season.test_locations[0]
    leaves = [make.category() for _ in range(10)]
    rows = [make.otb_row(season, loc, leaf, date(2026, 2, 1), planned_sales="3000",
                         planned_closing_stock="1000", opening_stock="1000", on_order="0")
            for leaf in leaves]
    ids = [r.id for r in rows]
    users = two_planners(make)
    session.commit()
    clients = logged_in(server, users)
    for row_id in ids:
        path = f"/planning/{season.season_code}/otb/{row_id}"
        forms = [{"planned_sales": str(4000 + i), "planned_markdowns": "0",
                  "planned_closing_stock": "1000", "opening_stock": "1000", "on_order": "0",
                  "version": "1", "csrf_token": c.token_value}
                 for i, c in enumerate(clients)]
        one_saved_one_refused(race(clients, path, forms, HX))
    session.expire_all()
    for row_id in ids:
        assert session.get(OTBPlan, row_id).version == 2
        assert audited_updates(session, "otb_plan", row_id) == 1


def test_simultaneous_range_saves(make, session, server):
    """Range intent saved by two planners at once: one wins, one is told to reload."""
    season = make.season(SeasonStatus.OTB_UPLOADED)
    leaf = season.test_leaves[0]
    row = planning.upsert_range(session, make.admin, season.id, category_id=leaf.id,
                                core_percent="60", fashion_percent="40").row
    row_id = row.id
    users = two_planners(make)
    session.commit()
    clients = logged_in(server, users)
    for n in range(10):
        path = f"/planning/{season.season_code}/range/{leaf.id}"
        forms = [{"core_percent": str(50 + i + 2 * n), "fashion_percent": str(50 - i - 2 * n),
                  "version": str(n + 1), "csrf_token": c.token_value}
                 for i, c in enumerate(clients)]
        one_saved_one_refused(race(clients, path, forms, HX))
    session.expire_all()
    assert session.get(RangeIntent, row_id).version == 11
    assert audited_updates(session, "range_intent", row_id) == 10


def test_simultaneous_po_saves(make, session, server):
    """A PO changed by two buyers at once: one wins, one is told to reload."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    po = purchasing.create_po(session, make.admin, season.id, po_number="RACE-PO",
                              location_id=loc.id, category_id=leaf.id, po_value="10",
                              order_date=date(2026, 2, 3)).po
    po_id = po.id
    users = [make.user("buyer"), make.user("buyer")]
    session.commit()
    clients = logged_in(server, users)
    for n in range(10):
        path = f"/purchasing/{season.season_code}/pos/RACE-PO"
        forms = [{"po_number": "RACE-PO", "location_id": str(loc.id),
                  "category_id": str(leaf.id), "po_value": str(20 + 2 * n + i),
                  "order_date": "2026-02-03", "delivery_date": "", "supplier": "",
                  "source": "manual", "version": str(n + 1), "csrf_token": c.token_value}
                 for i, c in enumerate(clients)]
        one_saved_one_refused(race(clients, path, forms, HX))
    session.expire_all()
    po = session.get(PurchaseOrder, po_id)
    assert po.version == 11
    assert audited_updates(session, "purchase_order", po_id) == 10
    assert po.po_value in {Decimal(38), Decimal(39)}
