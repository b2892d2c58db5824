"""The analytics pages as reports (SPEC §5, §7). All aggregation happens in SQL over one
union of the season's facts (plans, OTB, committed, received), grouped per page; Python only
adds exact sums up (a total line, a category level) and turns them into ratios for display.
Each report costs a fixed number of statements."""
from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace

from sqlalchemy import (Date, Numeric, case, cast, func, literal, null, select, type_coerce,
                        union_all)
from sqlalchemy.orm import Session

from ..masterdata.models import Category, Cluster, Location
from ..modelbase import Money
from ..planning.models import OTBPlan, RangeIntent, SeasonPlan
from ..purchasing.models import GRNRecord, POStatus, PurchaseOrder
from ..purchasing.queries import committed_expr, received_per_po
from ..seasons.models import Season, SeasonLocation, SeasonTransition
from ..seasons.workflow import ORDER
from ..sqlfuncs import days_between, json_number, month_start
from . import charts
from .report import (COUNT, DATE, MONEY, MONTH, PERCENT, Column, Kpi, Report,
                     Table, ratio)

ZERO = Decimal("0")
BANDS = ("low", "mid", "high")


def season_facts(season_id: uuid.UUID):
    """One row per fact: (location, category, month, sales, margin × sales, OTB, committed,
    received). Plans have no month; committed is by delivery month, received by GRN month."""
    zero = literal(0)
    no_month = cast(null(), Date)
    return union_all(
        select(SeasonPlan.location_id, SeasonPlan.category_id, no_month.label("month"),
               SeasonPlan.planned_sales.label("sales"),
               (SeasonPlan.planned_margin * SeasonPlan.planned_sales).label("mxs"),
               zero.label("otb"), zero.label("committed"), zero.label("received"))
        .where(SeasonPlan.season_id == season_id),
        select(OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month, zero, zero,
               OTBPlan.approved_spend_limit, zero, zero)
        .where(OTBPlan.season_id == season_id),
        select(PurchaseOrder.location_id, PurchaseOrder.category_id,
               month_start(PurchaseOrder.delivery_date), zero, zero, zero,
               committed_expr(), zero)
        .where(PurchaseOrder.season_id == season_id),
        select(PurchaseOrder.location_id, PurchaseOrder.category_id,
               month_start(GRNRecord.grn_date), zero, zero, zero, zero, GRNRecord.received_value)
        .join(PurchaseOrder, PurchaseOrder.id == GRNRecord.po_id)
        .where(PurchaseOrder.season_id == season_id, PurchaseOrder.status != POStatus.CANCELLED),
    ).subquery("facts")


def _sums(facts):
    """The aggregate columns every grouping selects, typed so sums read back exactly."""
    def money(col):
        return type_coerce(func.coalesce(func.sum(col), 0), Money)

    return [money(facts.c.sales).label("sales"),
            type_coerce(func.sum(facts.c.mxs), Numeric()).label("mxs"),
            type_coerce(func.sum(facts.c.sales), Numeric()).label("sales_raw"),
            money(facts.c.otb).label("otb"), money(facts.c.committed).label("committed"),
            money(facts.c.received).label("received")]


@dataclass(frozen=True)
class Figures:
    sales: Decimal
    margin: Decimal | None
    otb: Decimal
    committed: Decimal
    received: Decimal

    @classmethod
    def of(cls, row) -> "Figures":
        return cls.summed([row])

    @classmethod
    def summed(cls, rows) -> "Figures":
        """The figures of groups taken together: exact sums of their sums (so a report's
        total line needs no second pass over the facts), the margin weighted by sales."""
        def add(name):
            return sum((Decimal(getattr(r, name)) for r in rows
                        if getattr(r, name) is not None), ZERO)

        sales_raw = add("sales_raw")
        return cls(add("sales"), add("mxs") / sales_raw if sales_raw else None, add("otb"),
                   add("committed"), add("received"))

    @property
    def utilisation(self) -> Decimal:
        return ratio(self.committed, self.otb)

    @property
    def fulfilment(self) -> Decimal:
        return ratio(self.received, self.committed)

    @property
    def remaining(self) -> Decimal:
        return self.otb - self.committed


