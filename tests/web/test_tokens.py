"""API token pages (issue 18, item 3): a user creates, sees and revokes their own tokens, the
secret shown once; an admin sees and revokes everyone's; the API refuses what was revoked."""
import re
from datetime import timedelta

from sqlalchemy import select

from kyros_web.auth.models import ApiToken
from kyros_web.auth.tokens import create_token
from kyros_web.modelbase import utcnow

HX = {"HX-Request": "true"}
SECRET_RE = re.compile(r"kyros_[A-Za-z0-9_-]{40,}")


def call_api(app, secret, method="GET", url="/api/v1/seasons", **kw):
    return app.test_client().open(url, method=method,
                                  headers={"Authorization": f"Bearer {secret}"}, **kw)


def create(browser, name="ERP", **fields):
    return browser.post("/account/tokens", {"name": name, **fields})


def test_the_account_page_leads_to_the_tokens(login):
    b = login("viewer")
    html = b.get("/account").get_data(as_text=True)
    assert "API tokens" in html and 'href="/account/tokens"' in html
    assert "You have no active token." in html
    page = b.get("/account/tokens")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "You have no API tokens yet." in html and 'id="token-form"' in html


def test_create_shows_the_secret_once(app, login, session):
    """The answer to the form holds the secret; no later page does, only its first letters."""
    b = login("planner")
    response = create(b, "ERP nightly", days="30")
    assert response.status_code == 201
    html = response.get_data(as_text=True)
    secrets = SECRET_RE.findall(html)
    assert len(set(secrets)) == 1
    secret = secrets[0]
    assert "Copy it now: it will not be shown again." in html
    assert 'hx-history="false"' in html and 'data-copy="new-token-secret"' in html
    assert response.headers["Cache-Control"] == "no-store"
    token = session.scalar(select(ApiToken))
    assert token.name == "ERP nightly" and not token.read_only and token.expires_at is not None
    assert secret not in (token.digest, token.prefix)
    listed = b.get("/account/tokens").get_data(as_text=True)
    assert not SECRET_RE.search(listed) and secret not in listed
    assert f"{token.prefix}…" in listed and "<td>ERP nightly</td>" in listed
    assert listed.count(">never<") == 1  # not used yet
    assert call_api(app, secret).status_code == 200
    listed = b.get("/account/tokens").get_data(as_text=True)
    assert listed.count(">never<") == 0  # used now, and it expires
    assert "You have 1 active token." in b.get("/account").get_data(as_text=True)


