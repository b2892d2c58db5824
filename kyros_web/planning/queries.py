"""Read-only SQL for one OTB cell: its spend limit and what POs commit against it (SPEC §5)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import func, select, type_coerce
from sqlalchemy.orm import Session

from ..modelbase import Money
from ..purchasing.models import PurchaseOrder
from ..purchasing.queries import committed_expr, received_per_po
from ..sqlfuncs import month_start
from .models import OTBPlan

ZERO = Decimal("0")


@dataclass(frozen=True)
class CellFigures:
    otb: Decimal
    committed: Decimal
    has_otb_row: bool

    @property
    def remaining(self) -> Decimal:
        return self.otb - self.committed


def cell_figures(session: Session, season_id: uuid.UUID, location_id: uuid.UUID,
                 category_id: uuid.UUID, month: date,
                 exclude_po: uuid.UUID | None = None) -> CellFigures:
    """OTB and committed of one location × category × month; `exclude_po` leaves one PO out
    (the one being edited)."""
    otb = session.scalar(select(OTBPlan.approved_spend_limit).where(
        OTBPlan.season_id == season_id, OTBPlan.location_id == location_id,
        OTBPlan.category_id == category_id, OTBPlan.month == month))
    received = received_per_po()
    # type_coerce: read the sum back as an exact 2-place Decimal on every dialect.
    stmt = (select(type_coerce(func.coalesce(func.sum(committed_expr(received)), 0), Money))
            .select_from(PurchaseOrder)
            .outerjoin(received, received.c.po_id == PurchaseOrder.id)
            .where(PurchaseOrder.season_id == season_id,
                   PurchaseOrder.location_id == location_id,
                   PurchaseOrder.category_id == category_id,
                   month_start(PurchaseOrder.delivery_date) == month))
    if exclude_po is not None:
        stmt = stmt.where(PurchaseOrder.id != exclude_po)
    committed = session.scalar(stmt)
    return CellFigures(otb=otb if otb is not None else ZERO, committed=committed,
                       has_otb_row=otb is not None)
