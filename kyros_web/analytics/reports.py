"""The analytics pages as reports (SPEC §5, §7), built from the rows sql.py aggregates: Python
only adds exact sums up (a total line, a category level) and turns them into ratios for
display. PAGES is the one list of pages: the views, the season pack and the exports all
read it. Each report costs a fixed number of statements."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Callable

from sqlalchemy.orm import Session

from ..args import as_int
from ..purchasing.models import POStatus
from ..seasons.models import Season
from ..clock import today
from ..seasons.workflow import ORDER
from ..values import month_start, months_between
from ..versions import cached
from ..planning.otb import budget, fulfilment, percent, ratio, remaining, utilisation
from ..planning.queries import adjustment_rows
from ..ratios import Ratio
from ..planning.rules import PRICE_BANDS
from . import charts, sql
from .in_season import in_season, in_season_summary
from .levels import ancestor_map, category_levels
from .report import (COUNT, DATE, MONEY, MONTH, NUMBER, PERCENT, PO, PROSE, Column, Kpi, Report,
                     Table, band)

ZERO = Decimal("0")
ONE = Decimal("1")


@dataclass(frozen=True)
class Figures:
    sales: Decimal
    margin: Decimal | None
    otb: Decimal  # as uploaded
    adjustments: Decimal  # the approved moves of open to buy into (+) or out of (−) the cells
    committed: Decimal
    received: Decimal
    open_to_buy: Decimal  # summed over cells, never the group's own net
    over_bought: Decimal
    over_cells: int
    received_due: Decimal  # what the committed POs received, whenever it arrived

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
                   add("adjustments"), add("committed"), add("received"), add("open_to_buy"),
                   add("over_bought"), int(add("over_cells")), add("received_due"))

    @property
    def budget(self) -> Decimal:
        """OTB + adjustments."""
        return budget(self.otb, self.adjustments)

    @property
    def utilisation(self) -> Ratio:
        return utilisation(self.committed, self.budget)

    @property
    def fulfilment(self) -> Ratio:
        """Received of committed on one time basis: the receipts of the POs whose
        commitments are counted, over those commitments."""
        return fulfilment(self.received_due, self.committed)

    @property
    def remaining(self) -> Decimal:
        """OTB + adjustments − committed."""
        return remaining(self.budget, self.committed)

    def cells(self) -> list:
        """The figures in FIGURE_COLUMNS order."""
        return [self.sales, self.margin, self.otb, self.adjustments, self.committed,
                *self.positions(), self.received, self.utilisation, self.fulfilment]

    def positions(self) -> list:
        """Net remaining, open to buy, over-bought and the count of over-bought cells."""
        return [self.remaining, self.open_to_buy, self.over_bought, self.over_cells]


# The OTB grid's filter that lists the over-bought cells of a row (planning.otb ?flag=over).
OVER_CELLS = {"flag": "over"}
POSITION_COLUMNS = [Column("Net remaining", MONEY), Column("Open to buy", MONEY),
                    Column("Over-bought", MONEY), Column("Over-bought cells", COUNT, OVER_CELLS)]
RECEIVED_OF_COMMITTED = "Received of committed (POs due that month)"
RECEIVED_OF_COMMITTED_NOTE = ("Received of committed: what the POs due (delivery month) in "
                              "the month have received, whenever it arrived, ÷ what those "
                              "POs commit.")
FIGURE_COLUMNS = [Column("Planned sales", MONEY), Column("Planned margin", PERCENT),
                  Column("OTB", MONEY), Column("Adjustments", MONEY), Column("Committed", MONEY),
                  *POSITION_COLUMNS,
                  Column("Received", MONEY), Column("Utilisation", PERCENT),
                  Column("Fulfilment", PERCENT)]
POSITIONS_NOTE = ("A cell is a location × leaf category × month. OTB is the uploaded OTB; "
                  "adjustments are the approved moves of open to buy into (+) or out of (−) "
                  "the cells; a cell's budget = OTB + adjustments. Net remaining = OTB + "
                  "adjustments − committed. Open to buy sums what each cell may still buy (its "
                  "OTB + adjustments − committed, when positive); over-bought sums how far "
                  "each cell's committed passed its budget (a cell with POs and no OTB row has "
                  "OTB 0), so net remaining = open to buy − over-bought. Utilisation = "
                  "committed ÷ (OTB + adjustments); with a budget of 0 or less it is “over "
                  "budget” when goods are committed, “—” when nothing is.")


@dataclass(frozen=True)
class PlanFigures:
    """The plan figures of a group of categories (SPEC §5 inputs Kyros holds): sums over its
    plan rows and its OTB rows (all months)."""
    plan_sales: Decimal
    otb_sales: Decimal
    markdowns: Decimal
    opening: Decimal
    txs: Decimal
    turns_sales: Decimal

    @classmethod
    def summed(cls, rows) -> "PlanFigures":
        return cls(*[sum((Decimal(getattr(r, name) or 0) for r in rows), ZERO)
                     for name in ("plan_sales", "otb_sales", "markdowns", "opening", "txs",
                                  "turns_sales")])

    def cells(self) -> list:
        """The figures in PLAN_COLUMNS order: planned markdown % (markdowns ÷ planned sales
        of the OTB rows), stock-to-sales (opening stock ÷ those sales), turns weighted by the
        plan rows' sales, and the plan-vs-OTB sales gap."""
        return [self.plan_sales, self.otb_sales, self.plan_sales - self.otb_sales,
                ratio(self.markdowns, self.otb_sales), ratio(self.opening, self.otb_sales, per=ONE),
                ratio(self.txs, self.turns_sales, per=ONE, of="planned sales with turns")]


