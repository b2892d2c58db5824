"""A season's exception thresholds and the acknowledgements of its exceptions (issue 17,
item 4). The exceptions themselves are not stored: queries.py finds them from the season's
data each time."""
from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import CheckConstraint, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..modelbase import IdMixin, Percent, fk
from ..versions import NOT_VERSIONED, SEASON_DATA
from .rules import KINDS


class ExceptionThresholds(IdMixin, db.Model):
    """A season's thresholds, stored only once a planner changes them (rules.DEFAULTS
    otherwise)."""

    __tablename__ = "exception_thresholds"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        CheckConstraint("low_otb_percent BETWEEN 0 AND 100", name="low_otb_range"),
        CheckConstraint("under_used_percent BETWEEN 0 AND 100", name="under_used_range"),
        CheckConstraint("short_closed_percent BETWEEN 0 AND 100", name="short_closed_range"),
        CheckConstraint("sell_through_points BETWEEN 0 AND 100", name="sell_through_range"),
        CheckConstraint("version >= 1", name="version_positive"),
        UniqueConstraint("season_id"),
    )

    season_id: Mapped[uuid.UUID] = fk("seasons.id", index=False)
    low_otb_percent: Mapped[Decimal] = mapped_column(Percent, nullable=False)
    under_used_percent: Mapped[Decimal] = mapped_column(Percent, nullable=False)
    short_closed_percent: Mapped[Decimal] = mapped_column(Percent, nullable=False)
    sell_through_points: Mapped[Decimal] = mapped_column(Percent, nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_by: Mapped[uuid.UUID] = fk("users.id", index=False)


class ExceptionAcknowledgement(IdMixin, db.Model):
    """Someone has seen one exception of a season and says why it may stand: it leaves the
    open list until it measures worse than `value` (rules.is_worse). `key` names the
    exception within its kind: "location|category|YYYY-MM" by codes, "location|category",
    a category code or a PO number. Acknowledging again replaces the row (audited)."""

    __tablename__ = "exception_acknowledgements"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        UniqueConstraint("season_id", "kind", "key"),
        CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")",
                        name="kind_known"),
        CheckConstraint("length(note) >= 1", name="note_not_empty"),
    )

    season_id: Mapped[uuid.UUID] = fk("seasons.id", index=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    # The exception's measure when acknowledged (rules.Kind.measure): money or a percentage.
    value: Mapped[Decimal] = mapped_column(Numeric(18, 2, asdecimal=True), nullable=False)
    note: Mapped[str] = mapped_column(String(500), nullable=False)
    acknowledged_by: Mapped[uuid.UUID] = fk("users.id", index=False)

    user = relationship("User")


class DigestEntry(IdMixin, db.Model):
    """An exception the daily digest has mailed (issue 17, item 5): the next digest tells only
    of those not mailed yet. Written once every message of a digest has left."""

    __tablename__ = "exception_digest_entries"
    # The digest's own memory: no figure depends on it.
    __version_scope__ = NOT_VERSIONED
    __table_args__ = (UniqueConstraint("season_id", "kind", "key"),)

    season_id: Mapped[uuid.UUID] = fk("seasons.id", index=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
