"""Bulk writes: all or nothing, every refused row named, idempotency, source "api"."""
import uuid

from sqlalchemy import select

from kyros_web.audit import AuditEvent
from kyros_web.masterdata.models import Location
from kyros_web.uploads.models import Upload


def _rows(n):
    return [{"name": f"Store {i}", "type": "store", "location_code": f"ST{i:014d}",
             "city": "Leeds"} for i in range(n)]


def test_bulk_locations_written_and_recorded(api, session):
    planner = api("planner")
    r = planner.post("/api/v1/locations/bulk", json={"rows": _rows(3)})
    assert r.status_code == 200, r.get_json()
    body = r.get_json()
    assert (body["rows"], body["new"], body["updated"]) == (3, 3, 0)
    assert session.scalar(select(Location).where(Location.location_code == "ST" + "2".zfill(14))).city == "Leeds"
    upload = session.get(Upload, uuid.UUID(body["import_id"]))
    assert upload.source == "api" and upload.rows_new == 3
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "import"))
    assert event.via == "api token test planner"


def test_a_bad_row_in_the_middle_saves_nothing(api, session):
    rows = _rows(5)
    rows[2]["type"] = "castle"
    rows[3]["name"] = None
    r = api("planner").post("/api/v1/locations/bulk", json={"rows": rows})
    assert r.status_code == 422
    body = r.get_json()
    assert body["rejected"] == 2 and body["rows"] == 5
    assert [(e["index"], e["field"]) for e in body["errors"]] == [(2, "type"), (3, "name")]
    assert session.scalar(select(Location).limit(1)) is None
    assert session.scalar(select(Upload).limit(1)) is None


def test_unknown_fields_and_shapes_are_refused(api):
    r = api("planner").post("/api/v1/locations/bulk",
                            json={"rows": [{"name": "A", "type": "store", "colour": "red"}, 7]})
    assert r.status_code == 422
    assert [(e["index"], e["field"]) for e in r.get_json()["errors"]] == [(0, "colour"), (1, None)]
    assert api("planner").post("/api/v1/locations/bulk", json={"rows": []}).status_code == 422
    assert api("planner").post("/api/v1/locations/bulk", data="rows",
                               headers={"Content-Type": "text/plain"}).status_code == 415
    bad = api("planner").post("/api/v1/locations/bulk", data="{nope",
                              headers={"Content-Type": "application/json"})
    assert bad.status_code == 400 and bad.mimetype == "application/problem+json"


def test_idempotency_key_replays_and_refuses_another_body(api, session):
    planner = api("planner")
    key = {"Idempotency-Key": "load-2027-02-01"}
    first = planner.post("/api/v1/locations/bulk", json={"rows": _rows(2)}, headers=key)
    again = planner.post("/api/v1/locations/bulk", json={"rows": _rows(2)}, headers=key)
    assert first.status_code == again.status_code == 200
    assert first.get_json() == again.get_json()
    assert len(session.scalars(select(Upload)).all()) == 1
    other = planner.post("/api/v1/locations/bulk", json={"rows": _rows(3)}, headers=key)
    assert other.status_code == 422
    assert other.get_json()["errors"][0]["field"] == "Idempotency-Key"
    assert len(session.scalars(select(Location)).all()) == 2


def test_a_refused_bulk_leaves_its_key_free(api):
    planner = api("planner")
    key = {"Idempotency-Key": "k1"}
    rows = _rows(2)
    rows[1]["type"] = "castle"
    assert planner.post("/api/v1/locations/bulk", json={"rows": rows}, headers=key).status_code == 422
    rows[1]["type"] = "store"
    assert planner.post("/api/v1/locations/bulk", json={"rows": rows}, headers=key).status_code == 200


def test_buyer_may_not_write_master_data(api):
    r = api("buyer").post("/api/v1/locations/bulk", json={"rows": _rows(1)})
    assert r.status_code == 403


def test_read_only_token_may_not_write(api):
    r = api("planner", read_only=True).post("/api/v1/locations/bulk", json={"rows": _rows(1)})
    assert r.status_code == 403 and "read-only" in r.get_json()["detail"]