PLAN_COLUMNS = [Column("Planned sales (plans)", MONEY), Column("Planned sales (OTB)", MONEY),
                Column("Sales gap (plans − OTB)", MONEY), Column("Planned markdown", PERCENT),
                Column("Stock-to-sales", NUMBER), Column("Turns (sales-weighted)", NUMBER)]
PLAN_NOTE = ("Planned sales (plans) is the plan rows' total; planned sales (OTB), markdowns "
             "and opening stock add up the OTB rows over their months. Planned markdown = "
             "markdowns ÷ planned sales (OTB); stock-to-sales = opening stock ÷ planned sales "
             "(OTB); turns = the plan rows' inventory turns weighted by their planned sales; "
             "sales gap = planned sales (plans) − planned sales (OTB).")


def _plan_table(session: Session, season: Season, ancestor: dict, names: dict,
                level: int) -> Table:
    """The plan figures per category at `level` (`ancestor`: category id → its code there),
    and in total."""
    groups = _grouped(sql.plan_figures_by_category(session, season.id), ancestor)
    total = PlanFigures.summed([r for group in groups.values() for r in group])
    return Table("plan_figures", f"Plan figures by category at level {level}",
                 [Column("Code"), Column("Category"), *PLAN_COLUMNS],
                 [[code, names.get(code, ""), *PlanFigures.summed(group).cells()]
                  for code, group in sorted(groups.items())],
                 note=PLAN_NOTE, total=["All", "", *total.cells()])


def _grouped(rows, ancestor: dict) -> dict[str, list]:
    """Rows with a `category_id`, grouped by the code `ancestor` maps it to."""
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(ancestor.get(r.category_id, ""), []).append(r)
    return groups


# The OTB figures of _kpis: OTB, adjustments, committed, net remaining, open to buy, over-bought.
OTB_KPIS = 6


def _kpis(f: Figures, counts) -> list[Kpi]:
    return [Kpi("OTB (retail)", f.otb), Kpi("Adjustments", f.adjustments),
            Kpi("Committed", f.committed),
            Kpi("Net remaining", f.remaining), Kpi("Open to buy", f.open_to_buy),
            Kpi("Over-bought", f.over_bought),
            Kpi("Over-bought cells", f.over_cells, COUNT, OVER_CELLS),
            Kpi("Received", f.received),
            Kpi("Budget utilisation", f.utilisation, PERCENT),
            Kpi("Fulfilment rate", f.fulfilment, PERCENT),
            Kpi("Planned sales", f.sales), Kpi("Planned margin (sales-weighted)", f.margin, PERCENT),
            Kpi("Purchase orders", counts.all, COUNT),
            Kpi("Open or partly received", counts.open, COUNT)]


# 3. Budget vs actual by month

def budget_vs_actual(session: Session, season: Season) -> Report:
    return _budget(session, season)[0]


BEFORE_SEASON, AFTER_SEASON = "Before season", "After season"


