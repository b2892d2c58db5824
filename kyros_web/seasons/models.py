"""Seasons, the locations taking part, and the recorded workflow transitions."""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Boolean, CheckConstraint, Date, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..modelbase import IdMixin, fk, str_enum
from ..versions import SEASON_DATA, SEASON_ITSELF
from .workflow import SeasonStatus


def status_type(name: str):
    return str_enum(SeasonStatus, name)


class Season(IdMixin, db.Model):
    __tablename__ = "seasons"
    __version_scope__ = SEASON_ITSELF
    __table_args__ = (
        CheckConstraint("end_date >= start_date", name="end_after_start"),
        CheckConstraint("length(season_code) = 9", name="season_code_length"),
        CheckConstraint("reforecast_method IN ('trend', 'plan')", name="reforecast_method_known"),
    )

    season_code: Mapped[str] = mapped_column(String(9), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    start_date: Mapped[date] = mapped_column(Date, nullable=False)
    end_date: Mapped[date] = mapped_column(Date, nullable=False)
    status: Mapped[SeasonStatus] = mapped_column(
        status_type("season_status"), nullable=False, default=SeasonStatus.CREATED, index=True
    )
    # Issue 14: a saved OTB row's closing stock becomes the opening stock of the same
    # location × category's next month (planning.rules.chained_opening).
    chain_stock: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True,
                                              server_default=true())
    # Issue 16: how the in-season reforecast forecasts the months without actuals
    # (planning.reforecast.METHODS).
    reforecast_method: Mapped[str] = mapped_column(String(10), nullable=False, default="trend",
                                                   server_default="trend")
    created_by: Mapped[uuid.UUID] = fk("users.id")

    creator = relationship("User", foreign_keys=[created_by])

    def __repr__(self) -> str:
        return f"<Season {self.season_code} {self.status}>"


class SeasonLocation(IdMixin, db.Model):
    __tablename__ = "season_locations"
    __version_scope__ = SEASON_DATA
    __table_args__ = (UniqueConstraint("season_id", "location_id"),)

    season_id: Mapped[uuid.UUID] = fk("seasons.id")
    location_id: Mapped[uuid.UUID] = fk("locations.id")

    location = relationship("Location")


class SeasonTransition(IdMixin, db.Model):
    __tablename__ = "season_transitions"
    __version_scope__ = SEASON_DATA

    season_id: Mapped[uuid.UUID] = fk("seasons.id")
    from_status: Mapped[SeasonStatus] = mapped_column(status_type("transition_from"), nullable=False)
    to_status: Mapped[SeasonStatus] = mapped_column(status_type("transition_to"), nullable=False)
    user_id: Mapped[uuid.UUID] = fk("users.id")
    note: Mapped[str | None] = mapped_column(Text)

    user = relationship("User")
