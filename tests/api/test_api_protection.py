"""Every route of the JSON API: a token is needed, every write declares its action, and each
role gets 403 from every write SPEC §4 does not give it (the role matrix of the pages)."""
import re
import uuid

import pytest

from kyros_web.auth.roles import PERMISSIONS, Role

OPEN = {"api-docs.openapi_json", "api_docs.docs"}
WRITES = {"POST", "PUT", "PATCH", "DELETE"}


def api_rules(app, methods):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in OPEN:
            continue
        for method in sorted(set(rule.methods) & methods):
            yield rule, method


def fill(rule):
    url = rule.rule
    for converter, arg in re.findall(r"<(?:([^:>]+):)?([^>]+)>", rule.rule):
        value = str(uuid.uuid4()) if converter == "uuid" else "NOPE-NOPE"
        url = re.sub(rf"<(?:[^:>]+:)?{arg}>", value, url)
    return url


def action_of(app, rule, method):
    view = app.view_functions[rule.endpoint]
    handler = getattr(getattr(view, "view_class", None), method.lower(), view)
    return getattr(handler, "required_action", None)


def test_every_route_needs_a_token(app, anonymous):
    checked = 0
    for rule, method in api_rules(app, {"GET"} | WRITES):
        response = anonymous.client.open(fill(rule), method=method, json={})
        assert response.status_code == 401, (rule.rule, method, response.status_code)
        assert response.mimetype == "application/problem+json"
        checked += 1
    assert checked >= 10


def test_every_write_declares_its_action(app):
    missing = [(rule.rule, method) for rule, method in api_rules(app, WRITES)
               if action_of(app, rule, method) is None]
    assert not missing, missing


@pytest.mark.parametrize("role", list(Role))
def test_writes_refuse_roles_spec_does_not_allow(app, api, role):
    client = api(role.value)
    refused = 0
    for rule, method in api_rules(app, WRITES):
        action = action_of(app, rule, method)
        if role in PERMISSIONS[action]:
            continue
        response = client.client.open(fill(rule), method=method, json={},
                                      headers={"Authorization": f"Bearer {client.secret}"})
        assert response.status_code == 403, (rule.rule, method, role, response.status_code)
        refused += 1
    if role is Role.VIEWER:
        assert refused >= 10


@pytest.mark.parametrize("role", list(Role))
def test_every_role_may_read(app, api, role):
    client = api(role.value)
    for rule, method in api_rules(app, {"GET"}):
        response = client.get(fill(rule))
        assert response.status_code in (200, 404, 422), (rule.rule, role, response.status_code)
