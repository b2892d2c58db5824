"""Read-only SQL of purchasing: committed OTB (SPEC §5), shared by gates, grids and analytics,
and the PO and GRN lists."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import case, func, select, tuple_, type_coerce
from sqlalchemy.orm import Session, aliased

from ..masterdata.models import Category, Location
from ..modelbase import Money
from ..paging import Page, paginate_rows
from ..planning.models import OTBPlan
from ..sqlfuncs import month_start
from .models import GRNRecord, POSource, POStatus, PurchaseOrder


def received_per_po(po_ids=None):
    """Subquery: po_id → total received value, of every PO or only of `po_ids`."""
    stmt = select(GRNRecord.po_id, func.sum(GRNRecord.received_value).label("received"))
    if po_ids is not None:
        stmt = stmt.where(GRNRecord.po_id.in_(po_ids))
    return stmt.group_by(GRNRecord.po_id).subquery("received_per_po")


def committed_expr(received):
    """One PO's committed value: full value, or received only when short-closed, 0 when cancelled."""
    return case(
        (PurchaseOrder.status == POStatus.CANCELLED, 0),
        (PurchaseOrder.status == POStatus.CLOSED, func.coalesce(received.c.received, 0)),
        else_=PurchaseOrder.po_value,
    )


def committed_per_cell(season_id, only=None):
    """Subquery: (location_id, category_id, month) → committed, for one season.

    `only(model)` may narrow it to some cells before grouping (a page of a grid); the
    receipts are then summed for those cells' POs only.
    """
    if only is None:
        received = received_per_po()
    else:
        narrowed = aliased(PurchaseOrder)
        received = received_per_po(select(narrowed.id).where(narrowed.season_id == season_id,
                                                             only(narrowed)))
    month = month_start(PurchaseOrder.delivery_date)
    stmt = (
        select(PurchaseOrder.location_id, PurchaseOrder.category_id, month.label("month"),
               func.sum(committed_expr(received)).label("committed"))
        .outerjoin(received, received.c.po_id == PurchaseOrder.id)
        .where(PurchaseOrder.season_id == season_id)
        .group_by(PurchaseOrder.location_id, PurchaseOrder.category_id, month)
    )
    if only is not None:
        stmt = stmt.where(only(PurchaseOrder))
    return stmt.subquery("committed_per_cell")


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


@dataclass(frozen=True)
class POFilters:
    status: POStatus | None = None
    source: POSource | None = None
    supplier: str = ""
    location_id: uuid.UUID | None = None
    category_ids: frozenset | None = None
    month: date | None = None
    number: str = ""


PO_ORDER = (PurchaseOrder.order_date.desc(), PurchaseOrder.po_number)


def _where_po(stmt, f: POFilters):
    if f.status:
        stmt = stmt.where(PurchaseOrder.status == f.status)
    if f.source:
        stmt = stmt.where(PurchaseOrder.source == f.source)
    if f.supplier:
        stmt = stmt.where(func.lower(PurchaseOrder.supplier).like(f"%{f.supplier.lower()}%"))
    if f.number:
        stmt = stmt.where(func.lower(PurchaseOrder.po_number).like(f"%{f.number.lower()}%"))
    if f.location_id:
        stmt = stmt.where(PurchaseOrder.location_id == f.location_id)
    if f.category_ids is not None:
        stmt = stmt.where(PurchaseOrder.category_id.in_(f.category_ids))
    if f.month:
        stmt = stmt.where(month_start(PurchaseOrder.delivery_date) == f.month)
    return stmt


def _only_cells_of(ids):
    """A filter keeping the POs that share a location × category × month cell with the given
    POs."""
    keys = aliased(PurchaseOrder)
    cells = select(keys.location_id, keys.category_id,
                   month_start(keys.delivery_date)).where(keys.id.in_(ids))
    return lambda model: tuple_(model.location_id, model.category_id,
                                month_start(model.delivery_date)).in_(cells)


def po_rows(season_id: uuid.UUID, ids):
    """The POs `ids` (a page) with location, category, received so far and how far their cell
    is over OTB (NULL when within), newest first.

    Received is summed for these POs only and committed for their cells only, but over every
    PO of each cell, on this page or not.
    """
    received = received_per_po(ids)
    cells = committed_per_cell(season_id, _only_cells_of(ids))
    month = month_start(PurchaseOrder.delivery_date)
    over_by = type_coerce(cells.c.committed - func.coalesce(OTBPlan.approved_spend_limit, 0), Money)
    return (select(PurchaseOrder, Location.location_code, Location.name.label("location_name"),
                   Category.code.label("category_code"),
                   type_coerce(func.coalesce(received.c.received, 0), Money).label("received"),
                   case((over_by > 0, over_by), else_=None).label("cell_over_by"))
            .join(Location, Location.id == PurchaseOrder.location_id)
            .join(Category, Category.id == PurchaseOrder.category_id)
            .outerjoin(received, received.c.po_id == PurchaseOrder.id)
            .outerjoin(cells, (cells.c.location_id == PurchaseOrder.location_id)
                       & (cells.c.category_id == PurchaseOrder.category_id)
                       & (cells.c.month == month))
            .outerjoin(OTBPlan, (OTBPlan.season_id == season_id)
                       & (OTBPlan.location_id == PurchaseOrder.location_id)
                       & (OTBPlan.category_id == PurchaseOrder.category_id)
                       & (OTBPlan.month == month))
            .where(PurchaseOrder.season_id == season_id, PurchaseOrder.id.in_(ids))
            .order_by(*PO_ORDER))


def po_page(session: Session, season_id: uuid.UUID, f: POFilters, page: int,
            per_page: int) -> Page:
    """A page of the season's POs, filtered and newest first: the filters and the order need
    no sums, so the page's POs are picked first and only they get received and committed."""
    base = _where_po(select(PurchaseOrder.id).where(PurchaseOrder.season_id == season_id), f)
    ids = paginate_rows(session, base.order_by(*PO_ORDER), page, per_page)
    ids.items = (session.execute(po_rows(season_id, [r.id for r in ids.items])).all()
                 if ids.items else [])
    return ids


def grn_list(season_id: uuid.UUID, number: str = ""):
    """GRNs of the season's POs, newest first, optionally searched by GRN or PO number."""
    stmt = (select(GRNRecord, PurchaseOrder.po_number, PurchaseOrder.po_value,
                   Location.name.label("location_name"), Category.code.label("category_code"))
            .join(PurchaseOrder, PurchaseOrder.id == GRNRecord.po_id)
            .join(Location, Location.id == PurchaseOrder.location_id)
            .join(Category, Category.id == PurchaseOrder.category_id)
            .where(PurchaseOrder.season_id == season_id))
    if number:
        like = f"%{number.lower()}%"
        stmt = stmt.where(func.lower(GRNRecord.grn_number).like(like)
                          | func.lower(PurchaseOrder.po_number).like(like))
    return stmt.order_by(GRNRecord.grn_date.desc(), GRNRecord.grn_number)
