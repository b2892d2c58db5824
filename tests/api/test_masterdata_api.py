"""Locations, clusters and categories through the JSON API: the pages' rules, ETags with
If-Match, and problem answers for unknown, bad, clashing and forbidden requests."""
import threading
import uuid

import pytest
from sqlalchemy import select

from kyros_web.audit import AuditEvent
from kyros_web.extensions import db
from kyros_web.masterdata.models import Category, Cluster, Location
from kyros_web.seasons.workflow import SeasonStatus

from ..conftest import PG_URL

ROLES = ("admin", "planner", "buyer", "viewer")
UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _problem(r, status, kind):
    assert r.status_code == status, r.get_json()
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["type"] == f"/api/docs#problem-{kind}"
    return r.get_json()


def _fields(r) -> set:
    return {e["field"] for e in r.get_json()["errors"]}


# Locations ---------------------------------------------------------------------------------

def test_create_read_and_list_a_location(api, make):
    north = make.cluster("North")
    planner = api("planner")
    r = planner.post("/api/v1/locations", json={
        "name": "Leeds", "type": "store", "cluster": "north", "city": "Leeds",
        "country": "UK"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert len(body["location_code"]) == 16 and body["is_active"] is True
    assert (body["cluster"], body["cluster_id"]) == ("North", str(north.id))
    assert body["address"] is None and body["created_at"] and r.headers["ETag"]
    by_code = planner.get(f"/api/v1/locations/{body['location_code'].lower()}")
    by_id = planner.get(f"/api/v1/locations/{body['id']}")
    assert by_code.get_json() == by_id.get_json() == body
    assert by_code.headers["ETag"] == r.headers["ETag"]
    listed = planner.get("/api/v1/locations")
    assert [loc["id"] for loc in listed.get_json()] == [body["id"]]
    assert listed.headers["X-Total-Count"] == "1"
    event = make.session.scalar(select(AuditEvent).where(AuditEvent.entity == "location"))
    assert event.action == "create" and event.via == "api token test planner"


def test_location_with_a_given_code_and_a_cluster_id(api, make):
    cluster = make.cluster()
    r = api("admin").post("/api/v1/locations", json={
        "name": "Depot", "type": "warehouse", "location_code": "wh00000000000001",
        "cluster_id": str(cluster.id)})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["location_code"] == "WH00000000000001"
    assert r.get_json()["type"] == "warehouse"


def test_location_list_filters_as_on_the_page(api, make):
    north, south = make.cluster("North"), make.cluster("South")
    # Codes given, so that no generated code happens to hold the letters searched for.
    leeds = make.location("Leeds", cluster=north, location_code="LS00000000012345")
    make.location("York depot", type="warehouse", cluster=north,
                  location_code="YO00000000000001")
    hull = make.location("Hull", cluster=south, location_code="HU00000000000001")
    planner = api("planner")
    planner.patch(f"/api/v1/locations/{hull.id}", json={"is_active": False},
                  headers={"If-Match": planner.get(f"/api/v1/locations/{hull.id}")
                           .headers["ETag"]})

    def names(query):
        r = planner.get(f"/api/v1/locations?{query}")
        assert r.status_code == 200, r.get_json()
        return [loc["name"] for loc in r.get_json()]

    assert names("") == ["Hull", "Leeds", "York depot"]
    assert names("q=EE") == ["Leeds"]
    assert names(f"q={leeds.location_code[-6:]}") == ["Leeds"]
    assert names("type=warehouse") == ["York depot"]
    assert names(f"cluster_id={north.id}") == ["Leeds", "York depot"]
    assert names("is_active=false") == ["Hull"]
    assert names(f"is_active=true&cluster_id={south.id}") == []
    r = planner.get("/api/v1/locations?skip=1&limit=1")
    assert [loc["name"] for loc in r.get_json()] == ["Leeds"]
    assert r.headers["X-Total-Count"] == "3"
    assert _fields(planner.get("/api/v1/locations?type=castle&limit=0")) == {"type", "limit"}


def test_put_and_patch_a_location_need_if_match(api, make):
    loc = make.location("Leeds", city="Leeds", country="UK")
    other = make.cluster("East")
    planner = api("planner")
    url = f"/api/v1/locations/{loc.location_code}"
    tag = planner.get(url).headers["ETag"]
    body = {"name": "Leeds Central", "type": "store", "cluster_id": str(other.id),
            "city": "Leeds"}
    _problem(planner.put(url, json=body), 428, "precondition-required")
    ok = planner.put(url, json=body, headers={"If-Match": tag})
    assert ok.status_code == 200, ok.get_json()
    put = ok.get_json()
    assert (put["name"], put["cluster"], put["city"], put["country"]) == (
        "Leeds Central", "East", "Leeds", None)
    assert put["location_code"] == loc.location_code and ok.headers["ETag"] != tag
    _problem(planner.patch(url, json={"name": "Stale"}, headers={"If-Match": tag}), 412,
             "stale")
    patched = planner.patch(url, json={"address": "1 Briggate", "cluster": None},
                            headers={"If-Match": ok.headers["ETag"]})
    assert patched.status_code == 200, patched.get_json()
    assert (patched.get_json()["address"], patched.get_json()["name"],
            patched.get_json()["cluster_id"]) == ("1 Briggate", "Leeds Central", None)
    assert planner.get(url).headers["ETag"] == patched.headers["ETag"]


def test_patch_is_active_deactivates_and_activates(api, make, session):
    loc = make.location()
    planner = api("planner")
    url = f"/api/v1/locations/{loc.id}"
    off = planner.patch(url, json={"is_active": False},
                        headers={"If-Match": planner.get(url).headers["ETag"]})
    assert off.status_code == 200 and off.get_json()["is_active"] is False
    on = planner.patch(url, json={"is_active": True, "city": "York"},
                       headers={"If-Match": off.headers["ETag"]})
    assert on.status_code == 200, on.get_json()
    assert (on.get_json()["is_active"], on.get_json()["city"]) == (True, "York")
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity == "location").order_by(AuditEvent.at, AuditEvent.id)).all()
    assert set(actions) == {"create", "deactivate", "activate", "update"}


