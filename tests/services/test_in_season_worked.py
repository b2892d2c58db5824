"""A season worked by hand (issue 16, "Evidence"): one location, one leaf, February to April
2026, the clock on 20 March so February and March have actuals. Every forecast, in-season OTB
and KPI below is written from the definitions (planning/reforecast.py, planning/kpis.py
DEFINITIONS), with its arithmetic, and checked against the cell-level SQL and the In season
report."""
from __future__ import annotations

from datetime import date
from decimal import Decimal as D

import pytest

from kyros_web.analytics.in_season import in_season
from kyros_web.planning import inseason
from kyros_web.purchasing.services import create_po
from kyros_web.ratios import Ratio
from kyros_web.seasons.services import advance_season
from kyros_web.seasons.workflow import SeasonStatus

from .test_uploads import counts, load

FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)

# The plan (SeasonPlan margin 40 %, made by the factory), the stock chained, nothing on order:
#            sales      markdowns  closing  opening   OTB = S + M + C − O − on order
# February   10,000.00    500.00   20,000   25,000    10,000 + 500 + 20,000 − 25,000 = 5,500.00
# March      12,000.00    600.00   18,000   20,000    12,000 + 600 + 18,000 − 20,000 = 10,600.00
# April       8,000.05  1,000.00   15,000   18,000    8,000.05 + 1,000 + 15,000 − 18,000 = 6,000.05
PLAN = [(FEB, ("10000", "500", "20000", "25000", "0")),
        (MAR, ("12000", "600", "18000", "20000", "0")),
        (APR, ("8000.05", "1000", "15000", "18000", "0"))]
# The actuals:  net sales  markdowns  closing stock
# February      11,000.00     400.00      21,000.00
# March         13,200.00     900.00      16,500.00
ACTUALS = "2026-02,11000,400,21000\n2026-03,13200,900,16500\n"
# One open PO due each month: February 3,000, March 4,000, April 5,000.
POS = [(date(2026, 2, 15), "3000"), (date(2026, 3, 10), "4000"), (date(2026, 4, 10), "5000")]


def places(value, n=9):
    """A KPI to n decimal places (the hand arithmetic divides in another order)."""
    value = value.value if isinstance(value, Ratio) else value
    return None if value is None else D(value).quantize(D(1).scaleb(-n))


@pytest.fixture
def worked(session, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 3, 20))
    location, leaf = make.location(), make.category()
    season = make.season(SeasonStatus.PLAN_UPLOADED, start=FEB, end=date(2026, 4, 30),
                         locations=[location], leaves=[leaf])
    make.otb_rows(season, [(location, leaf, month, inputs) for month, inputs in PLAN])
    advance_season(session, make.admin, season.id)
    make.fill(season)  # the range intent
    advance_season(session, make.admin, season.id)
    buyer = make.user("buyer")
    for n, (due, value) in enumerate(POS):
        create_po(session, buyer, season.id, po_number=f"W{n}", location_id=location.id,
                  category_id=leaf.id, po_value=value, order_date=date(2026, 1, 10),
                  delivery_date=due, policy="warn")
    data = ("location_code,category_code,month,net_sales,markdowns,closing_stock\n"
            + "".join(f"{location.location_code},{leaf.code},{line}\n"
                      for line in ACTUALS.splitlines()))
    upload = load(session, make.admin, "actuals", data.encode(), season)
    assert counts(upload) == (2, 0, 0, 0)
    season.location, season.leaf = location, leaf
    return season


def test_the_cells_reforecast_by_hand(session, worked):
    """The trend is the actual ÷ planned sales to date: (11,000 + 13,200) ÷ (10,000 + 12,000)
    = 24,200 ÷ 22,000 = 1.1. April's forecast = 8,000.05 × 1.1 = 8,800.055 → 8,800.06 (half
    away from zero). April opens with March's actual closing stock, 16,500 (not its planned
    18,000); receipts = 8,800.06 + 1,000 + 15,000 − 16,500 − 0 = 8,300.06; committed 5,000;
    in-season OTB = 8,300.06 − 5,000 = 3,300.06. February opens with its planned 25,000 (no
    January actuals), March with February's actual closing, 21,000."""
    rows = inseason.cell_months(session, worked, worked.location.id, worked.leaf.id)
    got = [(r.month, r.actualised, r.sales, r.markdowns, r.closing, r.opening, r.receipts,
            r.in_season_otb, r.committed, r.otb) for r in rows]
    assert got == [
        (FEB, 1, D("11000.00"), D("400.00"), D("21000.00"), D("25000.00"), None, None,
         D("3000.00"), D("5500.00")),
        (MAR, 1, D("13200.00"), D("900.00"), D("16500.00"), D("21000.00"), None, None,
         D("4000.00"), D("10600.00")),
        (APR, 0, D("8800.06"), D("1000.00"), D("15000.00"), D("16500.00"), D("8300.06"),
         D("3300.06"), D("5000.00"), D("6000.05")),
    ]