FIGURE_COLUMNS = [Column("Planned sales", MONEY), Column("Planned margin", PERCENT),
                  Column("OTB", MONEY), Column("Committed", MONEY), Column("Remaining", MONEY),
                  Column("Received", MONEY), Column("Utilisation", PERCENT),
                  Column("Fulfilment", PERCENT)]


def _figure_cells(f: Figures) -> list:
    return [f.sales, f.margin, f.otb, f.committed, f.remaining, f.received, f.utilisation,
            f.fulfilment]


def _kpis(f: Figures, po_counts: dict) -> list[Kpi]:
    return [Kpi("OTB (retail)", f.otb), Kpi("Committed", f.committed),
            Kpi("Remaining", f.remaining), Kpi("Received", f.received),
            Kpi("Budget utilisation", f.utilisation, PERCENT),
            Kpi("Fulfilment rate", f.fulfilment, PERCENT),
            Kpi("Planned sales", f.sales), Kpi("Planned margin (sales-weighted)", f.margin, PERCENT),
            Kpi("Purchase orders", po_counts.get("all", 0), COUNT),
            Kpi("Open or partly received", po_counts.get("open", 0), COUNT)]


def _po_counts(session: Session, season_id) -> dict:
    row = session.execute(select(
        func.count(PurchaseOrder.id),
        func.count(case((PurchaseOrder.status.in_([POStatus.OPEN, POStatus.PARTIALLY_RECEIVED]), 1))))
        .where(PurchaseOrder.season_id == season_id)).one()
    return {"all": row[0], "open": row[1]}


# 3. Budget vs actual by month

def by_month(session: Session, season_id) -> list:
    """Figures per month; plans, which have no month, come last as month None."""
    facts = season_facts(season_id)
    return session.execute(select(facts.c.month, *_sums(facts))
                           .group_by(facts.c.month).order_by(facts.c.month)).all()


def budget_vs_actual(session: Session, season: Season) -> Report:
    return _budget(session, season)[0]


def _budget(session: Session, season: Season) -> tuple[Report, Figures]:
    """The budget report and the season's total figures, from one pass over the facts."""
    rows = by_month(session, season.id)
    total = Figures.summed(rows)
    table_rows = []
    for r in (r for r in rows if r.month is not None):
        f = Figures.of(r)
        table_rows.append([r.month, f.otb, f.committed, f.received, f.otb - f.committed,
                           f.utilisation, f.fulfilment])
    table = Table("budget_vs_actual", "Budget vs actual by month",
                  [Column("Month", MONTH), Column("OTB", MONEY),
                   Column("Committed (delivery month)", MONEY), Column("Received (GRN month)", MONEY),
                   Column("Variance (OTB − committed)", MONEY), Column("Utilisation", PERCENT),
                   Column("Received of committed", PERCENT)],
                  table_rows,
                  note="A month appears when it has OTB, deliveries due or goods received.",
                  total=["Season", total.otb, total.committed, total.received,
                         total.otb - total.committed, total.utilisation, total.fulfilment])
    chart = charts.bar_chart("OTB, committed and received by month",
                             [r[0].strftime("%b %Y") for r in table_rows],
                             [("OTB", [r[1] for r in table_rows]),
                              ("Committed", [r[2] for r in table_rows]),
                              ("Received", [r[3] for r in table_rows])])
    return Report("budget", "Budget vs actual", charts=[chart], tables=[table]), total


# 1. Dashboard

def dashboard(session: Session, season: Season) -> Report:
    budget, f = _budget(session, season)
    return Report("dashboard", "Dashboard", kpis=_kpis(f, _po_counts(session, season.id)),
                  charts=budget.charts, tables=budget.tables)


# 4. Category breakdown

