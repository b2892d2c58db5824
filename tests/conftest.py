"""Fixtures: one throwaway database per test session (SQLite by default, PostgreSQL when
KYROS_TEST_DATABASE_URL is set), emptied after every test; clients logged in per role."""
from __future__ import annotations

import os
import re

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

os.environ.setdefault("KYROS_SECRET_KEY", "test-secret-key")
os.environ.pop("KYROS_ENV", None)

from kyros_web import create_app  # noqa: E402
from kyros_web.extensions import db  # noqa: E402

from . import factories  # noqa: E402
from .dbutil import create_throwaway_database, drop_database  # noqa: E402,F401

PG_URL = os.environ.get("KYROS_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    if PG_URL:
        url = create_throwaway_database(PG_URL)
        yield url
        drop_database(url)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'kyros-test.db'}"


class FreshRequestClient(FlaskClient):
    """Each request starts with an empty `g`, as in a real server.

    Tests hold an app context open, and Flask reuses it for the client's requests;
    without this, per-request caches (the logged-in user, the CSRF token) would leak
    from one request to the next.
    """

    def open(self, *args, **kwargs):
        from flask import g

        for key in list(vars(g)):
            delattr(g, key)
        return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    os.environ["KYROS_INSTANCE_DIR"] = str(tmp_path_factory.mktemp("instance"))
    application = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        # Tests log in far more often than a person; the throttling test lowers these.
        "KYROS_LOGIN_LIMIT_PER_ACCOUNT": "10000 per minute",
        "KYROS_LOGIN_LIMIT_PER_ADDRESS": "10000 per minute",
    })
    application.test_client_class = FreshRequestClient
    from flask_migrate import upgrade

    with application.app_context():
        upgrade()
    yield application
    with application.app_context():
        db.engine.dispose()


def empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("TRUNCATE " + ", ".join(t.name for t in tables)))
    else:
        # Children first; the category tree refers to itself, so cut its links first.
        db.session.execute(text("UPDATE categories SET parent_id = NULL"))
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture(autouse=True)
def _app_context(request, app):
    """Each test runs in an app context and leaves the database empty."""
    with app.app_context():
        yield
        db.session.rollback()
        db.session.remove()
        empty_all_tables()
        db.session.remove()


@pytest.fixture
def session(app):
    return db.session


@pytest.fixture
def make(session):
    """Factories bound to the test's session: make.user(role), make.season(status=...)."""
    return factories.Factory(session)


CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Browser:
    """A test client that logs in through the form and sends the CSRF token like a browser."""

    def __init__(self, client):
        self.client = client
        self.token = None

    def get(self, url, **kw):
        response = self.client.get(url, **kw)
        self._remember_token(response)
        return response

    def post(self, url, data=None, csrf=True, **kw):
        data = dict(data or {})
        if csrf and "csrf_token" not in data:
            data["csrf_token"] = self.csrf_token()
        response = self.client.post(url, data=data, **kw)
        self._remember_token(response)
        return response

    def csrf_token(self):
        if self.token is None:
            self.get("/login", follow_redirects=True)
        return self.token

    def _remember_token(self, response):
        match = CSRF_RE.search(response.get_data(as_text=True)) if response.mimetype == "text/html" else None
        if match:
            self.token = match.group(1)

    def login(self, email, password=factories.PASSWORD):
        self.token = None
        response = self.post("/login", {"email": email, "password": password})
        self.token = None  # a new session on login: a new token
        return response


@pytest.fixture
def browser(app):
    return Browser(app.test_client())


@pytest.fixture
def login(app, make):
    """login(role) → a Browser logged in as a fresh user of that role."""

    def _login(role):
        user = make.user(role)
        b = Browser(app.test_client())
        response = b.login(user.email)
        assert response.status_code == 303, response.get_data(as_text=True)
        b.user = user
        return b

    return _login
