"""Plans, OTB rows, range intent, actuals and the moves of open to buy through the JSON API:
the seed's worked example, the OTB page's figures, ETags with If-Match, bulk all or nothing,
the workflow's 409, roles and four eyes."""
import threading
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from kyros_web.auth.tokens import create_token
from kyros_web.extensions import db
from kyros_web.planning import queries
from kyros_web.planning.adjustments import Scope
from kyros_web.planning.models import OTBPlan, RangeIntent, SeasonActual, SeasonPlan
from kyros_web.planning.services import decide_adjustment, request_adjustment
from kyros_web.purchasing.services import create_po
from kyros_web.seasons.services import advance_season
from kyros_web.seasons.workflow import SeasonStatus

from ..conftest import PG_URL
from .conftest import ApiClient

FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
SEED_OTB = {"planned_sales": "100000", "planned_closing_stock": "50000",
            "opening_stock": "30000", "on_order": "10000"}


def _url(season, *rest):
    return "/".join([f"/api/v1/seasons/{season.season_code}", *rest])


def _otb_season(make, status=SeasonStatus.PLAN_UPLOADED, locations=1, leaves=1):
    """A season walked to `status` with `locations` × `leaves` cells."""
    locs = [make.location() for _ in range(locations)]
    cats = [make.category() for _ in range(leaves)]
    return make.season(status, locations=locs, leaves=cats)


# The seed's worked example ---------------------------------------------------------------

def test_the_seeds_worked_example_through_the_api(api, make):
    """One location, one leaf category, plan and OTB row through the API: OTB 110,000.00."""
    location, leaf = make.location(), make.category("DRESSES")
    planner = api("planner")
    season = planner.post("/api/v1/seasons", json={
        "name": "SS26", "start_date": "2026-02-01", "end_date": "2026-04-30"}).get_json()
    base = f"/api/v1/seasons/{season['season_code']}"
    assert planner.post(f"{base}/define-locations",
                        json={"location_ids": [str(location.id)]}).status_code == 200
    plan = planner.post(f"{base}/plans", json={
        "location_code": location.location_code, "category_code": "dresses",
        "planned_sales": 100000, "planned_margin": "42.5"})
    assert plan.status_code == 201, plan.get_json()
    body = plan.get_json()
    assert (body["planned_sales"], body["planned_margin"], body["approved"]) == (
        "100000.00", "42.50", False)
    assert plan.headers["ETag"] == '"1"'
    approved = planner.post(f"{base}/plans/approve", json={"plan_ids": [body["id"]]})
    assert approved.get_json() == {"approved": 1}
    assert planner.post(f"{base}/complete-plan-upload").status_code == 200

    created = planner.post(f"{base}/otb", json={
        "location_id": str(location.id), "category_code": "DRESSES", "month": "2026-02",
        **{k: int(v) for k, v in SEED_OTB.items()}})
    assert created.status_code == 201, created.get_json()
    row = created.get_json()
    assert row["approved_spend_limit"] == "110000.00"
    assert (row["committed"], row["adjustments"], row["budget"], row["remaining"]) == (
        "0.00", "0.00", "110000.00", "110000.00")
    assert row["month"] == "2026-02-01" and row["planned_markdowns"] == "0.00"
    assert row["season_plan_sales"] == "100000.00"
    listed = planner.get(f"{base}/otb").get_json()
    assert listed == [row]
    cell = planner.get(f"{base}/otb/cell/{location.location_code}/DRESSES/2026-02").get_json()
    assert (cell["otb"], cell["budget"], cell["remaining"], cell["open_to_buy"]) == (
        "110000.00", "110000.00", "110000.00", "110000.00")
    assert cell["otb_row"]["approved_spend_limit"] == "110000.00"
    assert cell["utilisation"] == {"percent": "0.0", "word": "", "why": ""}
    assert cell["fulfilment"]["percent"] is None and cell["fulfilment"]["word"] == "—"


# The OTB list: the page's figures ----------------------------------------------------------

