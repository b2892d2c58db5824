"""Purchase orders and goods received notes (SPEC §2)."""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from sqlalchemy import CheckConstraint, Date, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..modelbase import IdMixin, Money, fk, str_enum
from ..versions import SEASON_DATA, through


class POStatus(StrEnum):
    OPEN = "open"
    PARTIALLY_RECEIVED = "partially_received"
    RECEIVED = "received"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    # Over its cell's budget under the block policy, saved at the buyer's request until a
    # planner or an admin releases it (then open) or rejects it (then cancelled): it
    # consumes nothing and cannot be received meanwhile (issue 17, item 2).
    AWAITING_RELEASE = "awaiting_release"

    @property
    def title(self) -> str:
        return self.value.replace("_", " ").capitalize()


class POSource(StrEnum):
    MANUAL = "manual"
    CSV = "csv"
    XLSX = "xlsx"
    API = "api"
    ERP = "erp"

    @property
    def title(self) -> str:
        return self.value.upper() if self.value in ("csv", "xlsx", "api", "erp") else "Manual"



class PurchaseOrder(IdMixin, db.Model):
    __tablename__ = "purchase_orders"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        CheckConstraint("po_value > 0", name="po_value_positive"),
        CheckConstraint("delivery_date >= order_date", name="delivery_after_order"),
        CheckConstraint("length(po_number) >= 1", name="po_number_not_empty"),
        CheckConstraint("version >= 1", name="version_positive"),
        # Committed OTB is summed per location x category x delivery month.
        Index("ix_purchase_orders_otb_cell", "season_id", "location_id", "category_id",
              "delivery_date"),
        # The PO list's order, newest first (read backwards): a page comes off the index.
        Index("ix_purchase_orders_list_order", "season_id", "order_date", "po_number"),
    )

    po_number: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    season_id: Mapped[uuid.UUID] = fk("seasons.id")
    location_id: Mapped[uuid.UUID] = fk("locations.id")
    category_id: Mapped[uuid.UUID] = fk("categories.id")
    supplier: Mapped[str | None] = mapped_column(String(200), index=True)
    order_date: Mapped[date] = mapped_column(Date, nullable=False)
    delivery_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    po_value: Mapped[Decimal] = mapped_column(Money, nullable=False)
    source: Mapped[POSource] = mapped_column(
        str_enum(POSource, "po_source"), nullable=False, default=POSource.MANUAL, index=True
    )
    status: Mapped[POStatus] = mapped_column(
        str_enum(POStatus, "po_status"), nullable=False, default=POStatus.OPEN, index=True
    )
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    created_by: Mapped[uuid.UUID] = fk("users.id")

    season = relationship("Season")
    location = relationship("Location")
    category = relationship("Category")
    grns: Mapped[list["GRNRecord"]] = relationship(back_populates="purchase_order",
                                                   order_by="GRNRecord.grn_date")


class GRNRecord(IdMixin, db.Model):
    __tablename__ = "grn_records"
    __version_scope__ = through("purchase_order")
    __table_args__ = (
        CheckConstraint("received_value > 0", name="received_value_positive"),
        CheckConstraint("length(grn_number) >= 1", name="grn_number_not_empty"),
    )

    grn_number: Mapped[str] = mapped_column(String(50), nullable=False, unique=True)
    po_id: Mapped[uuid.UUID] = fk("purchase_orders.id")
    grn_date: Mapped[date] = mapped_column(Date, nullable=False, index=True)
    received_value: Mapped[Decimal] = mapped_column(Money, nullable=False)
    created_by: Mapped[uuid.UUID] = fk("users.id")

    purchase_order: Mapped[PurchaseOrder] = relationship(back_populates="grns")


class PORelease(IdMixin, db.Model):
    """A buyer's request to let a PO go over its cell's budget (issue 17, item 2). Under the
    block policy the PO waits as awaiting release until another person decides: approved, it
    becomes open and consumes; rejected, it is cancelled. Under the warn policy the PO is
    saved at once and the request is kept as an exception already approved by the policy
    ("recorded"), for the audit. Withdrawn when the buyer cancels the PO first."""

    __tablename__ = "po_releases"
    __version_scope__ = SEASON_DATA
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'approved', 'rejected', 'recorded', 'withdrawn')",
                        name="status_known"),
        CheckConstraint("decided_by IS NULL OR decided_by <> requested_by", name="four_eyes"),
        CheckConstraint("over_by > 0", name="over_by_positive"),
        Index("ix_po_releases_waiting", "status", "season_id"),
    )

    season_id: Mapped[uuid.UUID] = fk("seasons.id", index=False)
    po_id: Mapped[uuid.UUID] = fk("purchase_orders.id")
    over_by: Mapped[Decimal] = mapped_column(Money, nullable=False)  # over the budget, when asked
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    status: Mapped[str] = mapped_column(String(10), nullable=False, default="pending")
    requested_by: Mapped[uuid.UUID] = fk("users.id", index=False)
    decided_by: Mapped[uuid.UUID | None] = fk("users.id", nullable=True, index=False)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decision_note: Mapped[str | None] = mapped_column(String(500))

    purchase_order = relationship("PurchaseOrder")
    requester = relationship("User", foreign_keys=[requested_by])
    decider = relationship("User", foreign_keys=[decided_by])
