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


def committed_expr():
    """One PO's committed value: full value, or received only when short-closed, 0 when
    cancelled. The receipts are summed for short-closed POs alone (a correlated subquery
    the database evaluates only on that branch), so no query aggregates every GRN."""
    received = (select(func.coalesce(func.sum(GRNRecord.received_value), 0))
                .where(GRNRecord.po_id == PurchaseOrder.id).scalar_subquery())
    return case(
        (PurchaseOrder.status == POStatus.CANCELLED, 0),
        (PurchaseOrder.status == POStatus.CLOSED, received),
        else_=PurchaseOrder.po_value,
    )


def committed_per_cell(season_id, only=None):
    """Subquery: (location_id, category_id, month) → committed, for one season.

    `only(model)` may narrow it to some cells before grouping (a page of a grid).
    """
    month = month_start(PurchaseOrder.delivery_date)
    stmt = (
        select(PurchaseOrder.location_id, PurchaseOrder.category_id, month.label("month"),
               func.sum(committed_expr()).label("committed"))
        .where(PurchaseOrder.season_id == season_id)
        .group_by(PurchaseOrder.location_id, PurchaseOrder.category_id, month)
    )
    if only is not None:
        stmt = stmt.where(only(PurchaseOrder))
    return stmt.subquery("committed_per_cell")


def over_otb_po_count(season_id):
    """Statement: how many live POs sit in a cell whose committed exceeds its OTB.

    One pass over the season's POs: each PO carries its cell's committed as a window sum,
    then meets its cell's OTB row (the unique index finds it)."""
    month = month_start(PurchaseOrder.delivery_date)
    per_po = (
        select(PurchaseOrder.status, PurchaseOrder.location_id, PurchaseOrder.category_id,
               month.label("month"),
               func.sum(committed_expr()).over(
                   partition_by=(PurchaseOrder.location_id, PurchaseOrder.category_id, month))
               .label("cell_committed"))
        .where(PurchaseOrder.season_id == season_id)
        .subquery("po_cells")
    )
    otb = func.coalesce(OTBPlan.approved_spend_limit, 0)
    return (
        select(func.count())
        .select_from(per_po)
        .outerjoin(OTBPlan, (OTBPlan.season_id == season_id)
                   & (OTBPlan.location_id == per_po.c.location_id)
                   & (OTBPlan.category_id == per_po.c.category_id)
                   & (OTBPlan.month == per_po.c.month))
        .where(per_po.c.status != POStatus.CANCELLED, per_po.c.cell_committed > otb)
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


# Newest first: by order date, then by number, both descending (the list index backwards).
PO_ORDER = (PurchaseOrder.order_date.desc(), PurchaseOrder.po_number.desc())


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
