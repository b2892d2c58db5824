"""Personal access tokens for the JSON API (issue 18): created and named by their user, shown
once, stored as a SHA-256 digest, read-only when asked, expiring, revocable by their user or
an admin. A token acts as its user: the user's current role and active flag decide, so a
role change or a deactivation applies to every token at once."""
from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from .. import audit
from ..errors import Conflict, Forbidden, NotFound, ValidationFailed
from ..modelbase import as_utc, utcnow
from ..transaction import transactional
from .models import ApiToken, User
from .roles import Action, require

# The secret's visible start: tells a Kyros token apart in a config file or a leak scanner.
PREFIX = "kyros_"
NAME_MAX = 100
MAX_DAYS = 3650
# A token's last use is written at most this often (not on every call).
LAST_USE_EVERY = timedelta(minutes=1)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_name(name: str | None) -> str:
    """A token's name: 1–100 characters of printable text."""
    text = (name or "").strip()
    if not text:
        raise ValidationFailed({"name": "Name the token (e.g. the system that will use it)"})
    if len(text) > NAME_MAX:
        raise ValidationFailed({"name": f"The name is longer than {NAME_MAX} characters"})
    if not text.isprintable():
        raise ValidationFailed({"name": "The name may hold only printable characters"})
    return text


def check_days(days) -> int | None:
    """Days until expiry: a whole number from 1 to 3650, or None for a token that does not
    expire."""
    if days is None or days == "":
        return None
    try:
        value = int(str(days).strip())
    except ValueError:
        raise ValidationFailed({"days": "Days until expiry must be a whole number"}) from None
    if not 1 <= value <= MAX_DAYS:
        raise ValidationFailed({"days": f"Days until expiry must be from 1 to {MAX_DAYS}"})
    return value


@dataclass(frozen=True)
class NewToken:
    token: ApiToken
    secret: str  # shown once, never stored


@transactional
def create_token(session: Session, actor, owner: User, *, name: str, read_only: bool = False,
                 days: int | None = None) -> NewToken:
    """A new token for `owner`. Users create their own; `actor` None is the operator's CLI."""
    if actor is not None:
        require(actor, Action.READ)
        if actor.id != owner.id:
            raise Forbidden("You can create tokens only for yourself.")
    if not owner.is_active:
        raise ValidationFailed({"email": f"{owner.email} is deactivated"})
    name = check_name(name)
    days = check_days(days)
    # Serialise two creations of one name for one user (the partial unique index is the
    # last word; this turns its refusal into a message).
    session.execute(select(User.id).where(User.id == owner.id).with_for_update())
    if session.scalar(select(ApiToken.id).where(ApiToken.user_id == owner.id,
                                                ApiToken.name == name,
                                                ApiToken.revoked_at.is_(None))):
        raise Conflict(f"You already have a token named “{name}”; revoke it or choose "
                       "another name")
    secret = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(user_id=owner.id, name=name, digest=_digest(secret),
                     prefix=secret[:len(PREFIX) + 4], read_only=bool(read_only),
                     expires_at=utcnow() + timedelta(days=days) if days else None)
    session.add(token)
    session.flush()
    audit.record(session, user=actor or owner, action="create", entity="api_token",
                 entity_id=token.id, after={"name": name, "read_only": token.read_only,
                                            "expires_at": token.expires_at})
    return NewToken(token, secret)


@transactional
def revoke_token(session: Session, actor, token_id: uuid.UUID) -> ApiToken:
    """Revoke a token: its user or an admin (`actor` None: the CLI). Revoking twice is
    refused, so the answer says what happened."""
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("Token not found")
    if actor is not None:
        require(actor, Action.READ if actor.id == token.user_id else Action.MANAGE_USERS)
    done = session.execute(
        update(ApiToken).where(ApiToken.id == token.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_by=getattr(actor, "id", None))
        .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(f"The token “{token.name}” was already revoked")
    session.refresh(token)
    audit.record(session, user=actor, action="revoke", entity="api_token", entity_id=token.id,
                 after={"name": token.name, "owner": token.user.email})
    return token


def live_token_named(session: Session, owner: User, name: str) -> ApiToken:
    token = session.scalar(select(ApiToken).where(ApiToken.user_id == owner.id,
                                                  ApiToken.name == (name or "").strip(),
                                                  ApiToken.revoked_at.is_(None)))
    if token is None:
        raise NotFound(f"{owner.email} has no live token named “{name}”")
    return token


def tokens_of(session: Session, owner: User) -> list[ApiToken]:
    """The user's tokens, live ones first, newest first."""
    return list(session.scalars(
        select(ApiToken).where(ApiToken.user_id == owner.id)
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc())))


def all_live_tokens(session: Session) -> list[ApiToken]:
    """Every live token, for the admin's view of the users page."""
    return list(session.scalars(select(ApiToken).where(ApiToken.revoked_at.is_(None))
                                .options(selectinload(ApiToken.user))
                                .order_by(ApiToken.created_at.desc())))


def is_live(token: ApiToken, now: datetime) -> bool:
    return token.revoked_at is None and (token.expires_at is None
                                         or as_utc(token.expires_at) > now)


def token_status(token: ApiToken, now: datetime | None = None) -> str:
    """What the tokens pages say of a token: "revoked", "expired" or "active"."""
    if token.revoked_at is not None:
        return "revoked"
    return "active" if is_live(token, now or utcnow()) else "expired"


class TokenRefused(Exception):
    """The bearer token does not sign anyone in; the message says why (401)."""


def token_user(session: Session, secret: str | None) -> tuple[User, ApiToken]:
    """The active user and live token a bearer secret names; TokenRefused otherwise. Notes
    the token's last use (at most once a minute, in its own small commit)."""
    if not secret:
        raise TokenRefused("Send a personal access token: Authorization: Bearer <token>")
    token = session.scalar(select(ApiToken).where(ApiToken.digest == _digest(secret)))
    now = utcnow()
    if token is None:
        raise TokenRefused("The token is not known")
    if token.revoked_at is not None:
        raise TokenRefused("The token was revoked")
    if not is_live(token, now):
        raise TokenRefused("The token has expired")
    user = token.user
    if not user.is_active:
        raise TokenRefused("The token's user is deactivated")
    if token.last_used_at is None or as_utc(token.last_used_at) < now - LAST_USE_EVERY:
        session.execute(update(ApiToken).where(ApiToken.id == token.id)
                        .values(last_used_at=now).execution_options(synchronize_session=False))
        session.commit()
    return user, token