def _budget(session: Session, season: Season) -> tuple[Report, Figures]:
    """The budget report and the season's total figures, from one pass over the facts.

    Goods received before the season's first month or after its last are summed into a
    "Before season" and an "After season" line, not shown as months of their own."""
    rows = sql.by_month(session, season.id)
    total = Figures.summed(rows)
    first, last = month_start(season.start_date), month_start(season.end_date)
    before = [r for r in rows if r.month is not None and r.month < first]
    after = [r for r in rows if r.month is not None and r.month > last]
    months = ([(BEFORE_SEASON, Figures.summed(before))] if before else []) + [
        (r.month, Figures.of(r)) for r in rows
        if r.month is not None and first <= r.month <= last] + (
        [(AFTER_SEASON, Figures.summed(after))] if after else [])
    in_season = set(months_between(season.start_date, season.end_date))
    table = Table("budget_vs_actual", "Budget vs actual by month",
                  [Column("Month", MONTH), Column("OTB", MONEY), Column("Adjustments", MONEY),
                   Column("Committed (delivery month)", MONEY), Column("Received (GRN month)", MONEY),
                   *POSITION_COLUMNS, Column("Utilisation", PERCENT),
                   Column(RECEIVED_OF_COMMITTED, PERCENT)],
                  [[month, f.otb, f.adjustments, f.committed, f.received, *f.positions(),
                    f.utilisation, f.fulfilment] for month, f in months],
                  note="A month appears when it has OTB, deliveries due or goods received; "
                       "goods received outside the season's months are in the \"Before "
                       "season\" and \"After season\" lines. " + RECEIVED_OF_COMMITTED_NOTE
                       + " " + POSITIONS_NOTE,
                  total=["Season", total.otb, total.adjustments, total.committed,
                         total.received, *total.positions(), total.utilisation,
                         total.fulfilment],
                  links=[{"month": month.strftime("%Y-%m")} if month in in_season else None
                         for month, _ in months])
    chart = charts.bar_chart("Budget (OTB + adjustments), committed and received by month",
                             [month if isinstance(month, str) else month.strftime("%b %Y")
                              for month, _ in months],
                             [("Budget (OTB + adjustments)", [f.budget for _, f in months]),
                              ("Committed", [f.committed for _, f in months]),
                              ("Received", [f.received for _, f in months])])
    return Report("budget", "Budget vs actual", charts=[chart], tables=[table]), total


# 1. Dashboard

def dashboard(session: Session, season: Season) -> Report:
    budget, f = _budget(session, season)
    info, depth, _ = category_levels(session)
    plan = _plan_table(session, season, ancestor_map(info, depth, 1),
                       {r.code: r.name for r in info.values()}, 1)
    # The in-season OTB of the months still to come beside the OTB figures, with the words
    # of the In season page.
    otb_kpis, notes = in_season_summary(session, season)
    kpis = _kpis(f, sql.po_counts(session, season.id))
    kpis[OTB_KPIS:OTB_KPIS] = otb_kpis
    return Report("dashboard", "Dashboard", kpis=kpis, charts=budget.charts,
                  tables=[*budget.tables, plan], notes=notes)


# 4. Category breakdown

def category_breakdown(session: Session, season: Season, level: int = 1) -> Report:
    info, depth, max_depth = category_levels(session)
    level = min(max(level, 1), max_depth)
    # Grouped by category in SQL (a few dozen groups), rolled up to the level here: exact
    # sums of sums, and no per-fact CASE over the whole tree.
    ancestor = ancestor_map(info, depth, level)
    groups = _grouped(sql.by_category(session, season.id), ancestor)
    rows = [SimpleNamespace(code=code, figures=Figures.summed(group))
            for code, group in sorted(groups.items())]
    names = {r.code: r.name for r in info.values()}
    ids = {r.code: r.id for r in info.values()}
    total = Figures.summed([row for group in groups.values() for row in group])
    table = Table("categories", f"Categories at level {level}",
                  [Column("Code"), Column("Category"), *FIGURE_COLUMNS],
                  [[r.code, names.get(r.code, ""), *r.figures.cells()] for r in rows],
                  note="Each figure rolls up the leaf categories below; a leaf above this level "
                       "shows as itself. " + POSITIONS_NOTE,
                  total=["All", "", *total.cells()],
                  links=[{"category": str(ids[r.code])} if r.code in ids else None
                         for r in rows])
    chart = charts.bar_chart(f"Budget utilisation by category (level {level})",
                             [r.code for r in rows],
                             [("Utilisation", [r.figures.utilisation for r in rows])], kind=PERCENT)
    plan = _plan_table(session, season, ancestor, names, level)
    return Report("categories", "Category breakdown", charts=[chart], tables=[table, plan],
                  filters={"level": level, "levels": list(range(1, max_depth + 1))})


# 5. Cluster summary

NO_CLUSTER = "(no cluster)"


