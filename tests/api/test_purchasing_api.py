"""Purchase orders, goods received and releases through the JSON API: the seed's worked example
with the PO page's figures, the page's filters, If-Match, the OTB policy, bulk writes, roles
and the refusals."""
import threading
import time
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.extensions import db
from kyros_web.models import GRNRecord, POStatus, PurchaseOrder
from kyros_web.planning.queries import cell_figures
from kyros_web.purchasing import queries
from kyros_web.purchasing import services as purchasing
from kyros_web.seasons.services import advance_season
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.sorting import Sort
from kyros_web.uploads.models import Upload

from ..conftest import PG_URL

FEB = date(2026, 2, 1)


@pytest.fixture
def seed(make, session):
    """The seed's example: one location, one leaf category, OTB 100,000 + 0 + 50,000 − 30,000
    − 10,000 = 110,000 in February, the season range_uploaded."""
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    make.otb_row(season, loc, leaf, FEB, planned_sales="100000", planned_markdowns="0",
                 planned_closing_stock="50000", opening_stock="30000", on_order="10000")
    advance_season(session, make.admin, season.id)
    make.fill(season)
    advance_season(session, make.admin, season.id)
    return season, loc, leaf


@pytest.fixture
def buying(make):
    """A range_uploaded season whose one cell has OTB 3,000 in February."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    return season, season.test_locations[0], season.test_leaves[0]


@pytest.fixture
def block(app):
    app.config["KYROS_OTB_POLICY"] = "block"
    yield
    app.config["KYROS_OTB_POLICY"] = "warn"


def _po(loc, leaf, number="PO-1", value="1000", **kw):
    return {"po_number": number, "location_id": str(loc.id), "category_id": str(leaf.id),
            "po_value": value, "order_date": "2026-02-03", **kw}


def _url(season, *parts):
    return "/".join([f"/api/v1/seasons/{season.season_code}", *parts])


def _new_po(api_client, season, loc, leaf, number="PO-1", value="1000", **kw):
    r = api_client.post(_url(season, "pos"), json=_po(loc, leaf, number, value, **kw))
    assert r.status_code == 201, r.get_json()
    return r


def test_the_seed_example_gives_the_figures_of_the_po_page(api, session, seed):
    """PO 12,500 against OTB 110,000, then a GRN of 11,250: the list shows received 11,250,
    1,250 still to receive, 12,500 committed, as the page's own query does."""
    season, loc, leaf = seed
    buyer = api("buyer")
    created = _new_po(buyer, season, loc, leaf, "PO-SEED", "12500", order_date="2026-02-01",
                      supplier="Acme")
    body = created.get_json()
    assert created.headers["ETag"] == '"1"'
    assert (body["status"], body["source"], body["po_value"], body["committed"],
            body["received"], body["still_to_receive"], body["cell_over_by"],
            body["over_otb_by"]) == ("open", "api", "12500.00", "12500.00", "0.00",
                                     "12500.00", None, None)
    assert (body["delivery_date"], body["location_code"], body["category_code"]) == (
        "2026-02-01", loc.location_code, leaf.code)
    grn = buyer.post(_url(season, "grns"), json={
        "po_number": "PO-SEED", "grn_number": "GRN-SEED", "grn_date": "2026-02-20",
        "received_value": "11250"})
    assert grn.status_code == 201, grn.get_json()
    assert (grn.get_json()["received_value"], grn.get_json()["po_number"]) == ("11250.00",
                                                                               "PO-SEED")

    listed = api("viewer").get(_url(season, "pos"))
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "1"
    [row] = listed.get_json()
    assert (row["po_number"], row["status"], row["received"], row["still_to_receive"],
            row["committed"]) == ("PO-SEED", "partially_received", "11250.00", "1250.00",
                                  "12500.00")
    f = queries.POFilters()
    [page_row] = queries.po_page(session, season.id, f, 1, 50,
                                 queries.po_totals(session, season.id, f)).items
    assert (D(row["received"]), D(row["committed"]), row["cell_over_by"]) == (
        page_row.received, page_row.committed, page_row.cell_over_by)
    figures = cell_figures(session, season.id, loc.id, leaf.id, FEB)
    assert (figures.otb, figures.committed, figures.remaining) == (
        D("110000"), D("12500"), D("97500"))

    one = api("viewer").get(_url(season, "pos", "PO-SEED"))
    assert one.headers["ETag"] == '"2"'  # the receipt moved it to partly received
    assert [(g["grn_number"], g["received_value"]) for g in one.get_json()["grns"]] == [
        ("GRN-SEED", "11250.00")]
    grns = api("viewer").get(_url(season, "grns"))
    assert [g["grn_number"] for g in grns.get_json()] == ["GRN-SEED"]
    assert grns.headers["X-Total-Count"] == "1"
    item = api("viewer").get(_url(season, "grns", grn.get_json()["id"]))
    assert item.status_code == 200 and item.get_json() == grn.get_json()
    by_id = api("viewer").get(f"/api/v1/seasons/{season.id}/pos/PO-SEED")
    assert by_id.get_json() == one.get_json()


