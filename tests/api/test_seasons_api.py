"""Seasons and the workflow through the JSON API."""
from kyros_web.seasons.workflow import SeasonStatus


def test_create_read_and_list_a_season(api):
    planner = api("planner")
    r = planner.post("/api/v1/seasons", json={"name": "SS27", "start_date": "2027-02-01",
                                              "end_date": "2027-07-31"})
    assert r.status_code == 201, r.get_json()
    body = r.get_json()
    assert body["status"] == "created" and len(body["season_code"]) == 9
    assert r.headers["ETag"]
    by_code = planner.get(f"/api/v1/seasons/{body['season_code']}")
    by_id = planner.get(f"/api/v1/seasons/{body['id']}")
    assert by_code.get_json() == by_id.get_json() == body
    listed = planner.get("/api/v1/seasons?limit=10")
    assert [s["id"] for s in listed.get_json()] == [body["id"]]
    assert listed.headers["X-Total-Count"] == "1"


def test_no_token_no_cookie_session(api, anonymous, login):
    r = anonymous.get("/api/v1/seasons")
    assert r.status_code == 401
    assert r.mimetype == "application/problem+json"
    assert r.get_json()["type"] == "/api/docs#problem-unauthorized"
    browser = login("admin")
    assert browser.get("/api/v1/seasons").status_code == 401


def test_validation_is_a_problem_with_fields(api):
    r = api("planner").post("/api/v1/seasons", json={"name": "", "start_date": "2027-13-01"})
    assert r.status_code == 422
    body = r.get_json()
    assert body["type"] == "/api/docs#problem-validation"
    fields = {e["field"] for e in body["errors"]}
    assert {"name", "start_date", "end_date"} <= fields


def test_viewer_may_read_not_write(api, make):
    make.season(status=SeasonStatus.CREATED)
    viewer = api("viewer")
    assert viewer.get("/api/v1/seasons").status_code == 200
    r = viewer.post("/api/v1/seasons", json={"name": "X", "start_date": "2027-02-01",
                                             "end_date": "2027-07-31"})
    assert r.status_code == 403 and r.get_json()["type"].endswith("forbidden")


def test_put_needs_if_match_and_refuses_a_stale_one(api):
    planner = api("planner")
    created = planner.post("/api/v1/seasons", json={"name": "A", "start_date": "2027-02-01",
                                                    "end_date": "2027-07-31"})
    url = f"/api/v1/seasons/{created.get_json()['id']}"
    tag = created.headers["ETag"]
    body = {"name": "B", "start_date": "2027-02-01", "end_date": "2027-07-31"}
    assert planner.put(url, json=body).status_code == 428
    ok = planner.put(url, json=body, headers={"If-Match": tag})
    assert ok.status_code == 200 and ok.get_json()["name"] == "B"
    assert ok.headers["ETag"] != tag
    stale = planner.patch(url, json={"name": "C"}, headers={"If-Match": tag})
    assert stale.status_code == 412 and stale.get_json()["type"].endswith("stale")
    assert planner.get(url).get_json()["name"] == "B"


def test_define_locations_and_the_workflow(api, make):
    loc = make.location()
    planner = api("planner")
    season = planner.post("/api/v1/seasons", json={"name": "A", "start_date": "2027-02-01",
                                                   "end_date": "2027-07-31"}).get_json()
    r = planner.post(f"/api/v1/seasons/{season['season_code']}/define-locations")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "locations_defined"
    assert [t["to_status"] for t in r.get_json()["transitions"]] == ["locations_defined"]
    refused = planner.post(f"/api/v1/seasons/{season['id']}/complete-plan-upload")
    assert refused.status_code == 409
    assert refused.get_json()["type"].endswith("workflow")
    assert "plan row" in refused.get_json()["detail"]
    again = planner.post(f"/api/v1/seasons/{season['id']}/define-locations",
                         json={"location_ids": [str(loc.id)]})
    assert again.status_code == 409
    status = planner.get(f"/api/v1/seasons/{season['id']}/workflow-status").get_json()
    assert status["can_advance"] is False and status["blocking"]


def test_openapi_document(app, anonymous):
    r = anonymous.get("/api/v1/openapi.json")
    assert r.status_code == 200
    doc = r.get_json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/seasons/{season_id}/define-locations" in doc["paths"]


def test_docs_page_renders_the_document(app):
    r = app.test_client().get("/api/docs")
    assert r.status_code == 200 and r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert "/api/v1/seasons/{season_id}/define-locations" in page
    assert 'id="problem-stale"' in page and "<script" not in page.split("</head>")[1]


def test_rate_limit_per_token(app, api):
    first, second = api("viewer"), api("viewer")
    app.config["KYROS_API_RATE_LIMIT"] = "3 per minute"
    try:
        answers = [first.get("/api/v1/seasons").status_code for _ in range(4)]
        assert answers == [200, 200, 200, 429]
        limited = first.get("/api/v1/seasons")
        assert limited.mimetype == "application/problem+json"
        assert limited.get_json()["type"].endswith("rate-limited")
        assert second.get("/api/v1/seasons").status_code == 200  # its own count
    finally:
        app.config["KYROS_API_RATE_LIMIT"] = "600 per minute"


def test_revoked_and_expired_tokens_are_refused(api, session):
    from datetime import timedelta

    from kyros_web.auth.tokens import revoke_token
    from kyros_web.modelbase import utcnow

    client = api("viewer")
    assert client.get("/api/v1/seasons").status_code == 200
    from kyros_web.auth.models import ApiToken
    from sqlalchemy import select

    token = session.scalar(select(ApiToken).where(ApiToken.user_id == client.user.id))
    token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    expired = client.get("/api/v1/seasons")
    assert expired.status_code == 401 and "expired" in expired.get_json()["detail"]
    token.expires_at = None
    session.commit()
    assert client.get("/api/v1/seasons").status_code == 200
    revoke_token(session, None, token.id)
    revoked = client.get("/api/v1/seasons")
    assert revoked.status_code == 401 and "revoked" in revoked.get_json()["detail"]
    unknown = client.get("/api/v1/seasons", headers={"Authorization": "Bearer kyros_nope"})
    assert unknown.status_code == 401


def test_define_locations_with_ids_is_all_or_nothing(api, make, session):
    import uuid as uuid_

    from sqlalchemy import func, select

    from kyros_web.seasons.models import SeasonLocation

    active, inactive = make.location(), make.location()
    inactive.is_active = False
    session.commit()
    planner = api("planner")
    season = planner.post("/api/v1/seasons", json={"name": "A", "start_date": "2027-02-01",
                                                   "end_date": "2027-07-31"}).get_json()
    url = f"/api/v1/seasons/{season['id']}/define-locations"
    refused = planner.post(url, json={"location_ids": [str(active.id), str(inactive.id)]})
    assert refused.status_code == 422
    assert refused.get_json()["errors"][0]["field"] == "location_ids"
    unknown = planner.post(url, json={"location_ids": [str(uuid_.uuid4())]})
    assert unknown.status_code == 404
    assert session.scalar(select(func.count()).select_from(SeasonLocation)) == 0
    done = planner.post(url, json={"location_ids": [str(active.id)]})
    assert done.status_code == 200 and done.get_json()["status"] == "locations_defined"
