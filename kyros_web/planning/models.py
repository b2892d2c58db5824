"""Season plans, the monthly OTB plan, range intent and the actuals reported in season
(SPEC §2, §5; issue 16)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Computed, Date, DateTime, ForeignKey,
                        Index, Integer, Numeric, String, UniqueConstraint, Uuid)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..modelbase import IdMixin, Money, Percent, fk
from ..versions import NOT_VERSIONED, SEASON_DATA


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


class SeasonActual(IdMixin, db.Model):
    """What a location sold and held in a leaf category in one month of the season, as the
    shops report it (issue 16): the in-season loop compares it with the plan. Net sales may be
    negative (a month of more returns than sales); the other figures cannot."""

    __tablename__ = "season_actuals"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        UniqueConstraint("season_id", "location_id", "category_id", "month"),
        CheckConstraint("markdowns >= 0 AND closing_stock >= 0", name="money_non_negative"),
        CheckConstraint("(units_sold IS NULL OR units_sold >= 0)"
                        " AND (closing_units IS NULL OR closing_units >= 0)",
                        name="units_non_negative"),
        CheckConstraint("version >= 1", name="version_positive"),
    )

    season_id: Mapped[uuid.UUID] = fk("seasons.id")
    location_id: Mapped[uuid.UUID] = fk("locations.id")
    category_id: Mapped[uuid.UUID] = fk("categories.id")
    month: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    net_sales: Mapped[Decimal] = mapped_column(Money, nullable=False)
    markdowns: Mapped[Decimal] = mapped_column(Money, nullable=False)
    closing_stock: Mapped[Decimal] = mapped_column(Money, nullable=False)
    units_sold: Mapped[int | None] = mapped_column(Integer)
    closing_units: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    uploaded_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True)

    location = relationship("Location")
    category = relationship("Category")
    uploader = relationship("User", foreign_keys=[uploaded_by])


class GridEdit(IdMixin, db.Model):
    """One step of a planner in the OTB grid (issue 14, item 6): a typed cell, a pasted block,
    or a spread total (an undo is an audit event of its own). Its cells say what each OTB row held before
    and after, so the step can be undone while nobody else has changed those rows since."""

    __tablename__ = "grid_edits"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        Index("ix_grid_edits_steps", "season_id", "user_id", "undone_at", "created_at"),
        Index("ix_grid_edits_version", "season_id", "season_version"),
        CheckConstraint("cells >= 0", name="cells_non_negative"),
    )

    season_id: Mapped[uuid.UUID] = fk("seasons.id", index=False)
    user_id: Mapped[uuid.UUID] = fk("users.id", index=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # type, paste, spread, undo
    summary: Mapped[str] = mapped_column(String(300), nullable=False)
    cells: Mapped[int] = mapped_column(Integer, nullable=False)
    # When the step was undone, or dropped because someone else changed its rows since.
    undone_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The season's data version the step's commit made, when it was the one change then (a
    # worker whose cached pivot is older adds the steps in between: queries.carry_pivot_forward).
    season_version: Mapped[int | None] = mapped_column(BigInteger)


class GridEditCell(db.Model):
    """One figure a grid step changed: the OTB row, the input, its value and the row's version
    before and after (before: NULL and version 0 when the step created the row)."""

    __tablename__ = "grid_edit_cells"
    # Written only with its step, whose own row moves the season's version.
    __version_scope__ = NOT_VERSIONED
    edit_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("grid_edits.id", ondelete="CASCADE"), primary_key=True)
    row_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    field: Mapped[str] = mapped_column(String(30), primary_key=True)
    before: Mapped[Decimal | None] = mapped_column(Money)
    after: Mapped[Decimal] = mapped_column(Money, nullable=False)
    version_before: Mapped[int] = mapped_column(Integer, nullable=False)
    version_after: Mapped[int] = mapped_column(Integer, nullable=False)


class OTBAdjustment(IdMixin, db.Model):
    """A request to move open to buy from one scope of a season's cells to another (issue 17,
    item 1). A scope is a location (or a cluster, or every location) × a category at any level
    (or every category) × a month (or every month). Pending until another planner or an admin
    approves or rejects it; approval writes its lines (OTBAdjustmentLine) and never the
    uploaded OTB rows."""

    __tablename__ = "otb_adjustments"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        UniqueConstraint("season_id", "number"),
        CheckConstraint("amount > 0", name="amount_positive"),
        CheckConstraint("status IN ('pending', 'approved', 'rejected')", name="status_known"),
        # Four eyes: whoever decides is never whoever asked.
        CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="four_eyes"),
        CheckConstraint("(status = 'pending') = (decided_by IS NULL)", name="decided_when_done"),
        CheckConstraint("from_location_id IS NULL OR from_cluster_id IS NULL",
                        name="from_one_place"),
        CheckConstraint("to_location_id IS NULL OR to_cluster_id IS NULL", name="to_one_place"),
        Index("ix_otb_adjustments_waiting", "status", "season_id"),
    )

    season_id: Mapped[uuid.UUID] = fk("seasons.id", index=False)
    number: Mapped[int] = mapped_column(Integer, nullable=False)  # 1, 2, … in its season
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)
    from_location_id: Mapped[uuid.UUID | None] = fk("locations.id", nullable=True)
    from_cluster_id: Mapped[uuid.UUID | None] = fk("clusters.id", nullable=True, index=False)
    from_category_id: Mapped[uuid.UUID | None] = fk("categories.id", nullable=True)
    from_month: Mapped[date | None] = mapped_column(Date)
    to_location_id: Mapped[uuid.UUID | None] = fk("locations.id", nullable=True)
    to_cluster_id: Mapped[uuid.UUID | None] = fk("clusters.id", nullable=True, index=False)
    to_category_id: Mapped[uuid.UUID | None] = fk("categories.id", nullable=True)
    to_month: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    requested_by: Mapped[uuid.UUID] = fk("users.id", index=False)
    decided_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True, index=False)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    # Set when the approver let it through although the source had less open to buy.
    override_reason: Mapped[str | None] = mapped_column(String(500))

    requester = relationship("User", foreign_keys=[requested_by])
    decider = relationship("User", foreign_keys=[decided_by])


class OTBAdjustmentLine(IdMixin, db.Model):
    """What an approved adjustment moved in one cell: negative in the source scope's cells,
    positive in the target's. A cell's budget is its OTB + the sum of its lines."""

    __tablename__ = "otb_adjustment_lines"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        UniqueConstraint("adjustment_id", "location_id", "category_id", "month",
                         name="uq_otb_adjustment_lines_one_per_cell"),
        Index("ix_otb_adjustment_lines_cell", "season_id", "location_id", "category_id", "month"),
        CheckConstraint("amount <> 0", name="amount_not_zero"),
    )

    adjustment_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("otb_adjustments.id", ondelete="CASCADE"), nullable=False)
    season_id: Mapped[uuid.UUID] = fk("seasons.id", index=False)
    # Indexed on their own too: master data asks whether a location or category is in use.
    location_id: Mapped[uuid.UUID] = fk("locations.id")
    category_id: Mapped[uuid.UUID] = fk("categories.id")
    month: Mapped[date] = mapped_column(Date, nullable=False)
    amount: Mapped[Decimal] = mapped_column(Money, nullable=False)

    adjustment = relationship("OTBAdjustment")