def category_levels(session: Session) -> tuple[dict, dict, int]:
    """(category id → (code, name, depth, parent id), ancestor-at-level map maker, max depth)."""
    rows = session.execute(select(Category.id, Category.code, Category.name,
                                  Category.parent_id)).all()
    info = {r.id: r for r in rows}
    depth: dict = {}

    def depth_of(cid, seen=()):
        if cid in depth:
            return depth[cid]
        parent = info[cid].parent_id
        depth[cid] = 1 if parent is None or parent in seen else depth_of(parent, seen + (cid,)) + 1
        return depth[cid]

    for cid in info:
        depth_of(cid)
    return info, depth, max(depth.values(), default=1)


def _ancestor_map(info: dict, depth: dict, level: int) -> dict:
    """Category id → the code of its ancestor at `level` (or its own, above that level)."""
    mapping = {}
    for cid in info:
        walk = cid
        while depth[walk] > level:
            walk = info[walk].parent_id
        mapping[cid] = info[walk].code
    return mapping


def _ancestor_case(info: dict, depth: dict, level: int, column):
    """SQL CASE mapping a category id to the code of its ancestor at `level` (or itself)."""
    mapping = _ancestor_map(info, depth, level)
    if not mapping:
        return literal("")
    return case(mapping, value=column, else_=literal(""))


def category_breakdown(session: Session, season: Season, level: int = 1) -> Report:
    info, depth, max_depth = category_levels(session)
    level = min(max(level, 1), max_depth)
    facts = season_facts(season.id)
    # Grouped by category in SQL (a few dozen groups), rolled up to the level here: exact
    # sums of sums, and no per-fact CASE over the whole tree.
    ancestor = _ancestor_map(info, depth, level)
    groups: dict[str, list] = {}
    for r in session.execute(select(facts.c.category_id, *_sums(facts))
                             .group_by(facts.c.category_id)):
        groups.setdefault(ancestor.get(r.category_id, ""), []).append(r)
    rows = [SimpleNamespace(code=code, figures=Figures.summed(group))
            for code, group in sorted(groups.items())]
    names = {r.code: r.name for r in info.values()}
    table_rows = [[r.code, names.get(r.code, ""), *_figure_cells(r.figures)] for r in rows]
    total = Figures.summed([row for group in groups.values() for row in group])
    table = Table("categories", f"Categories at level {level}",
                  [Column("Code"), Column("Category"), *FIGURE_COLUMNS], table_rows,
                  note="Each figure rolls up the leaf categories below; a leaf above this level "
                       "shows as itself.",
                  total=["All", "", *_figure_cells(total)])
    chart = charts.bar_chart(f"Budget utilisation by category (level {level})",
                             [r[0] for r in table_rows], [("Utilisation", [r[8] for r in table_rows])],
                             unit=" %")
    return Report("categories", "Category breakdown", charts=[chart], tables=[table],
                  filters={"level": level, "levels": list(range(1, max_depth + 1))})


# 5. Cluster summary

def cluster_summary(session: Session, season: Season) -> Report:
    facts = season_facts(season.id)
    grouped = (select(Location.cluster_id, *_sums(facts))
               .join(Location, Location.id == facts.c.location_id)
               .group_by(Location.cluster_id).subquery())
    counts = (select(Location.cluster_id, func.count(SeasonLocation.id).label("n"))
              .join(Location, Location.id == SeasonLocation.location_id)
              .where(SeasonLocation.season_id == season.id)
              .group_by(Location.cluster_id).subquery())
    rows = session.execute(
        select(func.coalesce(Cluster.name, "(no cluster)").label("name"),
               func.coalesce(counts.c.n, 0).label("locations"), grouped)
        .select_from(grouped)
        .outerjoin(Cluster, Cluster.id == grouped.c.cluster_id)
        .outerjoin(counts, counts.c.cluster_id == grouped.c.cluster_id)
        .order_by(func.coalesce(Cluster.name, ""))).all()
    table_rows = [[r.name, r.locations, *_figure_cells(Figures.of(r))] for r in rows]
    total = Figures.summed(rows)
    table = Table("clusters", "Clusters", [Column("Cluster"), Column("Locations", COUNT),
                                           *FIGURE_COLUMNS], table_rows,
                  total=["All", sum(r[1] for r in table_rows), *_figure_cells(total)])
    chart = charts.bar_chart("Budget utilisation by cluster", [r[0] for r in table_rows],
                             [("Utilisation", [r[8] for r in table_rows])], unit=" %")
    return Report("clusters", "Cluster summary", charts=[chart], tables=[table])


