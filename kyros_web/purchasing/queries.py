"""Read-only SQL for committed OTB (SPEC §5), shared by gates, grids and analytics."""
from __future__ import annotations

from sqlalchemy import case, func, select

from ..planning.models import OTBPlan
from ..sqlfuncs import month_start
from .models import GRNRecord, POStatus, PurchaseOrder


def received_per_po():
    """Subquery: po_id → total received value."""
    return (select(GRNRecord.po_id, func.sum(GRNRecord.received_value).label("received"))
            .group_by(GRNRecord.po_id).subquery("received_per_po"))


def committed_expr(received):
    """One PO's committed value: full value, or received only when short-closed, 0 when cancelled."""
    return case(
        (PurchaseOrder.status == POStatus.CANCELLED, 0),
        (PurchaseOrder.status == POStatus.CLOSED, func.coalesce(received.c.received, 0)),
        else_=PurchaseOrder.po_value,
    )


def committed_per_cell(season_id):
    """Subquery: (location_id, category_id, month) → committed, for one season."""
    received = received_per_po()
    month = month_start(PurchaseOrder.delivery_date)
    return (
        select(PurchaseOrder.location_id, PurchaseOrder.category_id, month.label("month"),
               func.sum(committed_expr(received)).label("committed"))
        .outerjoin(received, received.c.po_id == PurchaseOrder.id)
        .where(PurchaseOrder.season_id == season_id)
        .group_by(PurchaseOrder.location_id, PurchaseOrder.category_id, month)
        .subquery("committed_per_cell")
    )


def over_otb_po_count(season_id):
    """Statement: how many live POs sit in a cell whose committed exceeds its OTB."""
    cells = committed_per_cell(season_id)
    otb = func.coalesce(OTBPlan.approved_spend_limit, 0)
    over = (
        select(cells.c.location_id, cells.c.category_id, cells.c.month)
        .outerjoin(OTBPlan, (OTBPlan.season_id == season_id)
                   & (OTBPlan.location_id == cells.c.location_id)
                   & (OTBPlan.category_id == cells.c.category_id)
                   & (OTBPlan.month == cells.c.month))
        .where(cells.c.committed > otb)
        .subquery("over_cells")
    )
    return (
        select(func.count())
        .select_from(PurchaseOrder)
        .join(over, (over.c.location_id == PurchaseOrder.location_id)
              & (over.c.category_id == PurchaseOrder.category_id)
              & (over.c.month == month_start(PurchaseOrder.delivery_date)))
        .where(PurchaseOrder.season_id == season_id,
               PurchaseOrder.status != POStatus.CANCELLED)
    )
