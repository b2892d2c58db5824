"""The In season page (issue 16, item 5): plan, actual and reforecast by month, the in-season
OTB beside the original, and the KPIs of planning/kpis.py at every level, season to date or
for one month. Three statements, whatever the size of the season: the season's cell sums
per category × month and per location × month (planning/inseason.py), the categories and
the locations."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..masterdata.models import Cluster, Location
from ..planning import inseason
from ..planning.kpis import DEFINITIONS, NO_ACTUALS_YET, Period, Sums, otb_difference
from ..planning.reforecast import METHODS
from ..ratios import Ratio
from ..seasons.models import Season
from ..values import months_between
from . import charts
from .levels import ancestor_map, category_levels
from .report import COUNT, MONEY, MONTH, NUMBER, PERCENT, Column, Kpi, Report, Table

ZERO = Decimal("0")
SEASON_TO_DATE = "std"
LEVELS = {"category": "Category", "cluster": "Cluster", "location": "Location"}
NO_CLUSTER = "(no cluster)"
KPI_COLUMNS = [Column("Actual sales", MONEY), Column("Planned sales (same cells)", MONEY),
               Column("Sales variance", MONEY), Column("Sales variance %", PERCENT),
               Column("Sell-through", PERCENT), Column("Weeks of cover", NUMBER),
               Column("Forward cover (weeks)", NUMBER), Column("Stock-to-sales", NUMBER),
               Column("Turns (annualised)", NUMBER), Column("Markdown %", PERCENT),
               Column("Gross margin (estimate)", MONEY), Column("GMROI (estimate)", NUMBER),
               Column("In-season OTB (months ahead)", MONEY)]
DEFINITIONS_NOTE = " ".join(f"{name}: {text}" for name, text in DEFINITIONS)


def _kpi_cells(period: Period, ahead: Sums | None) -> list:
    """A KPI row; `ahead` None leaves the in-season OTB blank (a month with actuals is
    history: the in-season OTB belongs to the months still to come)."""
    s = period.sums
    variance, share = s.variance("sales")
    return [s.actual_sales, s.plan_sales_done, variance, share, period.sell_through,
            period.weeks_of_cover, period.forward_cover, s.stock_to_sales, period.turns,
            s.markdown_percent, s.gross_margin, period.gmroi,
            None if ahead is None else ahead.in_season_otb]


class Cube:
    """The season's sums per (dimension, group id, month), read once."""

    def __init__(self, rows, months: list[date]):
        self.months = months
        self.by: dict[str, dict] = {"category": {}, "location": {}}
        for r in rows:
            self.by[r.by].setdefault(r.id, {})[r.month] = r.sums
        self._monthly: dict[tuple, dict] = {}
        self._periods: dict[tuple, Period] = {}

    def monthly(self, dimension: str, ids=None) -> dict[date, Sums]:
        """Month → the sums of the groups `ids` of a dimension (all of them when None)."""
        groups = self.by[dimension]
        chosen = groups.values() if ids is None else [groups[i] for i in ids if i in groups]
        return {m: Sums.summed([g[m] for g in chosen if m in g]) for m in self.months}

    def group_monthly(self, dimension: str, ids: tuple) -> dict[date, Sums]:
        """`monthly` of the groups `ids`, worked out once per page (the rankings and the
        table by location show the same ones)."""
        key = (dimension, ids)
        if key not in self._monthly:
            self._monthly[key] = self.monthly(dimension, ids)
        return self._monthly[key]

    def group_period(self, dimension: str, ids: tuple, month: date | None) -> Period:
        """`period` of the groups `ids`, worked out once per page."""
        key = (dimension, ids, month)
        if key not in self._periods:
            self._periods[key] = self.period(self.group_monthly(dimension, ids), month)
        return self._periods[key]

    def period(self, monthly: dict[date, Sums], month: date | None) -> Period:
        """The period: one month, or the season to date (every month with actuals)."""
        done = [m for m in self.months if monthly[m].actual_cells]
        if month is not None:
            done = [month] if month in done else []
        last = done[-1] if done else None
        after = [m for m in self.months if last is None or m > last]
        return Period([(m, monthly[m]) for m in done], [(m, monthly[m]) for m in after])


def season_cube(session: Session, season: Season) -> Cube:
    """The season's sums per category × month and location × month: one statement."""
    return Cube(inseason.sums_by(session, season),
                months_between(season.start_date, season.end_date))


