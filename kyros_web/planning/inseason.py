"""The in-season reforecast of a whole season in SQL (issue 16): the rule of reforecast.py,
run on every location × leaf category × month at once, so a page at bench scale (72,000
cells) costs one statement. tests/services/test_inseason_sql.py checks, on random seasons,
that every cell here equals reforecast.py's answer; the sums it returns are exact sums of
those cells, so a group never nets one cell's forecast against another's.

A cell is a location × leaf category × month of the season that has an OTB row, actuals or
POs due. Its figures:

- plan: planned sales, markdowns, closing and opening stock, on order, OTB, and the cell's
  adjustments (the approved moves of open to buy, planning/budget.py), so its original
  remaining is OTB + adjustments − committed;
- actuals, when it has them (it is then *actualised*);
- committed: the POs due that month (planning/otb.py committed_value);
- sales (actual, or the forecast), markdowns and closing stock (actual, or planned), and the
  opening stock of reforecast.py rule 3;
- for a forecast cell, its reforecast receipts and in-season OTB (receipts − committed).
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, Numeric, and_, case, func, select, type_coerce
from sqlalchemy.orm import Session

from ..modelbase import Money
from ..purchasing.models import PurchaseOrder
from ..purchasing.queries import committed_expr, received_per_po
from ..analytics.models import CATEGORY, season_forecast_figures
from ..summaries import settle
from ..sqlfuncs import month_start, narrowing, previous_month, trend_scaled
from ..values import month_start as first_of
from .budget import adjusted, adjustments_per_cell, joined as adjustments_of
from .models import OTBPlan, SeasonActual, SeasonPlan
from .kpis import SPLIT_SUMS, Split, Sums
from .reforecast import TREND

def cell_values(season, *, location_ids=None, category_ids=None, either: bool = False):
    """CTE: one row per cell of the season (see the module's docstring) with its inputs.
    `location_ids` / `category_ids` narrow it (sqlfuncs.narrowing; `either`: the cells of
    either); a whole location × category stays whole, so its trend is the same as in the
    season.

    The OTB rows (each with its cell's adjustments), the actuals and the POs grouped by cell
    meet in full outer joins on the cell: each is unique per cell, so no row is counted twice
    and nothing is summed again."""
    first, last = first_of(season.start_date), first_of(season.end_date)
    narrowed = narrowing(location_ids, category_ids, either=either)

    def narrow(stmt, model):
        return stmt if narrowed is None else stmt.where(narrowed(model))

    adj = adjustments_per_cell(season.id, narrowed)
    plan = narrow(select(OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month,
                         OTBPlan.planned_sales.label("ps"),
                         func.coalesce(OTBPlan.planned_markdowns, 0).label("pm"),
                         OTBPlan.planned_closing_stock.label("pc"),
                         OTBPlan.opening_stock.label("po"), OTBPlan.on_order.label("oo"),
                         OTBPlan.approved_spend_limit.label("otb"),
                         adjusted(adj).label("adj"))
                  .outerjoin(adj, adjustments_of(adj, OTBPlan))
                  .where(OTBPlan.season_id == season.id), OTBPlan).subquery("plan")
    actual = narrow(select(SeasonActual.location_id, SeasonActual.category_id,
                           SeasonActual.month, SeasonActual.net_sales.label("a_s"),
                           SeasonActual.markdowns.label("a_m"),
                           SeasonActual.closing_stock.label("a_c"))
                    .where(SeasonActual.season_id == season.id), SeasonActual).subquery("actual")
    delivered = month_start(PurchaseOrder.delivery_date)
    # Each PO's receipts joined once (a grouped pass over the season's GRNs), not looked up
    # PO by PO.
    got = received_per_po(narrow(select(PurchaseOrder.id)
                                 .where(PurchaseOrder.season_id == season.id), PurchaseOrder))
    due = narrow(select(PurchaseOrder.location_id, PurchaseOrder.category_id,
                        delivered.label("month"),
                        func.sum(committed_expr(func.coalesce(got.c.received, 0)))
                        .label("committed"))
                 .outerjoin(got, got.c.po_id == PurchaseOrder.id)
                 .where(PurchaseOrder.season_id == season.id, delivered >= first,
                        delivered <= last)
                 .group_by(PurchaseOrder.location_id, PurchaseOrder.category_id, delivered),
                 PurchaseOrder).subquery("due")
    keys = ("location_id", "category_id", "month")
    left = {k: func.coalesce(plan.c[k], actual.c[k]) for k in keys}
    joined = (plan.join(actual, and_(*[plan.c[k] == actual.c[k] for k in keys]), full=True)
              .join(due, and_(*[left[k] == due.c[k] for k in keys]), full=True))

    def money(column, name):
        return type_coerce(func.coalesce(column, 0), Money).label(name)

    return (select(*[func.coalesce(left[k], due.c[k]).label(k) for k in keys],
                   *[money(plan.c[n], n) for n in ("ps", "pm", "pc", "po", "oo", "otb", "adj")],
                   *[money(actual.c[n], n) for n in ("a_s", "a_m", "a_c")],
                   type_coerce(case((actual.c.location_id.is_not(None), 1), else_=0),
                               Integer()).label("has_a"),
                   money(due.c.committed, "committed"))
            .select_from(joined).cte("cells"))


def forecast_cells(season, *, location_ids=None, category_ids=None, either: bool = False):
    """CTE: every cell with its inputs and its reforecast by the season's method:
    `actualised` (1 or 0), `sales`, `markdowns`, `closing`, `opening`, `receipts` and
    `in_season_otb` (NULL for an actualised cell), `margin` (the plan row's margin %, or NULL).

    The trend (season-to-date actual and planned sales of the location × category) and the
    actual closing stock of the month before come from window functions over each location ×
    category's months: one sort of the cells and one pass, not a self-join and a join to a
    grouped copy (each a sort of every cell). It also gives the per-cell columns that
    analytics/summaries.py adds up: `in_season_open` (the in-season OTB when positive, else
    0) and the margin sums."""
    cells = cell_values(season, location_ids=location_ids, category_ids=category_ids,
                        either=either)
    narrowed = narrowing(location_ids, category_ids, either=either)
    done = cells.c.has_a > 0
    whole = {"partition_by": [cells.c.location_id, cells.c.category_id]}
    in_order = {**whole, "order_by": cells.c.month}
    previous = func.lag(cells.c.month).over(**in_order)
    windowed = select(
        *cells.c,
        func.sum(case((done, cells.c.a_s), else_=0)).over(**whole).label("trend_actual"),
        func.sum(case((done, cells.c.ps), else_=0)).over(**whole).label("trend_planned"),
        # The month before's actual closing stock: the previous cell's, when it is that
        # month and has actuals (NULL otherwise).
        case((previous == previous_month(cells.c.month),
              func.lag(case((done, cells.c.a_c))).over(**in_order))).label("before_closing"),
    ).subquery("windowed")
    w = windowed.c
    done = w.has_a > 0
    if season.reforecast_method == TREND:
        actual = case((w.trend_actual > 0, w.trend_actual), else_=0)
        forecast = case((w.trend_planned > 0, trend_scaled(w.ps, actual, w.trend_planned)),
                        else_=w.ps)
    else:
        forecast = w.ps
    sales = case((done, w.a_s), else_=forecast)
    opening = func.coalesce(w.before_closing, w.po)
    receipts = case((done, None), else_=forecast + w.pm + w.pc - opening - w.oo)

    def money(expr, name):
        return type_coerce(expr, Money).label(name)

    iso = receipts - w.committed
    margin = SeasonPlan.planned_margin
    known = margin.is_not(None)
    stock = case((and_(done, known), opening + w.a_c), else_=0)
    return (select(*[w[c.name] for c in cells.c], case((done, 1), else_=0).label("actualised"),
                   money(sales, "sales"),
                   money(case((done, w.a_m), else_=w.pm), "markdowns"),
                   money(case((done, w.a_c), else_=w.pc), "closing"),
                   money(opening, "opening"), money(receipts, "receipts"),
                   money(iso, "in_season_otb"), margin.label("margin"),
                   money(case((iso > 0, iso), else_=0), "in_season_open"),
                   money(case((known, w.a_s), else_=0), "margin_sales"),
                   type_coerce(func.coalesce(w.a_s * margin, 0), Numeric()).label("margin_sxm"),
                   money(stock, "margin_stock"),
                   type_coerce(func.coalesce(stock * margin, 0), Numeric()).label("margin_stxm"))
            .select_from(windowed)
            .outerjoin(SeasonPlan, and_(SeasonPlan.season_id == season.id,
                                        SeasonPlan.location_id == w.location_id,
                                        SeasonPlan.category_id == w.category_id,
                                        *([narrowed(SeasonPlan)] if narrowed else [])))
            .cte("forecast"))


# Room for PostgreSQL to sort and hash every cell of a season in memory (a season of 72,000
# cells needs about 15 MB; with the default 4 MB it sorts on disk, a third slower), for the
# summing transaction only.
WORK_MEM = "32MB"


def _split_columns(session: Session, t) -> list:
    """The columns of a kpis.Split, in its order. On PostgreSQL the money sums are read as
    the driver gives them (Decimals of the stored cents, exact; a page rounds what it shows),
    without MoneySum's step per value: a page reads some 30,000 of them. SQLite keeps whole
    cents, which MoneySum turns into money."""
    sums = [t.c[n] for n in SPLIT_SUMS]
    if session.get_bind().dialect.name == "postgresql":
        sums = [type_coerce(c, Numeric()).label(c.name) for c in sums]
    # The margin's money sums again untyped: on the scale of its products (cents on SQLite).
    return [*sums, t.c.cells,
            type_coerce(t.c.margin_sales, Numeric()).label("margin_sales_raw"),
            type_coerce(t.c.margin_stock, Numeric()).label("margin_stock_raw")]


def sums_by(session: Session, season, *, locations: bool = True) -> list:
    """The sums of the season's cells per (category, month) and, unless `locations` is False
    (a page that needs only the season's figures), per (location, month), as kept by
    analytics/summaries.py: SumsRow(by 'category' or 'location', id, month, kpis.Sums). A total over
    either set is the season's (exact sums of sums). Each group is kept as two rows, its cells
    with actuals and those without, which Sums.from_split puts together. One statement."""
    t = season_forecast_figures
    settle(session)
    rows = t.c.season_id == season.id
    if not locations:
        rows = rows & (t.c.dim == CATEGORY)
    split: dict[tuple, list] = {}
    for r in session.execute(select(t.c.dim, t.c.key_id, t.c.month, t.c.actualised,
                                    *_split_columns(session, t)).where(rows)).all():
        key = ("category" if r[0] == CATEGORY else "location", r[1], r[2])
        halves = split.get(key)
        if halves is None:
            halves = split[key] = [None, None]
        halves[r[3]] = Split._make(r[4:])
    return [SumsRow(by, id_, month, Sums.from_split(done, ahead))
            for (by, id_, month), (ahead, done) in split.items()]


def season_sums_by_month(session: Session, season) -> dict:
    """The sums of the whole season's cells per month ({month: kpis.Sums}), added up by the
    database from the summaries' category rows: every figure of Sums.from_split is a plain
    sum of its inputs, so this is the sum of sums_by's category groups, exact. One
    statement."""
    t = season_forecast_figures
    settle(session)
    summed = [func.sum(c).label(c.name) for c in _split_columns(session, t)]
    split: dict[date, list] = {}
    for r in session.execute(select(t.c.month, t.c.actualised, *summed)
                             .where(t.c.season_id == season.id, t.c.dim == CATEGORY)
                             .group_by(t.c.month, t.c.actualised)).all():
        split.setdefault(r.month, [None, None])[int(r.actualised)] = Split._make(r[2:])
    return {month: Sums.from_split(done, ahead) for month, (ahead, done) in split.items()}


@dataclass(frozen=True)
class SumsRow:
    by: str  # "category" or "location"
    id: uuid.UUID
    month: date
    sums: Sums


def cell_months(session: Session, season, location_id: uuid.UUID,
                category_id: uuid.UUID) -> list:
    """The rows of forecast_cells for one location × category, by month (its whole history
    and forecast: the trend is that of the location × category)."""
    f = forecast_cells(season, location_ids=[location_id], category_ids=[category_id])
    return session.execute(select(f).order_by(f.c.month)).all()


def page_cells(session: Session, season, pairs) -> dict | None:
    """The in-season OTB of a page of OTB rows: {(location id, category id, month): row with
    `actualised` and `in_season_otb`} over the locations and categories of the (location
    id, category id) `pairs`, or None when the season has no actuals yet (its in-season OTB
    is then the original). One statement, none for no pairs."""
    if not pairs:
        return None
    f = forecast_cells(season, location_ids=sorted({loc for loc, _ in pairs}),
                       category_ids=sorted({cat for _, cat in pairs}))
    reported = select(SeasonActual.id).where(SeasonActual.season_id == season.id).exists()
    rows = session.execute(select(f.c.location_id, f.c.category_id, f.c.month,
                                  f.c.actualised, f.c.in_season_otb,
                                  reported.label("reported"))).all()
    if not rows or not rows[0].reported:
        return None
    return {(r.location_id, r.category_id, r.month): r for r in rows}


def has_actuals(session: Session, season_id: uuid.UUID) -> bool:
    return session.scalar(select(SeasonActual.id).where(SeasonActual.season_id == season_id)
                          .limit(1)) is not None