def test_the_list_filters_sorts_and_pages_as_the_page(api, make, session):
    """Filters by status, source, supplier, number, location, category (with those under it)
    and month; sort and skip/limit keep the page query's order."""
    parent = make.category("WOMEN")
    tops, skirts = make.category("W-TOPS", parent=parent), make.category("W-SKIRTS",
                                                                          parent=parent)
    season = make.season(SeasonStatus.RANGE_UPLOADED, leaves=[tops, skirts])
    loc = season.test_locations[0]
    buyer = api("buyer")
    for number, leaf, value, supplier, day in [
            ("A-1", tops, "100", "Acme", "2026-02-03"), ("A-2", skirts, "300", "Bolt",
                                                        "2026-03-04"),
            ("B-1", tops, "200", "acme ltd", "2026-04-05")]:
        _new_po(buyer, season, loc, leaf, number, value, supplier=supplier, order_date=day)
    buyer.post(_url(season, "pos", "A-2", "cancel"))
    viewer = api("viewer")

    def numbers(query):
        r = viewer.get(_url(season, "pos") + "?" + query)
        assert r.status_code == 200, r.get_json()
        return [p["po_number"] for p in r.get_json()], int(r.headers["X-Total-Count"])

    assert numbers("") == (["B-1", "A-2", "A-1"], 3)  # newest first
    assert numbers("status=cancelled") == (["A-2"], 1)
    assert numbers("supplier=ACME") == (["B-1", "A-1"], 2)
    assert numbers("number=a-") == (["A-2", "A-1"], 2)
    assert numbers(f"category_id={parent.id}") == (["B-1", "A-2", "A-1"], 3)
    assert numbers(f"category_id={skirts.id}") == (["A-2"], 1)
    assert numbers(f"location_id={loc.id}&month=2026-04") == (["B-1"], 1)
    assert numbers("source=manual") == ([], 0)
    assert numbers("sort=value&dir=desc") == (["A-2", "B-1", "A-1"], 3)
    assert numbers("sort=value&skip=1&limit=1") == (["B-1"], 3)
    f = queries.POFilters(sort=Sort("value", True))
    page = queries.po_page(session, season.id, f, 1, 50, queries.po_totals(session, season.id, f))
    assert [r.PurchaseOrder.po_number for r in page.items] == ["A-2", "B-1", "A-1"]
    bad = viewer.get(_url(season, "pos") + "?status=lost&month=2026-13&limit=0")
    assert bad.status_code == 422
    assert {e["field"] for e in bad.get_json()["errors"]} == {"status", "month", "limit"}


def test_grn_list_searches_by_number(api, buying):
    season, loc, leaf = buying
    buyer = api("buyer")
    _new_po(buyer, season, loc, leaf, "PO-1", "1000")
    _new_po(buyer, season, loc, leaf, "PO-2", "1000")
    for grn, po, day in [("G-1", "PO-1", "2026-02-04"), ("G-2", "PO-2", "2026-02-05"),
                         ("G-3", "PO-2", "2026-02-06")]:
        assert buyer.post(_url(season, "grns"), json={
            "po_number": po, "grn_number": grn, "grn_date": day,
            "received_value": "10"}).status_code == 201
    r = buyer.get(_url(season, "grns") + "?number=po-2")
    assert [g["grn_number"] for g in r.get_json()] == ["G-3", "G-2"]
    r = buyer.get(_url(season, "grns") + "?sort=grn&limit=2&skip=1")
    assert [g["grn_number"] for g in r.get_json()] == ["G-2", "G-3"]
    assert r.headers["X-Total-Count"] == "3"


