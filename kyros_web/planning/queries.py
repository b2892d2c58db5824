"""Read-only SQL of the planning screens: the plan and OTB grids with their totals, and one
OTB cell's spend limit against what POs commit to it (SPEC §5)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Iterator

from sqlalchemy import Numeric, String, case, cast, func, literal, select, tuple_, type_coerce, union_all
from sqlalchemy.orm import Session, aliased

from ..analytics.models import CATEGORY as SUMMARY_CATEGORY, LOCATION as SUMMARY_LOCATION
from ..analytics.models import season_forecast_figures
from ..auth.models import User
from ..masterdata.models import Category, Cluster, Location
from ..masterdata.tree import category_ancestors, category_choices, is_leaf
from ..modelbase import Money
from ..paging import Page, paginate_rows
from ..purchasing.models import GRNRecord, PurchaseOrder
from ..purchasing.queries import committed_expr, committed_per_cell, received_per_po
from ..seasons.models import Season, SeasonLocation
from ..seasons.workflow import Area, statuses_editing
from ..sorting import Sort, SortKeys
from ..summaries import settle
from ..templating import month as month_label
from ..sqlfuncs import month_start, weighted_avg
from ..values import months_between
from ..versions import cached, carry_entries, figures_cache
from . import inseason, rules
from .adjustments import scope_words
from .budget import adjusted, adjustments_per_cell, joined
from .budget import budget as budget_sql
from .kpis import Sums, otb_difference
from .reforecast import (ActualMonth, ForecastMonth, PlannedMonth, previous_month, reforecast,
                         trend_ratio, trend_sums)
from .models import (GridEdit, GridEditCell, OTBAdjustment, OTBAdjustmentLine, OTBPlan,
                     RangeIntent, SeasonActual, SeasonPlan)
from ..ratios import Ratio
from .otb import (budget, committed_value, fulfilment, open_to_buy, over_bought, remaining,
                  utilisation)
from .pivot import (CARRY_ROWS, FIGURES, CategoryInfo, Hierarchy, Pivot, PivotView, PlanTree, RowChange,
                    patched_sums, patched_versions)

ZERO = Decimal("0")


@dataclass(frozen=True)
class CellFigures:
    otb: Decimal
    committed: Decimal
    has_otb_row: bool
    adjustments: Decimal = ZERO  # the approved moves of open to buy (issue 17)

    @property
    def budget(self) -> Decimal:
        return budget(self.otb, self.adjustments)

    @property
    def remaining(self) -> Decimal:
        return remaining(self.budget, self.committed)

    @property
    def open_to_buy(self) -> Decimal:
        return open_to_buy(self.remaining)

    @property
    def over_bought(self) -> Decimal:
        return over_bought(self.remaining)


def cell_figures(session: Session, season_id: uuid.UUID, location_id: uuid.UUID,
                 category_id: uuid.UUID, month: date,
                 exclude_po: uuid.UUID | None = None) -> CellFigures:
    """OTB and committed of one location × category × month; `exclude_po` leaves one PO out
    (the one being edited)."""
    line = OTBAdjustmentLine
    otb, adjusted = session.execute(select(
        select(OTBPlan.approved_spend_limit).where(
            OTBPlan.season_id == season_id, OTBPlan.location_id == location_id,
            OTBPlan.category_id == category_id, OTBPlan.month == month).scalar_subquery(),
        type_coerce(select(func.coalesce(func.sum(line.amount), 0)).where(
            line.season_id == season_id, line.location_id == location_id,
            line.category_id == category_id, line.month == month).scalar_subquery(),
            Money))).one()
    # type_coerce: read the sum back as an exact 2-place Decimal on every dialect.
    stmt = (select(type_coerce(func.coalesce(func.sum(committed_expr()), 0), Money))
            .select_from(PurchaseOrder)
            .where(PurchaseOrder.season_id == season_id,
                   PurchaseOrder.location_id == location_id,
                   PurchaseOrder.category_id == category_id,
                   month_start(PurchaseOrder.delivery_date) == month))
    if exclude_po is not None:
        stmt = stmt.where(PurchaseOrder.id != exclude_po)
    committed = session.scalar(stmt)
    return CellFigures(otb=otb if otb is not None else ZERO, committed=committed,
                       has_otb_row=otb is not None, adjustments=adjusted)


@dataclass(frozen=True)
class GridFilters:
    """What a grid is narrowed to; None means no filter."""

    cluster_id: uuid.UUID | None = None
    location_id: uuid.UUID | None = None
    category_ids: frozenset | None = None  # a category and its whole subtree
    approved: bool | None = None
    month: date | None = None
    flag: str | None = None
    sort: str = "location"
    descending: bool = False


def _where_cell(stmt, model, f: GridFilters):
    """Filters on location, cluster and category, for any model with those columns."""
    if f.location_id:
        stmt = stmt.where(model.location_id == f.location_id)
    if f.cluster_id:
        stmt = stmt.where(Location.cluster_id == f.cluster_id)
    if f.category_ids is not None:
        stmt = stmt.where(model.category_id.in_(f.category_ids))
    return stmt


PLAN_SORTS = SortKeys({
    "location": (Location.name, Location.location_code, Category.code),
    "category": (Category.code, Location.name),
    "sales": (SeasonPlan.planned_sales,),
    "margin": (SeasonPlan.planned_margin,),
    "turns": (SeasonPlan.inventory_turns,),
    "approved": (SeasonPlan.approved,),
}, default="location", tiebreak=(SeasonPlan.id,))


def plan_grid(season_id: uuid.UUID, f: GridFilters, ids=None):
    """Plan rows with their location and category, filtered and sorted (or just `ids`)."""
    stmt = (select(SeasonPlan, Location.location_code, Location.name.label("location_name"),
                   Cluster.name.label("cluster_name"), Category.code.label("category_code"),
                   Category.name.label("category_name"))
            .join(Location, Location.id == SeasonPlan.location_id)
            .outerjoin(Cluster, Cluster.id == Location.cluster_id)
            .join(Category, Category.id == SeasonPlan.category_id)
            .where(SeasonPlan.season_id == season_id))
    stmt = _where_cell(stmt, SeasonPlan, f)
    if ids is not None:
        stmt = stmt.where(SeasonPlan.id.in_(ids))
    if f.approved is not None:
        stmt = stmt.where(SeasonPlan.approved.is_(f.approved))
    return stmt.order_by(*PLAN_SORTS.order_by(Sort(f.sort, f.descending)))


def plan_values(season_id: uuid.UUID, f: GridFilters):
    """The filtered plan rows in the grid's order, each value labelled with the plans upload's
    column name (codes, figures, then the names the upload ignores): one statement."""
    return plan_grid(season_id, f).with_only_columns(
        Location.location_code, Category.code.label("category_code"),
        *(getattr(SeasonPlan, name) for name in rules.PLAN_FIELDS),
        Location.name.label("location_name"), Category.name.label("category_name"))


VALUE_BATCH = 2000


def value_rows(session: Session, stmt, headers: list[str]) -> Iterator[list]:
    """The rows of a `…_values` statement as cells under `headers`, read in batches: months
    as YYYY-MM, figures as stored (plain decimals an upload reads back exactly)."""
    for row in session.execute(stmt.execution_options(yield_per=VALUE_BATCH)):
        cells = row._mapping
        yield [cells[name].strftime("%Y-%m") if isinstance(cells[name], date) else cells[name]
               for name in headers]


@dataclass(frozen=True)
class PlanTotals:
    rows: int
    planned_sales: Decimal
    margin: Decimal | None
    turns: Decimal | None
    approved: int


def plan_figures(plan) -> list:
    """The figures of a group of plan rows (`plan` an alias of SeasonPlan), one per column of
    PlanTotals: how many, the sum of planned sales, margin weighted by planned sales, turns
    weighted by the planned sales of the rows that have turns (NULL when none has), how many
    are approved."""
    turns_weight = case((plan.inventory_turns.is_not(None), plan.planned_sales), else_=0)
    return [
        func.count(plan.id).label("rows"),
        type_coerce(func.coalesce(func.sum(plan.planned_sales), 0), Money).label("planned_sales"),
        type_coerce(weighted_avg(plan.planned_margin, plan.planned_sales),
                    Numeric()).label("margin"),
        type_coerce(weighted_avg(plan.inventory_turns, turns_weight), Numeric()).label("turns"),
        func.coalesce(func.sum(case((plan.approved, 1), else_=0)), 0).label("approved"),
    ]


def plan_totals(session: Session, season_id: uuid.UUID, f: GridFilters) -> PlanTotals:
    """Sum of planned sales, sales-weighted margin and turns over the filtered rows."""
    grid = plan_grid(season_id, f).order_by(None).subquery()
    return PlanTotals(*session.execute(select(*plan_figures(aliased(SeasonPlan, grid)))).one())


def stock_chain(season_id: uuid.UUID, only=None):
    """Subquery per OTB row: its opening stock and the closing stock of the same cell's
    previous month (NULL for a cell's first month), read over every month of the season."""
    prev_closing = func.lag(OTBPlan.planned_closing_stock).over(
        partition_by=(OTBPlan.location_id, OTBPlan.category_id), order_by=OTBPlan.month)
    stmt = select(OTBPlan.id.label("id"), OTBPlan.opening_stock,
                  prev_closing.label("prev_closing")).where(OTBPlan.season_id == season_id)
    if only is not None:
        stmt = stmt.where(only(OTBPlan))
    return stmt.subquery("chained")


def _only_cells_of(ids):
    """A filter keeping the location × category cells of the given OTB rows."""
    keys = aliased(OTBPlan)
    cells = select(keys.location_id, keys.category_id).where(keys.id.in_(ids))
    return lambda model: tuple_(model.location_id, model.category_id).in_(cells)


def otb_grid(season_id: uuid.UUID, f: GridFilters, ids=None):
    """OTB rows with committed, the previous month's closing stock and the season plan.

    The stock chain is read over all of a cell's months before any month filter, so
    filtering to one month still compares it with the month before. With `ids` (a page of
    rows), committed, chain and plan are worked out for those rows' cells only.
    """
    only = _only_cells_of(ids) if ids is not None else None
    chained = stock_chain(season_id, only)
    cells = committed_per_cell(season_id, only)
    adj = adjustments_per_cell(season_id, only)
    recon = plan_reconciliation(season_id, only)
    committed = type_coerce(func.coalesce(cells.c.committed, 0), Money)
    stmt = (select(OTBPlan, Location.location_code, Location.name.label("location_name"),
                   Category.code.label("category_code"), Category.name.label("category_name"),
                   type_coerce(chained.c.prev_closing, Money).label("prev_closing"),
                   committed.label("committed"), adjusted(adj).label("adjustments"),
                   type_coerce(budget_sql(OTBPlan.approved_spend_limit, adj) - committed,
                               Money).label("remaining"),
                   type_coerce(recon.c.plan, Money).label("plan_sales"),
                   type_coerce(recon.c.otb, Money).label("season_otb_sales"))
            .join(chained, chained.c.id == OTBPlan.id)
            .join(Location, Location.id == OTBPlan.location_id)
            .join(Category, Category.id == OTBPlan.category_id)
            .outerjoin(cells, (cells.c.location_id == OTBPlan.location_id)
                       & (cells.c.category_id == OTBPlan.category_id)
                       & (cells.c.month == OTBPlan.month))
            .outerjoin(adj, joined(adj, OTBPlan))
            .outerjoin(recon, (recon.c.location_id == OTBPlan.location_id)
                       & (recon.c.category_id == OTBPlan.category_id))
            .where(OTBPlan.season_id == season_id))
    if ids is not None:
        stmt = stmt.where(OTBPlan.id.in_(ids))
    stmt = _where_otb(stmt, f)
    if f.flag == "chain":
        stmt = stmt.where(chained.c.prev_closing.is_not(None),
                          chained.c.prev_closing != OTBPlan.opening_stock)
    elif f.flag == "plan":
        stmt = stmt.where(recon.c.mismatch)
    elif f.flag == "over":
        stmt = stmt.where(func.coalesce(cells.c.committed, 0)
                          > budget_sql(OTBPlan.approved_spend_limit, adj))
    return stmt.order_by(*OTB_ORDER)


UNBUDGETED_SHOWN = 100


def unbudgeted_cells(session: Session, season_id: uuid.UUID, f: GridFilters) -> tuple[list, int]:
    """The over-bought cells the OTB grid has no row for: POs commit to them and there is no
    OTB row, so their OTB is 0 (SPEC §5). The first UNBUDGETED_SHOWN within the grid's
    location, cluster, category and month filters (`location_code`, `location_name`,
    `category_code`, `month`, `committed`) and how many there are: two statements."""
    cells = committed_per_cell(season_id)
    stmt = (select(Location.location_code, Location.name.label("location_name"),
                   Category.code.label("category_code"), cells.c.month,
                   type_coerce(cells.c.committed, Money).label("committed"))
            .select_from(cells)
            .join(Location, Location.id == cells.c.location_id)
            .join(Category, Category.id == cells.c.category_id)
            .outerjoin(OTBPlan, (OTBPlan.season_id == season_id)
                       & (OTBPlan.location_id == cells.c.location_id)
                       & (OTBPlan.category_id == cells.c.category_id)
                       & (OTBPlan.month == cells.c.month))
            .where(OTBPlan.id.is_(None), cells.c.committed > 0))
    stmt = _where_cell(stmt, cells.c, f)
    if f.month:
        stmt = stmt.where(cells.c.month == f.month)
    count = session.scalar(stmt.with_only_columns(func.count()).order_by(None))
    rows = session.execute(stmt.order_by(Location.name, Location.location_code, Category.code,
                                         cells.c.month).limit(UNBUDGETED_SHOWN)).all()
    return rows, count


def otb_values(season_id: uuid.UUID, f: GridFilters):
    """The filtered OTB rows in the grid's order, each value labelled with the OTB upload's
    column name (codes, month, the five inputs, then the names the upload ignores): one
    statement, joining committed, the stock chain and the plan only for a flag that needs
    them."""
    columns = (Location.location_code, Category.code.label("category_code"), OTBPlan.month,
               *(getattr(OTBPlan, name) for name in rules.OTB_INPUTS),
               Location.name.label("location_name"), Category.name.label("category_name"))
    if f.flag in JOINED_FLAGS:
        return otb_grid(season_id, f).with_only_columns(*columns)
    return _where_otb(select(*columns).select_from(OTBPlan)
                      .join(Location, Location.id == OTBPlan.location_id)
                      .join(Category, Category.id == OTBPlan.category_id)
                      .where(OTBPlan.season_id == season_id), f).order_by(*OTB_ORDER)


OTB_ORDER = (Location.name, Location.location_code, Category.code, OTBPlan.month)
# Flags that need committed, the stock chain or the plan to decide which rows show.
JOINED_FLAGS = ("chain", "plan", "over")


def _where_otb(stmt, f: GridFilters):
    stmt = _where_cell(stmt, OTBPlan, f)
    if f.month:
        stmt = stmt.where(OTBPlan.month == f.month)
    if f.flag == "negative":
        stmt = stmt.where(OTBPlan.approved_spend_limit < 0)
    return stmt


def otb_ids(season_id: uuid.UUID, f: GridFilters):
    """The ids of the filtered OTB rows in the grid's order, read without committed, the
    stock chain or the plan (for the filters that need none of them)."""
    return _where_otb(select(OTBPlan.id)
                      .join(Location, Location.id == OTBPlan.location_id)
                      .join(Category, Category.id == OTBPlan.category_id)
                      .where(OTBPlan.season_id == season_id), f).order_by(*OTB_ORDER)


def _otb_rows_of(session: Session, season_id: uuid.UUID, f: GridFilters, ids: list) -> list:
    return session.execute(otb_grid(season_id, f, ids=ids)).all() if ids else []


def otb_page(session: Session, season_id: uuid.UUID, f: GridFilters, page: int,
             per_page: int, total: int | None = None) -> Page:
    """A page of the OTB grid: pick the page's rows first, then work out committed, the
    stock chain and the plan for their cells only (a flag filter that needs those for
    every row reads the whole season instead). `total`, when known (the month totals
    count the same rows), saves counting them again."""
    if f.flag in JOINED_FLAGS:
        return paginate_rows(session, otb_grid(season_id, f), page, per_page, total)
    ids = paginate_rows(session, otb_ids(season_id, f), page, per_page, total)
    ids.items = _otb_rows_of(session, season_id, f, [r.id for r in ids.items])
    return ids


def otb_slice(session: Session, season_id: uuid.UUID, f: GridFilters, skip: int,
              limit: int) -> tuple[list, int]:
    """otb_page by offset (the JSON API): at most `limit` rows of the OTB grid after the
    first `skip`, and how many rows the filters keep. Three statements."""
    stmt = otb_grid(season_id, f) if f.flag in JOINED_FLAGS else otb_ids(season_id, f)
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    if f.flag in JOINED_FLAGS:
        return session.execute(stmt.offset(skip).limit(limit)).all(), total
    ids = list(session.scalars(stmt.offset(skip).limit(limit)))
    return _otb_rows_of(session, season_id, f, ids), total


def plan_reconciliation(season_id: uuid.UUID, only=None):
    """Subquery per location × category: plan sales, OTB sales of the season, and whether
    they differ by more than 1 % (SPEC §3). `only(model)` may narrow it to some cells."""
    plans = (select(SeasonPlan.location_id, SeasonPlan.category_id,
                    SeasonPlan.planned_sales.label("plan"), literal(0).label("otb"))
             .where(SeasonPlan.season_id == season_id))
    otbs = (select(OTBPlan.location_id, OTBPlan.category_id, literal(0).label("plan"),
                   OTBPlan.planned_sales.label("otb"))
            .where(OTBPlan.season_id == season_id))
    if only is not None:
        plans, otbs = plans.where(only(SeasonPlan)), otbs.where(only(OTBPlan))
    rows = union_all(plans, otbs).subquery("plan_and_otb")
    plan, otb = func.sum(rows.c.plan), func.sum(rows.c.otb)
    return (select(rows.c.location_id, rows.c.category_id, plan.label("plan"), otb.label("otb"),
                   # Multiplied, not divided: exact for integer cents on SQLite too.
                   (func.abs(otb - plan) * 100 > plan).label("mismatch"))
            .group_by(rows.c.location_id, rows.c.category_id).subquery("reconciliation"))


def otb_month_totals(session: Session, season_id: uuid.UUID, f: GridFilters) -> list:
    """Per month over the filtered OTB rows: each input, OTB, adjustments, committed and
    remaining (OTB + adjustments − committed, net over the rows)."""
    if f.flag in JOINED_FLAGS:
        grid = otb_grid(season_id, f).order_by(None).subquery()
        otb, committed, moved = aliased(OTBPlan, grid), grid.c.committed, grid.c.adjustments
        source = select(otb.month).select_from(grid)
    else:
        cells = committed_per_cell(season_id)
        adj = adjustments_per_cell(season_id)
        otb, committed, moved = OTBPlan, cells.c.committed, adj.c.adjustments
        source = _where_otb(
            select(OTBPlan.month)
            .join(Location, Location.id == OTBPlan.location_id)
            .outerjoin(cells, (cells.c.location_id == OTBPlan.location_id)
                       & (cells.c.category_id == OTBPlan.category_id)
                       & (cells.c.month == OTBPlan.month))
            .outerjoin(adj, joined(adj, OTBPlan))
            .where(OTBPlan.season_id == season_id), f)

    def total(column):
        return type_coerce(func.coalesce(func.sum(column), 0), Money)

    return session.execute(source.with_only_columns(
        otb.month, func.count(otb.id).label("rows"),
        total(otb.planned_sales).label("planned_sales"),
        total(otb.planned_markdowns).label("planned_markdowns"),
        total(otb.planned_closing_stock).label("planned_closing_stock"),
        total(otb.opening_stock).label("opening_stock"),
        total(otb.on_order).label("on_order"),
        total(otb.approved_spend_limit).label("otb"),
        total(moved).label("adjustments"),
        total(committed).label("committed"),
        type_coerce(total(otb.approved_spend_limit) + total(moved) - total(committed),
                    Money).label("remaining"))
        .group_by(otb.month).order_by(otb.month)).all()


@dataclass(frozen=True)
class CellPO:
    po: PurchaseOrder
    received: Decimal
    committed: Decimal
    grns: list


@dataclass(frozen=True)
class CellAdjustment:
    """One approved move of open to buy that touched a cell: what it moved here (negative:
    out of the cell), its request and its decision."""

    number: int
    amount: Decimal
    reason: str
    requested_by: str
    approved_by: str
    note: str
    override_reason: str | None


@dataclass(frozen=True)
class CellDetail:
    otb_row: OTBPlan | None
    figures: CellFigures
    pos: list[CellPO]
    received: Decimal
    adjustments: list[CellAdjustment] = ()

    @property
    def utilisation(self) -> Ratio:
        return utilisation(self.figures.committed, self.figures.budget)

    @property
    def fulfilment(self) -> Ratio:
        return fulfilment(self.received, self.figures.committed)


def cell_detail(session: Session, season_id: uuid.UUID, location_id: uuid.UUID,
                category_id: uuid.UUID, month: date) -> CellDetail:
    """Everything the OTB cell page shows, in four statements."""
    otb_row = session.scalar(select(OTBPlan).where(
        OTBPlan.season_id == season_id, OTBPlan.location_id == location_id,
        OTBPlan.category_id == category_id, OTBPlan.month == month))
    in_cell = (PurchaseOrder.season_id == season_id, PurchaseOrder.location_id == location_id,
               PurchaseOrder.category_id == category_id,
               month_start(PurchaseOrder.delivery_date) == month)
    received = received_per_po(select(PurchaseOrder.id).where(*in_cell))
    rows = session.execute(
        select(PurchaseOrder, type_coerce(func.coalesce(received.c.received, 0), Money))
        .outerjoin(received, received.c.po_id == PurchaseOrder.id)
        .where(*in_cell)
        .order_by(PurchaseOrder.delivery_date, PurchaseOrder.po_number)).all()
    grns: dict[uuid.UUID, list] = {}
    if rows:
        for grn in session.scalars(select(GRNRecord).where(
                GRNRecord.po_id.in_([po.id for po, _ in rows]))
                .order_by(GRNRecord.grn_date, GRNRecord.grn_number)):
            grns.setdefault(grn.po_id, []).append(grn)
    pos = [CellPO(po, got, committed_value(po.status, po.po_value, got), grns.get(po.id, []))
           for po, got in rows]
    figures = cell_figures(session, season_id, location_id, category_id, month)
    total_received = sum((p.received for p in pos if p.po.status.value != "cancelled"), ZERO)
    return CellDetail(otb_row, figures, pos, total_received,
                      cell_adjustments(session, season_id, location_id, category_id, month))


def cell_adjustments(session: Session, season_id: uuid.UUID, location_id: uuid.UUID,
                     category_id: uuid.UUID, month: date) -> list[CellAdjustment]:
    """The approved moves of open to buy into or out of one cell, in the order they were
    asked for: one statement."""
    line, asked, decided = OTBAdjustmentLine, aliased(User), aliased(User)
    rows = session.execute(
        select(OTBAdjustment.number, line.amount, OTBAdjustment.reason,
               asked.email.label("requested_by"), decided.email.label("approved_by"),
               OTBAdjustment.decision_note, OTBAdjustment.override_reason)
        .join(OTBAdjustment, OTBAdjustment.id == line.adjustment_id)
        .join(asked, asked.id == OTBAdjustment.requested_by)
        .join(decided, decided.id == OTBAdjustment.decided_by)
        .where(line.season_id == season_id, line.location_id == location_id,
               line.category_id == category_id, line.month == month)
        .order_by(OTBAdjustment.number)).all()
    return [CellAdjustment(r.number, r.amount, r.reason, r.requested_by, r.approved_by,
                           r.decision_note, r.override_reason) for r in rows]


@dataclass(frozen=True)
class CellInSeason:
    """One OTB cell once its season has actuals: the reforecast of its location × category
    (planning/reforecast.py) read for its month."""

    method: str
    plan: PlannedMonth  # this month's plan (zeros without an OTB row)
    month: ForecastMonth | None  # None: no plan, actuals or PO this month
    actual_to_date: Decimal  # the trend's actual and planned sales of the actualised months
    planned_to_date: Decimal
    trend: Decimal | None  # actual ÷ planned to date (None when nothing was planned for them)
    opened_by_actual: date | None  # the month before, when its actual closing opens this one
    otb: Decimal
    committed: Decimal
    adjustments: Decimal = ZERO  # the cell's approved moves of open to buy

    @property
    def ahead(self) -> Sums:
        """A forecast month as the sums kpis.py reads: its in-season OTB, its original
        remaining and the sales and opening-stock effects between them."""
        m, p = self.month, self.plan
        return Sums(forecast_sales=m.sales, plan_sales_ahead=p.sales, opening_ahead=m.opening_stock,
                    plan_opening_ahead=p.opening_stock, otb_ahead=self.otb,
                    adjustments_ahead=self.adjustments, committed_ahead=self.committed,
                    receipts=m.receipts)

    @property
    def to_date(self) -> Sums:
        return Sums(actual_sales=self.actual_to_date, plan_sales_done=self.planned_to_date)

    @property
    def explanation(self) -> str:
        """Why a forecast month's in-season OTB differs from its original remaining, in words."""
        this = month_label(self.month.month)
        if self.opened_by_actual is not None:
            opening = (f"{this} opens with the actual closing stock of "
                       f"{month_label(self.opened_by_actual)} instead of its planned opening stock")
        else:
            opening = (f"{this} opens with its planned opening stock, as the month before has "
                       "no actuals")
        return otb_difference(self.ahead, self.to_date, self.method, f"For {this}", opening)

    @property
    def done(self) -> Sums:
        """An actualised month as the sums kpis.py reads: plan and actual, for the variances."""
        m, p = self.month, self.plan
        return Sums(actual_sales=m.sales, plan_sales_done=p.sales, actual_markdowns=m.markdowns,
                    plan_markdowns_done=p.markdowns, actual_closing=m.closing_stock,
                    plan_closing_done=p.closing_stock)


def cell_in_season(session: Session, season, location_id: uuid.UUID, category_id: uuid.UUID,
                   month: date) -> CellInSeason | None:
    """The reforecast of one OTB cell by the season's method, run by planning/reforecast.py
    on every month of its location × category; None while the season has no actuals (its
    in-season OTB is the original). Two statements."""
    if not inseason.has_actuals(session, season.id):
        return None
    rows = inseason.cell_months(session, season, location_id, category_id)
    plan = [PlannedMonth(r.month, r.ps, r.pm, r.pc, r.po, r.oo) for r in rows]
    actuals = {r.month: ActualMonth(r.month, r.a_s, r.a_m, r.a_c) for r in rows if r.has_a}
    forecast = {m.month: m for m in reforecast(plan, actuals, season.reforecast_method)}
    here = next((r for r in rows if r.month == month), None)
    actual, planned = trend_sums(plan, actuals)
    before = previous_month(month)
    return CellInSeason(
        season.reforecast_method,
        next((p for p in plan if p.month == month), PlannedMonth(month, ZERO, ZERO, ZERO, ZERO)),
        forecast.get(month), actual, planned, trend_ratio(plan, actuals),
        before if before in actuals else None,
        here.otb if here else ZERO, here.committed if here else ZERO,
        here.adj if here else ZERO)


def actual_rows(season_id: uuid.UUID, f: GridFilters):
    """A season's actuals (issue 16) with their location and category, filtered by location,
    cluster, category and month as the OTB grid, in its order."""
    stmt = (select(SeasonActual, Location.location_code, Location.name.label("location_name"),
                   Category.code.label("category_code"), Category.name.label("category_name"))
            .join(Location, Location.id == SeasonActual.location_id)
            .join(Category, Category.id == SeasonActual.category_id)
            .where(SeasonActual.season_id == season_id))
    stmt = _where_cell(stmt, SeasonActual, f)
    if f.month:
        stmt = stmt.where(SeasonActual.month == f.month)
    return stmt.order_by(Location.name, Location.location_code, Category.code,
                         SeasonActual.month)


def range_rows(session: Session, season_id: uuid.UUID) -> list:
    """Each leaf category that has OTB (or already a range intent) with its range intent or
    None: one statement."""
    with_otb = select(OTBPlan.category_id).where(OTBPlan.season_id == season_id)
    with_range = select(RangeIntent.category_id).where(RangeIntent.season_id == season_id)
    return session.execute(
        select(Category, RangeIntent)
        .outerjoin(RangeIntent, (RangeIntent.category_id == Category.id)
                   & (RangeIntent.season_id == season_id))
        .where(Category.id.in_(with_otb.union(with_range)))
        .order_by(Category.code)).all()


def filter_choices(session: Session, season) -> dict:
    """Options for the grid and PO list filters: the season's clusters and locations, the
    category tree, the season's months."""
    locations = session.execute(
        select(Location.id, Location.location_code, Location.name, Location.cluster_id)
        .join(SeasonLocation, SeasonLocation.location_id == Location.id)
        .where(SeasonLocation.season_id == season.id).order_by(Location.name)).all()
    cluster_ids = {loc.cluster_id for loc in locations if loc.cluster_id}
    clusters = session.execute(select(Cluster.id, Cluster.name)
                               .where(Cluster.id.in_(cluster_ids)).order_by(Cluster.name)).all()
    return {"locations": locations, "clusters": clusters,
            "categories": category_choices(session)[1:],
            "months": months_between(season.start_date, season.end_date)}


# The OTB pivot (issue 14): one statement per level it shows, whatever the size of the season.


def pivot_facts(season_id: uuid.UUID, f: GridFilters, only: dict, by: tuple):
    """Subquery of the season's OTB rows and POs summed per `by` (among "location_id",
    "category_id") and month: the OTB rows give their five inputs and OTB, the approved
    adjustments' lines what they moved (issue 17), the POs what they commit (SPEC §5), so a
    cell with POs and no OTB row still shows its committed. Each half
    is narrowed by the filters and by `only` ("location" and "category" to the ids to keep)
    and summed on its own, so the database sorts or hashes narrow rows, whatever it guesses
    about the locations."""
    otb_month, po_month = OTBPlan.month, month_start(PurchaseOrder.delivery_date)
    zero = type_coerce(literal(0), Money)
    in_cluster = (select(Location.id).where(Location.cluster_id == f.cluster_id)
                  if f.cluster_id else None)
    keep = {"location": [f.location_id] if f.location_id else None,
            "category": f.category_ids}

    def half(model, month, figures):
        keys = [getattr(model, name).label(name) for name in by] + [month.label("month")]
        stmt = select(*keys, *figures).where(model.season_id == season_id)
        for name, ids in (*keep.items(), *only.items()):
            if ids is not None:
                stmt = stmt.where(getattr(model, f"{name}_id").in_(ids))
        if in_cluster is not None:
            stmt = stmt.where(model.location_id.in_(in_cluster))
        if f.month:
            stmt = stmt.where(month == f.month)
        return stmt.group_by(*keys)

    def figures(**sums):
        """Every FIGURES column, in order: the sums given, zero for the others."""
        return [sums.get(name, zero).label(name) for name in FIGURES]

    otbs = half(OTBPlan, otb_month, figures(
        **{name: func.sum(getattr(OTBPlan, name)) for name in rules.OTB_INPUTS},
        otb=func.sum(OTBPlan.approved_spend_limit)))
    pos = half(PurchaseOrder, po_month, figures(committed=func.sum(committed_expr())))
    moves = half(OTBAdjustmentLine, OTBAdjustmentLine.month,
                 figures(adjustments=func.sum(OTBAdjustmentLine.amount)))
    actuals = half(SeasonActual, SeasonActual.month, figures(
        actual_sales=func.sum(SeasonActual.net_sales),
        actual_markdowns=func.sum(SeasonActual.markdowns),
        actual_closing_stock=func.sum(SeasonActual.closing_stock)))
    return union_all(otbs, pos, moves, actuals).subquery("pivot_facts")


def pivot_sums(session: Session, season_id: uuid.UUID, f: GridFilters, group_by: tuple,
               only: dict) -> list:
    """One statement: the sums of FIGURES per `group_by` (names among "cluster",
    "location", "category": a location's cluster, a location, a leaf category) and month,
    over the filtered facts, narrowed by `only` (see pivot_facts). The first level of an
    unfiltered pivot (by cluster, location or category) is read from the season's summaries,
    whatever the size of the season."""
    if (group_by in (("cluster",), ("location",), ("category",)) and not only
            and f.cluster_id is None and f.location_id is None and f.category_ids is None
            and f.month is None):
        return _pivot_from_summaries(session, season_id, group_by[0])
    by = tuple(name for name, needed in (
        ("location_id", "cluster" in group_by or "location" in group_by),
        ("category_id", "category" in group_by)) if needed)
    facts = pivot_facts(season_id, f, only, by)
    columns = {"cluster": Location.cluster_id, "location": facts.c.get("location_id"),
               "category": facts.c.get("category_id")}
    stmt = select(*(columns[name].label(name) for name in group_by), facts.c.month,
                  *(type_coerce(func.coalesce(func.sum(facts.c[name]), 0), Money).label(name)
                    for name in FIGURES)).select_from(facts)
    if "cluster" in group_by:
        stmt = stmt.join(Location, Location.id == facts.c.location_id)
    grouping = [columns[name] for name in group_by] + [facts.c.month]
    return session.execute(stmt.group_by(*grouping)).all()


def _pivot_from_summaries(session: Session, season_id: uuid.UUID, level: str) -> list:
    """pivot_sums of a whole season at one level, from the summaries its writes keep
    (analytics/summaries.py): per location (or its cluster) or leaf category, and month, the
    cells' OTB inputs, OTB, adjustments, committed (POs due in the season's months, the only
    months the pivot shows) and actuals (of the cells that have them)."""
    t = season_forecast_figures
    settle(session)
    source = {"planned_sales": t.c.ps, "planned_markdowns": t.c.pm,
              "planned_closing_stock": t.c.pc, "opening_stock": t.c.po, "on_order": t.c.oo,
              "otb": t.c.otb, "adjustments": t.c.adj, "committed": t.c.committed,
              "actual_sales": case((t.c.actualised == 1, t.c.sales), else_=0),
              "actual_markdowns": t.c.a_m, "actual_closing_stock": t.c.a_c}
    key = Location.cluster_id if level == "cluster" else t.c.key_id
    stmt = (select(key.label(level), t.c.month,
                   *(type_coerce(func.coalesce(func.sum(source[name]), 0), Money).label(name)
                     for name in FIGURES))
            .where(t.c.season_id == season_id,
                   t.c.dim == (SUMMARY_CATEGORY if level == "category" else SUMMARY_LOCATION)))
    if level == "cluster":
        stmt = stmt.join(Location, Location.id == t.c.key_id)
    return session.execute(stmt.group_by(key, t.c.month)).all()


def pivot_hierarchy(session: Session) -> Hierarchy:
    """The names and codes of every cluster, location and category, for the pivot's rows:
    three statements."""
    return Hierarchy(
        clusters=dict(session.execute(select(Cluster.id, Cluster.name)).all()),
        locations={r.id: (r.location_code, r.name, r.cluster_id) for r in session.execute(
            select(Location.id, Location.location_code, Location.name, Location.cluster_id))},
        categories={r.id: CategoryInfo(r.code, r.name, r.parent_id, bool(r.is_leaf))
                    for r in session.execute(select(Category.id, Category.code, Category.name,
                                                    Category.parent_id,
                                                    is_leaf().label("is_leaf")))})


def otb_pivot(session: Session, season_id: uuid.UUID, f: GridFilters, view: PivotView,
              months: list[date], through: date | None = None) -> Pivot:
    """The season's OTB pivot as `view` shows it: the first level in one statement, then one
    statement for each level below it that has an open group (at most three in all), each
    grouped in SQL at that level and kept in the figure cache. Category levels above the leaf
    are summed from their leaves in Python (the tree is small). `through`: the current month
    (actual stock is known up to it)."""
    pivot = Pivot(view, cached_hierarchy(session, season_id), months, through)
    for stage, group_by, only, key in _stages(pivot, f):
        rows = cached(session, season_id, ("pivot", *key),
                      lambda: pivot_sums(session, season_id, f, group_by, only))
        pivot.add_sums(stage, rows)
    pairs = frozenset(pivot.leaf_pairs())
    if pairs:
        pivot.versions = cached(session, season_id, ("pivot-versions", pairs, tuple(months)),
                                lambda: pivot_versions(session, season_id, pairs, months))
    return pivot


def pivot_versions(session: Session, season_id: uuid.UUID, pairs: frozenset,
                   months: list[date]) -> dict:
    """The version of each OTB row of these (location, category) pairs in these months, in
    one statement: (location, category, month) → version."""
    stmt = select(OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month,
                  OTBPlan.version).where(
        OTBPlan.season_id == season_id, OTBPlan.month.in_(months),
        OTBPlan.location_id.in_({p[0] for p in pairs}),
        OTBPlan.category_id.in_({p[1] for p in pairs}))
    return {(r[0], r[1], r[2]): r[3] for r in session.execute(stmt)
            if (r[0], r[1]) in pairs}


def cached_hierarchy(session: Session, season_id: uuid.UUID) -> Hierarchy:
    """pivot_hierarchy from the figure cache (master data moves the shared version, which is
    part of every cache key)."""
    return cached(session, season_id, ("pivot-hierarchy",), lambda: pivot_hierarchy(session))


# At most this many earlier steps (of other workers) are added to a cached pivot.
CHAIN_STEPS = 20


def carry_pivot_forward(session: Session, season_id: uuid.UUID, before: tuple, now: tuple,
                        changes: list[RowChange]) -> int:
    """After a grid step that was the season's one change (`before` → `now`, from
    edits.note_season_version), keep its OTB pivot warm: the stages' sums, the hierarchy and
    the leaf versions this worker cached at `before` are stored again at `now` with the
    step's changes added, so the grid the save answers with (and the next page) does not read
    the season again. When this worker's pivot is older, the grid steps recorded in between
    are added first, if every version in between was one of them. Returns the entries kept."""
    if not changes:
        return 0
    chain = _steps_since_cached(session, season_id, before)
    if chain is None:
        return 0
    carried = 0
    for start, end, step_changes in [*chain, (before, now, changes)]:
        hierarchy = dict(figures_cache().entries_at(season_id, start)).get(("pivot-hierarchy",))
        if hierarchy is None:
            return carried

        def patch(key, value, hierarchy=hierarchy, step_changes=step_changes):
            if key == ("pivot-hierarchy",):
                return value
            if key[0] == "pivot":
                _, group_by, f, only = key
                return patched_sums(value, group_by, f, only, step_changes, hierarchy)
            if key[0] == "pivot-versions":
                return patched_versions(value, key[1], key[2], step_changes)
            return None

        carried = carry_entries(season_id, start, end, patch)
    return carried


def _steps_since_cached(session: Session, season_id: uuid.UUID, before: tuple) -> list | None:
    """From the newest versions at which this worker holds the season's pivot up to `before`:
    each grid step in between as (versions, versions after, its changes); [] when the pivot is
    cached at `before`; None when it is not cached, or something other than a recorded grid
    step (an upload, a spread, an undo, a PO) moved the season in between."""
    held = [v for v in figures_cache().versions_of(season_id, ("pivot-hierarchy",))
            if v[1] == before[1] and v[0] <= before[0]]
    if not held:
        return None
    start = max(held)
    if start == before:
        return []
    if before[0] - start[0] > CHAIN_STEPS:
        return None
    steps = session.execute(select(GridEdit.id, GridEdit.season_version, GridEdit.cells).where(
        GridEdit.season_id == season_id, GridEdit.season_version > start[0],
        GridEdit.season_version <= before[0]).order_by(GridEdit.season_version)).all()
    if [s.season_version for s in steps] != list(range(start[0] + 1, before[0] + 1)):
        return None
    if sum(s.cells for s in steps) > CARRY_ROWS:
        return None
    cells = session.execute(
        select(GridEditCell.edit_id, GridEditCell.row_id, GridEditCell.field,
               GridEditCell.before, GridEditCell.after, GridEditCell.version_after,
               OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month)
        .join(OTBPlan, OTBPlan.id == GridEditCell.row_id)
        .where(GridEditCell.edit_id.in_([s.id for s in steps]))).all()
    if len(cells) != sum(s.cells for s in steps):
        return None  # a row a step changed is gone since
    rows: dict = {}
    for c in cells:
        row = rows.setdefault((c.edit_id, c.row_id), RowChange(
            c.location_id, c.category_id, c.month, {}, c.version_after))
        row.fields[c.field] = (c.before if c.before is not None else ZERO, c.after)
    return [((s.season_version - 1, before[1]), (s.season_version, before[1]),
             [r for (edit, _), r in rows.items() if edit == s.id]) for s in steps]


def _stages(tree, f: GridFilters):
    """Each stage a tree reads, as it is filled: (stage, group-by levels, `only`, a cache key
    naming them with the filters); stops at the first level with no open group."""
    for stage, group_by in enumerate(tree.stages()):
        only = tree.wanted(stage)
        if only is None:
            return
        yield stage, group_by, only, (group_by, f, tuple(sorted(
            (k, tuple(sorted(v, key=str))) for k, v in only.items())))


# The plans by group (issue 14, item 1): one statement per level shown, as the OTB pivot.


def plan_groups(session: Session, season_id: uuid.UUID, f: GridFilters, group_by: tuple,
                only: dict) -> list:
    """One statement: plan_figures per `group_by` (names among "cluster", "location",
    "category") over the filtered plan rows narrowed by `only` ("location" and "category" to
    the ids to keep), with the id of one row of each group (`plan_id`). Last in `group_by`, "category" is every category above the rows as well
    as their own, so a group at any level of the tree gets its weighted figures from SQL;
    before another level it is the rows' own (leaf) category."""
    stmt = plan_grid(season_id, f).order_by(None).add_columns(Location.cluster_id.label("cluster"))
    for name, ids in only.items():
        stmt = stmt.where(getattr(SeasonPlan, f"{name}_id").in_(ids))
    grid = stmt.subquery("plans")
    plan = aliased(SeasonPlan, grid)
    columns = {"cluster": grid.c.cluster, "location": plan.location_id,
               "category": plan.category_id}
    source = select(*plan_figures(plan)).select_from(grid)
    if group_by[-1] == "category":
        up = category_ancestors()
        source = source.join(up, up.c.category_id == plan.category_id)
        columns["category"] = up.c.ancestor_id
    keys = [columns[name].label(name) for name in group_by]
    # A leaf group is one plan row (one per location × category): its id, for the edit link.
    # As text, because PostgreSQL has no MIN of a uuid.
    one_id = func.min(cast(plan.id, String)).label("plan_id")
    return session.execute(source.add_columns(*keys, one_id).group_by(*keys)).all()


def plans_by_group(session: Session, season_id: uuid.UUID, f: GridFilters,
                   view: PivotView) -> PlanTree:
    """The season's plan rows as `view` shows them: the grand total (plan_totals), the first
    level in one statement, then one for each level below it that has an open group, each
    kept in the figure cache."""
    tree = PlanTree(view, cached_hierarchy(session, season_id))
    tree.set_total(cached(session, season_id, ("plan-groups-total", f),
                          lambda: plan_totals(session, season_id, f)))
    for stage, group_by, only, key in _stages(tree, f):
        rows = cached(session, season_id, ("plan-groups", *key),
                      lambda: plan_groups(session, season_id, f, group_by, only))
        tree.add_groups(stage, rows)
    return tree


# OTB adjustments (issue 17): the requests with their scopes in words


@dataclass(frozen=True)
class AdjustmentRow:
    """A request to move open to buy as pages show it."""

    id: uuid.UUID
    season_code: str
    season_name: str
    number: int
    amount: Decimal
    source: str  # the scope in words
    target: str
    reason: str
    status: str
    requested_by: str
    requested_at: object
    decided_by: str | None
    decided_at: object
    note: str | None
    override_reason: str | None


def adjustment_rows(session: Session, *, season_id: uuid.UUID | None = None,
                    waiting_for=None, asked_by: uuid.UUID | None = None,
                    status: str | None = None, ids=None,
                    limit: int | None = 200) -> list[AdjustmentRow]:
    """Adjustment requests, newest first, with their scopes named: a season's
    (`season_id`), those pending that `waiting_for` (a user) may decide (not their own, in a
    season open to adjustments), those `asked_by` a user, or those of `ids`; `status`
    narrows them. One statement, at most `limit` rows (None: all)."""
    a = OTBAdjustment
    names = {}
    for side in ("from", "to"):
        names[side] = (aliased(Location), aliased(Cluster), aliased(Category))
    asked, decided = aliased(User), aliased(User)
    columns = [a, Season.season_code, Season.name.label("season_name"),
               asked.email.label("asked_email"), decided.email.label("decided_email")]
    stmt = (select(*columns).join(Season, Season.id == a.season_id)
            .join(asked, asked.id == a.requested_by)
            .outerjoin(decided, decided.id == a.decided_by))
    for side, (loc, clu, cat) in names.items():
        stmt = (stmt.add_columns(loc.name.label(f"{side}_location_name"),
                                 loc.location_code.label(f"{side}_location"),
                                 clu.name.label(f"{side}_cluster"),
                                 cat.code.label(f"{side}_category"),
                                 cat.name.label(f"{side}_category_name"),
                                 getattr(a, f"{side}_month").label(f"{side}_month"))
                .outerjoin(loc, loc.id == getattr(a, f"{side}_location_id"))
                .outerjoin(clu, clu.id == getattr(a, f"{side}_cluster_id"))
                .outerjoin(cat, cat.id == getattr(a, f"{side}_category_id")))
    if season_id is not None:
        stmt = stmt.where(a.season_id == season_id)
    if waiting_for is not None:
        stmt = stmt.where(a.status == "pending", a.requested_by != waiting_for.id,
                          Season.status.in_(statuses_editing(Area.ADJUSTMENTS)))
    if asked_by is not None:
        stmt = stmt.where(a.requested_by == asked_by)
    if status:
        stmt = stmt.where(a.status == status)
    if ids is not None:
        stmt = stmt.where(a.id.in_(ids))
    rows = session.execute(stmt.order_by(a.created_at.desc(), a.number.desc()).limit(limit))
    return [_adjustment_row(r) for r in rows]


def _adjustment_row(r) -> AdjustmentRow:
    adj = r.OTBAdjustment
    return AdjustmentRow(adj.id, r.season_code, r.season_name, adj.number, adj.amount,
                         scope_words(r._mapping, "from"), scope_words(r._mapping, "to"),
                         adj.reason, adj.status, r.asked_email, adj.created_at,
                         r.decided_email, adj.decided_at, adj.decision_note,
                         adj.override_reason)


def scope_cells(session: Session, season_id: uuid.UUID, scope) -> list:
    """The OTB rows of a scope (planning/adjustments.py Scope), by location, category and
    month: ((location id, category id, month), budget, committed) each; a cell's budget is
    its OTB + its adjustments. One statement."""
    adj = adjustments_per_cell(season_id)
    com = committed_per_cell(season_id)
    stmt = (select(OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month,
                   budget_sql(OTBPlan.approved_spend_limit, adj).label("budget"),
                   type_coerce(func.coalesce(com.c.committed, 0), Money).label("committed"))
            .outerjoin(adj, joined(adj, OTBPlan))
            .outerjoin(com, (com.c.location_id == OTBPlan.location_id)
                       & (com.c.category_id == OTBPlan.category_id)
                       & (com.c.month == OTBPlan.month))
            .where(OTBPlan.season_id == season_id))
    if scope.location_id is not None:
        stmt = stmt.where(OTBPlan.location_id == scope.location_id)
    if scope.cluster_id is not None:
        stmt = stmt.where(OTBPlan.location_id.in_(
            select(Location.id).where(Location.cluster_id == scope.cluster_id)))
    if scope.category_id is not None:
        up = category_ancestors()
        stmt = stmt.where(OTBPlan.category_id.in_(
            select(up.c.category_id).where(up.c.ancestor_id == scope.category_id)))
    if scope.month is not None:
        stmt = stmt.where(OTBPlan.month == scope.month)
    stmt = stmt.order_by(OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month)
    return [((r.location_id, r.category_id, r.month), r.budget, r.committed)
            for r in session.execute(stmt)]