def _busy_season(make, session):
    """Two locations × two leaves × three months of OTB, an approved move of 1,000.00 and POs,
    in season (range_uploaded)."""
    season = _otb_season(make, SeasonStatus.PLAN_UPLOADED, locations=2, leaves=2)
    locs, leaves = season.test_locations, season.test_leaves
    for n, (loc, leaf, month) in enumerate((lo, le, m) for lo in locs for le in leaves
                                           for m in (FEB, MAR, APR)):
        make.otb_row(season, loc, leaf, month, planned_sales=str(2000 + 100 * n),
                     planned_closing_stock="1000", opening_stock=str(900 + 10 * n),
                     on_order="50")
    advance_season(session, make.admin, season.id)
    asker, approver = make.user("planner"), make.user("planner")
    move = request_adjustment(session, asker, season.id, amount="1000",
                              source=Scope(location_id=locs[0].id, month=MAR),
                              target=Scope(location_id=locs[1].id, month=MAR),
                              reason="Sales move to the second store")
    decide_adjustment(session, approver, move.id, approve=True, note="Agreed")
    make.fill(season)
    advance_season(session, make.admin, season.id)
    buyer = make.user("buyer")
    for n, (loc, month, value) in enumerate([(locs[0], FEB, "2500"), (locs[0], MAR, "9999"),
                                             (locs[1], MAR, "125.50"), (locs[1], APR, "40")]):
        create_po(session, buyer, season.id, po_number=f"PO-{n}", location_id=loc.id,
                  category_id=leaves[0].id, po_value=value, order_date=month, policy="warn")
    return season


def _page_rows(session, season, f):
    """The rows the OTB page shows for the filters, every page."""
    page = queries.otb_page(session, season.id, f, 1, 1000)
    return [(r.OTBPlan.id, r.OTBPlan.approved_spend_limit, r.adjustments, r.committed,
             r.remaining) for r in page.items]


def _api_rows(rows):
    return [(r["id"], r["approved_spend_limit"], r["adjustments"], r["committed"],
             r["remaining"]) for r in rows]


def _as_text(rows):
    return [(str(i), f"{o:.2f}", f"{a:.2f}", f"{c:.2f}", f"{r:.2f}") for i, o, a, c, r in rows]


def test_otb_list_figures_equal_the_pages(api, make, session):
    """Committed, adjustments and remaining of every row are the OTB page's, under its
    filters and paged by skip/limit."""
    season = _busy_season(make, session)
    assert season.status is SeasonStatus.RANGE_UPLOADED
    viewer = api("viewer")
    everything = viewer.get(_url(season, "otb") + "?limit=1000")
    assert everything.headers["X-Total-Count"] == "12"
    rows = everything.get_json()
    expected = _as_text(_page_rows(session, season, queries.GridFilters()))
    assert _api_rows(rows) == expected
    assert any(r["adjustments"] != "0.00" for r in rows)
    assert any(r["committed"] != "0.00" for r in rows)
    for r in rows:
        assert Decimal(r["budget"]) == Decimal(r["approved_spend_limit"]) + Decimal(
            r["adjustments"])
    paged = [viewer.get(_url(season, "otb") + f"?skip={s}&limit=5").get_json()
             for s in (0, 5, 10)]
    assert [r for p in paged for r in p] == rows
    loc = season.test_locations[0]
    filtered = viewer.get(_url(season, "otb") + f"?location={loc.location_code}&month=2026-03")
    assert _api_rows(filtered.get_json()) == _as_text(_page_rows(
        session, season, queries.GridFilters(location_id=loc.id, month=MAR)))
    assert len(filtered.get_json()) == 2
    over = viewer.get(_url(season, "otb") + "?flag=over").get_json()
    assert _api_rows(over) == _as_text(_page_rows(session, season,
                                                  queries.GridFilters(flag="over")))
    assert over and all(Decimal(r["remaining"]) < 0 for r in over)


def test_the_cell_shows_the_budget_waterfall(api, make, session):
    """The cell's OTB, its approved move, budget, committed and POs, as its page reads them."""
    season = _busy_season(make, session)
    loc, leaf = season.test_locations[1], season.test_leaves[0]
    r = api("buyer").get(_url(season, "otb", "cell", loc.location_code.lower(), leaf.code,
                              "2026-03-01"))
    assert r.status_code == 200, r.get_json()
    cell = r.get_json()
    figures = queries.cell_figures(session, season.id, loc.id, leaf.id, MAR)
    assert (cell["otb"], cell["adjustments"], cell["budget"], cell["committed"],
            cell["remaining"]) == tuple(f"{v:.2f}" for v in (
                figures.otb, figures.adjustments, figures.budget, figures.committed,
                figures.remaining))
    assert Decimal(cell["adjustments"]) > 0
    assert [m["number"] for m in cell["approved_moves"]] == [1]
    assert [p["po_number"] for p in cell["purchase_orders"]] == ["PO-2"]
    assert cell["purchase_orders"][0]["committed"] == "125.50"
    assert cell["utilisation"]["percent"] is not None


