"""Users admin (SPEC §4): admins only; role, status and password changes end sessions."""
from sqlalchemy import select

from kyros_web.auth.models import User
from tests.factories import PASSWORD


def test_only_admins_see_users(login):
    assert login("planner").get("/users").status_code == 403
    html = login("admin").get("/users").get_data(as_text=True)
    assert "<h1>Users</h1>" in html and 'href="/users"' in html


def test_create_user_and_log_in(login, browser, session):
    b = login("admin")
    response = b.post("/users", {"email": "New.Buyer@Example.com", "full_name": "New Buyer",
                                 "role": "buyer", "password": "long-enough-1"})
    assert response.status_code == 303
    assert browser.login("new.buyer@example.com", "long-enough-1").status_code == 303


def test_duplicate_email_and_short_password(login, make):
    make.user("viewer", email="taken@example.com")
    b = login("admin")
    response = b.post("/users", {"email": "TAKEN@example.com", "role": "viewer",
                                 "password": "short"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at least 8 characters" in html
    response = b.post("/users", {"email": "taken@example.com", "role": "viewer",
                                 "password": "long-enough-1"})
    assert response.status_code == 422 and "already exists" in response.get_data(as_text=True)


def test_role_change_by_admin_logs_user_out(login, session):
    target = login("viewer")
    assert target.get("/seasons/").status_code == 200
    admin = login("admin")
    response = admin.post(f"/users/{target.user.id}", {"full_name": "V", "role": "planner",
                                                       "is_active": "y"})
    assert response.status_code == 303
    assert target.get("/seasons/").status_code == 302
    assert session.scalar(select(User.role).where(User.id == target.user.id)).value == "planner"


def test_deactivate_by_admin(login, browser, session):
    target = login("buyer")
    admin = login("admin")
    admin.post(f"/users/{target.user.id}", {"role": "buyer"})  # is_active unticked
    assert target.get("/seasons/").status_code == 302
    assert browser.login(target.user.email, PASSWORD).status_code == 422


def test_admin_cannot_demote_or_deactivate_self(login):
    admin = login("admin")
    response = admin.post(f"/users/{admin.user.id}", {"role": "viewer", "is_active": "y"})
    assert response.status_code == 422
    assert "cannot change your own role" in response.get_data(as_text=True)
    response = admin.post(f"/users/{admin.user.id}", {"role": "admin"})
    assert response.status_code == 422
