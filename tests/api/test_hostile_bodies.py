"""Bodies no client should send: each is a 400 or 422 problem, never a 500, and stores
nothing."""
import pytest
from sqlalchemy import func, select

from kyros_web.seasons.models import Season

JSON = {"Content-Type": "application/json"}
PATHS = ["/api/v1/seasons", "/api/v1/locations/bulk"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("body, status, words", [
    (b"[" * 100_000, 400, "too deeply"),
    (b'{"rows": ' + b"[" * 100_000 + b"}", 400, "too deeply"),
    (b"\xff\xfe{}", 400, "not UTF-8"),
    (b'{"name": "a\\u0000b", "rows": []}', 400, "NUL byte"),
    (b'{"name": ', 400, "not valid JSON"),
    (b'{"name": ' + b"[" * 900 + b"]" * 900 + b', "rows": [' + b"[" * 900 + b"]" * 900
     + b"]}", 422, ""),
], ids=["deep", "deep-rows", "not-utf8", "nul", "truncated", "deep-but-parsed"])
def test_hostile_bodies_are_refused(api, session, path, body, status, words):
    r = api("admin").post(path, data=body, headers=JSON)
    assert r.status_code == status, r.get_data(as_text=True)[:300]
    assert r.mimetype == "application/problem+json"
    assert words in r.get_json()["detail"]
    assert session.scalar(select(func.count()).select_from(Season)) == 0


def test_a_clash_the_database_catches_is_a_conflict(api, login, monkeypatch):
    """Two creates of one code at once both pass the service's check; the unique index
    refuses the second, which is a 409 (problem or page), never a 500."""
    from sqlalchemy.exc import IntegrityError

    from kyros_web.masterdata import services

    def clash(*args, **kwargs):
        raise IntegrityError("INSERT INTO clusters …", {}, Exception("duplicate key"))

    monkeypatch.setattr(services, "create_cluster", clash)
    r = api("planner").post("/api/v1/clusters", json={"name": "North"})
    assert r.status_code == 409 and r.get_json()["type"].endswith("conflict")
    page = login("planner").post("/masterdata/clusters", {"name": "North"})
    assert page.status_code == 409 and "at the same moment" in page.get_data(as_text=True)