def test_the_cells_percentages_round_half_up_as_the_page(api, make, session):
    """Utilisation 49 ÷ 400 = 12.25 % reads "12.3", as the page's percent filter shows it."""
    season = _otb_season(make)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    make.fill(season)  # February's row first: its closing stock would open March's
    make.otb_row(season, loc, leaf, MAR, planned_sales="400", planned_closing_stock="0",
                 opening_stock="0", on_order="0")
    advance_season(session, make.admin, season.id)
    make.fill(season)
    advance_season(session, make.admin, season.id)
    create_po(session, make.user("buyer"), season.id, po_number="PO-Q", location_id=loc.id,
              category_id=leaf.id, po_value="49", order_date=MAR, policy="warn")
    cell = api("viewer").get(_url(season, "otb", "cell", loc.location_code, leaf.code,
                                  "2026-03")).get_json()
    assert cell["utilisation"]["percent"] == "12.3"
    assert cell["fulfilment"]["percent"] == "0.0"


def test_the_cell_404s(api, make):
    season = _otb_season(make)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    viewer = api("viewer")
    for path in (f"NOPE/{leaf.code}/2026-02", f"{loc.location_code}/NOPE/2026-02",
                 f"{loc.location_code}/{leaf.code}/2027-02",
                 f"{loc.location_code}/{leaf.code}/march"):
        r = viewer.get(_url(season, "otb", "cell", path))
        assert r.status_code == 404, path
        assert r.mimetype == "application/problem+json"
    empty = viewer.get(_url(season, "otb", "cell", loc.location_code, leaf.code, "2026-03"))
    assert empty.status_code == 200 and empty.get_json()["otb_row"] is None


# Plans -------------------------------------------------------------------------------------

def test_plan_row_read_change_and_delete_under_its_version(api, make, session):
    season = _otb_season(make, SeasonStatus.LOCATIONS_DEFINED)
    loc, leaf = season.test_locations[0], make.category()
    planner = api("planner")
    created = planner.post(_url(season, "plans"), json={
        "location_id": str(loc.id), "category_id": str(leaf.id), "planned_sales": "1,500.25",
        "planned_margin": 40, "inventory_turns": "3.5"})
    assert created.status_code == 201, created.get_json()
    url = _url(season, "plans", created.get_json()["id"])
    planner.post(_url(season, "plans", "approve"), json={"plan_ids": [created.get_json()["id"]]})
    read = planner.get(url)
    assert read.get_json()["approved"] is True and read.headers["ETag"] == '"1"'
    body = {"planned_sales": "2000", "planned_margin": "41.25"}
    assert planner.put(url, json=body).status_code == 428
    changed = planner.put(url, json=body, headers={"If-Match": '"1"'})
    assert changed.status_code == 200, changed.get_json()
    assert changed.headers["ETag"] == '"2"'
    out = changed.get_json()
    assert (out["planned_sales"], out["planned_margin"], out["inventory_turns"],
            out["approved"]) == ("2000.00", "41.25", None, False)
    stale = planner.patch(url, json={"planned_margin": 10}, headers={"If-Match": '"1"'})
    assert stale.status_code == 412 and stale.get_json()["type"].endswith("problem-stale")
    patched = planner.patch(url, json={"inventory_turns": 4}, headers={"If-Match": 'W/"2"'})
    assert patched.status_code == 200
    assert (patched.get_json()["planned_sales"], patched.get_json()["inventory_turns"]) == (
        "2000.00", "4.00")
    bad_tag = planner.patch(url, json={"inventory_turns": 4}, headers={"If-Match": '"abc"'})
    assert bad_tag.status_code == 412
    assert planner.delete(url).status_code == 204
    assert planner.get(url).status_code == 404
    assert planner.delete(url).status_code == 404