# The KPIs, from planning/kpis.py DEFINITIONS. Days: February 28, March 31; to date 59.
#
# Season to date (February and March):
#   net sales 11,000 + 13,200 = 24,200; planned 10,000 + 12,000 = 22,000;
#   variance 24,200 − 22,000 = 2,200; variance % 2,200 ÷ 22,000 = 10 %.
#   markdowns 400 + 900 = 1,300, planned 500 + 600 = 1,100: variance 200, 200 ÷ 1,100 = 18.18 %.
#   stock is a level, not a flow: its variance to date is that of the latest month, March:
#   16,500 − 18,000 = −1,500, −1,500 ÷ 18,000 = −8.33 %.
#   receipts (implied by the shops' stock, month by month: closing + sales + markdowns −
#   opening): February 21,000 + 11,000 + 400 − 25,000 = 7,400; March 16,500 + 13,200 + 900
#   − 21,000 = 9,600; to date 17,000.
#   sell-through = 24,200 ÷ (25,000 + 17,000) = 24,200 ÷ 42,000 = 57.619 %.
#   weeks of cover = 16,500 ÷ (13,200 ÷ 31 × 7) = 16,500 × 31 ÷ 92,400 = 5.536.
#   forward cover: 16,500 of stock against April's reforecast 8,800.06 over 30 days: April
#   leaves 7,699.94 and no month follows, so "more than 4" (30 ÷ 7 = 4.29 weeks, floored).
#   stock-to-sales = (25,000 + 21,000) ÷ 24,200 = 46,000 ÷ 24,200 = 1.901.
#   average stock = ((25,000 + 21,000) ÷ 2 + (21,000 + 16,500) ÷ 2) ÷ 2 = 83,500 ÷ 4 = 20,875;
#   turns = 24,200 ÷ 20,875 × 365 ÷ 59 = 7.172.
#   markdown % = 1,300 ÷ 24,200 = 5.372 %.
#   gross margin = 24,200 × 40 % = 9,680; stock at cost 20,875 × (1 − 40 %) = 12,525;
#   GMROI = 9,680 ÷ 12,525 × 365 ÷ 59 = 4.781.
#   in-season OTB (April, the month ahead) = 3,300.06; the original remaining 6,000.05 −
#   5,000 = 1,000.05: 2,300.01 more, of which 8,800.06 − 8,000.05 = 800.01 from the sales
#   trend and 18,000 − 16,500 = 1,500 from the lower stock.
STD = {
    "sales": D(24200), "plan": D(22000), "variance": D(2200), "variance %": D(10),
    "sell-through": D(24200) / D(42000) * 100,
    "weeks of cover": D(16500) * 31 / (D(13200) * 7),
    "forward cover": "more than 4",
    "stock-to-sales": D(46000) / D(24200),
    "turns": D(24200) / D(20875) * 365 / 59,
    "markdown %": D(1300) / D(24200) * 100,
    "gross margin": D(9680),
    "GMROI": D(9680) / D(12525) * 365 / 59,
    "in-season OTB": D("3300.06"),
}
# February alone (the months after it: March's actual 13,200 over 31 days, April's 8,800.06):
#   variance 11,000 − 10,000 = 1,000, 10 %; sell-through 11,000 ÷ (25,000 + 7,400) = 33.951 %;
#   weeks of cover 21,000 ÷ (11,000 ÷ 28 × 7) = 21,000 × 28 ÷ 77,000 = 7.636;
#   forward cover: March uses 13,200 of 21,000 in 31 ÷ 7 weeks, the other 7,800 last
#   7,800 ÷ 8,800.06 of April's 30 ÷ 7 weeks: 31 ÷ 7 + 30 ÷ 7 × 7,800 ÷ 8,800.06 = 8.227;
#   stock-to-sales 25,000 ÷ 11,000 = 2.273; average stock (25,000 + 21,000) ÷ 2 = 23,000,
#   turns 11,000 ÷ 23,000 × 365 ÷ 28 = 6.234; markdown % 400 ÷ 11,000 = 3.636 %;
#   gross margin 11,000 × 40 % = 4,400; GMROI 4,400 ÷ (23,000 × 60 %) × 365 ÷ 28 = 4.156.
FEBRUARY = {
    "sales": D(11000), "plan": D(10000), "variance": D(1000), "variance %": D(10),
    "sell-through": D(11000) / D(32400) * 100,
    "weeks of cover": D(21000) * 28 / D(77000),
    "forward cover": D(31) / 7 + D(30) / 7 * D(7800) / D("8800.06"),
    "stock-to-sales": D(25000) / D(11000),
    "turns": D(11000) / D(23000) * 365 / 28,
    "markdown %": D(400) / D(11000) * 100,
    "gross margin": D(4400),
    "GMROI": D(4400) / (D(23000) * D("0.6")) * 365 / 28,
    "in-season OTB": D("3300.06"),
}
# March alone (April after it): variance 13,200 − 12,000 = 1,200, 10 %; sell-through
#   13,200 ÷ (21,000 + 9,600) = 43.137 %; weeks of cover as to date, 5.536; forward cover
#   "more than 4"; stock-to-sales 21,000 ÷ 13,200 = 1.591; average stock (21,000 + 16,500)
#   ÷ 2 = 18,750, turns 13,200 ÷ 18,750 × 365 ÷ 31 = 8.289; markdown % 900 ÷ 13,200 = 6.818 %;
#   gross margin 13,200 × 40 % = 5,280; GMROI 5,280 ÷ (18,750 × 60 %) × 365 ÷ 31 = 5.526.
MARCH = {
    "sales": D(13200), "plan": D(12000), "variance": D(1200), "variance %": D(10),
    "sell-through": D(13200) / D(30600) * 100,
    "weeks of cover": D(16500) * 31 / (D(13200) * 7),
    "forward cover": "more than 4",
    "stock-to-sales": D(21000) / D(13200),
    "turns": D(13200) / D(18750) * 365 / 31,
    "markdown %": D(900) / D(13200) * 100,
    "gross margin": D(5280),
    "GMROI": D(5280) / (D(18750) * D("0.6")) * 365 / 31,
    "in-season OTB": D("3300.06"),
}
KPI_ORDER = ["sales", "plan", "variance", "variance %", "sell-through", "weeks of cover",
             "forward cover", "stock-to-sales", "turns", "markdown %", "gross margin", "GMROI",
             "in-season OTB"]


