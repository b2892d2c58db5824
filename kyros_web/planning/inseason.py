"""The in-season reforecast of a whole season in SQL (issue 16): the rule of reforecast.py,
run on every location × leaf category × month at once, so a page at bench scale (72,000
cells) costs one statement. tests/services/test_inseason_sql.py checks, on random seasons,
that every cell here equals reforecast.py's answer; the sums it returns are exact sums of
those cells, so a group never nets one cell's forecast against another's.

A cell is a location × leaf category × month of the season that has an OTB row, actuals or
POs due. Its figures:

- plan: planned sales, markdowns, closing and opening stock, on order, OTB;
- actuals, when it has them (it is then *actualised*);
- committed: the POs due that month (planning/otb.py committed_value);
- sales (actual, or the forecast), markdowns and closing stock (actual, or planned), and the
  opening stock of reforecast.py rule 3;
- for a forecast cell, its reforecast receipts and in-season OTB (receipts − committed).
"""
from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import Integer, Numeric, and_, case, func, literal, select, type_coerce, union_all
from sqlalchemy.orm import Session, aliased

from ..modelbase import Money
from ..purchasing.models import PurchaseOrder
from ..purchasing.queries import committed_expr
from ..sqlfuncs import month_start, previous_month, trend_scaled
from ..values import month_start as first_of
from .models import OTBPlan, SeasonActual, SeasonPlan
from .reforecast import TREND

# The per-cell inputs, in the order every source of cell_values selects them.
INPUTS = ("ps", "pm", "pc", "po", "oo", "otb", "a_s", "a_m", "a_c", "has_a", "committed")


def cell_values(season, *, location_ids=None, category_ids=None):
    """CTE: one row per cell of the season (see the module's docstring) with its inputs.
    `location_ids` / `category_ids` narrow it (a whole location × category stays whole, so
    its trend is the same as in the season)."""
    first, last = first_of(season.start_date), first_of(season.end_date)
    zero = literal(0)

    def pad(**given):
        return [given.get(name, zero).label(name) for name in INPUTS]

    def narrow(stmt, model):
        if location_ids is not None:
            stmt = stmt.where(model.location_id.in_(location_ids))
        if category_ids is not None:
            stmt = stmt.where(model.category_id.in_(category_ids))
        return stmt

    delivered = month_start(PurchaseOrder.delivery_date)
    sources = union_all(
        narrow(select(OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month.label("month"),
                      *pad(ps=OTBPlan.planned_sales,
                           pm=func.coalesce(OTBPlan.planned_markdowns, 0),
                           pc=OTBPlan.planned_closing_stock, po=OTBPlan.opening_stock,
                           oo=OTBPlan.on_order, otb=OTBPlan.approved_spend_limit))
               .where(OTBPlan.season_id == season.id), OTBPlan),
        narrow(select(SeasonActual.location_id, SeasonActual.category_id, SeasonActual.month,
                      *pad(a_s=SeasonActual.net_sales, a_m=SeasonActual.markdowns,
                           a_c=SeasonActual.closing_stock, has_a=literal(1)))
               .where(SeasonActual.season_id == season.id), SeasonActual),
        narrow(select(PurchaseOrder.location_id, PurchaseOrder.category_id, delivered,
                      *pad(committed=committed_expr()))
               .where(PurchaseOrder.season_id == season.id, delivered >= first,
                      delivered <= last), PurchaseOrder),
    ).subquery("sources")
    return (select(sources.c.location_id, sources.c.category_id, sources.c.month,
                   *[type_coerce(func.sum(sources.c[name]), Integer() if name == "has_a" else Money)
                     .label(name) for name in INPUTS])
            .group_by(sources.c.location_id, sources.c.category_id, sources.c.month)
            .cte("cells"))


