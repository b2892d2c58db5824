"""Pages, error pages and the health probes (SPEC §7, §8, §12)."""
from kyros_web.seasons.workflow import SeasonStatus

HX = {"HX-Request": "true"}


def test_health_needs_no_login(browser):
    response = browser.get("/health")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_ready_reports_database(browser):
    response = browser.get("/ready")
    assert response.status_code == 200 and response.json == {"status": "ok", "database": "ok"}


def test_ready_answers_503_without_database(app, browser, monkeypatch):
    from sqlalchemy.exc import OperationalError

    from kyros_web.extensions import db

    def broken(*a, **k):
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = browser.get("/ready")
    assert response.status_code == 503 and response.json["database"] == "unreachable"


def test_not_found_is_a_page(login):
    b = login("viewer")
    response = b.get("/no/such/page")
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "<h1>Not found" in html and "<nav" in html


def test_not_found_is_a_fragment_for_htmx(login):
    b = login("viewer")
    response = b.get("/seasons/NOPE-NOPE", headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 404
    assert html.lstrip().startswith('<section id="error"') and "<nav" not in html


def test_seasons_list_filters_and_searches(login, make):
    b = login("viewer")
    a = make.season(name="Spring Alpha")
    c = make.season(SeasonStatus.LOCATIONS_DEFINED, name="Winter Beta")
    html = b.get("/seasons/").get_data(as_text=True)
    assert a.season_code in html and c.season_code in html
    html = b.get("/seasons/?status=locations_defined").get_data(as_text=True)
    assert a.season_code not in html and c.season_code in html
    html = b.get("/seasons/?q=alpha").get_data(as_text=True)
    assert a.season_code in html and c.season_code not in html
    html = b.get(f"/seasons/?q={c.season_code.lower()}").get_data(as_text=True)
    assert c.season_code in html and a.season_code not in html


def test_seasons_list_block_for_htmx(login, make):
    b = login("viewer")
    make.season()
    response = b.get("/seasons/?q=season", headers=HX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="results">')
    assert "HX-Request" in response.headers["Vary"]


def test_seasons_list_is_paged(login, make):
    b = login("viewer")
    for _ in range(27):
        make.season()
    html = b.get("/seasons/").get_data(as_text=True)
    assert "Page 1 of 2 (27 in all)" in html and "Next page" in html
    assert html.count('href="/seasons/') - html.count('href="/seasons/?') >= 25


def test_season_page_shows_stepper_and_gates(login, make):
    b = login("planner")
    season = make.season()
    html = b.get(f"/seasons/{season.season_code}").get_data(as_text=True)
    assert '<h1>' in html and season.season_code in html
    assert 'aria-current="step"' in html
    assert "Assign at least one active location" in html
    assert "Advance to Locations defined" in html and "disabled" in html


def test_viewer_sees_no_advance_button(login, make):
    b = login("viewer")
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    html = b.get(f"/seasons/{season.season_code}").get_data(as_text=True)
    assert "Advance to" not in html


def test_advance_redirects_after_write(login, make):
    b = login("planner")
    season = make.season()
    make.fill(season)
    response = b.post(f"/seasons/{season.season_code}/advance",
                      {"target": "locations_defined"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/seasons/{season.season_code}"
    assert "Locations defined" in b.get(response.headers["Location"]).get_data(as_text=True)


def test_advance_for_htmx_sends_hx_redirect(login, make):
    b = login("planner")
    season = make.season()
    make.fill(season)
    response = b.post(f"/seasons/{season.season_code}/advance", headers=HX)
    assert response.headers["HX-Redirect"] == f"/seasons/{season.season_code}"


def test_gate_refusal_is_409_with_reason(login, make):
    b = login("planner")
    season = make.season()
    response = b.post(f"/seasons/{season.season_code}/advance")
    assert response.status_code == 409
    assert "Assign at least one active location" in response.get_data(as_text=True)


def test_illegal_transition_is_409_with_seed_message(login, make):
    b = login("admin")
    season = make.season()
    response = b.post(f"/seasons/{season.season_code}/advance",
                      {"target": "locked", "confirm_lock": "yes"})
    assert response.status_code == 409
    assert ("Invalid workflow transition: cannot move from &#39;created&#39; to &#39;locked&#39;"
            in response.get_data(as_text=True))


def test_unexpected_error_is_a_500_page_without_trace(app, login, monkeypatch):
    from kyros_web.seasons import services

    def boom(*a, **k):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "get_season", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        b = login("viewer")
        response = b.get("/seasons/ABCD-EFGH")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    html = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "request id" in html and "secret internals" not in html and "Traceback" not in html
