"""The JSON API over real HTTP: gunicorn (2 workers) on a fresh PostgreSQL database, called
with `requests` (issue 18, evidence). The seed's worked example — one location, one category,
OTB 110,000, a PO of 12,500, a GRN of 11,250 — goes in through the API alone, and the
dashboard the API reads equals the dashboard page's report built from the same database."""
from __future__ import annotations

import subprocess
import sys
import threading

import pytest
import requests

from ..conftest import PG_URL
from ..e2e.serving import ROOT, served

pytestmark = pytest.mark.skipif(
    not PG_URL, reason="served on PostgreSQL; set KYROS_TEST_DATABASE_URL (CI does)")

TIMEOUT = 30


def _flask(db_url: str, *args: str) -> str:
    env = {"KYROS_DATABASE_URL": db_url, "KYROS_SECRET_KEY": "e2e-secret", "FLASK_APP": "wsgi.py"}
    import os

    done = subprocess.run([sys.executable, "-m", "flask", *args], cwd=ROOT,
                          env={**os.environ, **env}, check=True, capture_output=True, text=True)
    return done.stdout.strip()


class Client:
    def __init__(self, base: str, token: str):
        self.base = base
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"

    def __getattr__(self, method):
        def call(path, **kw):
            return self.http.request(method.upper(), self.base + path, timeout=TIMEOUT, **kw)
        return call


def _ok(response, status=200):
    assert response.status_code == status, (response.status_code, response.text[:2000])
    return response.json() if response.content else None


@pytest.fixture(scope="module")
def server():
    setup = (["kyros", "create-user", "planner@api.test", "--role", "planner",
              "--password", "planner-pass-1"],
             ["kyros", "create-user", "buyer@api.test", "--role", "buyer",
              "--password", "buyer-pass-1"])
    with served("kyros-api-", *setup) as (base, db_url):
        tokens = {role: _flask(db_url, "kyros", "token", "create", f"{role}@api.test",
                               "--name", f"{role} script")
                  for role in ("planner", "buyer")}
        yield base, db_url, tokens


def test_worked_example_through_the_api_equals_the_pages(server):
    # Dates in the past: a GRN may not be dated more than a few days ahead of today.
    base, db_url, tokens = server
    planner, buyer = Client(base, tokens["planner"]), Client(base, tokens["buyer"])
    assert "\n" not in tokens["planner"] and tokens["planner"].startswith("kyros_")

    _ok(planner.post("/api/v1/locations/bulk", json={"rows": [
        {"location_code": "LOC0000000000001", "name": "Leeds", "type": "store"}]}))
    _ok(planner.post("/api/v1/categories/bulk", json={"rows": [
        {"code": "WOMEN", "name": "Women"}]}))
    season = _ok(planner.post("/api/v1/seasons", json={
        "name": "Worked example", "start_date": "2026-11-01", "end_date": "2026-11-30"}), 201)
    sid = season["season_code"]
    _ok(planner.post(f"/api/v1/seasons/{sid}/define-locations"))
    _ok(planner.post(f"/api/v1/seasons/{sid}/plans/bulk", json={"rows": [
        {"location_code": "LOC0000000000001", "category_code": "WOMEN",
         "planned_sales": "100000", "planned_margin": "40", "inventory_turns": "4"}]}))
    _ok(planner.post(f"/api/v1/seasons/{sid}/complete-plan-upload"))
    _ok(planner.post(f"/api/v1/seasons/{sid}/otb/bulk", json={"rows": [
        {"location_code": "LOC0000000000001", "category_code": "WOMEN", "month": "2026-11",
         "planned_sales": "100000", "planned_closing_stock": "50000",
         "opening_stock": "30000", "on_order": "10000"}]}))
    _ok(planner.post(f"/api/v1/seasons/{sid}/complete-otb-upload"))
    _ok(planner.post(f"/api/v1/seasons/{sid}/range-intent/bulk", json={"rows": [
        {"category_code": "WOMEN", "core_percent": "60", "fashion_percent": "40"}]}))
    _ok(planner.post(f"/api/v1/seasons/{sid}/complete-range-upload"))
    _ok(buyer.post(f"/api/v1/seasons/{sid}/pos/bulk", json={"rows": [
        {"po_number": "PO-1", "location_code": "LOC0000000000001", "category_code": "WOMEN",
         "po_value": "12500", "order_date": "2026-10-10", "delivery_date": "2026-11-15"}]}))
    _ok(buyer.post(f"/api/v1/seasons/{sid}/grns/bulk", json={"rows": [
        {"grn_number": "GRN-1", "po_number": "PO-1", "grn_date": "2026-11-14",
         "received_value": "11250"}]}))

    otb = _ok(planner.get(f"/api/v1/seasons/{sid}/otb"))
    assert [(r["otb"], r["committed"], r["remaining"]) for r in otb] == [
        ("110000.00", "12500.00", "97500.00")]
    api_dashboard = _ok(planner.get(f"/api/v1/analytics/{sid}/dashboard"))

    # The page's report, built from the same database by the code the page runs.
    import json

    from kyros_web import create_app
    from kyros_web.analytics import reports
    from kyros_web.analytics.export import report_json
    from kyros_web.extensions import db
    from kyros_web.seasons.services import get_season

    app = create_app({"SQLALCHEMY_DATABASE_URI": db_url})
    with app.app_context():
        page = reports.dashboard(db.session, get_season(db.session, sid))
        figures = {k: v for k, v in api_dashboard.items() if k != "season"}
        expected = json.loads(json.dumps(report_json(page), default=str))
        # Give the connection back before closing the pool: a connection left out of it
        # would be closed only by the garbage collector, in some later test.
        db.session.remove()
        db.engine.dispose()
    assert figures == expected
    kpis = {k["name"]: k["value"] for k in api_dashboard["kpis"]}
    assert "110000.00" in kpis.values() and "12500.00" in kpis.values()


