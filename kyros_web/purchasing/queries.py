"""Read-only SQL of purchasing: committed OTB (SPEC §5), shared by gates, grids and analytics,
and the PO and GRN lists."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select, tuple_, type_coerce
from sqlalchemy.orm import Session, aliased

from ..analytics.models import CATEGORY, LOCATION, season_figures
from ..auth.models import User
from ..masterdata.models import Category, Location
from ..modelbase import Money
from ..paging import Page, page_of, paginate_rows
from ..sorting import Sort, SortKeys
from ..planning.budget import adjustments_per_cell, joined
from ..planning.budget import budget as budget_sql
from ..planning.models import OTBPlan
from ..sqlfuncs import month_start
from ..summaries import settle
from ..seasons.models import Season
from ..seasons.workflow import Area, statuses_editing
from ..values import month_start as first_of
from .models import GRNRecord, PORelease, POSource, POStatus, PurchaseOrder


def received_per_po(po_ids=None):
    """Subquery: po_id → total received value, of every PO or only of `po_ids`."""
    stmt = select(GRNRecord.po_id, func.sum(GRNRecord.received_value).label("received"))
    if po_ids is not None:
        stmt = stmt.where(GRNRecord.po_id.in_(po_ids))
    return stmt.group_by(GRNRecord.po_id).subquery("received_per_po")


def committed_expr(received=None):
    """One PO's committed value, as planning/otb.py `committed_value` says: 0 when cancelled
    or awaiting release, the receipts when short-closed, else the full value or the receipts
    when more.

    Only a received PO can have received more than its value (status_after_receipts makes
    an open or partly received PO one that has received less), so the receipts are summed
    for short-closed and received POs alone (a correlated subquery the database evaluates
    only on those branches) and no query aggregates every GRN; a query that has already
    joined each PO's receipts passes them as `received`."""
    if received is None:
        received = (select(func.coalesce(func.sum(GRNRecord.received_value), 0))
                    .where(GRNRecord.po_id == PurchaseOrder.id).scalar_subquery())
    return case(
        (PurchaseOrder.status.in_([POStatus.CANCELLED, POStatus.AWAITING_RELEASE]), 0),
        (PurchaseOrder.status == POStatus.CLOSED, received),
        (PurchaseOrder.status == POStatus.RECEIVED,
         case((received > PurchaseOrder.po_value, received), else_=PurchaseOrder.po_value)),
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


@dataclass(frozen=True)
class POFilters:
    status: POStatus | None = None
    source: POSource | None = None
    supplier: str = ""
    location_id: uuid.UUID | None = None
    category_ids: frozenset | None = None
    month: date | None = None
    number: str = ""
    sort: Sort | None = None  # None: the default, newest first


# Lifecycle order, not the alphabet: open, partly received, received, closed, cancelled.
_STATUS_ORDER = case({s: i for i, s in enumerate(POStatus)}, value=PurchaseOrder.status)

# The PO list's columns. Received, committed and the OTB flag are sums, built per statement.
# Newest first by default: by order date, then by number, both descending (the list index
# backwards).
PO_SORTS = SortKeys({
    "number": (PurchaseOrder.po_number,),
    "location": (Location.name, Location.location_code),
    "category": (Category.code,),
    # No supplier sorts with the empty name on every database (NULLs differ between them).
    "supplier": (func.coalesce(PurchaseOrder.supplier, ""),),
    "ordered": (PurchaseOrder.order_date, PurchaseOrder.po_number),
    "due": (PurchaseOrder.delivery_date,),
    "value": (PurchaseOrder.po_value,),
    "received": None,
    "committed": None,
    "status": (_STATUS_ORDER,),
    "source": (PurchaseOrder.source,),
    "otb": None,
}, default="ordered", default_descending=True, tiebreak=(PurchaseOrder.po_number,))


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


def _cells_of(ids):
    """Statement: the location × category × month cells of the given POs."""
    keys = aliased(PurchaseOrder)
    return select(keys.location_id, keys.category_id,
                  month_start(keys.delivery_date)).where(keys.id.in_(ids))


def _only_cells_of(ids):
    """A filter keeping the POs that share a location × category × month cell with the given
    POs."""
    cells = _cells_of(ids)
    return lambda model: tuple_(model.location_id, model.category_id,
                                month_start(model.delivery_date)).in_(cells)


def _only_lines_of(ids):
    """A filter keeping the adjustment lines of the given POs' cells."""
    cells = _cells_of(ids)
    return lambda line: tuple_(line.location_id, line.category_id, line.month).in_(cells)


def po_rows(season_id: uuid.UUID, ids, sort: Sort | None = None):
    """The POs `ids` (a page) with location, category, received so far, committed and how far
    their cell is over its budget, OTB + adjustments (NULL when within, and for a cancelled
    PO, which takes no part in it), in the list's order.

    Received is summed for these POs only and committed and adjustments for their cells only,
    but over every PO of each cell, on this page or not.
    """
    received = received_per_po(ids)
    cells = committed_per_cell(season_id, _only_cells_of(ids))
    adj = adjustments_per_cell(season_id, _only_lines_of(ids))
    cell_budget = budget_sql(OTBPlan.approved_spend_limit, adj)
    month = month_start(PurchaseOrder.delivery_date)
    over_by = type_coerce(cells.c.committed - cell_budget, Money)
    return (select(PurchaseOrder, Location.location_code, Location.name.label("location_name"),
                   Category.code.label("category_code"),
                   type_coerce(func.coalesce(received.c.received, 0), Money).label("received"),
                   type_coerce(committed_expr(func.coalesce(received.c.received, 0)),
                               Money).label("committed"),
                   case((PurchaseOrder.status == POStatus.CANCELLED, None),
                        (over_by > 0, over_by), else_=None).label("cell_over_by"))
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
            # A PO's own cell is always among `cells`: its adjustments join through it.
            .outerjoin(adj, joined(adj, cells))
            .where(PurchaseOrder.season_id == season_id, PurchaseOrder.id.in_(ids))
            .order_by(*_po_order(sort or PO_SORTS.default, received.c.received,
                                 cells.c.committed, cell_budget)))


def _season_received(season_id: uuid.UUID):
    """Subquery po_id → received, over the season's POs."""
    return received_per_po(select(PurchaseOrder.id).where(PurchaseOrder.season_id == season_id))


def _po_order(sort: Sort, received, cell_committed, cell_budget) -> list:
    """ORDER BY for the PO list, given the columns the sums come from in this statement
    (`cell_budget`: the cell's OTB + adjustments)."""
    got = func.coalesce(received, 0)
    over_by = func.coalesce(cell_committed, 0) - func.coalesce(cell_budget, 0)
    # As the list shows it: how far the cell is over, nothing when within or cancelled.
    flag = case((PurchaseOrder.status == POStatus.CANCELLED, 0), (over_by > 0, over_by), else_=0)
    return PO_SORTS.order_by(sort, received=(got,), committed=(committed_expr(got),),
                             otb=(flag,))


def _po_ids(season_id: uuid.UUID, f: POFilters):
    """The filtered POs' ids in the list's order, joining only what the sort reads: the
    default order comes straight off the list index."""
    sort = f.sort or PO_SORTS.default
    stmt = _where_po(select(PurchaseOrder.id).where(PurchaseOrder.season_id == season_id), f)
    received = cell_committed = cell_budget = None
    if sort.key == "location":
        stmt = stmt.join(Location, Location.id == PurchaseOrder.location_id)
    elif sort.key == "category":
        stmt = stmt.join(Category, Category.id == PurchaseOrder.category_id)
    elif sort.key in ("received", "committed"):
        got = _season_received(season_id)
        stmt, received = stmt.outerjoin(got, got.c.po_id == PurchaseOrder.id), got.c.received
    elif sort.key == "otb":
        cells = committed_per_cell(season_id)
        adj = adjustments_per_cell(season_id)
        month = month_start(PurchaseOrder.delivery_date)
        stmt = (stmt.outerjoin(cells, (cells.c.location_id == PurchaseOrder.location_id)
                               & (cells.c.category_id == PurchaseOrder.category_id)
                               & (cells.c.month == month))
                .outerjoin(OTBPlan, (OTBPlan.season_id == season_id)
                           & (OTBPlan.location_id == PurchaseOrder.location_id)
                           & (OTBPlan.category_id == PurchaseOrder.category_id)
                           & (OTBPlan.month == month))
                .outerjoin(adj, joined(adj, cells)))
        cell_committed = cells.c.committed
        cell_budget = budget_sql(OTBPlan.approved_spend_limit, adj)
    return stmt, _po_order(sort, received, cell_committed, cell_budget)


@dataclass(frozen=True)
class POTotals:
    count: int
    po_value: Decimal
    received: Decimal
    committed: Decimal


def po_totals(session: Session, season_id: uuid.UUID, f: POFilters) -> POTotals:
    """Count, ordered value, received and committed (SPEC §5) of every PO the filters keep,
    on any page: one statement. From the season's summaries (analytics/summaries.py) when
    the filters are ones they are kept by, else from the POs."""
    summed = _totals_from_summaries(session, season_id, f)
    return summed if summed is not None else totals_from_pos(session, season_id, f)


def _totals_from_summaries(session: Session, season_id: uuid.UUID,
                           f: POFilters) -> POTotals | None:
    """The totals from the summary rows, when the filters name at most a location or some
    categories, and a delivery month: each group counts its POs (`pos`), their value, what
    they received (`received_due`, by delivery month, as here: a cancelled PO receives
    nothing) and committed, by delivery month. A season of 200,000 POs is a few thousand
    summary rows, not a join of every PO to its receipts. None for the other filters."""
    if (f.status or f.source or f.supplier or f.number
            or (f.location_id and f.category_ids is not None)):
        return None
    settle(session)
    t = season_figures
    if f.location_id:
        rows = (t.c.dim == LOCATION) & (t.c.key_id == f.location_id)
    else:
        rows = t.c.dim == CATEGORY
        if f.category_ids is not None:
            rows = rows & t.c.key_id.in_(f.category_ids)
    if f.month:
        rows = rows & (t.c.month == f.month)

    def total(column):
        return type_coerce(func.coalesce(func.sum(column), 0), Money)

    return POTotals(*session.execute(
        select(func.coalesce(func.sum(t.c.pos), 0), total(t.c.po_value),
               total(t.c.received_due), total(t.c.committed))
        .where(t.c.season_id == season_id, rows)).one())


def totals_from_pos(session: Session, season_id: uuid.UUID, f: POFilters) -> POTotals:
    """po_totals read from the POs and their receipts, for any filters."""
    got = _season_received(season_id)
    received = func.coalesce(got.c.received, 0)

    def total(column):
        return type_coerce(func.coalesce(func.sum(column), 0), Money)

    stmt = (select(func.count(PurchaseOrder.id), total(PurchaseOrder.po_value), total(received),
                   total(committed_expr(received)))
            .outerjoin(got, got.c.po_id == PurchaseOrder.id)
            .where(PurchaseOrder.season_id == season_id))
    return POTotals(*session.execute(_where_po(stmt, f)).one())


def po_page(session: Session, season_id: uuid.UUID, f: POFilters, page: int,
            per_page: int, totals: POTotals) -> Page:
    """A page of the season's POs, filtered and sorted (`totals`: po_totals of the same
    filters, which count the rows for the pager). The page's POs are picked first, joining
    a sum only when the sort needs it; then only they get received and committed."""
    ids, order = _po_ids(season_id, f)
    rows = paginate_rows(session, ids.order_by(*order), page, per_page, total=totals.count)
    rows.items = (session.execute(po_rows(season_id, [r.id for r in rows.items], f.sort)).all()
                  if rows.items else [])
    return rows


def po_slice(session: Session, season_id: uuid.UUID, f: POFilters, skip: int,
             limit: int) -> list:
    """The filtered, sorted POs from position `skip` on, at most `limit` (the JSON API's
    paging), as po_page's rows."""
    ids, order = _po_ids(season_id, f)
    picked = session.scalars(ids.order_by(*order).offset(skip).limit(limit)).all()
    return session.execute(po_rows(season_id, picked, f.sort)).all() if picked else []


GRN_SORTS = SortKeys({
    "grn": (GRNRecord.grn_number,),
    "date": (GRNRecord.grn_date,),
    "po": (PurchaseOrder.po_number,),
    "location": (Location.name, Location.location_code),
    "category": (Category.code,),
    "po_value": (PurchaseOrder.po_value,),
    "received": (GRNRecord.received_value,),
}, default="date", default_descending=True, tiebreak=(GRNRecord.grn_number,))


def _grns(season_id: uuid.UUID, number: str, *columns):
    stmt = (select(*columns)
            .select_from(GRNRecord)
            .join(PurchaseOrder, PurchaseOrder.id == GRNRecord.po_id)
            .join(Location, Location.id == PurchaseOrder.location_id)
            .join(Category, Category.id == PurchaseOrder.category_id)
            .where(PurchaseOrder.season_id == season_id))
    if number:
        like = f"%{number.lower()}%"
        stmt = stmt.where(func.lower(GRNRecord.grn_number).like(like)
                          | func.lower(PurchaseOrder.po_number).like(like))
    return stmt


def grn_list(season_id: uuid.UUID, number: str = "", sort: Sort | None = None):
    """GRNs of the season's POs, optionally searched by GRN or PO number, sorted (newest
    first by default)."""
    stmt = _grns(season_id, number, GRNRecord, PurchaseOrder.po_number, PurchaseOrder.po_value,
                 Location.name.label("location_name"), Category.code.label("category_code"))
    return stmt.order_by(*GRN_SORTS.order_by(sort or GRN_SORTS.default))


@dataclass(frozen=True)
class GRNTotals:
    count: int
    received: Decimal


def grn_totals(session: Session, season_id: uuid.UUID, number: str = "") -> GRNTotals:
    """Count and received value of every GRN the search keeps, on any page: one statement."""
    return GRNTotals(*session.execute(_grns(
        season_id, number, func.count(GRNRecord.id),
        type_coerce(func.coalesce(func.sum(GRNRecord.received_value), 0), Money))).one())


def grn_page(session: Session, season_id: uuid.UUID, number: str, sort: Sort | None,
             page: int, per_page: int, totals: GRNTotals) -> Page:
    """A page of the GRN list (`totals`: grn_totals of the same search, which count the rows
    for the pager)."""
    return paginate_rows(session, grn_list(season_id, number, sort), page, per_page,
                         total=totals.count)


def grn_list_page(session: Session, season_id: uuid.UUID, grn_id: uuid.UUID, number: str,
                  sort: Sort | None, per_page: int) -> int | None:
    """The page of the GRN list (searched and sorted so) that shows GRN `grn_id`, or None
    when the search leaves it out."""
    return page_of(session, _grns(season_id, number, GRNRecord.id), GRNRecord.id, grn_id,
                   GRN_SORTS.order_by(sort or GRN_SORTS.default), per_page)


# Releases of POs over their budget (issue 17, item 2)


@dataclass(frozen=True)
class ReleaseRow:
    id: uuid.UUID
    season_code: str
    season_name: str
    po_number: str
    location: str
    category: str
    month: date
    po_value: Decimal
    over_by: Decimal
    reason: str
    status: str
    requested_by: str
    requested_at: object
    decided_by: str | None
    note: str | None
    decided_at: object = None


def releases(*, waiting_for=None, asked_by: uuid.UUID | None = None,
             status: str | None = None, ids=None, po_id: uuid.UUID | None = None,
             season_id: uuid.UUID | None = None):
    """Statement: requests to release a PO over its budget, newest first: those pending that
    `waiting_for` (a user) may decide (not their own, in a season still buying), those
    `asked_by` a user, those of `ids`, of one PO or of one season; `status` narrows them.
    Each row becomes a ReleaseRow with release_row."""
    asked, decided = aliased(User), aliased(User)
    r = PORelease
    stmt = (select(r, Season.season_code, Season.name.label("season_name"),
                   PurchaseOrder.po_number, PurchaseOrder.po_value, PurchaseOrder.delivery_date,
                   Location.location_code, Category.code.label("category_code"),
                   asked.email.label("asked_email"), decided.email.label("decided_email"))
            .join(PurchaseOrder, PurchaseOrder.id == r.po_id)
            .join(Season, Season.id == r.season_id)
            .join(Location, Location.id == PurchaseOrder.location_id)
            .join(Category, Category.id == PurchaseOrder.category_id)
            .join(asked, asked.id == r.requested_by)
            .outerjoin(decided, decided.id == r.decided_by))
    if waiting_for is not None:
        stmt = stmt.where(r.status == "pending", r.requested_by != waiting_for.id,
                          Season.status.in_(statuses_editing(Area.PURCHASING)))
    if asked_by is not None:
        stmt = stmt.where(r.requested_by == asked_by)
    if status:
        stmt = stmt.where(r.status == status)
    if ids is not None:
        stmt = stmt.where(r.id.in_(ids))
    if po_id is not None:
        stmt = stmt.where(r.po_id == po_id)
    if season_id is not None:
        stmt = stmt.where(r.season_id == season_id)
    # The id breaks ties, so paging through them never repeats or skips one.
    return stmt.order_by(r.created_at.desc(), r.id)


def release_row(x) -> ReleaseRow:
    """One row of `releases` as a ReleaseRow."""
    return ReleaseRow(x.PORelease.id, x.season_code, x.season_name, x.po_number,
                      x.location_code, x.category_code, first_of(x.delivery_date),
                      x.po_value, x.PORelease.over_by, x.PORelease.reason, x.PORelease.status,
                      x.asked_email, x.PORelease.created_at, x.decided_email,
                      x.PORelease.decision_note, x.PORelease.decided_at)


def release_rows(session: Session, *, limit: int = 200, **filters) -> list[ReleaseRow]:
    """The first `limit` of `releases(**filters)` as ReleaseRows. One statement."""
    return [release_row(x) for x in session.execute(releases(**filters).limit(limit))]