def test_plan_writes_refused_by_the_rules(api, make):
    season = _otb_season(make, SeasonStatus.LOCATIONS_DEFINED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    planner = api("planner")
    cell = {"location_code": loc.location_code, "category_code": leaf.code}
    first = planner.post(_url(season, "plans"), json={
        **cell, "planned_sales": 1, "planned_margin": 1})
    again = planner.post(_url(season, "plans"), json={
        **cell, "planned_sales": 2, "planned_margin": 1})
    assert first.status_code == 201 and again.status_code == 422
    assert "already exists" in again.get_json()["detail"]
    checks = [
        ({**cell, "planned_sales": "100000.005", "planned_margin": 1}, "planned_sales"),
        ({**cell, "planned_sales": 1, "planned_margin": 100}, "planned_margin"),
        ({**cell, "planned_sales": True, "planned_margin": 1}, "planned_sales"),
        ({**cell, "planned_sales": 1.5e3, "planned_margin": "1.2.3"}, "planned_margin"),
        ({"location_code": "NOWHERE", "category_code": leaf.code, "planned_sales": 1,
          "planned_margin": 1}, "location_code"),
        ({"category_code": leaf.code, "planned_sales": 1, "planned_margin": 1},
         "location_code"),
        ({**cell, "location_id": str(loc.id), "planned_sales": 1, "planned_margin": 1},
         "location_code"),
    ]
    for body, field in checks:
        r = planner.post(_url(season, "plans"), json=body)
        assert r.status_code == 422, body
        assert field in {e["field"] for e in r.get_json()["errors"]}, r.get_json()
    parent = make.category()
    make.category(parent=parent)
    r = planner.post(_url(season, "plans"), json={
        "location_code": loc.location_code, "category_code": parent.code, "planned_sales": 1,
        "planned_margin": 1})
    assert r.status_code == 422 and r.get_json()["errors"][0]["field"] == "category_id"


def test_plans_list_filters_sorts_and_pages(api, make):
    leaves = [make.category() for _ in range(3)]
    season = make.season(SeasonStatus.LOCATIONS_DEFINED, locations=[make.location()])
    loc = season.test_locations[0]
    planner = api("planner")
    ids = []
    for n, leaf in enumerate(leaves):
        ids.append(planner.post(_url(season, "plans"), json={
            "location_code": loc.location_code, "category_code": leaf.code,
            "planned_sales": 1000 * (n + 1), "planned_margin": 30}).get_json()["id"])
    planner.post(_url(season, "plans", "approve"), json={"plan_ids": ids[:1]})
    listed = planner.get(_url(season, "plans") + "?sort=sales&dir=desc&limit=2")
    assert listed.headers["X-Total-Count"] == "3"
    assert [r["planned_sales"] for r in listed.get_json()] == ["3000.00", "2000.00"]
    waiting = planner.get(_url(season, "plans") + "?approved=false").get_json()
    assert sorted(r["id"] for r in waiting) == sorted(ids[1:])
    one = planner.get(_url(season, "plans") + f"?category={leaves[2].code}").get_json()
    assert [r["id"] for r in one] == [ids[2]]
    assert planner.get(_url(season, "plans") + "?category=NOPE").status_code == 422
    assert planner.get(_url(season, "plans") + "?sort=colour").status_code == 422
    approved = planner.post(_url(season, "plans", "approve") + f"?location={loc.id}",
                            json={"filtered": True})
    assert approved.get_json() == {"approved": 2}
    neither = planner.post(_url(season, "plans", "approve"), json={})
    assert neither.status_code == 422


# OTB rows ----------------------------------------------------------------------------------

def test_otb_row_change_needs_if_match_and_refuses_a_stale_one(api, make):
    season = _otb_season(make)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    planner = api("planner")
    created = planner.post(_url(season, "otb"), json={
        "location_code": loc.location_code, "category_code": leaf.code, "month": "2026-03-01",
        **SEED_OTB})
    assert created.status_code == 201, created.get_json()
    url = _url(season, "otb", created.get_json()["id"])
    tag = planner.get(url).headers["ETag"]
    assert tag == '"1"'
    assert planner.put(url, json=SEED_OTB).status_code == 428
    changed = planner.put(url, json={**SEED_OTB, "planned_markdowns": "500"},
                          headers={"If-Match": tag})
    assert changed.status_code == 200
    assert changed.get_json()["approved_spend_limit"] == "110500.00"
    assert changed.headers["ETag"] == '"2"'
    stale = planner.patch(url, json={"on_order": 0}, headers={"If-Match": tag})
    assert stale.status_code == 412
    patched = planner.patch(url, json={"on_order": 0}, headers={"If-Match": '"2"'})
    assert patched.get_json()["approved_spend_limit"] == "120500.00"
    negative = planner.patch(url, json={"on_order": -1}, headers={"If-Match": '"3"'})
    assert negative.status_code == 422 and negative.get_json()["errors"][0]["field"] == "on_order"
    again = planner.post(_url(season, "otb"), json={
        "location_code": loc.location_code, "category_code": leaf.code, "month": "2026-03",
        **SEED_OTB})
    assert again.status_code == 422
    outside = planner.post(_url(season, "otb"), json={
        "location_code": loc.location_code, "category_code": leaf.code, "month": "2027-03",
        **SEED_OTB})
    assert outside.status_code == 422 and outside.get_json()["errors"][0]["field"] == "month"
    not_a_month = planner.post(_url(season, "otb"), json={
        "location_code": loc.location_code, "category_code": leaf.code, "month": "2026-03-15",
        **SEED_OTB})
    assert not_a_month.status_code == 422
    assert not_a_month.get_json()["errors"][0]["field"] == "month"
    assert planner.delete(url).status_code == 204
    assert planner.get(url).status_code == 404


def test_bulk_otb_with_a_bad_row_in_the_middle_saves_nothing(api, make, session):
    season = _otb_season(make, locations=1, leaves=1)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    before = session.scalars(select(OTBPlan.id).where(OTBPlan.season_id == season.id)).all()
    rows = [{"location_code": loc.location_code, "category_code": leaf.code, "month": m,
             **SEED_OTB} for m in ("2026-02", "2026-03", "2026-04")]
    rows[1]["on_order"] = "-5"
    r = api("planner").post(_url(season, "otb", "bulk"), json={"rows": rows})
    assert r.status_code == 422
    body = r.get_json()
    assert (body["rows"], body["rejected"]) == (3, 1)
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(1, "on_order")]
    session.expire_all()
    assert session.scalars(select(OTBPlan.id).where(
        OTBPlan.season_id == season.id)).all() == before
    rows[1]["on_order"] = SEED_OTB["on_order"]
    ok = api("planner").post(_url(season, "otb", "bulk"), json={"rows": rows})
    assert ok.status_code == 200, ok.get_json()
    assert (ok.get_json()["new"], ok.get_json()["updated"]) == (3, 0)
    row = session.scalar(select(OTBPlan).where(OTBPlan.season_id == season.id,
                                               OTBPlan.month == APR))
    assert row.approved_spend_limit == Decimal("110000")