def test_put_and_patch_need_a_current_if_match(api, buying):
    season, loc, leaf = buying
    buyer = api("buyer")
    created = _new_po(buyer, season, loc, leaf, "PO-1", "1000", supplier="Acme")
    url, tag = _url(season, "pos", "PO-1"), created.headers["ETag"]
    body = _po(loc, leaf, "PO-1", "1200", supplier="Bolt")
    missing = buyer.put(url, json=body)
    assert missing.status_code == 428 and missing.get_json()["type"].endswith(
        "precondition-required")
    put = buyer.put(url, json=body, headers={"If-Match": tag})
    assert put.status_code == 200, put.get_json()
    assert (put.get_json()["po_value"], put.get_json()["supplier"], put.get_json()["source"],
            put.headers["ETag"]) == ("1200.00", "Bolt", "api", '"2"')
    stale = buyer.patch(url, json={"supplier": "Crane"}, headers={"If-Match": tag})
    assert stale.status_code == 412 and stale.get_json()["type"].endswith("stale")
    assert buyer.patch(url, json={"supplier": "Crane"}).status_code == 428
    patched = buyer.patch(url, json={"supplier": "Crane", "delivery_date": "2026-03-02"},
                          headers={"If-Match": '"2"'})
    assert patched.status_code == 200, patched.get_json()
    body = patched.get_json()
    assert (body["supplier"], body["po_value"], body["delivery_date"], body["version"]) == (
        "Crane", "1200.00", "2026-03-02", 3)
    renamed = buyer.patch(url, json={"po_number": "PO-1B"}, headers={"If-Match": '"3"'})
    assert renamed.status_code == 200
    assert buyer.get(_url(season, "pos", "PO-1B")).get_json()["supplier"] == "Crane"
    assert buyer.get(url).status_code == 404
    not_a_tag = buyer.patch(_url(season, "pos", "PO-1B"), json={"supplier": "X"},
                            headers={"If-Match": '"abc"'})
    assert not_a_tag.status_code == 412


def test_an_update_below_what_was_received_is_refused(api, buying):
    season, loc, leaf = buying
    buyer = api("buyer")
    _new_po(buyer, season, loc, leaf, "PO-1", "1000")
    buyer.post(_url(season, "grns"), json={"po_number": "PO-1", "grn_number": "G-1",
                                           "grn_date": "2026-02-04", "received_value": "600"})
    r = buyer.patch(_url(season, "pos", "PO-1"), json={"po_value": "500"},
                    headers={"If-Match": '"2"'})
    assert r.status_code == 422
    assert [e["field"] for e in r.get_json()["errors"]] == ["po_value"]


def test_validation_names_the_fields(api, buying):
    season, loc, leaf = buying
    buyer = api("buyer")
    r = buyer.post(_url(season, "pos"), json={"po_number": "PO-1"})
    assert r.status_code == 422
    assert {"location_id", "category_id", "po_value", "order_date"} <= {
        e["field"] for e in r.get_json()["errors"]}
    for bad, field in [({"po_value": "1.005"}, "po_value"), ({"po_value": "0"}, "po_value"),
                       ({"po_number": "PO 1"}, "po_number"), ({"source": "csv"}, "source"),
                       ({"delivery_date": "2026-02-01"}, "delivery_date"),
                       ({"delivery_date": "2026-06-01"}, "delivery_date")]:
        r = buyer.post(_url(season, "pos"), json={**_po(loc, leaf), **bad})
        assert r.status_code == 422, bad
        assert r.get_json()["type"].endswith("validation")
        assert field in {e["field"] for e in r.get_json()["errors"]}, r.get_json()
    _new_po(buyer, season, loc, leaf, "PO-1")
    again = buyer.post(_url(season, "pos"), json=_po(loc, leaf, "PO-1"))
    assert again.status_code == 422 and "already used" in again.get_json()["detail"]
    grn = buyer.post(_url(season, "grns"), json={"po_number": "PO-9", "grn_number": "G-1",
                                                 "grn_date": "2026-02-04",
                                                 "received_value": "1"})
    assert grn.status_code == 422 and grn.get_json()["errors"][0]["field"] == "po_number"
    over = buyer.post(_url(season, "grns"), json={"po_number": "PO-1", "grn_number": "G-1",
                                                  "grn_date": "2026-02-04",
                                                  "received_value": "1000.01"})
    assert over.status_code == 422 and "Over-receipt" in over.get_json()["detail"]


