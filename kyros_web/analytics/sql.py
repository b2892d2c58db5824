"""The SQL of the analytics pages (SPEC §5, §7): read-only selects that aggregate a season's
facts in the database. Every row comes back with named columns; reports.py turns them into
figures, tables and charts."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import (Date, Numeric, case, cast, func, literal, null, or_, select,
                        type_coerce, union_all)
from sqlalchemy.orm import Session, aliased

from ..auth.models import User
from ..masterdata.models import Category, Cluster, Location
from ..modelbase import Money
from ..planning.budget import adjustments_per_cell, budget
from ..planning.models import (OTBAdjustment, OTBAdjustmentLine, OTBPlan, RangeIntent,
                               SeasonActual, SeasonPlan)
from ..planning.rules import PRICE_BANDS
from ..purchasing.models import GRNRecord, POStatus, PurchaseOrder
from ..purchasing.queries import committed_expr, received_per_po
from ..seasons.models import Season, SeasonLocation, SeasonTransition
from ..seasons.workflow import ORDER
from ..summaries import settle
from .models import CATEGORY, LOCATION, season_figures
from ..sqlfuncs import days_between, json_number, month_start



def _narrowed(stmt, model, only):
    return stmt if only is None else stmt.where(only(model))


def cell_positions(season_id: uuid.UUID, only=None):
    """Subquery per cell (location × leaf category × month): its OTB, its adjustments (the
    approved moves of open to buy, planning/budget.py) and committed (POs by delivery month),
    so a cell with POs and no OTB row has OTB 0; and from its OTB row the planned sales,
    markdowns and opening stock (`otb_sales`, `markdowns`, `opening`); and how many POs it
    has (`pos`), not cancelled (`live_pos`), open or partly received (`open_pos`), and their
    ordered value (`po_value`, every PO's). `only` narrows it (sqlfuncs.narrowing)."""
    zero = literal(0)
    moved = adjustments_per_cell(season_id, only)
    both = union_all(
        _narrowed(select(OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month.label("month"),
                         OTBPlan.approved_spend_limit.label("otb"), zero.label("adjustments"),
                         zero.label("committed"), OTBPlan.planned_sales.label("otb_sales"),
                         OTBPlan.planned_markdowns.label("markdowns"),
                         OTBPlan.opening_stock.label("opening"), literal(1).label("otb_rows"),
                         zero.label("pos"), zero.label("live_pos"), zero.label("open_pos"),
                         zero.label("po_value"))
                  .where(OTBPlan.season_id == season_id), OTBPlan, only),
        select(moved.c.location_id, moved.c.category_id, moved.c.month, zero,
               moved.c.adjustments, zero, zero, zero, zero, zero, zero, zero, zero, zero),
        _narrowed(select(PurchaseOrder.location_id, PurchaseOrder.category_id,
                         month_start(PurchaseOrder.delivery_date), zero, zero, committed_expr(),
                         zero, zero, zero, zero, literal(1),
                         case((PurchaseOrder.status != POStatus.CANCELLED, 1), else_=0),
                         case((PurchaseOrder.status.in_([POStatus.OPEN,
                                                         POStatus.PARTIALLY_RECEIVED]), 1),
                              else_=0),
                         PurchaseOrder.po_value)
                  .where(PurchaseOrder.season_id == season_id), PurchaseOrder, only),
    ).subquery("otb_and_pos")
    return (select(both.c.location_id, both.c.category_id, both.c.month,
                   *[func.sum(both.c[n]).label(n) for n in (
                       "otb", "adjustments", "committed", "otb_sales", "markdowns", "opening",
                       "otb_rows", "pos", "live_pos", "open_pos", "po_value")])
            .group_by(both.c.location_id, both.c.category_id, both.c.month).subquery("cells"))


def season_facts(season_id: uuid.UUID, only=None):
    """One row per fact: (location, category, month, sales, margin × sales, OTB, adjustments,
    committed, received, open to buy, over-bought, over-bought cells, received_due, then the
    plan's figures otb_sales, markdowns, opening, txs, turns_sales, plan_rows). Plans
    have no month; OTB, adjustments and committed come a row per cell, committed by delivery
    month, with the cell's open to buy and over-bought (planning/otb.py) worked out on the
    cell itself from its budget (OTB + adjustments), so a group sums them and never nets one
    cell against another; received is by GRN month, and received_due, what a PO has received
    whenever it arrived, by the PO's delivery month: the numerator of "received of
    committed", on the same time basis as its denominator. From the OTB rows come their
    planned sales, markdowns and opening stock; from the plan rows, for turns weighted by
    planned sales, `txs` (turns × sales) and `turns_sales` (the sales of the rows that have
    turns); `plan_rows` and `otb_rows` count the rows, `pos` the POs (by delivery month),
    `open_pos` those open or partly received, `over_pos` the live (not cancelled) ones in an
    over-bought cell, and `po_value` the value ordered (every PO's, by delivery month, as the
    PO list totals it). `only` narrows it (sqlfuncs.narrowing)."""
    zero = literal(0)
    no_month = cast(null(), Date)
    cells = cell_positions(season_id, only)
    left = budget(cells.c.otb, cells) - cells.c.committed
    got = received_per_po(_narrowed(select(PurchaseOrder.id)
                                    .where(PurchaseOrder.season_id == season_id),
                                    PurchaseOrder, only))
    po_rows = PurchaseOrder.season_id == season_id, PurchaseOrder.status != POStatus.CANCELLED
    return union_all(
        _narrowed(select(SeasonPlan.location_id, SeasonPlan.category_id,
                         no_month.label("month"), SeasonPlan.planned_sales.label("sales"),
                         (SeasonPlan.planned_margin * SeasonPlan.planned_sales).label("mxs"),
                         zero.label("otb"), zero.label("adjustments"), zero.label("committed"),
                         zero.label("received"), zero.label("open"), zero.label("over"),
                         zero.label("over_cells"), zero.label("received_due"),
                         zero.label("otb_sales"), zero.label("markdowns"),
                         zero.label("opening"),
                         func.coalesce(SeasonPlan.inventory_turns * SeasonPlan.planned_sales,
                                       0).label("txs"),
                         case((SeasonPlan.inventory_turns.is_not(None),
                               SeasonPlan.planned_sales), else_=0).label("turns_sales"),
                         literal(1).label("plan_rows"), zero.label("otb_rows"),
                         zero.label("pos"), zero.label("open_pos"), zero.label("over_pos"),
                         zero.label("po_value"))
                  .where(SeasonPlan.season_id == season_id), SeasonPlan, only),
        select(cells.c.location_id, cells.c.category_id, cells.c.month, zero, zero,
               cells.c.otb, cells.c.adjustments, cells.c.committed, zero,
               case((left > 0, left), else_=0), case((left < 0, -left), else_=0),
               case((left < 0, 1), else_=0), zero, cells.c.otb_sales, cells.c.markdowns,
               cells.c.opening, zero, zero, zero, cells.c.otb_rows, cells.c.pos,
               cells.c.open_pos, case((left < 0, cells.c.live_pos), else_=0), cells.c.po_value),
        _narrowed(select(PurchaseOrder.location_id, PurchaseOrder.category_id,
                         month_start(GRNRecord.grn_date), zero, zero, zero, zero, zero,
                         GRNRecord.received_value, zero, zero, zero, zero, zero, zero, zero,
                         zero, zero, zero, zero, zero, zero, zero, zero)
                  .join(PurchaseOrder, PurchaseOrder.id == GRNRecord.po_id)
                  .where(*po_rows), PurchaseOrder, only),
        _narrowed(select(PurchaseOrder.location_id, PurchaseOrder.category_id,
                         month_start(PurchaseOrder.delivery_date), zero, zero, zero, zero, zero,
                         zero, zero, zero, zero, got.c.received, zero, zero, zero, zero, zero,
                         zero, zero, zero, zero, zero, zero)
                  .join(got, got.c.po_id == PurchaseOrder.id)
                  .where(*po_rows), PurchaseOrder, only),
    ).subquery("facts")


def fact_sums(facts):
    """The aggregate columns every grouping selects, typed so sums read back exactly:
    sales, mxs (margin × sales), sales_raw, otb, adjustments, committed, received,
    open_to_buy, over_bought, over_cells (how many cells are over-bought) and received_due."""
    def money(col):
        return type_coerce(func.coalesce(func.sum(col), 0), Money)

    return [money(facts.c.sales).label("sales"),
            type_coerce(func.sum(facts.c.mxs), Numeric()).label("mxs"),
            type_coerce(func.sum(facts.c.sales), Numeric()).label("sales_raw"),
            money(facts.c.otb).label("otb"), money(facts.c.adjustments).label("adjustments"),
            money(facts.c.committed).label("committed"),
            money(facts.c.received).label("received"), money(facts.c.open).label("open_to_buy"),
            money(facts.c.over).label("over_bought"),
            func.coalesce(func.sum(facts.c.over_cells), 0).label("over_cells"),
            money(facts.c.received_due).label("received_due")]


def _summary(session: Session, season_id, dim: str):
    """The season's summaries of one dimension (analytics/summaries.py): the table, and the condition
    keeping its rows (one per group × month)."""
    settle(session)
    t = season_figures
    return t, (t.c.season_id == season_id) & (t.c.dim == dim)


def by_month(session: Session, season_id) -> list:
    """Figures per month (`month`, then the sums); plans, which have no month, come as
    month None."""
    t, rows = _summary(session, season_id, LOCATION)
    return session.execute(select(t.c.month, *fact_sums(t)).where(rows)
                           .group_by(t.c.month).order_by(t.c.month)).all()


def po_counts(session: Session, season_id):
    """`all` POs of the season and those still `open` (open or partly received)."""
    t, rows = _summary(session, season_id, LOCATION)
    return session.execute(select(func.coalesce(func.sum(t.c.pos), 0).label("all"),
                                  func.coalesce(func.sum(t.c.open_pos), 0).label("open"))
                           .where(rows)).one()


def categories(session: Session) -> list:
    """Every category: `id`, `code`, `name`, `parent_id`."""
    return session.execute(select(Category.id, Category.code, Category.name,
                                  Category.parent_id)).all()


def by_category(session: Session, season_id) -> list:
    """Figures per category the facts name (`category_id`, then the sums)."""
    t, rows = _summary(session, season_id, CATEGORY)
    return session.execute(select(t.c.key_id.label("category_id"), *fact_sums(t)).where(rows)
                           .group_by(t.c.key_id)).all()


def plan_figures_by_category(session: Session, season_id) -> list:
    """The plan figures per category the plan or OTB rows name (`category_id`): from the OTB
    rows, summed over their months, `otb_sales`, `markdowns` and `opening` (stock); from the
    plan rows `plan_sales`, and for turns weighted by planned sales `txs` (turns × sales)
    and `turns_sales` (the sales of the rows that have turns)."""
    t, rows = _summary(session, season_id, CATEGORY)

    def money(name, label=None):
        return type_coerce(func.coalesce(func.sum(t.c[name]), 0), Money).label(label or name)

    # txs and turns_sales are divided by each other only: on SQLite both are in cents.
    return session.execute(
        select(t.c.key_id.label("category_id"), money("otb_sales"), money("markdowns"),
               money("opening"), money("sales", "plan_sales"),
               type_coerce(func.sum(t.c.txs), Numeric()).label("txs"),
               type_coerce(func.sum(type_coerce(t.c.turns_sales, Numeric())),
                           Numeric()).label("turns_sales"))
        .where(rows).group_by(t.c.key_id)
        .having(func.sum(t.c.plan_rows) + func.sum(t.c.otb_rows) > 0)).all()


def location_rows(session: Session, season_id) -> list:
    """Every location of the season, whether or not it has a plan: those assigned to it and
    any other a fact names. `location_code`, `name`, `cluster` ('' for none), `plans` (its
    plan rows, 0 for none), then the sums (None where it has no facts). The report ranks
    them by the same figures it shows (planning/otb.py), not by a second formula written in
    SQL, and the cluster summary adds them up, so both count the same locations."""
    t, rows = _summary(session, season_id, LOCATION)
    grouped = (select(t.c.key_id.label("location_id"), *fact_sums(t),
                      func.sum(t.c.plan_rows).label("plans"))
               .where(rows).group_by(t.c.key_id).subquery())
    assigned = select(SeasonLocation.location_id).where(SeasonLocation.season_id == season_id)
    return session.execute(
        select(Location.id.label("location_id"), Location.location_code, Location.name,
               Location.cluster_id, func.coalesce(Cluster.name, "").label("cluster"),
               func.coalesce(grouped.c.plans, 0).label("plans"),
               *(c for c in grouped.c if c.name not in ("location_id", "plans")))
        .select_from(Location)
        .outerjoin(grouped, grouped.c.location_id == Location.id)
        .outerjoin(Cluster, Cluster.id == Location.cluster_id)
        .where(or_(Location.id.in_(assigned), grouped.c.location_id.is_not(None)))
        .order_by(Location.location_code)).all()


@dataclass(frozen=True)
class POStatusRows:
    by_status: dict  # status → row (count, value, received)
    by_source: list  # rows (source, count, value)
    partial: list  # rows (po_number, supplier, delivery_date, po_value, received)
    ageing: dict  # bucket label → row (count, value, to_receive)


def po_status_rows(session: Session, season_id, as_of: date,
                   ageing: list[tuple[int, int | None, str]]) -> POStatusRows:
    """The PO status page's groups. `ageing` buckets (from days, to days or None, label)
    sort the POs not fully received (open or partly received) by days late on `as_of`:
    days past their delivery date, 0 or less when not yet due."""
    received = received_per_po()
    got = type_coerce(func.coalesce(received.c.received, 0), Money)
    base = (select(PurchaseOrder).outerjoin(received, received.c.po_id == PurchaseOrder.id)
            .where(PurchaseOrder.season_id == season_id))

    def money_sum(col):
        return type_coerce(func.coalesce(func.sum(col), 0), Money)

    by_status = session.execute(
        base.with_only_columns(PurchaseOrder.status, func.count(PurchaseOrder.id).label("count"),
                               money_sum(PurchaseOrder.po_value).label("value"),
                               money_sum(received.c.received).label("received"))
        .group_by(PurchaseOrder.status)).all()
    by_source = session.execute(
        base.with_only_columns(PurchaseOrder.source, func.count(PurchaseOrder.id).label("count"),
                               money_sum(PurchaseOrder.po_value).label("value"))
        .group_by(PurchaseOrder.source).order_by(PurchaseOrder.source)).all()
    partial = session.execute(
        base.with_only_columns(PurchaseOrder.po_number, PurchaseOrder.supplier,
                               PurchaseOrder.delivery_date, PurchaseOrder.po_value,
                               got.label("received"))
        .where(PurchaseOrder.status == POStatus.PARTIALLY_RECEIVED)
        .order_by(PurchaseOrder.po_value.desc(), PurchaseOrder.po_number).limit(50)).all()
    late = days_between(PurchaseOrder.delivery_date, literal(as_of, Date))
    bucket = case(*[((late <= hi) if hi is not None else (late >= lo), label)
                    for lo, hi, label in ageing], else_=ageing[-1][2]).label("bucket")
    aged = session.execute(
        base.with_only_columns(bucket, func.count(PurchaseOrder.id).label("count"),
                               money_sum(PurchaseOrder.po_value).label("value"),
                               money_sum(PurchaseOrder.po_value - got).label("to_receive"))
        .where(PurchaseOrder.status.in_([POStatus.OPEN, POStatus.PARTIALLY_RECEIVED]))
        .group_by(bucket)).all()
    return POStatusRows({r.status: r for r in by_status}, by_source, partial,
                        {r.bucket: r for r in aged})


def ancestor_case(mapping: dict, column):
    """SQL CASE mapping a category id to a code (its ancestor's at some level)."""
    if not mapping:
        return literal("")
    return case(mapping, value=column, else_=literal(""))


def range_by_group(session: Session, season_id, group_of: dict) -> list:
    """Range intent per group of leaf categories (`group_of`: category id → group code):
    `code`, `leaves`, `otb`, `adjustments`, and the `core`, `fashion` and `band_<name>`
    weighted by each leaf's budget (OTB + adjustments)."""
    t, rows = _summary(session, season_id, CATEGORY)
    otb = (select(t.c.key_id.label("category_id"), func.sum(t.c.otb).label("otb"),
                  func.sum(t.c.adjustments).label("adjustments"))
           .where(rows).group_by(t.c.key_id).subquery())
    key = ancestor_case(group_of, RangeIntent.category_id)
    weight = budget(otb.c.otb, otb)

    def wmean(value):
        return type_coerce(func.sum(value * weight) * 1.0 / func.nullif(func.sum(weight), 0),
                           Numeric())

    return session.execute(
        select(key.label("code"), func.count(RangeIntent.id).label("leaves"),
               type_coerce(func.coalesce(func.sum(otb.c.otb), 0), Money).label("otb"),
               type_coerce(func.coalesce(func.sum(otb.c.adjustments), 0),
                           Money).label("adjustments"),
               wmean(RangeIntent.core_percent).label("core"),
               wmean(RangeIntent.fashion_percent).label("fashion"),
               *[wmean(json_number(RangeIntent.price_band_mix, b)).label(f"band_{b}")
                 for b in PRICE_BANDS])
        .outerjoin(otb, otb.c.category_id == RangeIntent.category_id)
        .where(RangeIntent.season_id == season_id)
        .group_by(key).order_by(key)).all()


def seasons_with_steps(session: Session, page: int, per_page: int | None) -> list:
    """A page of seasons (`season_code`, `name`, `status`, `start_date`, `end_date`; every
    season when `per_page` is None) with when each reached each status after the first (a
    column named by the status value)."""
    entered = [func.max(case((SeasonTransition.to_status == s, SeasonTransition.created_at)))
               .label(s.value) for s in ORDER[1:]]
    transitions = (select(SeasonTransition.season_id, *entered)
                   .group_by(SeasonTransition.season_id).subquery())
    return session.execute(
        select(Season.season_code, Season.name, Season.status, Season.start_date,
               Season.end_date, *[transitions.c[s.value] for s in ORDER[1:]])
        .outerjoin(transitions, transitions.c.season_id == Season.id)
        .order_by(Season.start_date.desc(), Season.season_code)
        .limit(per_page).offset((page - 1) * (per_page or 0))).all()


def seasons_per_status(session: Session) -> dict:
    return dict(session.execute(select(Season.status, func.count(Season.id))
                                .group_by(Season.status)).all())


def season_locations(session: Session, season_id) -> list:
    """The season's locations: `location_code`, `name`, `type`, `cluster`."""
    return session.execute(
        select(Location.location_code, Location.name, Location.type,
               func.coalesce(Cluster.name, "").label("cluster"))
        .join(SeasonLocation, SeasonLocation.location_id == Location.id)
        .outerjoin(Cluster, Cluster.id == Location.cluster_id)
        .where(SeasonLocation.season_id == season_id).order_by(Location.name)).all()


def season_ranges(session: Session, season_id) -> list:
    """The season's range intent: `code`, `name`, `core_percent`, `fashion_percent`,
    `price_band_mix`."""
    return session.execute(
        select(Category.code, Category.name, RangeIntent.core_percent,
               RangeIntent.fashion_percent, RangeIntent.price_band_mix)
        .join(Category, Category.id == RangeIntent.category_id)
        .where(RangeIntent.season_id == season_id).order_by(Category.code)).all()


def season_data(season_id) -> list[tuple[str, object]]:
    """The whole season's data, a (name, select) per table in a fixed order: what the data
    workbook holds and what the season fingerprint hashes."""
    return [
        ("locations", select(Location.location_code, Location.name, Location.type,
                             Location.is_active)
         .join(SeasonLocation, SeasonLocation.location_id == Location.id)
         .where(SeasonLocation.season_id == season_id).order_by(Location.location_code)),
        ("plans", select(Location.location_code, Location.name.label("location_name"),
                         Category.code.label("category_code"),
                         Category.name.label("category_name"), SeasonPlan.planned_sales,
                         SeasonPlan.planned_margin, SeasonPlan.inventory_turns,
                         SeasonPlan.approved)
         .join(Location, Location.id == SeasonPlan.location_id)
         .join(Category, Category.id == SeasonPlan.category_id)
         .where(SeasonPlan.season_id == season_id)
         .order_by(Location.location_code, Category.code)),
        ("otb", select(Location.location_code, Category.code.label("category_code"),
                       OTBPlan.month, OTBPlan.planned_sales, OTBPlan.planned_markdowns,
                       OTBPlan.planned_closing_stock, OTBPlan.opening_stock, OTBPlan.on_order,
                       OTBPlan.approved_spend_limit)
         .join(Location, Location.id == OTBPlan.location_id)
         .join(Category, Category.id == OTBPlan.category_id)
         .where(OTBPlan.season_id == season_id)
         .order_by(Location.location_code, Category.code, OTBPlan.month)),
        ("range", select(Category.code.label("category_code"), RangeIntent.core_percent,
                         RangeIntent.fashion_percent, RangeIntent.price_band_mix)
         .join(Category, Category.id == RangeIntent.category_id)
         .where(RangeIntent.season_id == season_id).order_by(Category.code)),
        ("pos", select(PurchaseOrder.po_number, Location.location_code,
                       Category.code.label("category_code"), PurchaseOrder.supplier,
                       PurchaseOrder.order_date, PurchaseOrder.delivery_date,
                       PurchaseOrder.po_value, PurchaseOrder.status, PurchaseOrder.source)
         .join(Location, Location.id == PurchaseOrder.location_id)
         .join(Category, Category.id == PurchaseOrder.category_id)
         .where(PurchaseOrder.season_id == season_id).order_by(PurchaseOrder.po_number)),
        ("actuals", select(Location.location_code, Category.code.label("category_code"),
                           SeasonActual.month, SeasonActual.net_sales, SeasonActual.markdowns,
                           SeasonActual.closing_stock, SeasonActual.units_sold,
                           SeasonActual.closing_units)
         .join(Location, Location.id == SeasonActual.location_id)
         .join(Category, Category.id == SeasonActual.category_id)
         .where(SeasonActual.season_id == season_id)
         .order_by(Location.location_code, Category.code, SeasonActual.month)),
        ("grns", select(GRNRecord.grn_number, PurchaseOrder.po_number, GRNRecord.grn_date,
                        GRNRecord.received_value)
         .join(PurchaseOrder, PurchaseOrder.id == GRNRecord.po_id)
         .where(PurchaseOrder.season_id == season_id).order_by(GRNRecord.grn_number)),
        ("adjustments", adjustment_lines(season_id)),
    ]


def adjustment_lines(season_id):
    """Every OTB adjustment request of the season (issue 17) with its lines, a row per line
    (a request not approved has none: one row with the line's columns empty): the request's
    `number`, `status`, `amount`, its scopes' parts (`from_location` code and
    `from_location_name`, `from_cluster` name, `from_category` code and `from_category_name`,
    `from_month`; the same for `to_`), `reason`, `requested_by`, `decided_by` (e-mail),
    `decision_note`, `override_reason`, then the line's `location_code`, `category_code`,
    `month` and `line_amount`."""
    a, line = OTBAdjustment, OTBAdjustmentLine
    places = {side: (aliased(Location), aliased(Cluster), aliased(Category))
              for side in ("from", "to")}
    asked, decided = aliased(User), aliased(User)
    line_location, line_category = aliased(Location), aliased(Category)
    stmt = select(a.number, a.status, a.amount).select_from(a)
    for side, (place, cluster, category) in places.items():
        stmt = stmt.add_columns(place.location_code.label(f"{side}_location"),
                                place.name.label(f"{side}_location_name"),
                                cluster.name.label(f"{side}_cluster"),
                                category.code.label(f"{side}_category"),
                                category.name.label(f"{side}_category_name"),
                                getattr(a, f"{side}_month").label(f"{side}_month"))
    stmt = stmt.add_columns(a.reason, asked.email.label("requested_by"),
                            decided.email.label("decided_by"), a.decision_note,
                            a.override_reason, line_location.location_code,
                            line_category.code.label("category_code"), line.month,
                            line.amount.label("line_amount"))
    for side, (place, cluster, category) in places.items():
        stmt = (stmt.outerjoin(place, place.id == getattr(a, f"{side}_location_id"))
                .outerjoin(cluster, cluster.id == getattr(a, f"{side}_cluster_id"))
                .outerjoin(category, category.id == getattr(a, f"{side}_category_id")))
    return (stmt.join(asked, asked.id == a.requested_by)
            .outerjoin(decided, decided.id == a.decided_by)
            .outerjoin(line, line.adjustment_id == a.id)
            .outerjoin(line_location, line_location.id == line.location_id)
            .outerjoin(line_category, line_category.id == line.category_id)
            .where(a.season_id == season_id)
            .order_by(a.number, line_location.location_code, line_category.code, line.month))
