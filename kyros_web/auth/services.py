"""Users: creation, password checks, account changes and login sessions (SPEC §4).
Passwords are scrypt hashes."""
from __future__ import annotations

import hashlib
import re
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..errors import Conflict, ValidationFailed
from ..modelbase import utcnow
from ..transaction import transactional
from .models import User, UserSession
from .roles import PERMISSIONS, Action, Role, require

MIN_PASSWORD_LENGTH = 8
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
USER_FIELDS = ("email", "full_name", "role", "is_active")

# Checked against when the email is unknown, so both paths cost one hash.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def emails_allowed(session: Session, action, *, but=None) -> list[str]:
    """The e-mail of every active user whose role allows `action` (auth/roles.py), but the
    user `but`: whom a message about a request or an exception goes to."""
    stmt = select(User.email).where(User.is_active.is_(True),
                                    User.role.in_(PERMISSIONS[action]))
    if but is not None:
        stmt = stmt.where(User.id != but.id)
    return list(session.scalars(stmt.order_by(User.email)))


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user whose password matches, else None (same cost either way)."""
    user = find_user(session, email)
    if user is None:
        check_password_hash(_DUMMY_HASH, password or "")
        return None
    if not check_password_hash(user.password_hash, password or ""):
        return None
    if not user.is_active:
        return None
    return user


def _validate(email: str, role: str, password: str | None) -> dict[str, str]:
    errors = {}
    if not EMAIL_RE.match(email):
        errors["email"] = "Enter a valid email address"
    if role not in {r.value for r in Role}:
        errors["role"] = "Role must be one of " + ", ".join(r.value for r in Role)
    if password is not None and len(password) < MIN_PASSWORD_LENGTH:
        errors["password"] = f"Password must be at least {MIN_PASSWORD_LENGTH} characters"
    return errors


@transactional
def create_user(session: Session, actor, *, email: str, role: str, password: str,
                full_name: str = "") -> User:
    """Create a user; `actor` must be an admin unless None (the operator's CLI)."""
    if actor is not None:
        require(actor, Action.MANAGE_USERS)
    email = normalise_email(email)
    errors = _validate(email, role, password)
    if errors:
        raise ValidationFailed(errors)
    if find_user(session, email) is not None:
        raise Conflict(f"A user with email {email} already exists")
    user = User(email=email, full_name=(full_name or "").strip(), role=Role(role),
                is_active=True, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    audit.record(session, user=actor, action="create", entity="user", entity_id=user.id,
                 after=audit.snapshot(user, USER_FIELDS))
    return user


@transactional
def update_user(session: Session, actor, user: User, *, role: str | None = None,
                is_active: bool | None = None, password: str | None = None,
                full_name: str | None = None) -> User:
    """Change a user's role, active flag, password or name.

    A change of role, active flag or password ends the user's existing sessions.
    """
    if actor is not None:
        require(actor, Action.MANAGE_USERS)
        if actor.id == user.id and ((role is not None and Role(role) is not user.role)
                                    or is_active is False):
            # An admin cannot lock themselves out; another admin must do it.
            raise ValidationFailed({"role": "You cannot change your own role or deactivate "
                                    "your own account"})
    errors = _validate(user.email, role or user.role.value, password)
    if errors:
        raise ValidationFailed(errors)
    before = audit.snapshot(user, USER_FIELDS)
    ends_sessions = False
    if role is not None and Role(role) is not user.role:
        user.role = Role(role)
        ends_sessions = True
    if is_active is not None and is_active != user.is_active:
        user.is_active = is_active
        ends_sessions = True
    if password is not None:
        user.password_hash = hash_password(password)
        ends_sessions = True
    if full_name is not None:
        user.full_name = full_name.strip()
    if ends_sessions:
        user.session_version += 1
        _end_live_sessions(session, user)
    b, a = audit.changes(before, audit.snapshot(user, USER_FIELDS))
    if password is not None:
        a["password"] = "changed"
    if a:
        audit.record(session, user=actor, action="update", entity="user", entity_id=user.id,
                     before=b, after=a)
    return user


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _end_live_sessions(session: Session, user: User) -> int:
    result = session.execute(update(UserSession)
                             .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
                             .values(ended_at=utcnow()))
    return result.rowcount


@transactional
def start_session(session: Session, user: User) -> str:
    """Record a new login of `user` and return the random token its cookie will carry.

    The session lives until logout, "log out everywhere", or a change of the user's role,
    password or active flag (which bumps users.session_version).
    """
    token = secrets.token_urlsafe(32)
    session.add(UserSession(id=_digest(token), user_id=user.id,
                            user_version=user.session_version))
    user.session_token = token
    return token


def session_user(session: Session, token: str | None) -> User | None:
    """The active user of a live login session, in one query; None for an ended, unknown or
    outdated session. Reads only: a request writes nothing to stay logged in."""
    if not token:
        return None
    user = session.scalar(
        select(User).join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.id == _digest(token), UserSession.ended_at.is_(None),
               UserSession.user_version == User.session_version, User.is_active.is_(True)))
    if user is not None:
        user.session_token = token
    return user


@transactional
def end_session(session: Session, token: str | None) -> None:
    """Log out: the session the token names ends, so a copy of its cookie signs nobody in."""
    if token:
        session.execute(update(UserSession)
                        .where(UserSession.id == _digest(token), UserSession.ended_at.is_(None))
                        .values(ended_at=utcnow()))


@transactional
def end_all_sessions(session: Session, actor, user: User) -> int:
    """Log `user` out everywhere: every live session of theirs ends, the actor's own included
    when it is theirs. Users may do it for themselves; for another user it takes an admin
    (raises Forbidden); `actor` None is the operator's CLI. Returns how many ended; audited."""
    if actor is not None:
        require(actor, Action.READ if actor.id == user.id else Action.MANAGE_USERS)
    ended = _end_live_sessions(session, user)
    audit.record(session, user=actor, action="logout_everywhere", entity="user",
                 entity_id=user.id, after={"sessions_ended": ended})
    return ended