def test_warn_saves_over_otb_and_says_by_how_much(api, buying):
    season, loc, leaf = buying
    r = _new_po(api("buyer"), season, loc, leaf, "PO-1", "3500")
    assert (r.get_json()["over_otb_by"], r.get_json()["cell_over_by"]) == ("500.00", "500.00")


def test_block_refuses_over_budget_unless_a_release_is_asked(api, buying, block, session):
    season, loc, leaf = buying
    buyer = api("buyer")
    refused = buyer.post(_url(season, "pos"), json=_po(loc, leaf, "PO-1", "3500"))
    assert refused.status_code == 409
    body = refused.get_json()
    assert body["type"].endswith("over-budget") and "over OTB by 500.00" in body["detail"]
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 0
    held = _new_po(buyer, season, loc, leaf, "PO-1", "3500",
                   release_reason="The supplier's minimum order").get_json()
    assert (held["status"], held["committed"], held["over_otb_by"]) == (
        "awaiting_release", "0.00", "500.00")
    assert [(r["status"], r["over_by"], r["reason"]) for r in held["releases"]] == [
        ("pending", "500.00", "The supplier's minimum order")]
    _new_po(buyer, season, loc, leaf, "PO-2", "2000")
    raised = buyer.patch(_url(season, "pos", "PO-2"), json={"po_value": "3000.01"},
                         headers={"If-Match": '"1"'})
    assert raised.status_code == 409 and raised.get_json()["type"].endswith("over-budget")
    assert raised.get_json()["errors"][0]["field"] == "po_value"


def test_a_planner_releases_what_a_buyer_asked(api, buying, block, make):
    season, loc, leaf = buying
    buyer = api("buyer")
    _new_po(buyer, season, loc, leaf, "PO-1", "3500", release_reason="Launch stock")
    _new_po(buyer, season, loc, leaf, "PO-2", "3100", release_reason="More")
    planner = api("planner")
    waiting = planner.get("/api/v1/po-releases?waiting=true")
    assert waiting.status_code == 200 and waiting.headers["X-Total-Count"] == "2"
    assert [r["po_number"] for r in waiting.get_json()] == ["PO-2", "PO-1"]
    assert waiting.get_json()[0]["requested_at"].endswith("+00:00")
    assert api("viewer").get("/api/v1/po-releases?waiting=true").get_json() == []
    assert buyer.get("/api/v1/po-releases?waiting=true").get_json() == []
    mine = buyer.get("/api/v1/po-releases?mine=true&limit=1")
    assert [r["po_number"] for r in mine.get_json()] == ["PO-2"]
    assert mine.headers["X-Total-Count"] == "2"
    by_season = api("viewer").get(f"/api/v1/po-releases?season_id={season.season_code}"
                                  "&status=pending")
    assert len(by_season.get_json()) == 2
    release_id = waiting.get_json()[1]["id"]
    url = f"/api/v1/po-releases/{release_id}/decision"
    assert buyer.post(url, json={"decision": "approve", "note": "x"}).status_code == 403
    admin = api("admin")
    _new_po(admin, season, loc, leaf, "PO-3", "3100", release_reason="Mine")
    [own] = admin.get("/api/v1/po-releases?mine=true").get_json()
    refused = admin.post(f"/api/v1/po-releases/{own['id']}/decision",
                         json={"decision": "approve", "note": "mine"})
    assert refused.status_code == 403 and "You asked" in refused.get_json()["detail"]
    assert api("viewer").post(url, json={"decision": "approve", "note": "x"}).status_code == 403
    no_note = planner.post(url, json={"decision": "approve", "note": " "})
    assert no_note.status_code == 422 and no_note.get_json()["errors"][0]["field"] == "note"
    assert planner.post(url, json={"decision": "maybe", "note": "x"}).status_code == 422
    done = planner.post(url, json={"decision": "approve", "note": "Go ahead"})
    assert done.status_code == 200, done.get_json()
    assert (done.get_json()["status"], done.get_json()["decided_by"],
            done.get_json()["decision_note"]) == ("approved", planner.user.email, "Go ahead")
    po = buyer.get(_url(season, "pos", "PO-1")).get_json()
    assert (po["status"], po["committed"]) == ("open", "3500.00")
    again = api("admin").post(url, json={"decision": "reject", "note": "late"})
    assert again.status_code == 409 and again.get_json()["type"].endswith("conflict")
    assert planner.post("/api/v1/po-releases/nope/decision",
                        json={"decision": "approve", "note": "x"}).status_code == 404
    unknown = "00000000-0000-0000-0000-000000000000"
    assert planner.post(f"/api/v1/po-releases/{unknown}/decision",
                        json={"decision": "approve", "note": "x"}).status_code == 404