def test_delete_a_location_unless_referenced(api, make, session):
    free = make.location()
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    used = season.test_locations[0]
    planner = api("planner")
    assert planner.delete(f"/api/v1/locations/{free.location_code}").status_code == 204
    assert session.get(Location, free.id) is None
    refused = _problem(planner.delete(f"/api/v1/locations/{used.id}"), 409, "conflict")
    assert "deactivate it instead" in refused["detail"]
    assert planner.get(f"/api/v1/locations/{used.id}").status_code == 200


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
@pytest.mark.parametrize("key", [UNKNOWN_ID, "ZZZZZZZZZZZZZZZZ", "no-such-thing"])
def test_unknown_location_is_404(api, method, key):
    planner = api("planner")
    kwargs = {} if method in ("get", "delete") else {
        "json": {"name": "X", "type": "store"}, "headers": {"If-Match": '"x"'}}
    _problem(getattr(planner, method)(f"/api/v1/locations/{key}", **kwargs), 404, "not-found")


@pytest.mark.parametrize("body, fields", [
    ({"type": "store"}, {"name"}),
    ({"name": "", "type": "store"}, {"name"}),
    ({"name": "A", "type": "castle"}, {"type"}),
    ({"name": "A", "type": "store", "location_code": "A" * 17}, {"location_code"}),
    ({"name": "A", "type": "store", "location_code": "SHORT"}, {"location_code"}),
    ({"name": "A", "type": "store", "cluster_id": "nope"}, {"cluster_id"}),
    ({"name": "A", "type": "store", "cluster_id": UNKNOWN_ID}, {"cluster_id"}),
    ({"name": "A", "type": "store", "cluster": "Nowhere"}, {"cluster"}),
    ({"name": "A", "type": "store", "is_active": False}, {"is_active"}),
    ({"name": "A" * 201, "type": "store", "city": "C" * 101}, {"name", "city"}),
])
def test_bad_location_input_is_422_with_fields(api, body, fields):
    r = api("planner").post("/api/v1/locations", json=body)
    _problem(r, 422, "validation")
    assert _fields(r) == fields


def test_bad_location_update_is_422(api, make):
    loc = make.location()
    planner = api("planner")
    url = f"/api/v1/locations/{loc.id}"
    tag = {"If-Match": planner.get(url).headers["ETag"]}
    assert _fields(planner.put(url, json={"name": "A"}, headers=tag)) == {"type"}
    assert _fields(planner.patch(url, json={"location_code": "X" * 16}, headers=tag)) == {
        "location_code"}
    both = planner.patch(url, json={"cluster": "A", "cluster_id": UNKNOWN_ID}, headers=tag)
    assert _fields(both) == {"cluster"}
    gone = planner.patch(url, json={"cluster_id": UNKNOWN_ID}, headers=tag)
    assert _fields(gone) == {"cluster_id"}