def in_season_summary(session: Session, season: Season,
                      cube: Cube | None = None) -> tuple[list[Kpi], list[str]]:
    """The original OTB remaining and the in-season OTB of the months still to come (the
    cells without actuals) as two KPIs, and why they differ, in words: what the In season
    page and the dashboard both show. One statement, none when `cube` is read already."""
    if cube is None:
        cube = Cube([], months_between(season.start_date, season.end_date))
        found = inseason.season_sums_by_month(session, season)
        monthly = {m: found.get(m, Sums()) for m in cube.months}
    else:
        monthly = cube.monthly("category")
    ahead = Sums.summed(monthly.values())
    std = cube.period(monthly, None)
    return ([Kpi("Original OTB remaining (months ahead)", ahead.original_remaining),
             Kpi("In-season OTB (months ahead)", ahead.in_season_otb)],
            _explain(ahead, std, season))


def in_season(session: Session, season: Season, by: str = "category", level: int = 1,
              period: str = SEASON_TO_DATE) -> Report:
    """`by` category (at category `level`), cluster or location; `period` the season to
    date or a month (YYYY-MM)."""
    cube = season_cube(session, season)
    months = cube.months
    month = next((m for m in months if m.strftime("%Y-%m") == period), None)
    by = by if by in LEVELS else "category"
    season_monthly = cube.monthly("category")
    # Every month's sums: the season's totals, and (its cells without actuals) the in-season
    # OTB of the months still to come.
    total = Sums.summed(season_monthly.values())
    season_period = cube.period(season_monthly, month)
    std = cube.period(season_monthly, None)

    info, cat_depth, max_depth = category_levels(session)
    level = min(max(level, 1), max_depth)
    groups = _groups(session, cube, by, info, cat_depth, level)

    otb_kpis, notes = in_season_summary(session, season, cube)
    kpis = [Kpi("Actual sales to date", std.sums.actual_sales),
            Kpi("Planned sales (same cells)", std.sums.plan_sales_done),
            Kpi("Sales variance %", std.sums.variance("sales")[1], PERCENT),
            Kpi("Reforecast season sales", total.sales),
            *otb_kpis,
            Kpi("In-season open to buy", total.in_season_open),
            Kpi("In-season over-bought", total.in_season_over),
            Kpi("Sell-through to date", std.sell_through, PERCENT),
            Kpi("Weeks of cover", std.weeks_of_cover, NUMBER),
            Kpi("Forward cover (weeks)", std.forward_cover, NUMBER),
            Kpi("Markdown %", std.sums.markdown_percent, PERCENT),
            Kpi("Turns (annualised)", std.turns, NUMBER),
            Kpi("Gross margin (estimate)", std.sums.gross_margin),
            Kpi("GMROI (estimate, annualised)", std.gmroi, NUMBER),
            Kpi("Cells with actuals", std.sums.actual_cells, COUNT)]
    labels = [m.strftime("%b %Y") for m in months]
    sales_chart = charts.bar_chart("Sales by month: plan, actual and reforecast", labels,
                                   [("Plan", [season_monthly[m].plan_sales for m in months]),
                                    ("Actual", [season_monthly[m].actual_sales for m in months]),
                                    ("Reforecast", [season_monthly[m].sales for m in months])])
    stock_chart = charts.bar_chart("Closing stock by month: plan, actual and reforecast", labels,
                                   [("Plan", [season_monthly[m].plan_closing for m in months]),
                                    ("Actual", [season_monthly[m].actual_closing for m in months]),
                                    ("Reforecast", [season_monthly[m].closing for m in months])])
    period_title = "season to date" if month is None else month.strftime("%B %Y")
    group_table = Table(
        "kpis_by_group", f"KPIs by {LEVELS[by].lower()}"
        + (f" (category level {level})" if by == "category" else "") + f", {period_title}",
        [Column("Code"), Column(LEVELS[by]), *KPI_COLUMNS],
        [[code, name, *_kpi_cells(cube.group_period(dimension, ids, month),
                                  Sums.summed(cube.group_monthly(dimension, ids).values()))]
         for code, name, (dimension, ids), _ in groups],
        note="The KPIs as \"Season KPIs by month\" defines them, of each group's cells; "
             "the total line is the season's.",
        total=["Season", "", *_kpi_cells(season_period, total)],
        links=[link for _, _, _, link in groups])
    tables = [_months_table(months, season_monthly, total, std),
              _variance_table(months, season_monthly, std),
              _monthly_kpis(cube, months, season_monthly, std, total),
              group_table, *_rankings(session, cube, info)]
    return Report("in-season", "In season", kpis=kpis, charts=[sales_chart, stock_chart],
                  tables=tables, notes=notes,
                  filters={"by": by, **({"level": level} if by == "category" else {}),
                           "period": period_title, "method": season.reforecast_method},
                  choices={"by": by, "bys": list(LEVELS.items()), "level": level,
                           "levels": list(range(1, max_depth + 1)),
                           "period": SEASON_TO_DATE if month is None else period,
                           "periods": [(SEASON_TO_DATE, "Season to date"),
                                       *[(m.strftime("%Y-%m"), m.strftime("%B %Y"))
                                         for m in months]]})