def test_otb_writes_in_a_locked_season_are_refused(api, make):
    """409 with the workflow's message: the OTB area is open only in plan_uploaded."""
    season = _otb_season(make, SeasonStatus.LOCKED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    planner = api("planner")
    row = planner.get(_url(season, "otb")).get_json()[0]
    url = _url(season, "otb", row["id"])
    attempts = [
        planner.post(_url(season, "otb"), json={
            "location_code": loc.location_code, "category_code": leaf.code, "month": "2026-03",
            **SEED_OTB}),
        planner.put(url, json=SEED_OTB, headers={"If-Match": f'"{row["version"]}"'}),
        planner.delete(url),
        planner.post(_url(season, "otb", "bulk"), json={"rows": [{
            "location_code": loc.location_code, "category_code": leaf.code, "month": "2026-03",
            **SEED_OTB}]}),
    ]
    for r in attempts:
        assert r.status_code == 409, r.get_json()
        assert r.get_json()["type"].endswith("problem-workflow")
    plan_in_otb_step = _otb_season(make, SeasonStatus.PLAN_UPLOADED)
    refused = planner.post(_url(plan_in_otb_step, "plans"), json={
        "location_code": plan_in_otb_step.test_locations[0].location_code,
        "category_code": make.category().code, "planned_sales": 1, "planned_margin": 1})
    assert refused.status_code == 409
    assert "Plans can only be changed" in refused.get_json()["detail"]


# Range intent ------------------------------------------------------------------------------

def test_range_intent_created_without_and_changed_with_if_match(api, make):
    season = _otb_season(make, SeasonStatus.OTB_UPLOADED, leaves=2)
    first, second = season.test_leaves
    planner = api("planner")
    listed = planner.get(_url(season, "range-intent")).get_json()
    assert [(r["category_code"], r["id"]) for r in listed] == sorted(
        [(first.code, None), (second.code, None)])
    url = _url(season, "range-intent", first.code)
    assert planner.get(url).status_code == 404
    body = {"core_percent": "62.5", "fashion_percent": 37.5, "price_band_low": 30,
            "price_band_mid": 50, "price_band_high": "20"}
    created = planner.put(url, json=body)
    assert created.status_code == 201, created.get_json()
    assert created.headers["ETag"] == '"1"'
    assert (created.get_json()["core_percent"], created.get_json()["price_band_mid"]) == (
        "62.50", "50.00")
    assert planner.put(url, json=body).status_code == 428
    same = planner.put(_url(season, "range-intent", str(first.id)), json=body,
                       headers={"If-Match": '"1"'})
    assert same.status_code == 200 and same.headers["ETag"] == '"1"'
    changed = planner.put(url, json={"core_percent": 50, "fashion_percent": 50},
                          headers={"If-Match": '"1"'})
    assert changed.status_code == 200 and changed.headers["ETag"] == '"2"'
    assert changed.get_json()["price_band_low"] is None
    assert planner.put(url, json=body, headers={"If-Match": '"1"'}).status_code == 412
    bad = planner.put(_url(season, "range-intent", second.code),
                      json={"core_percent": 50, "fashion_percent": 40})
    assert bad.status_code == 422 and bad.get_json()["errors"][0]["field"] == "fashion_percent"
    gone = planner.put(_url(season, "range-intent", second.code), json=body,
                       headers={"If-Match": '"1"'})
    assert gone.status_code == 412
    assert planner.put(_url(season, "range-intent", "NOPE"), json=body).status_code == 404
    assert planner.delete(url).status_code == 204
    assert planner.delete(url).status_code == 404


def test_bulk_range_intent_and_its_workflow(api, make, session):
    season = _otb_season(make, SeasonStatus.OTB_UPLOADED)
    leaf = season.test_leaves[0]
    planner = api("planner")
    rows = [{"category_code": leaf.code, "core_percent": 70, "fashion_percent": 30}]
    r = planner.post(_url(season, "range-intent", "bulk"), json={"rows": rows})
    assert r.status_code == 200, r.get_json()
    assert session.scalar(select(RangeIntent.core_percent).where(
        RangeIntent.season_id == season.id)) == Decimal("70")
    too_early = _otb_season(make, SeasonStatus.PLAN_UPLOADED)
    rows = [{"category_code": too_early.test_leaves[0].code, "core_percent": 70,
             "fashion_percent": 30}]
    refused = planner.post(_url(too_early, "range-intent", "bulk"), json={"rows": rows})
    assert refused.status_code == 409


# Plans in bulk, actuals --------------------------------------------------------------------

def test_bulk_plans(api, make, session):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED, locations=[make.location()])
    loc, leaf = season.test_locations[0], make.category()
    r = api("planner").post(_url(season, "plans", "bulk"), json={"rows": [
        {"location_code": loc.location_code, "category_code": leaf.code,
         "planned_sales": 12.5, "planned_margin": "40"}]})
    assert r.status_code == 200, r.get_json()
    assert session.scalar(select(SeasonPlan.planned_sales).where(
        SeasonPlan.season_id == season.id)) == Decimal("12.50")


