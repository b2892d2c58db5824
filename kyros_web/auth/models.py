"""The users table: login identity, role and active flag."""
from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from ..auth.roles import Role
from ..extensions import db
from ..modelbase import IdMixin, str_enum
from ..versions import SHARED_DATA


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

    # Flask-Login protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_version}"

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


# Case-insensitive uniqueness, whatever spelling was stored.
Index("uq_users_email_lower", func.lower(User.email), unique=True)