# 6. Location performance

RANKINGS = {"utilisation": "Budget utilisation", "sales": "Planned sales",
            "committed": "Committed", "fulfilment": "Fulfilment rate"}


def location_performance(session: Session, season: Season, by: str = "utilisation",
                         top: int = 10, worst: bool = False) -> Report:
    by = by if by in RANKINGS else "utilisation"
    top = min(max(top, 1), 100)
    facts = season_facts(season.id)
    grouped = select(facts.c.location_id, *_sums(facts)).group_by(facts.c.location_id).subquery()
    measure = {
        "utilisation": grouped.c.committed * 1.0 / func.nullif(grouped.c.otb, 0),
        "sales": grouped.c.sales,
        "committed": grouped.c.committed,
        "fulfilment": grouped.c.received * 1.0 / func.nullif(grouped.c.committed, 0),
    }[by]
    measure = func.coalesce(measure, 0)
    rows = session.execute(
        select(Location.location_code, Location.name, func.coalesce(Cluster.name, "").label("cluster"),
               grouped)
        .join(Location, Location.id == grouped.c.location_id)
        .outerjoin(Cluster, Cluster.id == Location.cluster_id)
        .order_by(measure.asc() if worst else measure.desc(), Location.location_code)
        .limit(top)).all()
    table_rows = [[n, r.location_code, r.name, r.cluster, *_figure_cells(Figures.of(r))]
                  for n, r in enumerate(rows, start=1)]
    which = "Bottom" if worst else "Top"
    table = Table("locations", f"{which} {top} locations by {RANKINGS[by].lower()}",
                  [Column("Rank", COUNT), Column("Code"), Column("Location"), Column("Cluster"),
                   *FIGURE_COLUMNS], table_rows)
    index = {"utilisation": 10, "sales": 4, "committed": 7, "fulfilment": 11}[by]
    chart = charts.bar_chart(f"{which} {top} locations by {RANKINGS[by].lower()}",
                             [r[2] for r in table_rows], [(RANKINGS[by], [r[index] for r in table_rows])],
                             unit=" %" if by in ("utilisation", "fulfilment") else "")
    return Report("locations", "Location performance", charts=[chart], tables=[table],
                  filters={"by": by, "top": top, "order": "bottom" if worst else "top"})


# 7. PO status

AGEING = [(0, 30, "0–30 days"), (31, 60, "31–60 days"), (61, 90, "61–90 days"),
          (91, None, "over 90 days")]