@pytest.fixture
def march(app, monkeypatch):
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 3, 15))


def test_actuals_written_in_bulk_and_listed(api, make, session, march):
    season = _otb_season(make, SeasonStatus.RANGE_UPLOADED, locations=2)
    (one, two), leaf = season.test_locations, season.test_leaves[0]
    rows = [{"location_code": loc.location_code, "category_code": leaf.code, "month": m,
             "net_sales": "1200.50", "markdowns": 10, "closing_stock": 900, "units_sold": 12}
            for loc in (one, two) for m in ("2026-02", "2026-03")]
    planner = api("planner")
    future = [{**rows[0], "month": "2026-04"}]
    refused = planner.post(_url(season, "actuals", "bulk"), json={"rows": rows + future})
    assert refused.status_code == 422
    assert [(e["index"], e["field"]) for e in refused.get_json()["errors"]] == [(4, "month")]
    assert session.scalar(select(SeasonActual.id).limit(1)) is None
    ok = planner.post(_url(season, "actuals", "bulk"), json={"rows": rows})
    assert ok.status_code == 200, ok.get_json()
    listed = api("viewer").get(_url(season, "actuals") + f"?location={two.id}&month=2026-03")
    assert listed.headers["X-Total-Count"] == "1"
    [row] = listed.get_json()
    assert (row["location_code"], row["month"], row["net_sales"], row["units_sold"],
            row["closing_units"]) == (two.location_code, "2026-03-01", "1200.50", 12, None)
    assert api("viewer").get(_url(season, "actuals") + "?limit=3").headers[
        "X-Total-Count"] == "4"
    locked = _otb_season(make, SeasonStatus.LOCKED)
    late = planner.post(_url(locked, "actuals", "bulk"), json={"rows": [{
        **rows[0], "location_code": locked.test_locations[0].location_code,
        "category_code": locked.test_leaves[0].code}]})
    assert late.status_code == 409


# Moving open to buy ------------------------------------------------------------------------