def test_cancel_and_short_close(api, buying):
    season, loc, leaf = buying
    buyer = api("buyer")
    _new_po(buyer, season, loc, leaf, "PO-1", "1000")
    _new_po(buyer, season, loc, leaf, "PO-2", "1000")
    stale = buyer.post(_url(season, "pos", "PO-1", "cancel"), headers={"If-Match": '"7"'})
    assert stale.status_code == 412
    cancelled = buyer.post(_url(season, "pos", "PO-1", "cancel"), headers={"If-Match": '"1"'})
    assert cancelled.status_code == 200, cancelled.get_json()
    body = cancelled.get_json()
    assert (body["status"], body["committed"], body["still_to_receive"]) == (
        "cancelled", "0.00", "0.00")
    assert cancelled.headers["ETag"] == '"2"'
    not_partial = buyer.post(_url(season, "pos", "PO-2", "short-close"))
    assert not_partial.status_code == 422
    assert not_partial.get_json()["errors"][0]["field"] == "status"
    buyer.post(_url(season, "grns"), json={"po_number": "PO-2", "grn_number": "G-1",
                                           "grn_date": "2026-02-04", "received_value": "300"})
    with_goods = buyer.post(_url(season, "pos", "PO-2", "cancel"))
    assert with_goods.status_code == 422 and "short-close it" in with_goods.get_json()["detail"]
    closed = buyer.post(_url(season, "pos", "PO-2", "short-close"))
    assert closed.status_code == 200
    body = closed.get_json()
    assert (body["status"], body["received"], body["committed"], body["still_to_receive"]) == (
        "closed", "300.00", "300.00", "0.00")
    changed = buyer.patch(_url(season, "pos", "PO-2"), json={"supplier": "X"},
                          headers={"If-Match": closed.headers["ETag"]})
    assert changed.status_code == 422 and "no longer be changed" in changed.get_json()["detail"]


def test_a_locked_season_refuses_every_write(api, make, session, buying):
    season, loc, leaf = buying
    buyer = api("buyer")
    _new_po(buyer, season, loc, leaf, "PO-1", "1000")
    advance_season(session, make.admin, season.id)
    assert season.status is SeasonStatus.LOCKED
    answers = [
        buyer.post(_url(season, "pos"), json=_po(loc, leaf, "PO-2")),
        buyer.patch(_url(season, "pos", "PO-1"), json={"supplier": "X"},
                    headers={"If-Match": '"1"'}),
        buyer.post(_url(season, "pos", "PO-1", "cancel")),
        buyer.post(_url(season, "grns"), json={"po_number": "PO-1", "grn_number": "G-1",
                                               "grn_date": "2026-02-04", "received_value": "1"}),
        buyer.post(_url(season, "pos", "bulk"), json={"rows": [{
            "po_number": "PO-3", "location_code": loc.location_code,
            "category_code": leaf.code, "po_value": "10", "order_date": "2026-02-03"}]}),
    ]
    for r in answers:
        assert r.status_code == 409, r.get_json()
        assert r.get_json()["type"].endswith("workflow")
    assert buyer.get(_url(season, "pos")).status_code == 200


def test_a_season_before_buying_refuses_a_po(api, make):
    season = make.season(SeasonStatus.OTB_UPLOADED)
    r = api("buyer").post(_url(season, "pos"), json=_po(season.test_locations[0],
                                                        season.test_leaves[0]))
    assert r.status_code == 409 and r.get_json()["type"].endswith("workflow")