def po_status(session: Session, season: Season, as_of: date | None = None) -> Report:
    as_of = as_of or date.today()
    received = received_per_po()
    got = type_coerce(func.coalesce(received.c.received, 0), Money)
    base = (select(PurchaseOrder).outerjoin(received, received.c.po_id == PurchaseOrder.id)
            .where(PurchaseOrder.season_id == season.id))

    def money_sum(col):
        return type_coerce(func.coalesce(func.sum(col), 0), Money)

    by_status = session.execute(
        base.with_only_columns(PurchaseOrder.status, func.count(PurchaseOrder.id),
                               money_sum(PurchaseOrder.po_value), money_sum(received.c.received))
        .group_by(PurchaseOrder.status)).all()
    found = {r[0]: r for r in by_status}
    status_rows = [[s.title, found[s][1], found[s][2], found[s][3]] if s in found
                   else [s.title, 0, ZERO, ZERO] for s in POStatus]
    by_source = session.execute(
        base.with_only_columns(PurchaseOrder.source, func.count(PurchaseOrder.id),
                               money_sum(PurchaseOrder.po_value))
        .group_by(PurchaseOrder.source).order_by(PurchaseOrder.source)).all()
    partial = session.execute(
        base.with_only_columns(PurchaseOrder.po_number, PurchaseOrder.supplier,
                               PurchaseOrder.delivery_date, PurchaseOrder.po_value, got)
        .where(PurchaseOrder.status == POStatus.PARTIALLY_RECEIVED)
        .order_by(PurchaseOrder.po_value.desc(), PurchaseOrder.po_number).limit(50)).all()
    age = days_between(PurchaseOrder.order_date, literal(as_of, Date))
    bucket = case(*[((age <= hi) if hi is not None else (age >= lo), label)
                    for lo, hi, label in AGEING], else_=AGEING[-1][2])
    ageing = dict((r[0], r[1:]) for r in session.execute(
        base.with_only_columns(bucket, func.count(PurchaseOrder.id), money_sum(PurchaseOrder.po_value))
        .where(PurchaseOrder.status.in_([POStatus.OPEN, POStatus.PARTIALLY_RECEIVED]))
        .group_by(bucket)).all())
    tables = [
        Table("by_status", "By status", [Column("Status"), Column("POs", COUNT),
                                         Column("PO value", MONEY), Column("Received", MONEY)],
              status_rows),
        Table("by_source", "By source", [Column("Source"), Column("POs", COUNT),
                                         Column("PO value", MONEY)],
              [[r[0].title, r[1], r[2]] for r in by_source]),
        Table("partial", "Partly received (largest 50)",
              [Column("PO"), Column("Supplier"), Column("Due", DATE), Column("PO value", MONEY),
               Column("Received", MONEY), Column("Received share", PERCENT)],
              [[r[0], r[1] or "", r[2], r[3], r[4], ratio(r[4], r[3])] for r in partial]),
        Table("ageing", f"Ageing of open POs on {as_of.isoformat()} (days since ordered)",
              [Column("Age"), Column("POs", COUNT), Column("PO value", MONEY)],
              [[label, *ageing.get(label, (0, ZERO))] for _, _, label in AGEING]),
    ]
    chart = charts.bar_chart("POs by status", [r[0] for r in status_rows],
                             [("PO value", [r[2] for r in status_rows]),
                              ("Received", [r[3] for r in status_rows])])
    return Report("pos", "PO status", charts=[chart], tables=tables,
                  filters={"as of": as_of.isoformat()})


# 8. Price bands

def price_bands(session: Session, season: Season, level: int = 1) -> Report:
    info, depth, max_depth = category_levels(session)
    level = min(max(level, 1), max_depth)
    otb = (select(OTBPlan.category_id, func.sum(OTBPlan.approved_spend_limit).label("otb"))
           .where(OTBPlan.season_id == season.id).group_by(OTBPlan.category_id).subquery())
    key = _ancestor_case(info, depth, level, RangeIntent.category_id)
    weight = func.coalesce(otb.c.otb, 0)

    def wmean(value):
        return type_coerce(func.sum(value * weight) * 1.0 / func.nullif(func.sum(weight), 0), Numeric())

    rows = session.execute(
        select(key.label("code"), func.count(RangeIntent.id),
               type_coerce(func.coalesce(func.sum(weight), 0), Money),
               wmean(RangeIntent.core_percent), wmean(RangeIntent.fashion_percent),
               *[wmean(json_number(RangeIntent.price_band_mix, b)) for b in BANDS])
        .outerjoin(otb, otb.c.category_id == RangeIntent.category_id)
        .where(RangeIntent.season_id == season.id)
        .group_by(key).order_by(key)).all()
    names = {r.code: r.name for r in info.values()}
    table_rows = [[r[0], names.get(r[0], ""), r[1], r[2], *r[3:]] for r in rows]
    table = Table("price_bands", f"Range intent at level {level} (weighted by OTB)",
                  [Column("Code"), Column("Category"), Column("Leaf categories", COUNT),
                   Column("OTB", MONEY), Column("Core", PERCENT), Column("Fashion", PERCENT),
                   *[Column(f"Price band {b}", PERCENT) for b in BANDS]], table_rows,
                  note="A group's percentages are the mean of its leaf categories weighted by "
                       "their OTB.")
    chart = charts.stacked_chart("Price band mix", [r[0] for r in table_rows],
                                 [(f"Price band {b}", [r[6 + i] for r in table_rows])
                                  for i, b in enumerate(BANDS)])
    return Report("price-bands", "Price band analysis", charts=[chart], tables=[table],
                  filters={"level": level, "levels": list(range(1, max_depth + 1))})


