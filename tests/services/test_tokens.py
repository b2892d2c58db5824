"""Personal access tokens (issue 18, item 3): names unique among live tokens, days bounds,
revocation once, hashed storage, and a deactivated user's tokens refused."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from kyros_web.audit import AuditEvent
from kyros_web.auth import tokens
from kyros_web.auth.models import ApiToken
from kyros_web.auth.services import update_user
from kyros_web.errors import Conflict, Forbidden, NotFound, ValidationFailed
from kyros_web.modelbase import as_utc, utcnow


def test_the_secret_is_stored_only_as_its_digest(session, make):
    """The page shows the secret once; the table holds a digest and the visible start."""
    user = make.user("buyer")
    new = tokens.create_token(session, user, user, name="ERP")
    assert new.secret.startswith("kyros_") and len(new.secret) > 40
    row = session.scalar(select(ApiToken))
    assert new.secret not in (row.digest, row.prefix)
    assert row.prefix == new.secret[:10]
    assert tokens.token_user(session, new.secret) == (user, row)
    event = session.scalar(select(AuditEvent).where(AuditEvent.entity == "api_token"))
    assert event.action == "create" and new.secret not in str(event.after)


def test_a_duplicate_live_name_is_refused(session, make):
    user = make.user("planner")
    tokens.create_token(session, user, user, name="ERP")
    with pytest.raises(Conflict, match="already have a token named “ERP”"):
        tokens.create_token(session, user, user, name="  ERP ")
    other = make.user("planner")
    tokens.create_token(session, other, other, name="ERP")  # another user's name is theirs
    assert len(tokens.tokens_of(session, user)) == 1


def test_a_revoked_name_can_be_used_again(session, make):
    user = make.user("planner")
    first = tokens.create_token(session, user, user, name="ERP")
    tokens.revoke_token(session, user, first.token.id)
    second = tokens.create_token(session, user, user, name="ERP")
    assert [t.id for t in tokens.tokens_of(session, user)] == [second.token.id, first.token.id]
    assert tokens.live_token_named(session, user, "ERP").id == second.token.id


@pytest.mark.parametrize("days, expected", [(None, None), ("", None), (1, 1), ("30", 30),
                                            (3650, 3650)])
def test_days_within_bounds(days, expected):
    assert tokens.check_days(days) == expected


@pytest.mark.parametrize("days, message", [(0, "from 1 to 3650"), (-1, "from 1 to 3650"),
                                           (3651, "from 1 to 3650"), ("1.5", "whole number"),
                                           ("ten", "whole number")])
def test_days_out_of_bounds_are_refused_and_store_nothing(session, make, days, message):
    user = make.user("viewer")
    with pytest.raises(ValidationFailed, match=message) as refused:
        tokens.create_token(session, user, user, name="BI", days=days)
    assert list(refused.value.errors) == ["days"]
    assert session.scalar(select(ApiToken)) is None


def test_days_set_the_expiry(session, make):
    user = make.user("viewer")
    new = tokens.create_token(session, user, user, name="BI", days=7)
    expires = as_utc(new.token.expires_at)
    assert timedelta(days=7) - timedelta(minutes=1) < expires - utcnow() <= timedelta(days=7)
    assert tokens.create_token(session, user, user, name="BI 2").token.expires_at is None


@pytest.mark.parametrize("name, message", [("", "Name the token"), ("   ", "Name the token"),
                                           ("x" * 101, "longer than 100"),
                                           ("tab\there", "printable")])
def test_bad_names_are_refused(session, make, name, message):
    user = make.user("viewer")
    with pytest.raises(ValidationFailed, match=message) as refused:
        tokens.create_token(session, user, user, name=name)
    assert list(refused.value.errors) == ["name"]


def test_revoking_twice_is_refused(session, make):
    user = make.user("buyer")
    new = tokens.create_token(session, user, user, name="POS")
    revoked = tokens.revoke_token(session, user, new.token.id)
    assert revoked.revoked_at is not None and revoked.revoked_by == user.id
    with pytest.raises(Conflict, match="already revoked"):
        tokens.revoke_token(session, user, new.token.id)
    with pytest.raises(tokens.TokenRefused, match="revoked"):
        tokens.token_user(session, new.secret)


def test_only_the_owner_or_an_admin_revokes(session, make):
    owner, other = make.user("planner"), make.user("planner")
    new = tokens.create_token(session, owner, owner, name="POS")
    with pytest.raises(Forbidden):
        tokens.revoke_token(session, other, new.token.id)
    assert tokens.token_status(new.token) == "active"
    revoked = tokens.revoke_token(session, make.admin, new.token.id)
    assert revoked.revoked_by == make.admin.id and tokens.token_status(revoked) == "revoked"
    with pytest.raises(NotFound):
        tokens.revoke_token(session, make.admin, uuid.uuid4())


def test_tokens_are_created_only_for_oneself(session, make):
    owner = make.user("planner")
    with pytest.raises(Forbidden):
        tokens.create_token(session, make.admin, owner, name="ERP")
    assert session.scalar(select(ApiToken)) is None


def test_a_deactivated_users_token_is_refused(session, make):
    user = make.user("buyer")
    new = tokens.create_token(session, user, user, name="ERP")
    update_user(session, make.admin, user, is_active=False)
    with pytest.raises(tokens.TokenRefused, match="deactivated"):
        tokens.token_user(session, new.secret)
    with pytest.raises(ValidationFailed, match="deactivated"):
        tokens.create_token(session, None, user, name="another")


def test_an_expired_token_is_refused_and_shown_as_expired(session, make):
    user = make.user("viewer")
    new = tokens.create_token(session, user, user, name="BI", days=1)
    new.token.expires_at = utcnow() - timedelta(seconds=1)
    session.commit()
    with pytest.raises(tokens.TokenRefused, match="expired"):
        tokens.token_user(session, new.secret)
    assert tokens.token_status(new.token) == "expired"
    assert [t.id for t in tokens.all_live_tokens(session)] == [new.token.id]  # not revoked
