"""`flask kyros token create | revoke` (issue 18, item 3): the token alone on stdout for
scripts, refusals as messages with exit status 1, usage errors 2."""
import pytest
from sqlalchemy import select

from kyros_web.auth.models import ApiToken
from kyros_web.auth.services import update_user
from kyros_web.auth.tokens import token_user


def run(app, *args):
    return app.test_cli_runner().invoke(args=["kyros", "token", *args])


def test_create_prints_only_the_token(app, make, session):
    user = make.user("buyer", email="erp@example.com")
    result = run(app, "create", "ERP@example.com", "--name", "ERP import", "--days", "90")
    assert result.exit_code == 0, result.output
    secret = result.stdout
    assert secret.endswith("\n") and secret.count("\n") == 1
    secret = secret.strip()
    assert secret.startswith("kyros_") and " " not in secret
    signed_in, token = token_user(session, secret)
    assert signed_in.id == user.id and token.name == "ERP import"
    assert not token.read_only and token.expires_at is not None


def test_create_read_only_without_expiry(app, make, session):
    make.user("viewer", email="bi@example.com")
    result = run(app, "create", "bi@example.com", "--name", "BI", "--read-only")
    assert result.exit_code == 0, result.output
    token = session.scalar(select(ApiToken))
    assert token.read_only and token.expires_at is None


@pytest.mark.parametrize("args, message", [
    (["nobody@example.com", "--name", "X"], "No user nobody@example.com"),
    (["ops@example.com", "--name", "ERP"], "already have a token named “ERP”"),
    (["ops@example.com", "--name", "New", "--days", "0"], "from 1 to 3650"),
    (["ops@example.com", "--name", "New", "--days", "3651"], "from 1 to 3650"),
    (["ops@example.com", "--name", "New", "--days", "many"], "whole number"),
    (["ops@example.com", "--name", "x" * 101], "longer than 100 characters"),
])
def test_create_refusals_exit_1(app, make, session, args, message):
    make.user("planner", email="ops@example.com")
    assert run(app, "create", "ops@example.com", "--name", "ERP").exit_code == 0
    result = run(app, "create", *args)
    assert result.exit_code == 1 and message in result.stderr, result.stderr
    assert result.stdout == ""
    assert len(session.scalars(select(ApiToken)).all()) == 1


def test_create_for_a_deactivated_user_is_refused(app, make):
    user = make.user("planner", email="gone@example.com")
    update_user(make.session, make.admin, user, is_active=False)
    result = run(app, "create", "gone@example.com", "--name", "ERP")
    assert result.exit_code == 1 and "deactivated" in result.stderr


def test_create_needs_a_name(app, make):
    make.user("planner", email="ops@example.com")
    assert run(app, "create", "ops@example.com").exit_code == 2


def test_revoke(app, make, session):
    make.user("planner", email="ops@example.com")
    secret = run(app, "create", "ops@example.com", "--name", "ERP").stdout.strip()
    result = run(app, "revoke", "OPS@example.com", "ERP")
    assert result.exit_code == 0, result.output
    assert "Revoked the token “ERP” of ops@example.com" in result.stdout
    token = session.scalar(select(ApiToken))
    assert token.revoked_at is not None and token.revoked_by is None
    response = app.test_client().get("/api/v1/seasons",
                                     headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 401
    # The name is free again.
    assert run(app, "create", "ops@example.com", "--name", "ERP").exit_code == 0


@pytest.mark.parametrize("args, message", [
    (["nobody@example.com", "ERP"], "No user nobody@example.com"),
    (["ops@example.com", "POS"], "ops@example.com has no live token named “POS”"),
])
def test_revoke_refusals_exit_1(app, make, args, message):
    make.user("planner", email="ops@example.com")
    run(app, "create", "ops@example.com", "--name", "ERP")
    result = run(app, "revoke", *args)
    assert result.exit_code == 1 and message in result.stderr


def test_revoking_twice_is_refused(app, make):
    make.user("planner", email="ops@example.com")
    run(app, "create", "ops@example.com", "--name", "ERP")
    assert run(app, "revoke", "ops@example.com", "ERP").exit_code == 0
    result = run(app, "revoke", "ops@example.com", "ERP")
    assert result.exit_code == 1 and "has no live token named “ERP”" in result.stderr
