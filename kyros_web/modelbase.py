"""Column types and the mixin every table shares: UUID key and timestamps (SPEC §2)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import DateTime, Enum, ForeignKey, Numeric, Uuid
from sqlalchemy.orm import Mapped, mapped_column

# Money and percentages are exact decimals end to end; NUMERIC(18,2) in the database.
Money = Numeric(18, 2, asdecimal=True)
Percent = Numeric(5, 2, asdecimal=True)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def fk(target: str, *, nullable: bool = False, index: bool = True) -> Mapped:
    """A foreign key that refuses to delete a row still referenced (never a cascade)."""
    return mapped_column(
        Uuid, ForeignKey(target, ondelete="RESTRICT"), nullable=nullable, index=index
    )


class IdMixin:
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow
    )
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow
    )


__all__ = ["Decimal", "IdMixin", "Money", "Percent", "fk", "str_enum", "utcnow"]


def str_enum(cls, name: str, length: int = 30) -> Enum:
    """A Python StrEnum stored as its value in a VARCHAR with a CHECK of the allowed values."""
    return Enum(cls, name=name, native_enum=False, create_constraint=True,
                values_callable=lambda e: [m.value for m in e], length=length)