# 9. Workflow status of all seasons

def workflow_status(session: Session, page: int = 1, per_page: int = 25) -> Report:
    entered = [func.max(case((SeasonTransition.to_status == s, SeasonTransition.created_at)))
               .label(s.value) for s in ORDER[1:]]
    transitions = (select(SeasonTransition.season_id, *entered)
                   .group_by(SeasonTransition.season_id).subquery())
    rows = session.execute(
        select(Season.season_code, Season.name, Season.status, Season.start_date, Season.end_date,
               *[transitions.c[s.value] for s in ORDER[1:]])
        .outerjoin(transitions, transitions.c.season_id == Season.id)
        .order_by(Season.start_date.desc(), Season.season_code)
        .limit(per_page).offset((page - 1) * per_page)).all()
    mix = dict(session.execute(select(Season.status, func.count(Season.id))
                               .group_by(Season.status)).all())
    table = Table("seasons", "Seasons and when they reached each step",
                  [Column("Code"), Column("Season"), Column("Status"), Column("Start", DATE),
                   Column("End", DATE), *[Column(s.title, DATE) for s in ORDER[1:]]],
                  [[r[0], r[1], r[2].title, r[3], r[4], *[d.date() if d else None for d in r[5:]]]
                   for r in rows])
    mix_table = Table("status_mix", "Seasons per status",
                      [Column("Status"), Column("Seasons", COUNT)],
                      [[s.title, mix.get(s, 0)] for s in ORDER],
                      total=["All", sum(mix.values())])
    chart = charts.bar_chart("Seasons per status", [s.title for s in ORDER],
                             [("Seasons", [mix.get(s, 0) for s in ORDER])],
                             fmt=lambda v: f"{v:,.0f}")
    return Report("workflow", "Workflow status of all seasons", charts=[chart],
                  tables=[mix_table, table], filters={"page": page})


# 2. Read-only view

def season_view(session: Session, season: Season) -> Report:
    locations = session.execute(
        select(Location.location_code, Location.name, Location.type,
               func.coalesce(Cluster.name, "").label("cluster"))
        .join(SeasonLocation, SeasonLocation.location_id == Location.id)
        .outerjoin(Cluster, Cluster.id == Location.cluster_id)
        .where(SeasonLocation.season_id == season.id).order_by(Location.name)).all()
    ranges = session.execute(
        select(Category.code, Category.name, RangeIntent.core_percent, RangeIntent.fashion_percent,
               RangeIntent.price_band_mix)
        .join(Category, Category.id == RangeIntent.category_id)
        .where(RangeIntent.season_id == season.id).order_by(Category.code)).all()
    budget, f = _budget(session, season)
    tables = [
        Table("season", "Season", [Column("Field"), Column("Value")],
              [["Code", season.season_code], ["Name", season.name],
               ["Start", season.start_date.isoformat()], ["End", season.end_date.isoformat()],
               ["Status", season.status.title]]),
        Table("locations", "Locations taking part",
              [Column("Code"), Column("Location"), Column("Type"), Column("Cluster")],
              [[r[0], r[1], r[2].title, r[3]] for r in locations]),
        budget.tables[0],
        Table("range", "Range intent",
              [Column("Code"), Column("Category"), Column("Core", PERCENT), Column("Fashion", PERCENT),
               *[Column(f"Price band {b}", PERCENT) for b in BANDS]],
              [[r[0], r[1], r[2], r[3],
                *[Decimal(r[4][b]) if r[4].get(b) is not None else None for b in BANDS]]
               for r in ranges]),
    ]
    return Report("view", "Read-only view", kpis=_kpis(f, _po_counts(session, season.id)),
                  charts=budget.charts, tables=tables)