def test_a_move_is_asked_by_one_planner_and_decided_by_another(api, make, session):
    season = _otb_season(make, SeasonStatus.PLAN_UPLOADED, locations=2)
    one, two = season.test_locations
    leaf = season.test_leaves[0]
    for loc in (one, two):
        for month in (MAR, APR):
            make.otb_row(season, loc, leaf, month, planned_sales="3000",
                         planned_closing_stock="1000", opening_stock="1000", on_order="0")
    advance_season(session, make.admin, season.id)
    asker, other = api("planner"), api("planner")
    body = {"amount": "250", "from_location_code": one.location_code, "from_month": "2026-03",
            "to_location_id": str(two.id), "to_category_code": leaf.code,
            "to_month": "2026-03-01", "reason": "Second store sells more"}
    asked = asker.post(_url(season, "adjustments"), json=body)
    assert asked.status_code == 201, asked.get_json()
    move = asked.get_json()
    assert (move["status"], move["amount"], move["number"]) == ("pending", "250.00", 1)
    assert (move["from_location_id"], move["to_month"]) == (str(one.id), "2026-03-01")
    assert move["from_category_id"] is None and "every category" in move["source"]
    decision = f"/api/v1/adjustments/{move['id']}/decision"
    own = asker.post(decision, json={"approve": True, "note": "Fine by me"})
    assert own.status_code == 403 and "another planner" in own.get_json()["detail"]
    assert api("buyer").post(decision, json={"approve": True, "note": "x"}).status_code == 403
    no_note = other.post(decision, json={"approve": True, "note": " "})
    assert no_note.status_code == 422 and no_note.get_json()["errors"][0]["field"] == "note"
    decided = other.post(decision, json={"approve": True, "note": "Agreed"})
    assert decided.status_code == 200, decided.get_json()
    assert (decided.get_json()["status"], decided.get_json()["decided_by"]) == (
        "approved", other.user.email)
    again = api("admin").post(decision, json={"approve": False, "note": "Too late"})
    assert again.status_code == 409
    cell = asker.get(_url(season, "otb", "cell", two.location_code, leaf.code, "2026-03"))
    assert cell.get_json()["adjustments"] == "250.00"
    assert cell.get_json()["budget"] == "3250.00"
    listed = asker.get(_url(season, "adjustments") + "?status=approved")
    assert listed.headers["X-Total-Count"] == "1"
    assert [m["id"] for m in listed.get_json()] == [move["id"]]
    assert asker.get(_url(season, "adjustments") + "?status=pending").get_json() == []
    assert asker.get(f"/api/v1/adjustments/{move['id']}").get_json()["status"] == "approved"


def test_a_move_refused_by_its_rules(api, make):
    season = _otb_season(make, SeasonStatus.OTB_UPLOADED, locations=2)
    one, two = season.test_locations
    planner = api("planner")
    base = {"amount": "10", "reason": "Because", "from_location_code": one.location_code,
            "to_location_code": two.location_code}
    checks = [({**base, "amount": "0"}, "amount"),
              ({**base, "from_cluster_id": str(one.cluster_id)}, "from_cluster_id"),
              ({**base, "to_month": "2027-01"}, "to_month"),
              ({**base, "to_location_code": "NOWHERE"}, "to_location_code"),
              ({**base, "reason": ""}, "reason")]
    for body, field in checks:
        r = planner.post(_url(season, "adjustments"), json=body)
        assert r.status_code == 422, body
        assert field in {e["field"] for e in r.get_json()["errors"]}, r.get_json()
    early = _otb_season(make, SeasonStatus.PLAN_UPLOADED, locations=2)
    refused = planner.post(_url(early, "adjustments"), json={
        **base, "from_location_code": early.test_locations[0].location_code,
        "to_location_code": early.test_locations[1].location_code})
    assert refused.status_code == 409


# Roles, 404s, the document -----------------------------------------------------------------

@pytest.mark.parametrize("role", ["buyer", "viewer"])
def test_buyers_and_viewers_may_read_and_not_write(api, make, role):
    season = _otb_season(make)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    make.otb_row(season, loc, leaf, FEB, **SEED_OTB)
    client = api(role)
    row = client.get(_url(season, "otb")).get_json()[0]
    plan = client.get(_url(season, "plans")).get_json()[0]
    assert client.get(_url(season, "range-intent")).status_code == 200
    assert client.get(_url(season, "actuals")).status_code == 200
    assert client.get(_url(season, "adjustments")).status_code == 200
    otb = {"location_code": loc.location_code, "category_code": leaf.code, "month": "2026-03",
           **SEED_OTB}
    tag = {"If-Match": f'"{row["version"]}"'}
    attempts = [
        client.post(_url(season, "otb"), json=otb),
        client.put(_url(season, "otb", row["id"]), json=SEED_OTB, headers=tag),
        client.patch(_url(season, "otb", row["id"]), json={"on_order": 1}, headers=tag),
        client.delete(_url(season, "otb", row["id"])),
        client.post(_url(season, "otb", "bulk"), json={"rows": [otb]}),
        client.post(_url(season, "plans"), json={
            "location_code": loc.location_code, "category_code": leaf.code,
            "planned_sales": 1, "planned_margin": 1}),
        client.put(_url(season, "plans", plan["id"]), json={
            "planned_sales": 1, "planned_margin": 1}, headers={"If-Match": '"1"'}),
        client.delete(_url(season, "plans", plan["id"])),
        client.post(_url(season, "plans", "approve"), json={"plan_ids": [plan["id"]]}),
        client.put(_url(season, "range-intent", leaf.code), json={
            "core_percent": 50, "fashion_percent": 50}),
        client.post(_url(season, "adjustments"), json={
            "amount": 1, "reason": "x", "from_month": "2026-02", "to_month": "2026-03"}),
    ]
    for r in attempts:
        assert r.status_code == 403, (r.request.method, r.request.path, r.get_json())
        assert r.get_json()["type"].endswith("problem-forbidden")