def _explain(ahead: Sums, std: Period, season: Season) -> list[str]:
    """The difference between the in-season and the original OTB, in words."""
    if not std.sums.actual_cells:
        return [NO_ACTUALS_YET]
    notes = [f"Reforecast method: {METHODS[season.reforecast_method]}."]
    if not ahead.cells - ahead.actual_cells:
        notes.append("Every month has actuals: nothing is left to reforecast, and the "
                     "in-season OTB is history.")
        return notes
    notes.append(otb_difference(
        ahead, std.sums, season.reforecast_method, "For the months still to come",
        "the months after the last actuals open with the actual closing stock instead of "
        "the planned opening stock"))
    return notes


def _months_table(months, monthly, total: Sums, std: Period) -> Table:
    rows = []
    for label, measure, forecast in (("Sales", "sales", "sales"),
                                     ("Markdowns", "markdowns", "markdowns"),
                                     ("Closing stock", "closing", "closing")):
        plan, actual = f"plan_{measure}", f"actual_{measure}"
        flow = measure != "closing"
        rows += [[f"{label}: plan", *[getattr(monthly[m], plan) for m in months],
                  getattr(total, plan) if flow else None],
                 [f"{label}: actual", *[_if_actual(monthly[m], actual) for m in months],
                  getattr(total, actual) if flow else None],
                 [f"{label}: reforecast", *[getattr(monthly[m], forecast) for m in months],
                  getattr(total, forecast) if flow else None],
                 [f"{label}: variance (actual − plan)",
                  *[_if_actual(monthly[m], actual, monthly[m].variance(measure)[0])
                    for m in months],
                  std.variance(measure)[0]]]
    rows += [["OTB: original", *[monthly[m].otb for m in months], total.otb],
             ["OTB: adjustments", *[monthly[m].adjustments for m in months],
              total.adjustments],
             ["OTB: committed (POs due)", *[monthly[m].committed for m in months],
              total.committed],
             ["OTB: in-season (months without actuals)",
              *[_if_ahead(monthly[m], monthly[m].in_season_otb) for m in months],
              total.in_season_otb],
             ["OTB: original remaining of the same cells",
              *[_if_ahead(monthly[m], monthly[m].original_remaining) for m in months],
              total.original_remaining]]
    return Table("months", "Plan, actual and reforecast by month",
                 [Column("Measure"), *[Column(m.strftime("%b %Y"), MONEY) for m in months],
                  Column("Season", MONEY)], rows,
                 note="Actual figures and variances count the cells (location × leaf category "
                      "× month) with actuals; reforecast is the actual where known, else the "
                      "forecast (sales) or the plan (markdowns, closing stock); the season's "
                      "closing stock is not a sum of months, so it is left blank, and its "
                      "variance is that of the latest month with actuals. In-season "
                      "OTB = reforecast receipts (forecast sales + planned markdowns + planned "
                      "closing stock − opening stock − on order) − committed, for the cells "
                      "without actuals; original remaining = OTB + adjustments (the approved "
                      "moves of open to buy) − committed, of the same cells; an empty cell: "
                      "every cell of the month has actuals.")


def _if_actual(s: Sums, name: str, value=None):
    return (getattr(s, name) if value is None else value) if s.actual_cells else None


def _if_ahead(s: Sums, value):
    return value if s.cells > s.actual_cells else None


def _variance_table(months, monthly, std: Period) -> Table:
    rows = [[label, *[monthly[m].variance(measure)[1] if monthly[m].actual_cells else None
                      for m in months], std.variance(measure)[1]]
            for label, measure in (("Sales", "sales"), ("Markdowns", "markdowns"),
                                   ("Closing stock", "closing"))]
    return Table("variance_percent", "Variance % (actual − plan) ÷ plan by month",
                 [Column("Measure"), *[Column(m.strftime("%b %Y"), PERCENT) for m in months],
                  Column("Season to date", PERCENT)], rows,
                 note="Of the cells with actuals (closing stock to date: of the latest month "
                      "with actuals); n/a when their plan is 0.")


