"""Login sessions live on the server: logout and "log out everywhere" end them, a copied
cookie dies with them, and authenticated pages are not kept by caches (SPEC §4, §8)."""
import hashlib

from sqlalchemy import event, func, select

from kyros_web.audit import AuditEvent
from kyros_web.extensions import db
from kyros_web.models import Cluster, UserSession
from tests.conftest import Browser


def copy_of(browser, app):
    """Another client holding a copy of the browser's session cookie, as a thief would."""
    thief = Browser(app.test_client())
    thief.client.set_cookie("session", browser.client.get_cookie("session").value)
    return thief


def session_token(app, browser):
    """The login-session token inside the browser's (signed) session cookie."""
    serializer = app.session_interface.get_signing_serializer(app)
    return serializer.loads(browser.client.get_cookie("session").value)["_user_id"]


def logged_in_as(client, user):
    """True when the client's session still shows the user their own account page."""
    response = client.get("/account")
    return response.status_code == 200 and user.email in response.get_data(as_text=True)


def test_cookie_copied_before_logout_reads_and_writes_nothing_after_it(app, login, session):
    """The old cookie gets the login page, and a POST with its old CSRF token creates nothing."""
    planner = login("planner")
    planner.get("/masterdata/clusters/new")
    old_csrf = planner.csrf_token()
    thief = copy_of(planner, app)
    assert logged_in_as(thief.client, planner.user)
    assert planner.post("/logout").status_code == 303

    page = thief.client.get("/masterdata/clusters", follow_redirects=True)
    assert page.request.path == "/login"
    assert ">Log in</button>" in page.get_data(as_text=True)
    write = thief.client.post("/masterdata/clusters",
                              data={"csrf_token": old_csrf, "name": "Replayed"})
    assert write.status_code == 302 and write.headers["Location"].startswith("/login")
    assert session.scalar(select(func.count(Cluster.id))) == 0


def test_logout_ends_the_session_row_and_only_a_digest_is_stored(app, login, session):
    """The table holds the token's SHA-256, never the token; logout stamps ended_at."""
    viewer = login("viewer")
    token = session_token(app, viewer)
    row = session.get(UserSession, hashlib.sha256(token.encode()).hexdigest())
    assert row is not None and row.ended_at is None and row.user_id == viewer.user.id
    assert session.get(UserSession, token) is None
    viewer.post("/logout")
    session.refresh(row)
    assert row.ended_at is not None


def test_log_out_everywhere_ends_every_session_of_the_user(app, make, session):
    """From "Your account": this browser and two others are logged out; a new login works."""
    user = make.user("buyer")
    browsers = [Browser(app.test_client()) for _ in range(3)]
    for b in browsers:
        assert b.login(user.email).status_code == 303
    assert all(logged_in_as(b.client, user) for b in browsers)

    page = browsers[0].get("/account")
    assert page.status_code == 200 and "Log out everywhere" in page.get_data(as_text=True)
    response = browsers[0].post("/account/logout-everywhere")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert not any(logged_in_as(b.client, user) for b in browsers)
    assert session.scalar(select(func.count()).select_from(UserSession)
                          .where(UserSession.ended_at.is_(None))) == 0
    event_ = session.scalar(select(AuditEvent).where(AuditEvent.action == "logout_everywhere"))
    assert event_.after == {"sessions_ended": 3} and event_.user_id == user.id

    assert browsers[1].login(user.email).status_code == 303
    assert logged_in_as(browsers[1].client, user)


def test_log_out_everywhere_needs_a_csrf_token(login):
    """A cross-site form cannot log a user out everywhere."""
    viewer = login("viewer")
    assert viewer.post("/account/logout-everywhere", csrf=False).status_code == 400
    assert logged_in_as(viewer.client, viewer.user)


def test_admin_logs_another_user_out_everywhere(app, login, make, session):
    """The admin stays logged in; both of the other user's sessions end."""
    admin = login("admin")
    user = make.user("planner")
    others = [Browser(app.test_client()) for _ in range(2)]
    for b in others:
        b.login(user.email)
    edit = admin.get(f"/users/{user.id}/edit").get_data(as_text=True)
    assert f'action="/users/{user.id}/logout-everywhere"' in edit
    response = admin.post(f"/users/{user.id}/logout-everywhere")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/users/{user.id}/edit"
    assert "logged out everywhere (2 sessions ended)" in admin.get(
        response.headers["Location"]).get_data(as_text=True)
    assert not any(logged_in_as(b.client, user) for b in others)
    assert logged_in_as(admin.client, admin.user)


def test_admin_logging_themselves_out_everywhere_lands_on_the_login_page(login):
    """An admin's own sessions end too when they pick themselves."""
    admin = login("admin")
    response = admin.post(f"/users/{admin.user.id}/logout-everywhere")
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert not logged_in_as(admin.client, admin.user)


def test_only_admins_log_other_users_out(login, make):
    """A planner cannot end another user's sessions."""
    planner = login("planner")
    victim = login("viewer")
    response = planner.post(f"/users/{victim.user.id}/logout-everywhere")
    assert response.status_code == 403
    assert logged_in_as(victim.client, victim.user)


def test_account_page_is_linked_from_the_header(login):
    """Every page's header leads to "Your account"."""
    viewer = login("viewer")
    html = viewer.get("/seasons/").get_data(as_text=True)
    assert 'href="/account" title="Your account"' in html


def test_authenticated_pages_are_not_stored(login):
    """Pages behind the login send Cache-Control: no-store; static files stay cacheable."""
    viewer = login("viewer")
    assert viewer.get("/seasons/").headers["Cache-Control"] == "no-store"
    assert viewer.get("/account").headers["Cache-Control"] == "no-store"
    static = viewer.client.get("/static/css/app.css")
    assert "no-store" not in static.headers.get("Cache-Control", "")
    static.close()


def test_staying_logged_in_costs_one_read_and_no_write(login, session):
    """A page view checks the session in one statement and writes nothing."""
    viewer = login("viewer")
    viewer.get("/masterdata/clusters")
    session.close()
    statements = []

    def before(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    try:
        assert viewer.get("/masterdata/clusters").status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
    assert sum("user_sessions" in s for s in statements) == 1
    assert not [s for s in statements if s.lstrip().upper().startswith(("INSERT", "UPDATE",
                                                                         "DELETE"))]


def test_role_change_ends_the_session_rows_too(login, session):
    """A change that ends sessions through session_version also stamps their rows ended."""
    from kyros_web.auth.services import update_user

    viewer = login("viewer")
    update_user(session, None, viewer.user, role="planner")
    assert not logged_in_as(viewer.client, viewer.user)
    assert session.scalar(select(func.count()).select_from(UserSession)
                          .where(UserSession.ended_at.is_(None))) == 0