def test_htmx_create_answers_the_tokens_block(login):
    b = login("buyer")
    response = b.post("/account/tokens", {"name": "POS", "read_only": "y"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 201
    assert html.lstrip().startswith('<div id="tokens">') and "<html" not in html
    assert SECRET_RE.search(html) and "Read-only" in html


def test_form_errors_are_shown_next_to_their_fields(login):
    b = login("viewer")
    assert create(b, "BI").status_code == 201
    for fields, field, message in [
            ({"name": "BI"}, "name", "You already have a token named “BI”"),
            ({"name": "x" * 101}, "name", "longer than 100 characters"),
            ({"name": ""}, "name", "Name the token"),
            ({"name": "BI 2", "days": "0"}, "days", "from 1 to 3650"),
            ({"name": "BI 2", "days": "soon"}, "days", "whole number")]:
        response = b.post("/account/tokens", fields, headers=HX)
        html = response.get_data(as_text=True)
        assert response.status_code == 422, fields
        assert f'<p class="field-error" id="{field}-error">' in html, fields
        error = html[html.index(f'id="{field}-error"'):]
        assert message in error[:200], fields
        assert not SECRET_RE.search(html)
    assert b.get("/account/tokens").get_data(as_text=True).count("<td>BI</td>") == 1


def test_form_without_csrf_is_refused(login, session):
    b = login("viewer")
    assert b.post("/account/tokens", {"name": "X"}, csrf=False).status_code == 400
    assert session.scalar(select(ApiToken)) is None


def test_revoke_refuses_the_token_at_once(app, login, session):
    b = login("planner")
    secret = SECRET_RE.search(create(b, "ERP").get_data(as_text=True)).group(0)
    token = session.scalar(select(ApiToken))
    listed = b.get("/account/tokens").get_data(as_text=True)
    assert f'action="/account/tokens/{token.id}/revoke"' in listed
    assert 'data-confirm="Revoke the token “ERP”?' in listed
    response = b.post(f"/account/tokens/{token.id}/revoke")
    assert response.status_code == 303 and response.headers["Location"] == "/account/tokens"
    listed = b.get("/account/tokens").get_data(as_text=True)
    assert "Token “ERP” revoked" in listed and "badge-token-revoked" in listed
    assert f"/account/tokens/{token.id}/revoke" not in listed
    refused = call_api(app, secret)
    assert refused.status_code == 401 and "revoked" in refused.get_json()["detail"]
    again = b.post(f"/account/tokens/{token.id}/revoke")
    assert again.status_code == 409 and "already revoked" in again.get_data(as_text=True)


def test_another_user_cannot_revoke_my_token(app, login, session):
    mine = login("planner")
    secret = SECRET_RE.search(create(mine, "ERP").get_data(as_text=True)).group(0)
    token = session.scalar(select(ApiToken))
    other = login("planner")
    assert other.post(f"/account/tokens/{token.id}/revoke").status_code == 403
    assert other.post(f"/users/tokens/{token.id}/revoke").status_code == 403
    assert other.get("/users/tokens").status_code == 403
    assert "<td>ERP</td>" not in other.get("/account/tokens").get_data(as_text=True)
    session.expire_all()
    assert token.revoked_at is None and call_api(app, secret).status_code == 200


def test_an_admin_sees_and_revokes_anyones_token(app, login, make, session):
    owner = make.user("buyer")
    new = create_token(session, owner, owner, name="POS feed")
    admin = login("admin")
    assert 'href="/users/tokens"' in admin.get("/users").get_data(as_text=True)
    html = admin.get("/users/tokens").get_data(as_text=True)
    assert owner.email in html and "POS feed" in html and f"{new.token.prefix}…" in html
    assert new.secret not in html
    response = admin.post(f"/users/tokens/{new.token.id}/revoke")
    assert response.status_code == 303 and response.headers["Location"] == "/users/tokens"
    html = admin.get("/users/tokens").get_data(as_text=True)
    assert f"Token “POS feed” of {owner.email} revoked." in html
    assert "No user has an API token." in html
    assert call_api(app, new.secret).status_code == 401
    session.expire_all()
    assert new.token.revoked_by == admin.user.id


def test_a_read_only_token_may_not_write(app, login):
    b = login("planner")
    secret = SECRET_RE.search(create(b, "BI", read_only="y").get_data(as_text=True)).group(0)
    assert call_api(app, secret).status_code == 200
    refused = call_api(app, secret, "POST", json={"name": "X", "start_date": "2026-02-01",
                                                   "end_date": "2026-04-30"})
    assert refused.status_code == 403 and "read-only" in refused.get_json()["detail"]


def test_an_expired_token_is_refused(app, login, session):
    b = login("viewer")
    secret = SECRET_RE.search(create(b, "BI", days="1").get_data(as_text=True)).group(0)
    token = session.scalar(select(ApiToken))
    token.expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    refused = call_api(app, secret)
    assert refused.status_code == 401 and "expired" in refused.get_json()["detail"]
    assert "badge-token-expired" in b.get("/account/tokens").get_data(as_text=True)


def test_a_browser_session_does_not_sign_in_to_the_api(login):
    """The API reads no cookie: a logged-in browser is refused there."""
    b = login("admin")
    assert b.get("/api/v1/seasons").status_code == 401