def cluster_summary(session: Session, season: Season) -> Report:
    # Summed from the location ranking's rows (exact sums of sums), so the two pages count
    # the same locations, those without a plan included.
    clusters: dict[tuple, list] = {}
    for r in sql.location_rows(session, season.id):
        clusters.setdefault((r.cluster, r.cluster_id), []).append(r)
    rows = [(name or NO_CLUSTER, cluster_id, len(group), Figures.summed(group))
            for (name, cluster_id), group in sorted(clusters.items(), key=lambda c: c[0][0])]
    total = Figures.summed([r for group in clusters.values() for r in group])
    table = Table("clusters", "Clusters", [Column("Cluster"), Column("Locations", COUNT),
                                           *FIGURE_COLUMNS],
                  [[name, n, *f.cells()] for name, _, n, f in rows],
                  note=POSITIONS_NOTE + " Locations: every location taking part, with or "
                       "without a plan, as Location performance ranks them.",
                  total=["All", sum(n for _, _, n, _ in rows), *total.cells()],
                  links=[{"cluster": str(cluster_id)} if cluster_id else None
                         for _, cluster_id, _, _ in rows])
    chart = charts.bar_chart("Budget utilisation by cluster", [name for name, _, _, _ in rows],
                             [("Utilisation", [f.utilisation for _, _, _, f in rows])],
                             kind=PERCENT)
    return Report("clusters", "Cluster summary", charts=[chart], tables=[table])


# 6. Location performance

RANKINGS = {"utilisation": "Budget utilisation", "sales": "Planned sales",
            "committed": "Committed", "fulfilment": "Fulfilment rate"}
NO_PLAN = "no plan"


def location_performance(session: Session, season: Season, by: str = "utilisation",
                         top: int = 10, worst: bool = False) -> Report:
    by = by if by in RANKINGS else "utilisation"
    top = min(max(top, 1), 100)
    figures = [(r, Figures.of(r)) for r in sql.location_rows(session, season.id)]
    unplanned = sum(1 for r, _ in figures if not r.plans)
    # Sorted by the measure (the code breaks ties, as rows come by code and the sort is
    # stable); the bottom ones are the smallest first.
    figures.sort(key=lambda pair: _ranked(getattr(pair[1], by), worst))
    ranked = [(n, r, f) for n, (r, f) in enumerate(figures[:top], start=1)]
    which = "Bottom" if worst else "Top"
    table = Table("locations", f"{which} {top} locations by {RANKINGS[by].lower()}",
                  [Column("Rank", COUNT), Column("Code"), Column("Location"), Column("Cluster"),
                   Column("Plan"), *FIGURE_COLUMNS],
                  [[n, r.location_code, r.name, r.cluster, "" if r.plans else NO_PLAN,
                    *f.cells()] for n, r, f in ranked],
                  note=f"Ranked among all {len(figures):,} locations taking part; {unplanned:,} "
                       f"of them have no plan (marked \"{NO_PLAN}\"). " + POSITIONS_NOTE,
                  links=[{"location": str(r.location_id)} for _, r, _ in ranked])
    chart = charts.bar_chart(f"{which} {top} locations by {RANKINGS[by].lower()}",
                             [r.name if r.plans else f"{r.name} ({NO_PLAN})" for _, r, _ in ranked],
                             [(RANKINGS[by], [getattr(f, by) for _, _, f in ranked])],
                             kind=PERCENT if by in ("utilisation", "fulfilment") else MONEY)
    return Report("locations", "Location performance", charts=[chart], tables=[table],
                  filters={"by": by, "top": top, "order": "bottom" if worst else "top"})


def _ranked(value, worst: bool) -> tuple:
    """Sort key, the first first: the largest first (the smallest for the bottom ones); a
    ratio ranks by Ratio.rank (over budget as the most over) and one with no number last."""
    if isinstance(value, Ratio):
        value = value.rank()
    if value is None:
        return (1, ZERO)
    return (0, value if worst else -value)


# 7. PO status

# Days late: days past the delivery date (0 or less: not yet due).
AGEING = [(None, 0, "Not yet due"), (1, 30, "1–30 days late"), (31, 60, "31–60 days late"),
          (61, 90, "61–90 days late"), (91, None, "Over 90 days late")]


