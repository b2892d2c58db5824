"""Fixtures for the JSON API: a client that sends a user's personal access token."""
from __future__ import annotations

import pytest

from kyros_web.auth.tokens import create_token
from kyros_web.extensions import db


class ApiClient:
    """The app's test client with `Authorization: Bearer <token>` on every call."""

    def __init__(self, client, secret: str | None, user=None):
        self.client, self.secret, self.user = client, secret, user

    def _headers(self, headers):
        sent = dict(headers or {})
        if self.secret:
            sent.setdefault("Authorization", f"Bearer {self.secret}")
        return sent

    def get(self, url, headers=None, **kw):
        return self.client.get(url, headers=self._headers(headers), **kw)

    def post(self, url, json=None, headers=None, **kw):
        return self.client.post(url, json=json, headers=self._headers(headers), **kw)

    def put(self, url, json=None, headers=None, **kw):
        return self.client.put(url, json=json, headers=self._headers(headers), **kw)

    def patch(self, url, json=None, headers=None, **kw):
        return self.client.patch(url, json=json, headers=self._headers(headers), **kw)

    def delete(self, url, headers=None, **kw):
        return self.client.delete(url, headers=self._headers(headers), **kw)


@pytest.fixture
def api(app, make):
    """api(role, read_only=False, days=None) → an ApiClient with a fresh user's new token."""

    def _api(role, *, read_only=False, days=None, user=None):
        owner = user or make.user(role)
        new = create_token(db.session, None, owner, name=f"test {role}", read_only=read_only,
                           days=days)
        return ApiClient(app.test_client(), new.secret, owner)

    return _api


@pytest.fixture
def anonymous(app):
    return ApiClient(app.test_client(), None)