WRITES = [
    ("post", ("pos",), "po"),
    ("patch", ("pos", "PO-1"), {"supplier": "X"}),
    ("put", ("pos", "PO-1"), "po"),
    ("post", ("pos", "PO-1", "cancel"), None),
    ("post", ("pos", "PO-1", "short-close"), None),
    ("post", ("grns",), {"po_number": "PO-1", "grn_number": "G-1", "grn_date": "2026-02-04",
                         "received_value": "1"}),
    ("post", ("pos", "bulk"), "bulk"),
    ("post", ("grns", "bulk"), {"rows": [{"po_number": "PO-1", "grn_number": "G-1",
                                          "grn_date": "2026-02-04", "received_value": "1"}]}),
]


@pytest.mark.parametrize("role", ["planner", "viewer"])
@pytest.mark.parametrize("method, parts, body", WRITES)
def test_only_buyers_and_admins_write(api, buying, session, role, method, parts, body):
    season, loc, leaf = buying
    _new_po(api("buyer"), season, loc, leaf, "PO-1", "1000")
    if body == "po":
        body = _po(loc, leaf, "PO-9")
    elif body == "bulk":
        body = {"rows": [{"po_number": "PO-9", "location_code": loc.location_code,
                          "category_code": leaf.code, "po_value": "10",
                          "order_date": "2026-02-03"}]}
    r = getattr(api(role), method)(_url(season, *parts), json=body,
                                   headers={"If-Match": '"1"'})
    assert r.status_code == 403, r.get_json()
    assert r.get_json()["type"].endswith("forbidden")
    session.expire_all()
    po = session.scalar(select(PurchaseOrder))
    assert (po.version, po.supplier, po.status) == (1, None, POStatus.OPEN)
    assert session.scalar(select(func.count(GRNRecord.id))) == 0
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 1


def test_an_admin_buys_too(api, buying):
    season, loc, leaf = buying
    _new_po(api("admin"), season, loc, leaf, "PO-1", "1000")


def test_not_found(api, buying, make):
    season, loc, leaf = buying
    other = make.season(SeasonStatus.RANGE_UPLOADED)
    buyer = api("buyer")
    _new_po(buyer, other, other.test_locations[0], other.test_leaves[0], "PO-OTHER")
    for url in ["/api/v1/seasons/NOPE/pos", "/api/v1/seasons/NOPE/grns",
                _url(season, "pos", "PO-OTHER"), _url(season, "pos", "PO-9"),
                _url(season, "grns", "not-a-uuid"),
                _url(season, "grns", "00000000-0000-0000-0000-000000000000"),
                "/api/v1/po-releases?season_id=NOPE"]:
        r = buyer.get(url)
        assert r.status_code == 404, url
        assert r.mimetype == "application/problem+json"
    for url in [_url(season, "pos", "PO-OTHER", "cancel"), _url(season, "pos", "PO-9",
                                                                    "short-close")]:
        assert buyer.post(url).status_code == 404
    assert buyer.patch(_url(season, "pos", "PO-9"), json={"supplier": "X"},
                       headers={"If-Match": '"1"'}).status_code == 404
    assert buyer.post("/api/v1/seasons/NOPE/pos", json=_po(loc, leaf)).status_code == 404


def _bulk_rows(loc, leaf, n=5):
    return [{"po_number": f"BULK-{i}", "location_code": loc.location_code,
             "category_code": leaf.code, "po_value": "100.50", "order_date": "2026-02-03",
             "supplier": "Acme"} for i in range(n)]


def test_bulk_pos_with_a_bad_row_in_the_middle_save_nothing(api, buying, session):
    season, loc, leaf = buying
    rows = _bulk_rows(loc, leaf)
    rows[2]["location_code"] = "NOWHERE"
    r = api("buyer").post(_url(season, "pos", "bulk"), json={"rows": rows})
    assert r.status_code == 422
    body = r.get_json()
    assert (body["rejected"], body["rows"]) == (1, 5)
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(2, "location_code")]
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 0
    assert session.scalar(select(func.count(Upload.id))) == 0