def po_status(session: Session, season: Season, as_of: date | None = None) -> Report:
    as_of = as_of or today()
    found = sql.po_status_rows(session, season.id, as_of, AGEING)
    status_rows = [[s.title, found.by_status[s].count, found.by_status[s].value,
                    found.by_status[s].received] if s in found.by_status
                   else [s.title, 0, ZERO, ZERO] for s in POStatus]
    tables = [
        Table("by_status", "By status", [Column("Status"), Column("POs", COUNT),
                                         Column("PO value", MONEY), Column("Received", MONEY)],
              status_rows),
        Table("by_source", "By source", [Column("Source"), Column("POs", COUNT),
                                         Column("PO value", MONEY)],
              [[r.source.title, r.count, r.value] for r in found.by_source]),
        Table("partial", "Partly received (largest 50)",
              [Column("PO", PO), Column("Supplier"), Column("Due", DATE), Column("PO value", MONEY),
               Column("Received", MONEY), Column("Received share", PERCENT)],
              [[r.po_number, r.supplier or "", r.delivery_date, r.po_value, r.received,
                percent(r.received, r.po_value)] for r in found.partial]),
        Table("ageing", f"Days late of POs not fully received on {as_of.isoformat()}",
              [Column("Days late"), Column("POs", COUNT), Column("PO value", MONEY),
               Column("Still to receive", MONEY)],
              [[label, found.ageing[label].count, found.ageing[label].value,
                found.ageing[label].to_receive]
               if label in found.ageing else [label, 0, ZERO, ZERO] for _, _, label in AGEING],
              note="Days late: the days from a PO's delivery date to this date, for the open "
                   "and partly received POs; \"Not yet due\" when the delivery date has not "
                   "passed."),
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
    rows = sql.range_by_group(session, season.id, ancestor_map(info, depth, level))
    names = {r.code: r.name for r in info.values()}
    table = Table("price_bands", f"Range intent at level {level} (weighted by budget)",
                  [Column("Code"), Column("Category"), Column("Leaf categories", COUNT),
                   Column("OTB", MONEY), Column("Adjustments", MONEY), Column("Core", PERCENT),
                   Column("Fashion", PERCENT),
                   *[Column(f"Price band {b}", PERCENT) for b in PRICE_BANDS]],
                  [[r.code, names.get(r.code, ""), r.leaves, r.otb, r.adjustments, r.core,
                    r.fashion, *[getattr(r, f"band_{b}") for b in PRICE_BANDS]] for r in rows],
                  note="A group's percentages are the mean of its leaf categories weighted by "
                       "their budget (OTB + adjustments: the uploaded OTB and the approved "
                       "moves of open to buy).")
    chart = charts.stacked_chart("Price band mix", [r.code for r in rows],
                                 [(f"Price band {b}", [getattr(r, f"band_{b}") for r in rows])
                                  for b in PRICE_BANDS])
    return Report("price-bands", "Price band analysis", charts=[chart], tables=[table],
                  filters={"level": level, "levels": list(range(1, max_depth + 1))})


# 9. Workflow status of all seasons

WORKFLOW_PAGE_SIZE = 25


def workflow_status(session: Session, page: int = 1,
                    per_page: int | None = WORKFLOW_PAGE_SIZE) -> Report:
    """Every season's steps, a page at a time (`per_page` None: all, as the season pack
    prints them), and the seasons per status."""
    rows = sql.seasons_with_steps(session, page, per_page)
    mix = sql.seasons_per_status(session)
    steps = ORDER[1:]
    table = Table("seasons", "Seasons and when they reached each step",
                  [Column("Code"), Column("Season"), Column("Status"), Column("Start", DATE),
                   Column("End", DATE), *[Column(s.title, DATE) for s in steps]],
                  [[r.season_code, r.name, r.status.title, r.start_date, r.end_date,
                    *[_day(getattr(r, s.value)) for s in steps]] for r in rows])
    mix_table = Table("status_mix", "Seasons per status",
                      [Column("Status"), Column("Seasons", COUNT)],
                      [[s.title, mix.get(s, 0)] for s in ORDER],
                      total=["All", sum(mix.values())])
    chart = charts.bar_chart("Seasons per status", [s.title for s in ORDER],
                             [("Seasons", [mix.get(s, 0) for s in ORDER])],
                             kind=COUNT)
    return Report("workflow", "Workflow status of all seasons", charts=[chart],
                  tables=[mix_table, table], filters={"page": page})


def _day(moment):
    return moment.date() if moment else None


# 2. Read-only view

def season_view(session: Session, season: Season) -> Report:
    locations = sql.season_locations(session, season.id)
    ranges = sql.season_ranges(session, season.id)
    budget, f = _budget(session, season)
    tables = [
        Table("season", "Season", [Column("Field"), Column("Value")],
              [["Code", season.season_code], ["Name", season.name],
               ["Start", season.start_date.isoformat()], ["End", season.end_date.isoformat()],
               ["Status", season.status.title]]),
        Table("locations", "Locations taking part",
              [Column("Code"), Column("Location"), Column("Type"), Column("Cluster")],
              [[r.location_code, r.name, r.type.title, r.cluster] for r in locations]),
        budget.tables[0],
        Table("range", "Range intent",
              [Column("Code"), Column("Category"), Column("Core", PERCENT), Column("Fashion", PERCENT),
               *[Column(f"Price band {b}", PERCENT) for b in PRICE_BANDS]],
              [[r.code, r.name, r.core_percent, r.fashion_percent,
                *[band(r.price_band_mix, b) for b in PRICE_BANDS]] for r in ranges]),
    ]
    return Report("view", "Read-only view", kpis=_kpis(f, sql.po_counts(session, season.id)),
                  charts=budget.charts, tables=tables)


# The pages of a season, in menu and pack order.

def _level(args) -> dict:
    return {"level": as_int(args.get("level")) or 1}


def _ranking(args) -> dict:
    return {"by": args.get("by", "utilisation"), "top": as_int(args.get("top")) or 10,
            "worst": args.get("order") == "bottom"}


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    build: Callable[..., Report]  # (session, season, **params) → Report
    params: Callable[[dict], dict] = lambda args: {}  # the page's filters from a query string


def _in_season(args) -> dict:
    return {"by": args.get("by", "category"), "level": as_int(args.get("level")) or 1,
            "period": args.get("period") or "std"}


def otb_moves(session: Session, season: Season) -> Report:
    """The season's requests to move open to buy (issue 17) and what became of them: every
    approved one is already in each page's Adjustments column."""
    rows = adjustment_rows(session, season_id=season.id, limit=None)
    approved = [r for r in rows if r.status == "approved"]
    table = Table("moves", "Requests to move open to buy",
                  [Column("#", COUNT), Column("Status"), Column("Amount", MONEY),
                   Column("From", PROSE), Column("To", PROSE), Column("Reason", PROSE),
                   Column("Asked by"), Column("Decided by"), Column("Note", PROSE)],
                  [[r.number, r.status.capitalize(), r.amount, r.source, r.target, r.reason,
                    r.requested_by, r.decided_by or "",
                    (r.note or "") + (f" (override: {r.override_reason})"
                                      if r.override_reason else "")]
                   for r in sorted(rows, key=lambda r: r.number)],
                  note="An approved move takes its amount from the source's cells in "
                       "proportion to what each has left to buy and gives it to the target's "
                       "cells in proportion to their budgets, exact to the cent; the uploaded "
                       "OTB stays as it was. A cell's budget = OTB + adjustments; net "
                       "remaining = OTB + adjustments − committed.")
    return Report("moves", "OTB moves", kpis=[
        Kpi("Moves approved", len(approved), COUNT),
        Kpi("Open to buy moved", sum((r.amount for r in approved), ZERO)),
        Kpi("Waiting for a decision", sum(1 for r in rows if r.status == "pending"), COUNT),
        Kpi("Rejected", sum(1 for r in rows if r.status == "rejected"), COUNT)],
        tables=[table])


PAGES = [
    Page("dashboard", "Dashboard", dashboard),
    Page("view", "Read-only view", season_view),
    Page("budget", "Budget vs actual", budget_vs_actual),
    Page("categories", "Category breakdown", category_breakdown, _level),
    Page("clusters", "Cluster summary", cluster_summary),
    Page("locations", "Location performance", location_performance, _ranking),
    Page("pos", "PO status", po_status),
    Page("price-bands", "Price band analysis", price_bands, _level),
    Page("in-season", "In season", in_season, _in_season),
    Page("moves", "OTB moves", otb_moves),
]
PAGES_BY_SLUG = {p.slug: p for p in PAGES}


def cached_report(session: Session, page: Page, season: Season, args) -> Report:
    """The report of a page, its filters read by the page from `args` (the query string of
    the page, or the API's checked arguments).

    Reports are kept in the figure cache, keyed on the page, its filters, the day (ages
    count in days) and the season's data version: a write shows on the next request, and
    the page and the API share one figure."""
    params = page.params(args)
    key = ("report", page.slug, today(), tuple(sorted(params.items())))
    return cached(session, season.id, key, lambda: page.build(session, season, **params))
