"""Column types and the mixin every table shares: UUID key and timestamps (SPEC §2)."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime, Enum, ForeignKey, Numeric, TypeDecorator, Uuid
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import operators

CENT = Decimal("0.01")


class Money(TypeDecorator):
    """Exact money, 2 places: NUMERIC(18,2) on PostgreSQL, whole cents on SQLite.

    SQLite has no decimal type: NUMERIC there is a binary float, so a sum of POs
    could land a hair above an equal OTB. Integer cents keep every stored value,
    sum and comparison exact. Every comparison of money with money is the same in
    cents; SQL must not divide money by a constant (SQLite divides integers whole).
    """

    impl = Numeric(18, 2, asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def coerce_compared_value(self, op, value):
        """A literal multiplied or divided with money is a plain number, not money: it must
        not be scaled to cents (`price * 100` stays `* 100`). Added or compared, it is money."""
        if op in (operators.mul, operators.truediv, operators.floordiv, operators.mod):
            return Numeric()
        return self

    def bind_processor(self, dialect):
        # Only SQLite converts (to cents); elsewhere the value goes as it is, without a call
        # per value (an import binds hundreds of thousands).
        if dialect.name != "sqlite":
            return self.impl_instance.bind_processor(dialect)
        return super().bind_processor(dialect)

    def process_bind_param(self, value, dialect):
        if value is None or dialect.name != "sqlite":
            return value
        cents = Decimal(value) * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"money has at most 2 decimals: {value}")
        return int(cents)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if dialect.name == "sqlite":
            return (Decimal(int(value)) / 100).quantize(CENT)
        return Decimal(value).quantize(CENT)


class MoneySum(Money):
    """A sum of money kept as it was summed (the summaries of analytics/summaries.py): any
    number of digits on PostgreSQL (a sum of many values at Money's largest still fits),
    whole cents on SQLite like Money."""

    impl = Numeric(asdecimal=True)
    cache_ok = True

    def load_dialect_impl(self, dialect):
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(asdecimal=True))

    def process_bind_param(self, value, dialect):
        cents = super().process_bind_param(value, dialect)
        if dialect.name == "sqlite" and isinstance(cents, int) and not -2 ** 63 <= cents < 2 ** 63:
            # Past 64 bits, as SQLite's SUM gives it here (dbsetup.UnboundedSum): a float.
            return float(cents)
        return cents


Percent = Numeric(5, 2, asdecimal=True)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment: datetime) -> datetime:
    """A stored moment with its zone: times are stored in UTC, and SQLite hands them back
    without one."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


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


__all__ = ["Decimal", "IdMixin", "Money", "MoneySum", "Percent", "as_utc", "fk", "str_enum", "utcnow"]


def str_enum(cls, name: str, length: int = 30) -> Enum:
    """A Python StrEnum stored as its value in a VARCHAR with a CHECK of the allowed values."""
    return Enum(cls, name=name, native_enum=False, create_constraint=True,
                values_callable=lambda e: [m.value for m in e], length=length)
