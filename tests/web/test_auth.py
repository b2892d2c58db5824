"""Login, logout, sessions and CSRF (SPEC §4, §7)."""
import pytest

from kyros_web.auth.services import update_user
from tests.factories import PASSWORD


def test_login_page(browser):
    response = browser.get("/login")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert '<label for="email">Email</label>' in html and '<label for="password">Password</label>' in html
    assert ">Log in</button>" in html


def test_login_and_logout(browser, make):
    user = make.user("planner")
    response = browser.login(user.email)
    assert response.status_code == 303 and response.headers["Location"] == "/"
    page = browser.get("/seasons/")
    assert page.status_code == 200 and user.email in page.get_data(as_text=True) or \
        user.full_name in page.get_data(as_text=True)
    response = browser.post("/logout")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert browser.get("/seasons/").status_code == 302


def test_email_is_case_insensitive(browser, make):
    user = make.user("viewer", email="Mixed.Case@Example.com")
    assert browser.login("MIXED.case@example.COM").status_code == 303
    assert user.email == "mixed.case@example.com"


@pytest.mark.parametrize("email,password", [
    ("planner-x@example.com", "wrong-password"),
    ("nobody@example.com", PASSWORD),
])
def test_wrong_credentials_same_message(browser, make, email, password):
    """Wrong password and unknown user get the same answer: no account enumeration."""
    make.user("planner", email="planner-x@example.com")
    response = browser.login(email, password)
    assert response.status_code == 422
    assert "Email or password is wrong, or the account is inactive." in response.get_data(as_text=True)


def test_inactive_user_cannot_log_in(browser, make, session):
    user = make.user("planner")
    update_user(session, None, user, is_active=False)
    response = browser.login(user.email)
    assert response.status_code == 422


def test_deactivation_ends_existing_sessions(login, session):
    b = login("planner")
    assert b.get("/seasons/").status_code == 200
    update_user(session, None, b.user, is_active=False)
    assert b.get("/seasons/").status_code == 302


def test_password_change_ends_existing_sessions(login, session):
    b = login("buyer")
    update_user(session, None, b.user, password="a-new-password")
    assert b.get("/seasons/").status_code == 302


def test_role_change_ends_existing_sessions(login, session):
    b = login("viewer")
    update_user(session, None, b.user, role="planner")
    assert b.get("/seasons/").status_code == 302


def test_login_without_csrf_token_is_refused(browser, make):
    user = make.user("planner")
    response = browser.post("/login", {"email": user.email, "password": PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_post_with_wrong_csrf_token_is_refused(login, make):
    from kyros_web.seasons.workflow import SeasonStatus
    b = login("planner")
    season = make.season(SeasonStatus.CREATED)
    response = b.post(f"/seasons/{season.season_code}/advance", {"csrf_token": "forged"})
    assert response.status_code == 400


def test_logout_is_post_only(login):
    b = login("viewer")
    assert b.get("/logout").status_code == 405


@pytest.mark.parametrize("target,expected", [
    ("/seasons/", "/seasons/"),
    ("https://evil.example/", "/"),
    ("//evil.example/", "/"),
    ("/\\evil.example", "/"),
])
def test_next_redirect_stays_on_site(browser, make, target, expected):
    user = make.user("viewer")
    browser.get("/login")
    response = browser.post(f"/login?next={target}", {"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == expected


def test_new_session_on_login(app, make):
    """Whatever the session held before login is gone after it."""
    user = make.user("viewer")
    client = app.test_client()
    with client.session_transaction() as s:
        s["planted"] = "value"
    from tests.conftest import Browser
    b = Browser(client)
    b.login(user.email)
    with client.session_transaction() as s:
        assert "planted" not in s


def test_session_cookie_flags(login, app):
    b = login("viewer")
    cookie = b.client.get_cookie("session")
    assert cookie.http_only and cookie.same_site == "Lax"
