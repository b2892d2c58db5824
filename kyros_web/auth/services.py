"""Users: creation, password checks and account changes (SPEC §4). Passwords are scrypt hashes."""
from __future__ import annotations

import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from .. import audit
from ..errors import Conflict, ValidationFailed
from ..transaction import transactional
from .models import User
from .roles import Action, Role, require

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
    b, a = audit.changes(before, audit.snapshot(user, USER_FIELDS))
    if password is not None:
        a["password"] = "changed"
    if a:
        audit.record(session, user=actor, action="update", entity="user", entity_id=user.id,
                     before=b, after=a)
    return user