def forecast_cells(season, **narrowed):
    """CTE: every cell with its inputs and its reforecast by the season's method:
    `actualised` (1 or 0), `sales`, `markdowns`, `closing`, `opening`, `receipts` and
    `in_season_otb` (NULL for an actualised cell), `margin` (the plan row's margin %, or NULL).

    The trend (season-to-date actual and planned sales of the location × category) and the
    actual closing stock of the month before come from window functions over each location ×
    category's months: one pass over the cells in the order their grouping leaves them, not
    a self-join and a join to a grouped copy (each a sort of every cell)."""
    cells = cell_values(season, **narrowed)
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

    return (select(*[w[c.name] for c in cells.c], case((done, 1), else_=0).label("actualised"),
                   money(sales, "sales"),
                   money(case((done, w.a_m), else_=w.pm), "markdowns"),
                   money(case((done, w.a_c), else_=w.pc), "closing"),
                   money(opening, "opening"), money(receipts, "receipts"),
                   money(receipts - w.committed, "in_season_otb"),
                   SeasonPlan.planned_margin.label("margin"))
            .select_from(windowed)
            .outerjoin(SeasonPlan, and_(SeasonPlan.season_id == season.id,
                                        SeasonPlan.location_id == w.location_id,
                                        SeasonPlan.category_id == w.category_id))
            .cte("forecast"))


def _sums(f):
    """The sums of a group of cells, named as planning/kpis.py Sums reads them."""
    done = f.c.actualised == 1
    ahead = f.c.actualised == 0
    known = and_(done, f.c.margin.is_not(None))

    def money(expr, when=None):
        if when is not None:
            expr = case((when, expr), else_=0)
        return type_coerce(func.coalesce(func.sum(expr), 0), Money)

    def raw(expr, when):
        return type_coerce(func.coalesce(func.sum(case((when, expr), else_=0)), 0), Numeric())

    iso = f.c.in_season_otb
    return [
        money(f.c.ps).label("plan_sales"), money(f.c.pm).label("plan_markdowns"),
        money(f.c.pc).label("plan_closing"), money(f.c.po).label("plan_opening"),
        money(f.c.otb).label("otb"), money(f.c.committed).label("committed"),
        type_coerce(func.coalesce(func.sum(f.c.actualised), 0), Integer()).label("actual_cells"),
        type_coerce(func.count(), Integer()).label("cells"),
        money(f.c.a_s, done).label("actual_sales"), money(f.c.a_m, done).label("actual_markdowns"),
        money(f.c.a_c, done).label("actual_closing"), money(f.c.opening, done).label("actual_opening"),
        money(f.c.ps, done).label("plan_sales_done"), money(f.c.pm, done).label("plan_markdowns_done"),
        money(f.c.pc, done).label("plan_closing_done"),
        money(f.c.sales).label("sales"), money(f.c.markdowns).label("markdowns"),
        money(f.c.closing).label("closing"),
        money(f.c.sales, ahead).label("forecast_sales"), money(f.c.ps, ahead).label("plan_sales_ahead"),
        money(f.c.opening, ahead).label("opening_ahead"), money(f.c.po, ahead).label("plan_opening_ahead"),
        money(f.c.otb, ahead).label("otb_ahead"), money(f.c.committed, ahead).label("committed_ahead"),
        money(f.c.receipts, ahead).label("receipts"),
        money(iso, and_(ahead, iso > 0)).label("in_season_open"),
        money(-iso, and_(ahead, iso < 0)).label("in_season_over"),
        money(f.c.a_s, known).label("margin_sales"),
        raw(f.c.a_s * f.c.margin, known).label("margin_sxm"),
        money(f.c.opening + f.c.a_c, known).label("margin_stock"),
        raw((f.c.opening + f.c.a_c) * f.c.margin, known).label("margin_stxm"),
        raw(f.c.a_s, known).label("margin_sales_raw"),
        raw(f.c.opening + f.c.a_c, known).label("margin_stock_raw"),
    ]


def sums_by(session: Session, season, *, narrowed: dict | None = None) -> list:
    """The sums of the season's cells per (category, month) and per (location, month), in one
    statement: rows with `by` ('category' or 'location'), `id`, `month`, then _sums. A total
    over either set is the season's (exact sums of sums)."""
    f = forecast_cells(season, **(narrowed or {}))
    by_category = (select(literal("category").label("by"), f.c.category_id.label("id"),
                          f.c.month, *_sums(f))
                   .group_by(f.c.category_id, f.c.month))
    by_location = (select(literal("location").label("by"), f.c.location_id.label("id"),
                          f.c.month, *_sums(f))
                   .group_by(f.c.location_id, f.c.month))
    return session.execute(union_all(by_category, by_location)).all()


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


def latest_actual_month(session: Session, season_id: uuid.UUID) -> date | None:
    return session.scalar(select(func.max(SeasonActual.month))
                          .where(SeasonActual.season_id == season_id))

