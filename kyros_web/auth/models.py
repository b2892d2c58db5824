"""The users table (login identity, role and active flag) and its login sessions."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from ..auth.roles import Role
from ..extensions import db
from ..modelbase import IdMixin, fk, str_enum, utcnow
from ..versions import NOT_VERSIONED, SHARED_DATA


class User(IdMixin, db.Model):
    __tablename__ = "users"
    __version_scope__ = SHARED_DATA
    email: Mapped[str] = mapped_column(String(254), nullable=False)
    full_name: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    role: Mapped[Role] = mapped_column(
        str_enum(Role, "user_role", 20),
        nullable=False,
    )
    is_active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    # Bumped when the password, role or active flag changes: old sessions stop working.
    session_version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)

    # The token of the login session this object was loaded for (not a column): set at login
    # and by the user loader, it is what Flask-Login keeps in the session cookie.
    session_token = None

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str | None:
        return self.session_token

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(db.Model):
    """One login. The cookie carries a random token; only its SHA-256 digest is stored, so
    the table alone does not let anyone sign in. Live while `ended_at` is empty and the
    user's session_version is still the one it was started with."""

    __tablename__ = "user_sessions"
    # Logins change no figure.
    __version_scope__ = NOT_VERSIONED
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[uuid.UUID] = fk("users.id")
    user_version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False,
                                                 default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


# Case-insensitive uniqueness, whatever spelling was stored.
Index("uq_users_email_lower", func.lower(User.email), unique=True)