def test_bulk_pos_and_grns_are_written_as_source_api(api, buying, session):
    season, loc, leaf = buying
    buyer = api("buyer")
    r = buyer.post(_url(season, "pos", "bulk"), json={"rows": _bulk_rows(loc, leaf)})
    assert r.status_code == 200, r.get_json()
    assert (r.get_json()["kind"], r.get_json()["new"]) == ("pos", 5)
    listed = buyer.get(_url(season, "pos") + "?source=api")
    assert listed.headers["X-Total-Count"] == "5"
    assert {p["po_value"] for p in listed.get_json()} == {"100.50"}
    grns = buyer.post(_url(season, "grns", "bulk"), json={"rows": [
        {"po_number": "BULK-1", "grn_number": "G-1", "grn_date": "2026-02-04",
         "received_value": "100.50"},
        {"po_number": "BULK-2", "grn_number": "G-2", "grn_date": "2026-02-04",
         "received_value": 50}]})
    assert grns.status_code == 200, grns.get_json()
    statuses = {p["po_number"]: p["status"]
                for p in buyer.get(_url(season, "pos")).get_json()}
    assert (statuses["BULK-1"], statuses["BULK-2"], statuses["BULK-3"]) == (
        "received", "partially_received", "open")
    assert {u.source for u in session.scalars(select(Upload))} == {"api"}


def test_bulk_pos_under_block_refuse_the_row_over_budget(api, buying, block, session):
    season, loc, leaf = buying
    rows = _bulk_rows(loc, leaf, 3)
    rows[1]["po_value"] = "3000"
    r = api("buyer").post(_url(season, "pos", "bulk"), json={"rows": rows})
    assert r.status_code == 422
    assert [(e["index"], e["field"]) for e in r.get_json()["errors"]] == [(1, "po_value")]
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 0


def test_bulk_pos_with_one_idempotency_key_write_once(api, buying, session):
    season, loc, leaf = buying
    buyer = api("buyer")
    key = {"Idempotency-Key": "erp-batch-17"}
    body = {"rows": _bulk_rows(loc, leaf, 3)}
    first = buyer.post(_url(season, "pos", "bulk"), json=body, headers=key)
    again = buyer.post(_url(season, "pos", "bulk"), json=body, headers=key)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    assert session.scalar(select(func.count(Upload.id))) == 1
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 3
    assert session.scalar(select(func.max(PurchaseOrder.version))) == 1


def test_the_document_describes_purchasing(anonymous):
    doc = anonymous.get("/api/v1/openapi.json").get_json()
    for path in ["/api/v1/seasons/{season_id}/pos", "/api/v1/seasons/{season_id}/pos/bulk",
                 "/api/v1/seasons/{season_id}/pos/{po_number}/short-close",
                 "/api/v1/seasons/{season_id}/grns/{grn_id}",
                 "/api/v1/po-releases/{release_id}/decision"]:
        assert path in doc["paths"]
    assert {"PurchaseOrder", "PurchaseOrderDetail", "GoodsReceived", "PurchaseOrderRelease"} <= set(
        doc["components"]["schemas"])


@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's; set KYROS_TEST_DATABASE_URL")
def test_two_patches_with_one_if_match_one_wins(app, api, buying, session, monkeypatch):
    """Two PATCHes of one PO sent with the same If-Match at the same moment: the version is
    compared under the row lock, so exactly one is saved and the other is told 412, even
    with a pause between the check and the write."""
    season, loc, leaf = buying
    _new_po(api("buyer"), season, loc, leaf, "PO-1", "1000")
    session.commit()
    real = purchasing.require_version

    def slow_require_version(*args, **kwargs):
        real(*args, **kwargs)
        time.sleep(0.05)  # the gap a second writer would need without the lock

    monkeypatch.setattr(purchasing, "require_version", slow_require_version)
    clients = [api("buyer"), api("buyer")]
    url = _url(season, "pos", "PO-1")
    start = threading.Barrier(2)
    answers, errors = {}, []

    def patch(n):
        with app.app_context():
            try:
                start.wait()
                r = clients[n].patch(url, json={"supplier": f"Supplier {n}"},
                                     headers={"If-Match": '"1"'})
                answers[n] = (r.status_code, r.get_json())
            except Exception as exc:  # reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=patch, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors
    assert sorted(code for code, _ in answers.values()) == [200, 412], answers
    winner = next(n for n, (code, _) in answers.items() if code == 200)
    session.expire_all()
    po = session.scalar(select(PurchaseOrder))
    assert (po.version, po.supplier) == (2, f"Supplier {winner}")