def _monthly_kpis(cube: Cube, months, monthly, std: Period, ahead: Sums) -> Table:
    rows, links = [], []
    for m in months:
        if not monthly[m].actual_cells:
            continue
        period = cube.period(monthly, m)
        rows.append([m, *_kpi_cells(period, None)])
        links.append({"month": m.strftime("%Y-%m")})
    return Table("kpis_by_month", "Season KPIs by month",
                 [Column("Month", MONTH), *KPI_COLUMNS], rows, note=DEFINITIONS_NOTE,
                 total=["Season to date", *_kpi_cells(std, ahead)], links=links)


def _groups(session, cube: Cube, by, info, cat_depth, level) -> list:
    """(code, name, (dimension, the ids of its groups in the cube), OTB grid filter) per group
    of the level, by code."""
    if by == "category":
        ancestor = ancestor_map(info, cat_depth, level)
        by_code: dict[str, list] = {}
        for cid in cube.by["category"]:
            by_code.setdefault(ancestor.get(cid, ""), []).append(cid)
        ids = {r.code: r.id for r in info.values()}
        names = {r.code: r.name for r in info.values()}
        return [(code, names.get(code, ""), ("category", tuple(members)),
                 {"category": str(ids[code])} if code in ids else None)
                for code, members in sorted(by_code.items())]
    places = _locations(session, list(cube.by["location"]))
    if by == "location":
        return [(p.location_code, p.name, ("location", (p.id,)),
                 {"location": str(p.id)}) for p in places]
    clusters: dict[tuple, list] = {}
    for p in places:
        clusters.setdefault((p.cluster or NO_CLUSTER, p.cluster_id), []).append(p.id)
    return [(name, "", ("location", tuple(members)),
             {"cluster": str(cluster_id)} if cluster_id else None)
            for (name, cluster_id), members in sorted(clusters.items(), key=lambda c: c[0][0])]


def _locations(session, ids) -> list:
    if not ids:
        return []
    return session.execute(
        select(Location.id, Location.location_code, Location.name, Location.cluster_id,
               Cluster.name.label("cluster"))
        .outerjoin(Cluster, Cluster.id == Location.cluster_id)
        .where(Location.id.in_(ids)).order_by(Location.location_code)).all()


RANK_COLUMNS = [Column("Position"), Column("Code"), Column("Name"), Column("Actual sales", MONEY),
                Column("Planned sales (same cells)", MONEY), Column("Sales variance", MONEY),
                Column("Sales variance %", PERCENT), Column("Sell-through", PERCENT)]


def _rankings(session, cube: Cube, info) -> list[Table]:
    """The best and worst ten leaf categories and locations by sales variance (amount) and by
    sell-through, season to date; a group with no actuals is not ranked."""
    names = {r.id: (r.code, r.name) for r in info.values()}
    places = {p.id: (p.location_code, p.name) for p in _locations(session, list(cube.by["location"]))}
    tables = []
    for dimension, label, naming, link in (("category", "leaf categories", names, "category"),
                                           ("location", "locations", places, "location")):
        scored = []
        for gid in cube.by[dimension]:
            period = cube.group_period(dimension, (gid,), None)
            if not period.months:
                continue
            s = period.sums
            variance, share = s.variance("sales")
            code, name = naming.get(gid, ("", ""))
            scored.append((code, name, s, variance, share, period.sell_through, gid))
        for key, title in (("variance", "sales variance"), ("sell_through", "sell-through")):
            def measure(item, key=key):
                value = item[3] if key == "variance" else item[5]
                return value.rank() if isinstance(value, Ratio) else value
            ranked = sorted([i for i in scored if measure(i) is not None],
                            key=lambda i: (-measure(i), i[0]))
            best, worst = ranked[:10], list(reversed(ranked[-10:])) if len(ranked) > 10 else []
            if len(ranked) <= 10:
                worst = list(reversed(ranked))
            rows, links = [], []
            for side, items in (("Best", best), ("Worst", worst)):
                for n, (code, name, s, variance, share, through, gid) in enumerate(items, 1):
                    rows.append([f"{side} {n}", code, name, s.actual_sales, s.plan_sales_done,
                                 variance, share, through])
                    links.append({link: str(gid)})
            tables.append(Table(f"{dimension}_{key}", f"Best and worst ten {label} by {title}",
                                RANK_COLUMNS, rows, links=links,
                                note=f"Season to date, among the {len(ranked):,} {label} with "
                                     "actuals; with ten or fewer, the worst list is the same "
                                     "ones from the bottom."))
    return tables