def test_bulk_rejects_a_bad_row_and_writes_nothing_over_http(server):
    base, _, tokens = server
    planner = Client(base, tokens["planner"])
    rows = [{"location_code": f"LOC00000000001{i:02d}", "name": f"Shop {i}", "type": "store"}
            for i in range(5)]
    rows[2]["type"] = "castle"
    r = planner.post("/api/v1/locations/bulk", json={"rows": rows})
    assert r.status_code == 422 and r.headers["Content-Type"] == "application/problem+json"
    assert [(e["index"], e["field"]) for e in r.json()["errors"]] == [(2, "type")]
    listed = planner.get("/api/v1/locations", params={"q": "Shop"})
    assert listed.status_code == 200 and listed.json() == []


def test_one_idempotency_key_sent_twice_at_once_writes_once(server):
    base, _, tokens = server
    planner = Client(base, tokens["planner"])
    rows = [{"location_code": "LOC0000000000777", "name": "Twice", "type": "store"}]
    start = threading.Barrier(2)
    answers = []

    def send():
        client = Client(base, tokens["planner"])
        start.wait()
        answers.append(client.post("/api/v1/locations/bulk", json={"rows": rows},
                                   headers={"Idempotency-Key": "twice-at-once"}))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [a.status_code for a in answers] == [200, 200]
    assert answers[0].json() == answers[1].json()
    assert answers[0].json()["new"] == 1
    uploads = planner.get("/api/v1/locations", params={"q": "Twice"}).json()
    assert len(uploads) == 1


def test_stale_if_match_over_http(server):
    base, _, tokens = server
    planner = Client(base, tokens["planner"])
    season = planner.post("/api/v1/seasons", json={
        "name": "Etag", "start_date": "2027-03-01", "end_date": "2027-03-31"})
    tag = season.headers["ETag"]
    url = f"/api/v1/seasons/{season.json()['id']}"
    first = planner.patch(url, json={"name": "One"}, headers={"If-Match": tag})
    second = planner.patch(url, json={"name": "Two"}, headers={"If-Match": tag})
    assert (first.status_code, second.status_code) == (200, 412)
    assert planner.get(url).json()["name"] == "One"


def test_a_browser_session_does_not_call_the_api(server):
    base, _, _ = server
    browser = requests.Session()
    login = browser.get(base + "/login", timeout=TIMEOUT)
    assert login.status_code == 200
    assert browser.get(base + "/api/v1/seasons", timeout=TIMEOUT).status_code == 401