def test_unknown_seasons_rows_and_ids_are_404(api, make):
    season = _otb_season(make)
    other = _otb_season(make, SeasonStatus.OTB_UPLOADED)
    planner = api("planner")
    foreign_otb = planner.get(_url(other, "otb")).get_json()[0]["id"]
    foreign_plan = planner.get(_url(other, "plans")).get_json()[0]["id"]
    for url in ("/api/v1/seasons/NOPE-NOPE/plans", "/api/v1/seasons/NOPE-NOPE/otb",
                "/api/v1/seasons/NOPE-NOPE/range-intent", "/api/v1/seasons/NOPE-NOPE/actuals",
                "/api/v1/seasons/NOPE-NOPE/adjustments",
                _url(season, "otb", foreign_otb), _url(season, "otb", "not-an-id"),
                _url(season, "plans", foreign_plan), _url(season, "plans", "12"),
                "/api/v1/adjustments/not-an-id",
                "/api/v1/adjustments/00000000-0000-0000-0000-000000000000"):
        r = planner.get(url)
        assert r.status_code == 404, url
        assert r.mimetype == "application/problem+json"
    assert planner.delete(_url(season, "otb", foreign_otb)).status_code == 404
    assert planner.put(_url(season, "otb", foreign_otb), json=SEED_OTB,
                       headers={"If-Match": '"1"'}).status_code == 404
    assert planner.post("/api/v1/adjustments/00000000-0000-0000-0000-000000000000/decision",
                        json={"approve": True, "note": "x"}).status_code == 404
    assert planner.post("/api/v1/seasons/NOPE-NOPE/otb/bulk",
                        json={"rows": []}).status_code == 404


def test_a_nul_byte_in_a_body_is_refused(api, make, session):
    season = _otb_season(make, SeasonStatus.OTB_UPLOADED, locations=2)
    one, two = season.test_locations
    r = api("planner").post(_url(season, "adjustments"), json={
        "amount": "1", "reason": "bad\x00byte", "from_location_code": one.location_code,
        "to_location_code": two.location_code})
    assert r.status_code == 400 and "NUL" in r.get_json()["detail"]
    r = api("planner").get(_url(season, "otb") + "?location=%00")
    assert r.status_code == 400


def test_the_document_describes_the_planning_paths(anonymous):
    doc = anonymous.get("/api/v1/openapi.json").get_json()
    for path in ("/api/v1/seasons/{season_id}/plans/{plan_id}",
                 "/api/v1/seasons/{season_id}/otb/cell/{location_code}/{category_code}/{month}",
                 "/api/v1/seasons/{season_id}/range-intent/bulk",
                 "/api/v1/adjustments/{adjustment_id}/decision"):
        assert path in doc["paths"]
    assert "RangeIntentBulkRow" in doc["components"]["schemas"]


# PostgreSQL: two PUTs of one row at once ---------------------------------------------------

@pytest.mark.pg
@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's; set "
                                       "KYROS_TEST_DATABASE_URL")
def test_two_puts_with_one_if_match_one_wins(app, make, session):
    """Two PUTs of one OTB row sent with the same If-Match meet at a barrier: the row lock
    lets one through (200) and the other finds the version moved (412)."""
    season = _otb_season(make)
    row = make.otb_row(season, season.test_locations[0], season.test_leaves[0], FEB,
                       **SEED_OTB)
    url = _url(season, "otb", str(row.id))
    secrets = []
    for n in range(2):
        owner = make.user("planner")
        secrets.append(create_token(db.session, None, owner, name=f"race {n}").secret)
    session.commit()
    row_id, version = row.id, row.version  # read here: the threads share no session
    start = threading.Barrier(2)
    answers, errors = [], []

    def put(secret, on_order):
        client = ApiClient(app.test_client(), secret)
        try:
            with app.app_context():
                start.wait()
                r = client.put(url, json={**SEED_OTB, "on_order": on_order},
                               headers={"If-Match": f'"{version}"'})
                answers.append((r.status_code, on_order))
                db.session.remove()
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=put, args=(s, v)) for s, v in zip(secrets, (1, 2))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert sorted(code for code, _ in answers) == [200, 412]
    winner = next(value for code, value in answers if code == 200)
    session.expire_all()
    stored = session.get(OTBPlan, row_id)
    assert (stored.on_order, stored.version) == (Decimal(winner), version + 1)