REPORTS = {
    "dashboard": ("Dashboard", dashboard),
    "view": ("Read-only view", season_view),
    "budget": ("Budget vs actual", budget_vs_actual),
    "categories": ("Category breakdown", category_breakdown),
    "clusters": ("Cluster summary", cluster_summary),
    "locations": ("Location performance", location_performance),
    "pos": ("PO status", po_status),
    "price-bands": ("Price band analysis", price_bands),
}


def fingerprint(session: Session, season: Season) -> str:
    """sha256 over the season's rows, read in a fixed order, so a printed pack can be matched
    to the data it came from; the same data always gives the same value."""
    digest = hashlib.sha256()
    digest.update(f"{season.season_code}|{season.name}|{season.start_date}|{season.end_date}|"
                  f"{season.status.value}\n".encode())
    statements = [
        select(Location.location_code).join(SeasonLocation, SeasonLocation.location_id == Location.id)
        .where(SeasonLocation.season_id == season.id).order_by(Location.location_code),
        select(Location.location_code, Category.code, SeasonPlan.planned_sales,
               SeasonPlan.planned_margin, SeasonPlan.inventory_turns, SeasonPlan.approved)
        .join(Location, Location.id == SeasonPlan.location_id)
        .join(Category, Category.id == SeasonPlan.category_id)
        .where(SeasonPlan.season_id == season.id).order_by(Location.location_code, Category.code),
        select(Location.location_code, Category.code, OTBPlan.month, OTBPlan.planned_sales,
               OTBPlan.planned_markdowns, OTBPlan.planned_closing_stock, OTBPlan.opening_stock,
               OTBPlan.on_order)
        .join(Location, Location.id == OTBPlan.location_id)
        .join(Category, Category.id == OTBPlan.category_id)
        .where(OTBPlan.season_id == season.id)
        .order_by(Location.location_code, Category.code, OTBPlan.month),
        select(Category.code, RangeIntent.core_percent, RangeIntent.fashion_percent,
               RangeIntent.price_band_mix)
        .join(Category, Category.id == RangeIntent.category_id)
        .where(RangeIntent.season_id == season.id).order_by(Category.code),
        select(PurchaseOrder.po_number, Location.location_code, Category.code,
               PurchaseOrder.po_value, PurchaseOrder.order_date, PurchaseOrder.delivery_date,
               PurchaseOrder.status, PurchaseOrder.supplier)
        .join(Location, Location.id == PurchaseOrder.location_id)
        .join(Category, Category.id == PurchaseOrder.category_id)
        .where(PurchaseOrder.season_id == season.id).order_by(PurchaseOrder.po_number),
        select(GRNRecord.grn_number, PurchaseOrder.po_number, GRNRecord.grn_date,
               GRNRecord.received_value)
        .join(PurchaseOrder, PurchaseOrder.id == GRNRecord.po_id)
        .where(PurchaseOrder.season_id == season.id).order_by(GRNRecord.grn_number),
    ]
    for stmt in statements:
        for row in session.execute(stmt.execution_options(yield_per=5000)):
            digest.update(("|".join(_canonical(v) for v in row) + "\n").encode())
        digest.update(b"--\n")
    return digest.hexdigest()


def _canonical(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        return ",".join(f"{k}={value[k]}" for k in sorted(value))
    if hasattr(value, "value") and not isinstance(value, (str, int, Decimal)):
        return str(value.value)
    return str(value)
