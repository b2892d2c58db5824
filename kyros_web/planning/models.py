"""Season plans, the monthly OTB plan and range intent (SPEC §2, §5)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, Boolean, CheckConstraint, Computed, Date, DateTime, Integer,
                        Numeric, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..modelbase import IdMixin, Money, Percent, fk
from ..versions import SEASON_DATA


class SeasonPlan(IdMixin, db.Model):
    __tablename__ = "season_plans"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        UniqueConstraint("season_id", "location_id", "category_id"),
        CheckConstraint("planned_sales >= 0", name="planned_sales_non_negative"),
        CheckConstraint("planned_margin > -100 AND planned_margin < 100", name="margin_range"),
        CheckConstraint("inventory_turns IS NULL OR inventory_turns >= 0", name="turns_non_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    season_id: Mapped[uuid.UUID] = fk("seasons.id")
    location_id: Mapped[uuid.UUID] = fk("locations.id")
    category_id: Mapped[uuid.UUID] = fk("categories.id")
    planned_sales: Mapped[Decimal] = mapped_column(Money, nullable=False)
    planned_margin: Mapped[Decimal] = mapped_column(Percent, nullable=False)
    inventory_turns: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    approved: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False, index=True)
    approved_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    uploaded_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)

    location = relationship("Location")
    category = relationship("Category")
    uploader = relationship("User", foreign_keys=[uploaded_by])


# The stored OTB is always the formula of SPEC §5, computed by the database itself.
OTB_FORMULA = (
    "planned_sales + planned_markdowns + planned_closing_stock - opening_stock - on_order"
)


class OTBPlan(IdMixin, db.Model):
    __tablename__ = "otb_plan"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        UniqueConstraint("season_id", "location_id", "category_id", "month"),
        CheckConstraint(
            "planned_sales >= 0 AND planned_markdowns >= 0 AND planned_closing_stock >= 0"
            " AND opening_stock >= 0 AND on_order >= 0",
            name="inputs_non_negative",
        ),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    season_id: Mapped[uuid.UUID] = fk("seasons.id")
    location_id: Mapped[uuid.UUID] = fk("locations.id")
    category_id: Mapped[uuid.UUID] = fk("categories.id")
    month: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    planned_sales: Mapped[Decimal] = mapped_column(Money, nullable=False)
    planned_markdowns: Mapped[Decimal] = mapped_column(Money, nullable=False, default=Decimal("0"))
    planned_closing_stock: Mapped[Decimal] = mapped_column(Money, nullable=False)
    opening_stock: Mapped[Decimal] = mapped_column(Money, nullable=False)
    on_order: Mapped[Decimal] = mapped_column(Money, nullable=False)
    approved_spend_limit: Mapped[Decimal] = mapped_column(
        Money, Computed(OTB_FORMULA, persisted=True)
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    uploaded_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)

    location = relationship("Location")
    category = relationship("Category")
    uploader = relationship("User", foreign_keys=[uploaded_by])


class RangeIntent(IdMixin, db.Model):
    __tablename__ = "range_intents"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        UniqueConstraint("season_id", "category_id"),
        CheckConstraint("core_percent >= 0 AND core_percent <= 100", name="core_range"),
        CheckConstraint("fashion_percent >= 0 AND fashion_percent <= 100", name="fashion_range"),
        CheckConstraint("round(core_percent + fashion_percent, 2) = 100", name="core_fashion_sum"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    season_id: Mapped[uuid.UUID] = fk("seasons.id")
    category_id: Mapped[uuid.UUID] = fk("categories.id")
    core_percent: Mapped[Decimal] = mapped_column(Percent, nullable=False)
    fashion_percent: Mapped[Decimal] = mapped_column(Percent, nullable=False)
    # Band name -> percentage as a decimal string, e.g. {"low": "30.00", ...}.
    price_band_mix: Mapped[dict] = mapped_column(JSON, nullable=False, default=dict)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    uploaded_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)

    category = relationship("Category")
    uploader = relationship("User", foreign_keys=[uploaded_by])
