"""Security: headers on every response, no inline script or style, login throttling, and
user text rendered inert everywhere it shows (SPEC §8)."""
import re
from datetime import date

import pytest

from kyros_web import create_app
from kyros_web.extensions import limiter
from kyros_web.purchasing.services import create_po
from kyros_web.seasons.services import create_season
from kyros_web.seasons.workflow import SeasonStatus
from tests.factories import PASSWORD

PAYLOADS = ['<script>alert("x")</script>', '"><img src=x onerror=alert(1)>']


@pytest.mark.parametrize("path", ["/login", "/health", "/static/css/app.css", "/no-such-page"])
def test_security_headers_on_every_response(browser, path):
    response = browser.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "style-src 'self'" in csp
    assert "'unsafe-inline'" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "Strict-Transport-Security" not in response.headers  # development
    response.close()  # a static file is streamed from disk


def test_hsts_and_secure_cookies_in_production(monkeypatch, database_url):
    monkeypatch.setenv("KYROS_ENV", "production")
    monkeypatch.setenv("KYROS_SECRET_KEY", "p" * 64)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    response = app.test_client().get("/health")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert app.config["SESSION_COOKIE_SECURE"] is True


INLINE = [re.compile(r"<script(?![^>]*\bsrc=)[^>]*>"), re.compile(r"<style[\s>]"),
          re.compile(r"\sstyle\s*="), re.compile(r"\son[a-z]+\s*=\s*[\"']")]


def test_no_inline_script_or_style_on_any_page(login, make):
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    code = season.season_code
    admin = login("admin")
    for path in ["/seasons/", f"/seasons/{code}", f"/seasons/{code}/locations",
                 f"/seasons/{code}/history", f"/planning/{code}/plans", f"/planning/{code}/otb",
                 f"/planning/{code}/range", f"/purchasing/{code}/pos", f"/purchasing/{code}/pos/new",
                 f"/purchasing/{code}/grns", "/uploads/", "/uploads/new", f"/analytics/{code}/",
                 f"/analytics/{code}/pack", "/masterdata/locations", "/masterdata/categories",
                 "/masterdata/clusters", "/users", "/seasons/new"]:
        html = admin.get(path).get_data(as_text=True)
        for pattern in INLINE:
            assert not pattern.search(html), (path, pattern.pattern, pattern.search(html))


@pytest.fixture
def throttled(app):
    app.config.update(KYROS_LOGIN_LIMIT_PER_ACCOUNT="3 per minute",
                      KYROS_LOGIN_LIMIT_PER_ADDRESS="6 per minute")
    limiter.reset()
    yield
    app.config.update(KYROS_LOGIN_LIMIT_PER_ACCOUNT="10000 per minute",
                      KYROS_LOGIN_LIMIT_PER_ADDRESS="10000 per minute")
    limiter.reset()


def test_login_throttled_per_account(throttled, browser, make):
    user = make.user("planner")
    for _ in range(3):
        assert browser.login(user.email, "wrong-password").status_code == 422
    refused = browser.login(user.email, PASSWORD)  # even the right password, for a while
    assert refused.status_code == 429
    assert "Too many login attempts. Wait a minute and try again." in refused.get_data(as_text=True)
    other = make.user("planner")
    assert browser.login(other.email, PASSWORD).status_code == 303


def test_login_throttled_per_address(throttled, browser, make):
    for n in range(6):
        assert browser.login(f"nobody{n}@example.com", "x" * 10).status_code == 422
    assert browser.login("nobody-else@example.com", "x" * 10).status_code == 429


def test_successful_logins_are_not_counted(throttled, app, make):
    user = make.user("viewer")
    from tests.conftest import Browser
    for _ in range(5):
        assert Browser(app.test_client()).login(user.email).status_code == 303


def test_user_text_is_inert_everywhere(login, make, session):
    """Names, descriptions, suppliers and file names holding markup render as text."""
    evil = PAYLOADS[0] + PAYLOADS[1]
    cluster = make.cluster(name="C " + evil[:90])
    loc = make.location(name="L " + evil, cluster=cluster)
    leaf = make.category("EVIL", name="Cat " + evil)
    season = make.season(SeasonStatus.RANGE_UPLOADED, locations=[loc], leaves=[leaf])
    other = create_season(session, make.admin, name="S " + evil, start_date=date(2026, 2, 1),
                          end_date=date(2026, 2, 28))
    create_po(session, make.user("buyer"), season.id, po_number="PO-EVIL", location_id=loc.id,
              category_id=leaf.id, po_value="10", order_date=date(2026, 2, 2), supplier=evil)
    admin = login("admin")
    from kyros_web.uploads.services import preview_upload
    preview_upload(session, make.admin, kind="locations", data=b"name,type\nx,kiosk\n",
                   file_name=evil + ".csv", season=None, config={"KYROS_MAX_UPLOAD_MB": 25})
    code = season.season_code
    pages = ["/seasons/", f"/seasons/{other.season_code}", f"/seasons/{code}/locations",
             f"/seasons/{code}/history", f"/planning/{code}/plans", f"/planning/{code}/otb",
             f"/planning/{code}/range", f"/purchasing/{code}/pos", f"/purchasing/{code}/pos/PO-EVIL",
             f"/purchasing/{code}/grns", "/uploads/", f"/analytics/{code}/view",
             f"/analytics/{code}/categories?level=1", f"/analytics/{code}/locations",
             f"/analytics/{code}/clusters", f"/analytics/{code}/pos", f"/analytics/{code}/pack",
             "/analytics/workflow", "/masterdata/locations", "/masterdata/categories",
             "/masterdata/clusters",
             f"/planning/{code}/otb/cell/{loc.location_code}/EVIL/2026-02"]
    shown = 0
    for path in pages:
        html = admin.get(path).get_data(as_text=True)
        for payload in PAYLOADS:
            assert payload not in html, (path, payload)
        shown += "&lt;script&gt;" in html or "&lt;img" in html
    assert shown >= 15  # the payloads were really on the pages, escaped
