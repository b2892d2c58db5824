"""The users table (login identity, role and active flag) and its login sessions."""
from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, UniqueConstraint, func, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


class ApiToken(IdMixin, db.Model):
    """A personal access token for the JSON API (issue 18). Shown once; only the SHA-256
    digest of the secret is stored. It acts as its user with the user's role (never more),
    read-only when asked, until it expires or is revoked."""

    __tablename__ = "api_tokens"
    # Tokens change no figure.
    __version_scope__ = NOT_VERSIONED
    user_id: Mapped[uuid.UUID] = fk("users.id")
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    digest: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    # The first characters of the secret, shown on the tokens page to tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    read_only: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True, index=False)

    user = relationship("User", foreign_keys=[user_id])


# A live token's name is unique for its user (a revoked one frees its name).
Index("uq_api_tokens_live_name", ApiToken.user_id, ApiToken.name, unique=True,
      postgresql_where=text("revoked_at IS NULL"), sqlite_where=text("revoked_at IS NULL"))


class ApiIdempotency(IdMixin, db.Model):
    """The answer to a bulk write sent with an Idempotency-Key (issue 18): the same key and
    body again gets this answer without a second write; another body under the key is
    refused. Stored in the write's own transaction, so a key exists only for a write that
    happened."""

    __tablename__ = "api_idempotency"
    __version_scope__ = NOT_VERSIONED
    __table_args__ = (UniqueConstraint("user_id", "key"),)
    user_id: Mapped[uuid.UUID] = fk("users.id", index=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    request_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int] = mapped_column(Integer, nullable=False)
    response: Mapped[dict] = mapped_column(JSON, nullable=False)