def kpi_row(cells):
    """A KPI table row (kyros_web/analytics/in_season.py KPI_COLUMNS) as comparable values."""
    return [c.word if isinstance(c, Ratio) and c.value is None else places(c) for c in cells]


def written(expected):
    return [v if isinstance(v, str) else places(v) for v in (expected[k] for k in KPI_ORDER)]


def test_the_in_season_report_by_hand(session, worked):
    report = in_season(session, worked)
    kpis = {k.label: k.value for k in report.kpis}
    assert kpis["Actual sales to date"] == D(24200)
    assert kpis["Planned sales (same cells)"] == D(22000)
    assert places(kpis["Sales variance %"]) == places(D(10))
    assert kpis["Reforecast season sales"] == D("33000.06")  # 11,000 + 13,200 + 8,800.06
    assert kpis["Original OTB remaining (months ahead)"] == D("1000.05")
    assert kpis["In-season OTB (months ahead)"] == D("3300.06")
    assert kpis["In-season open to buy"] == D("3300.06")
    assert kpis["In-season over-bought"] == D(0)
    assert places(kpis["Sell-through to date"]) == places(STD["sell-through"])
    assert places(kpis["Weeks of cover"]) == places(STD["weeks of cover"])
    assert kpis["Forward cover (weeks)"].word == "more than 4"
    assert places(kpis["Markdown %"]) == places(STD["markdown %"])
    assert places(kpis["Turns (annualised)"]) == places(STD["turns"])
    assert places(kpis["Gross margin (estimate)"]) == places(STD["gross margin"])
    assert places(kpis["GMROI (estimate, annualised)"]) == places(STD["GMROI"])
    assert kpis["Cells with actuals"] == 2
    assert any("3,300.06" in n and "1,000.05" in n and "800.01" in n and "1,500.00" in n
               and "10.0 % ahead of" in n for n in report.notes), report.notes

    by_month = report.table("kpis_by_month")
    assert [r[0] for r in by_month.rows] == [FEB, MAR]
    # A month with actuals is history: its row leaves the in-season OTB blank.
    assert kpi_row(by_month.rows[0][1:-1]) == written(FEBRUARY)[:-1]
    assert kpi_row(by_month.rows[1][1:-1]) == written(MARCH)[:-1]
    assert by_month.rows[0][-1] is None and by_month.rows[1][-1] is None
    assert kpi_row(by_month.total[1:]) == written(STD)
    by_group = report.table("kpis_by_group")
    assert [r[:2] for r in by_group.rows] == [[worked.leaf.code, worked.leaf.name]]
    assert kpi_row(by_group.rows[0][2:]) == written(STD)
    assert kpi_row(by_group.total[2:]) == written(STD)
    february = in_season(session, worked, period="2026-02")
    assert kpi_row(february.table("kpis_by_group").rows[0][2:]) == written(FEBRUARY)