def test_duplicate_location_code_is_409(api, make):
    loc = make.location()
    r = api("planner").post("/api/v1/locations", json={
        "name": "Twin", "type": "store", "location_code": loc.location_code})
    assert _problem(r, 409, "conflict")["errors"] == [
        {"field": "location_code", "message": f"Location code {loc.location_code} is already used"}]


# Clusters ----------------------------------------------------------------------------------

def test_cluster_endpoints(api, make, session):
    planner = api("planner")
    r = planner.post("/api/v1/clusters", json={"name": "North", "description": "Up there"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["name"], body["description"], body["location_count"]) == (
        "North", "Up there", 0)
    make.location(cluster=session.get(Cluster, uuid.UUID(body["id"])))
    make.cluster("Alpha")
    listed = planner.get("/api/v1/clusters")
    assert [(c["name"], c["location_count"]) for c in listed.get_json()] == [
        ("Alpha", 0), ("North", 1)]
    assert listed.headers["X-Total-Count"] == "2"
    one = planner.get(f"/api/v1/clusters/{body['id']}")
    assert planner.get("/api/v1/clusters/north").get_json() == one.get_json()
    url, tag = f"/api/v1/clusters/{body['id']}", one.headers["ETag"]
    _problem(planner.put(url, json={"name": "N"}), 428, "precondition-required")
    put = planner.put(url, json={"name": "Northern"}, headers={"If-Match": tag})
    assert put.status_code == 200, put.get_json()
    assert (put.get_json()["name"], put.get_json()["description"]) == ("Northern", None)
    _problem(planner.patch(url, json={"description": "x"}, headers={"If-Match": tag}), 412,
             "stale")
    patch = planner.patch(url, json={"description": "Far"},
                          headers={"If-Match": put.headers["ETag"]})
    assert (patch.get_json()["name"], patch.get_json()["description"]) == ("Northern", "Far")
    _problem(planner.delete(url), 409, "conflict")
    assert planner.delete("/api/v1/clusters/alpha").status_code == 204
    assert planner.get("/api/v1/clusters").headers["X-Total-Count"] == "1"


def test_cluster_errors(api, make):
    make.cluster("North")
    south = make.cluster("South")
    planner = api("planner")
    for method in ("get", "put", "patch", "delete"):
        r = getattr(planner, method)(f"/api/v1/clusters/{UNKNOWN_ID}", json={"name": "X"},
                                     headers={"If-Match": '"x"'})
        _problem(r, 404, "not-found")
    _problem(planner.get("/api/v1/clusters/Nowhere"), 404, "not-found")
    assert _fields(planner.post("/api/v1/clusters", json={})) == {"name"}
    assert _fields(planner.post("/api/v1/clusters", json={"name": "X" * 101})) == {"name"}
    dup = planner.post("/api/v1/clusters", json={"name": "NORTH"})
    assert _problem(dup, 409, "conflict")["errors"][0]["field"] == "name"
    url = f"/api/v1/clusters/{south.id}"
    renamed = planner.patch(url, json={"name": "north"},
                            headers={"If-Match": planner.get(url).headers["ETag"]})
    _problem(renamed, 409, "conflict")


# Categories --------------------------------------------------------------------------------

def _tree(make):
    """WOMEN > TOPS > (TEES, SHIRTS), MEN."""
    women = make.category("WOMEN")
    tops = make.category("TOPS", parent=women)
    return {"WOMEN": women, "TOPS": tops, "TEES": make.category("TEES", parent=tops),
            "SHIRTS": make.category("SHIRTS", parent=tops), "MEN": make.category("MEN")}


def test_category_flat_list_with_level_and_leaf(api, make):
    cats = _tree(make)
    viewer = api("viewer")
    r = viewer.get("/api/v1/categories")
    assert r.status_code == 200, r.get_json()
    rows = {c["code"]: c for c in r.get_json()}
    assert [c["code"] for c in r.get_json()] == sorted(rows)
    assert (rows["WOMEN"]["level"], rows["TOPS"]["level"], rows["TEES"]["level"]) == (1, 2, 3)
    assert rows["TEES"]["parent_id"] == str(cats["TOPS"].id)
    assert rows["TEES"]["parent_code"] == "TOPS" and rows["MEN"]["parent_code"] is None
    assert {c for c, row in rows.items() if row["is_leaf"]} == {"TEES", "SHIRTS", "MEN"}
    assert r.headers["X-Total-Count"] == "5"

    def codes(query):
        return [c["code"] for c in viewer.get(f"/api/v1/categories?{query}").get_json()]

    assert codes("level=1") == ["MEN", "WOMEN"]
    assert codes("is_leaf=false") == ["TOPS", "WOMEN"]
    assert codes("parent_code=tops") == ["SHIRTS", "TEES"]
    assert codes(f"parent_id={cats['WOMEN'].id}") == ["TOPS"]
    assert codes("q=shi") == ["SHIRTS"]
    assert codes("skip=1&limit=2") == ["SHIRTS", "TEES"]
    assert _fields(viewer.get("/api/v1/categories?level=0")) == {"level"}


def test_category_tree_nests_children(api, make):
    _tree(make)
    used = make.season(SeasonStatus.PLAN_UPLOADED).test_leaves[0]
    r = api("buyer").get("/api/v1/categories/tree")
    assert r.status_code == 200, r.get_json()
    roots = r.get_json()
    assert [n["code"] for n in roots] == sorted(["MEN", "WOMEN", used.code])
    women = next(n for n in roots if n["code"] == "WOMEN")
    tops = women["children"][0]
    assert (tops["code"], tops["level"], tops["is_leaf"]) == ("TOPS", 2, False)
    assert [(n["code"], n["level"], n["children"]) for n in tops["children"]] == [
        ("SHIRTS", 3, []), ("TEES", 3, [])]
    assert next(n for n in roots if n["code"] == used.code)["in_use"] is True


def test_category_create_read_update_delete(api, make, session):
    cats = _tree(make)
    planner = api("planner")
    r = planner.post("/api/v1/categories", json={"code": "polos", "name": "Polos",
                                                 "parent_code": "TOPS"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert (body["code"], body["parent_id"], body["level"], body["is_leaf"]) == (
        "POLOS", str(cats["TOPS"].id), 3, True)
    by_code = planner.get("/api/v1/categories/polos")
    assert by_code.get_json() == planner.get(f"/api/v1/categories/{body['id']}").get_json()
    url, tag = f"/api/v1/categories/{body['id']}", by_code.headers["ETag"]
    _problem(planner.patch(url, json={"name": "P"}), 428, "precondition-required")
    moved = planner.patch(url, json={"parent_id": str(cats["MEN"].id), "description": "Knit"},
                          headers={"If-Match": tag})
    assert moved.status_code == 200, moved.get_json()
    assert (moved.get_json()["parent_code"], moved.get_json()["name"],
            moved.get_json()["description"], moved.get_json()["level"]) == (
        "MEN", "Polos", "Knit", 2)
    _problem(planner.put(url, json={"name": "Old"}, headers={"If-Match": tag}), 412, "stale")
    put = planner.put(url, json={"name": "Polo shirts"},
                      headers={"If-Match": moved.headers["ETag"]})
    assert put.status_code == 200, put.get_json()
    assert (put.get_json()["parent_id"], put.get_json()["description"],
            put.get_json()["level"]) == (None, None, 1)
    assert planner.delete("/api/v1/categories/POLOS").status_code == 204
    assert session.scalar(select(Category).where(Category.code == "POLOS")) is None


def test_category_refusals(api, make):
    cats = _tree(make)
    used = make.season(SeasonStatus.PLAN_UPLOADED).test_leaves[0]
    planner = api("planner")
    for key in (UNKNOWN_ID, "NOPE"):
        for method in ("get", "put", "patch", "delete"):
            r = getattr(planner, method)(f"/api/v1/categories/{key}", json={"name": "X"},
                                         headers={"If-Match": '"x"'})
            _problem(r, 404, "not-found")
    assert _fields(planner.post("/api/v1/categories", json={"code": "X"})) == {"name"}
    assert _fields(planner.post("/api/v1/categories", json={"code": "A" * 51, "name": "X"})) \
        == {"code"}
    assert _fields(planner.post("/api/v1/categories", json={"code": "A B", "name": "X"})) \
        == {"code"}
    assert _fields(planner.post("/api/v1/categories", json={
        "code": "X", "name": "X", "parent_code": "NOPE"})) == {"parent_code"}
    assert _fields(planner.post("/api/v1/categories", json={
        "code": "X", "name": "X", "parent_id": UNKNOWN_ID})) == {"parent_id"}
    dup = planner.post("/api/v1/categories", json={"code": "tees", "name": "Again"})
    assert _problem(dup, 409, "conflict")["errors"][0]["field"] == "code"
    under_used = planner.post("/api/v1/categories", json={"code": "X", "name": "X",
                                                          "parent_id": str(used.id)})
    assert _fields(under_used) == {"parent_id"}
    url = f"/api/v1/categories/{cats['TOPS'].id}"
    tag = {"If-Match": planner.get(url).headers["ETag"]}
    cycle = planner.patch(url, json={"parent_code": "TEES"}, headers=tag)
    assert _fields(cycle) == {"parent_id"}
    assert _fields(planner.patch(url, json={"code": "NEW"}, headers=tag)) == {"code"}
    assert "sub-categories" in _problem(planner.delete(url), 409, "conflict")["detail"]
    in_use = _problem(planner.delete(f"/api/v1/categories/{used.code}"), 409, "conflict")
    assert "cannot be deleted" in in_use["detail"]


# Roles -------------------------------------------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_every_role_may_read(api, make, role):
    loc = make.location()
    cat = make.category("READ")
    client = api(role)
    for url in ("/api/v1/locations", f"/api/v1/locations/{loc.id}", "/api/v1/clusters",
                f"/api/v1/clusters/{loc.cluster_id}", "/api/v1/categories",
                "/api/v1/categories/tree", f"/api/v1/categories/{cat.code}"):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("role", ["buyer", "viewer"])
def test_buyer_and_viewer_may_not_write(api, make, session, role):
    loc, cat = make.location(), make.category("KEEP")
    client = api(role)
    reader = api("planner")

    def tag(url):
        return {"If-Match": reader.get(url).headers["ETag"]}

    loc_url = f"/api/v1/locations/{loc.id}"
    cluster_url = f"/api/v1/clusters/{loc.cluster_id}"
    cat_url = f"/api/v1/categories/{cat.id}"
    refused = [
        client.post("/api/v1/locations", json={"name": "A", "type": "store"}),
        client.put(loc_url, json={"name": "A", "type": "store"}, headers=tag(loc_url)),
        client.patch(loc_url, json={"is_active": False}, headers=tag(loc_url)),
        client.delete(loc_url),
        client.post("/api/v1/clusters", json={"name": "A"}),
        client.put(cluster_url, json={"name": "A"}, headers=tag(cluster_url)),
        client.patch(cluster_url, json={"name": "A"}, headers=tag(cluster_url)),
        client.delete(cluster_url),
        client.post("/api/v1/categories", json={"code": "A", "name": "A"}),
        client.put(cat_url, json={"name": "A"}, headers=tag(cat_url)),
        client.patch(cat_url, json={"name": "A"}, headers=tag(cat_url)),
        client.delete(cat_url),
    ]
    assert [r.status_code for r in refused] == [403] * len(refused)
    assert all(r.get_json()["type"].endswith("forbidden") for r in refused)
    session.expire_all()
    assert session.get(Location, loc.id).is_active and session.get(Category, cat.id).name == "KEEP"
    assert len(session.scalars(select(Location)).all()) == 1


def test_a_read_only_token_may_not_write(api, make):
    loc = make.location()
    url = f"/api/v1/locations/{loc.id}"
    planner = api("planner", read_only=True)
    assert planner.get(url).status_code == 200
    _problem(planner.delete(url), 403, "forbidden")


# Concurrency -------------------------------------------------------------------------------

@pytest.mark.pg
@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's; set "
                                       "KYROS_TEST_DATABASE_URL (CI does)")
def test_two_patches_with_one_etag_one_wins(app, api, make, session):
    """Two PATCHes of one location with the same If-Match meet at a barrier: the row lock
    makes the second compare against the first's result, so exactly one is saved."""
    for n in range(10):
        loc = make.location(f"Race {n}")
        url = f"/api/v1/locations/{loc.id}"
        clients = [api("planner"), api("admin")]
        tag = clients[0].get(url).headers["ETag"]
        session.commit()
        barrier = threading.Barrier(2)
        answers, errors = [None, None], []

        def patch(i):
            with app.app_context():  # each thread its own session and connection
                try:
                    barrier.wait(timeout=30)
                    r = clients[i].patch(url, json={"name": f"Race {n} by {i}"},
                                         headers={"If-Match": tag})
                    answers[i] = (r.status_code, r.get_json()["name"] if r.status_code == 200
                                  else r.get_json()["type"])
                except Exception as exc:  # reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=patch, args=(i,)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        assert sorted(status for status, _ in answers) == [200, 412], answers
        winner = next(name for status, name in answers if status == 200)
        assert next(v for s, v in answers if s == 412).endswith("stale")
        session.expire_all()
        assert session.get(Location, loc.id).name == winner
        updates = session.scalars(select(AuditEvent).where(
            AuditEvent.entity == "location", AuditEvent.entity_id == str(loc.id),
            AuditEvent.action == "update")).all()
        assert len(updates) == 1
