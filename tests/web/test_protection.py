"""Route protection over the whole URL map: login everywhere, roles on every write (SPEC §4)."""
import re
import uuid

import pytest

from kyros_web.auth.roles import PERMISSIONS, Role

PUBLIC = {"auth.login", "static", "health.health", "health.ready", "api_docs.docs",
          "api-docs.openapi_json"}


def rules(app, methods):
    """The pages' routes (the JSON API signs in by token: tests/api/test_api_protection.py)."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC or rule.rule.startswith("/api/"):
            continue
        used = set(rule.methods) & methods
        if used:
            yield rule, sorted(used)[0]


def fill(rule):
    """The rule's URL with placeholder arguments that match its converters."""
    url = rule.rule
    for converter, arg in re.findall(r"<(?:([^:>]+):)?([^>]+)>", rule.rule):
        value = str(uuid.uuid4()) if converter == "uuid" else "NOPE-NOPE"
        url = re.sub(rf"<(?:[^:>]+:)?{arg}>", value, url)
    return url


def test_every_route_needs_login(app):
    """Anonymous requests to any non-public route are sent to the login page."""
    client = app.test_client()
    checked = 0
    for rule, method in rules(app, {"GET", "POST", "PUT", "PATCH", "DELETE"}):
        response = client.open(fill(rule), method=method)
        assert response.status_code in (302, 400), rule  # 400: CSRF refuses before login
        if response.status_code == 302:
            assert "/login" in response.headers["Location"], rule
        checked += 1
    assert checked >= 3


def test_every_write_route_declares_its_action(app):
    """A state-changing view without a role guard fails here."""
    for rule, _ in rules(app, {"POST", "PUT", "PATCH", "DELETE"}):
        if rule.endpoint == "auth.logout":
            continue
        view = app.view_functions[rule.endpoint]
        assert hasattr(view, "required_action"), f"{rule.endpoint} has no role_required"


@pytest.mark.parametrize("role", list(Role))
def test_write_routes_refuse_roles_spec_does_not_allow(app, login, role):
    """Each role gets 403 from every write route whose action SPEC §4 does not give it."""
    b = login(role.value)
    for rule, method in rules(app, {"POST", "PUT", "PATCH", "DELETE"}):
        view = app.view_functions[rule.endpoint]
        action = getattr(view, "required_action", None)
        if action is None or role in PERMISSIONS[action]:
            continue
        response = b.client.open(fill(rule), method=method,
                                 data={"csrf_token": b.csrf_token()})
        assert response.status_code == 403, (rule, role)