def test_the_months_table_by_hand(session, worked):
    """Plan, actual, reforecast and variance by month; the season column sums the flows and
    leaves the stock blank but for its variance, that of the latest month with actuals."""
    rows = {r[0]: r[1:] for r in in_season(session, worked).table("months").rows}

    def row(*values):
        return [None if v is None else D(v) for v in values]

    #                                     Feb         Mar        Apr        Season
    assert rows["Sales: plan"] == row("10000", "12000", "8000.05", "30000.05")
    assert rows["Sales: actual"] == row("11000", "13200", None, "24200")
    assert rows["Sales: reforecast"] == row("11000", "13200", "8800.06", "33000.06")
    assert rows["Sales: variance (actual − plan)"] == row("1000", "1200", None, "2200")
    assert rows["Markdowns: plan"] == row("500", "600", "1000", "2100")
    assert rows["Markdowns: actual"] == row("400", "900", None, "1300")
    assert rows["Markdowns: reforecast"] == row("400", "900", "1000", "2300")
    assert rows["Markdowns: variance (actual − plan)"] == row("-100", "300", None, "200")
    # Closing stock, a level: to date, the variance of the latest month with actuals (March).
    assert rows["Closing stock: plan"] == row("20000", "18000", "15000", None)
    assert rows["Closing stock: actual"] == row("21000", "16500", None, None)
    assert rows["Closing stock: reforecast"] == row("21000", "16500", "15000", None)
    assert rows["Closing stock: variance (actual − plan)"] == row("1000", "-1500", None, "-1500")
    assert rows["OTB: original"] == row("5500", "10600", "6000.05", "22100.05")
    assert rows["OTB: committed (POs due)"] == row("3000", "4000", "5000", "12000")
    # In-season OTB: April only, 8,300.06 − 5,000.
    assert rows["OTB: in-season (months without actuals)"] == row(None, None, "3300.06",
                                                                   "3300.06")
    assert rows["OTB: original remaining of the same cells"] == row(None, None, "1000.05",
                                                                     "1000.05")


def test_the_variance_percentages_by_hand(session, worked):
    rows = {r[0]: [places(v, 6) for v in r[1:]]
            for r in in_season(session, worked).table("variance_percent").rows}

    def pct(value):
        return places(D(value), 6)

    # Sales: 1,000 ÷ 10,000, 1,200 ÷ 12,000, to date 2,200 ÷ 22,000: 10 % each.
    assert rows["Sales"] == [pct(10), pct(10), None, pct(10)]
    # Markdowns: −100 ÷ 500 = −20 %, 300 ÷ 600 = 50 %, to date 200 ÷ 1,100 = 18.18 %.
    assert rows["Markdowns"] == [pct(-20), pct(50), None, pct(D(200) / D(1100) * 100)]
    # Closing stock: 1,000 ÷ 20,000 = 5 %, −1,500 ÷ 18,000 = −8.33 %; to date March's.
    assert rows["Closing stock"] == [pct(5), pct(D(-1500) / D(18000) * 100), None,
                                     pct(D(-1500) / D(18000) * 100)]

