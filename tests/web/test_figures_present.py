"""Figures that never mislead (issue 15, items 7, 8 and 10) on a hand-made season: every
location ranked, figures written alike in tables, charts and exports, the whole pack, PO
links, and the plan figures per category."""
import csv
import io
import re
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from kyros_web.analytics import reports
from kyros_web.planning.services import approve_plans, upsert_plan, upsert_range
from kyros_web.purchasing.services import create_grn, create_po
from kyros_web.seasons.services import advance_season, assign_locations, create_season
from kyros_web.templating import figure, percent


@pytest.fixture
def season(make, session):
    """Five locations, leaves L1, L2 under D1 and L3, L4 under D2.

    Plans  A×L1 9,000 (turns 4), A×L2 1,000 (turns 2), B×L3 5,000 (no turns),
           C×L3 2,000 (turns 3), C×L4 1,000 (no turns); Store D and Store E have none.
    OTB    (sales, markdowns, closing, opening, on order)
           A×L1 Feb 8,000 800 6,000 4,000 0 = 10,800; A×L1 Mar 2,000 200 5,000 6,000 0 = 1,200;
           A×L2 Feb 1,000 0 500 500 0 = 1,000; B×L3 Feb 4,000 1,000 2,000 3,000 0 = 4,000;
           D×L3 Mar 500 0 0 0 0 = 500. Store E (cluster West) has no row at all.
    POs    P1 A×L1 Feb 1,230 (utilisation of L1 10.25 %), 615 received: partly received.
    """
    admin = make.admin
    north, south, west = make.cluster("North"), make.cluster("South"), make.cluster("West")
    a = make.location(name="Store A", cluster=north)
    b = make.location(name="Store B", cluster=north)
    c = make.location(name="Store C", cluster=south)
    d = make.location(name="Store D", cluster=south)
    e = make.location(name="Store E", cluster=west)
    d1, d2 = make.category("D1"), make.category("D2")
    l1, l2 = make.category("L1", parent=d1), make.category("L2", parent=d1)
    l3, l4 = make.category("L3", parent=d2), make.category("L4", parent=d2)
    s = create_season(session, admin, name="Presented", start_date=date(2026, 2, 1),
                      end_date=date(2026, 4, 30))
    assign_locations(session, admin, s.id, [x.id for x in (a, b, c, d, e)])
    advance_season(session, admin, s.id)
    for loc, leaf, sales, turns in ((a, l1, "9000", "4"), (a, l2, "1000", "2"),
                                    (b, l3, "5000", None), (c, l3, "2000", "3"),
                                    (c, l4, "1000", None)):
        row = upsert_plan(session, admin, s.id, location_id=loc.id, category_id=leaf.id,
                          planned_sales=sales, planned_margin="30", inventory_turns=turns).row
        approve_plans(session, admin, s.id, [row.id])
    advance_season(session, admin, s.id)
    make.otb_rows(s, [(a, l1, date(2026, 2, 1), ("8000", "800", "6000", "4000", "0")),
                      (a, l1, date(2026, 3, 1), ("2000", "200", "5000", "6000", "0")),
                      (a, l2, date(2026, 2, 1), ("1000", "0", "500", "500", "0")),
                      (b, l3, date(2026, 2, 1), ("4000", "1000", "2000", "3000", "0")),
                      (d, l3, date(2026, 3, 1), ("500", "0", "0", "0", "0"))])
    advance_season(session, admin, s.id)
    for leaf in (l1, l2, l3, l4):
        upsert_range(session, admin, s.id, category_id=leaf.id, core_percent="60",
                     fashion_percent="40", price_bands={"low": "30", "mid": "50", "high": "20"})
    advance_season(session, admin, s.id)
    buyer = make.user("buyer")
    po = create_po(session, buyer, s.id, po_number="P1", location_id=a.id, category_id=l1.id,
                   po_value="1230", order_date=date(2026, 2, 1)).po
    create_grn(session, buyer, po_id=po.id, grn_number="G1", grn_date=date(2026, 2, 20),
               received_value="615")
    return s


def page(login, season, path=""):
    return login("viewer").get(f"/analytics/{season.season_code}/{path}").get_data(as_text=True)


def csv_rows(login, season, path):
    body = login("viewer").get(f"/analytics/{season.season_code}/{path}").get_data(as_text=True)
    return list(csv.reader(io.StringIO(body)))


def workbook(login, season, path):
    return load_workbook(io.BytesIO(login("viewer").get(
        f"/analytics/{season.season_code}/{path}").data))


def sheet_rows(sheet):
    return [list(r) for r in sheet.iter_rows(values_only=True)]


# Item 7: every location ranked, those without plans marked; clusters count the same ones.

def test_every_location_is_ranked_and_unplanned_ones_marked(session, season):
    report = reports.location_performance(session, season, by="sales", top=10)
    rows = report.tables[0].rows
    assert len(rows) == 5
    assert [(r[2], r[4], r[5]) for r in rows[:3]] == [
        ("Store A", "", D("10000.00")), ("Store B", "", D("5000.00")),
        ("Store C", "", D("3000.00"))]
    assert {(r[2], r[4], r[5]) for r in rows[3:]} == {("Store D", "no plan", D("0")),
                                                     ("Store E", "no plan", D("0"))}
    assert report.tables[0].note.startswith("Ranked among all 5 locations taking part; 2 of "
                                            "them have no plan (marked \"no plan\").")
    bottom = reports.location_performance(session, season, by="sales", top=2, worst=True)
    assert {r[2] for r in bottom.tables[0].rows} == {"Store D", "Store E"}


def test_cluster_summary_counts_the_ranked_locations(session, season):
    """A cluster whose only location has no plan and no figures (West) is listed and counted."""
    table = reports.cluster_summary(session, season).tables[0]
    counts = {r[0]: r[1] for r in table.rows}
    assert counts == {"North": 2, "South": 2, "West": 1} and table.total[1] == 5
    ranked = reports.location_performance(session, season, top=100).tables[0].rows
    assert table.total[1] == len(ranked)
    west = next(r for r in table.rows if r[0] == "West")
    assert west[2] == D("0") and west[4] == D("0") and west[7] == D("0")
    south = next(r for r in table.rows if r[0] == "South")
    assert south[2] == D("3000.00") and south[4] == D("500.00")


def test_no_plan_on_the_page_the_exports_and_the_pack(login, season):
    html = page(login, season, "locations?by=sales&top=10")
    assert "Store E" in html and html.count(">no plan<") == 2
    assert "Ranked among all 5 locations taking part; 2 of them have no plan" in html
    assert "Store E (no plan)" in html  # the chart's label
    rows = csv_rows(login, season, "locations?by=sales&top=10&format=csv")
    assert rows[0][:6] == ["Rank", "Code", "Location", "Cluster", "Plan", "Planned sales"]
    assert {r[2] for r in rows[1:] if r[4] == "no plan"} == {"Store D", "Store E"}
    sheet = workbook(login, season, "locations?by=sales&format=xlsx").worksheets[1]
    assert {r[2] for r in sheet_rows(sheet)[1:] if r[4] == "no plan"} == {"Store D", "Store E"}
    pack = page(login, season, "pack")
    assert "Store E" in pack and ">no plan<" in pack
    clusters = page(login, season, "clusters")
    assert ">West<" in clusters


# Item 8: presentation.

def test_figures_are_written_alike_everywhere():
    """Half-up to 1 decimal for percentages, to the cent for money; counts with separators."""
    assert figure(D("10.25"), "percent") == "10.3 %" and figure(D("0.05"), "percent") == "0.1 %"
    assert figure(D("2.345"), "money") == "2.35"
    assert figure(1234567, "count") == "1,234,567"
    assert figure(D("0.6666"), "number") == "0.67"
    assert figure(None, "money") == "" and figure("P1", "po") == "P1"


def test_chart_tooltips_show_the_table_figures(login, season):
    """L1's utilisation 1,230 ÷ 12,000 = 10.25 %: the table and the tooltip both say 10.3 %."""
    html = page(login, season, "categories?level=2")
    assert "<title>Utilisation, L1: 10.3 %</title>" in html
    assert '<td class="num">10.3 %</td>' in html
    for path in ("", "categories", "clusters", "locations", "pos", "price-bands"):
        html = page(login, season, path)
        cells = {re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", html)}
        for tip in re.findall(r"<rect[^>]*><title>[^<]*: ([^<]*)</title>", html):
            assert tip in cells, (path, tip)


def test_counts_on_a_page_have_thousands_separators(app):
    from kyros_web.analytics.report import COUNT, Column, Kpi, Report, Table

    report = Report("x", "Counts", kpis=[Kpi("Purchase orders", 20000, COUNT)],
                    tables=[Table("t", "T", [Column("Cells"), Column("POs", COUNT)],
                                  [["all", 12345]])])
    with app.test_request_context():
        html = app.jinja_env.get_template("analytics/_report.html").render(
            report=report, header=[], season=None)
    assert "<dd>20,000</dd>" in html and '<td class="num">12,345</td>' in html


def test_chart_labels_are_drawn_whole():
    from kyros_web.analytics.charts import bar_chart

    long = "Westfield Shopping Centre Store 0042"
    labels = [long, *"BCDEFGH"]  # eight groups: the first label starts near the axis
    svg = str(bar_chart("Long labels", labels, [("OTB", [D(n) for n in range(8)])]))
    assert f">{long}</text>" in svg and "…" not in svg
    min_x, _, width, height = (float(v) for v in
                               re.search(r'viewBox="([^"]+)"', svg).group(1).split())
    assert min_x < -20 and height > 300  # room left and below for the slanted label


def test_pack_holds_all_pages_with_the_workflow_status(login, season):
    pack = page(login, season, "pack")
    titles = re.findall(r'<h2 id="report-[^"]+">([^<]+)</h2>', pack)
    assert titles == [p.title for p in reports.PAGES] + ["Workflow status of all seasons"]
    assert "Seasons per status" in pack and season.season_code in pack
    book = workbook(login, season, "pack.xlsx")
    assert "Workflow statu Seasons per s" in book.sheetnames
    assert "Dashboard Key figures" in book.sheetnames


def test_exports_hold_the_dashboard_kpis(login, season):
    """OTB 12,000 + 1,000 + 4,000 + 500 = 17,500; committed 1,230; 2 of 5 pages' KPIs."""
    rows = csv_rows(login, season, "?format=csv&table=kpis")
    assert rows[0][:4] == ["OTB (retail)", "Adjustments", "Committed", "Net remaining"]
    assert rows[1][:4] == ["17500.00", "0.00", "1230.00", "16270.00"]
    assert rows[1][rows[0].index("Purchase orders")] == "1"
    book = workbook(login, season, "?format=xlsx")
    kpis = book["Key figures"]
    assert kpis["A1"].value == "OTB (retail)" and kpis["A2"].value == 17500
    assert kpis["A2"].number_format == "#,##0.00"
    view = workbook(login, season, "view?format=xlsx")
    assert view.sheetnames[1] == "Key figures"
    assert "Export the key figures" in page(login, season)


def test_po_numbers_link_to_the_po(login, season):
    link = f'<a href="/purchasing/{season.season_code}/pos/P1">P1</a>'
    assert link in page(login, season, "pos")
    cell = login("viewer").get(f"/planning/{season.season_code}/otb/cell/"
                               f"{location_code(season, 'Store A')}/L1/2026-02")
    assert cell.status_code == 200 and link in cell.get_data(as_text=True)
    rows = csv_rows(login, season, "pos?format=csv&table=partial")
    assert rows[1][0] == "P1"  # plain text in the export


def location_code(season, name):
    from sqlalchemy import select

    from kyros_web.extensions import db
    from kyros_web.models import Location

    return db.session.scalar(select(Location.location_code).where(Location.name == name))


# Item 10: plan figures per category, on the dashboard and the category page.

def test_plan_figures_per_leaf(session, season):
    table = reports.category_breakdown(session, season, level=2).table("plan_figures")
    rows = {r[0]: r[2:] for r in table.rows}
    l1 = rows["L1"]  # OTB sales 10,000, markdowns 1,000, opening 10,000
    assert l1[:3] == [D("9000.00"), D("10000.00"), D("-1000.00")]
    assert percent(l1[3]) == "10.0 %" and figure(l1[4], "number") == "1.00"
    assert figure(l1[5], "number") == "4.00"
    l3 = rows["L3"]  # plans 5,000 + 2,000; OTB 4,000 + 500; markdowns 1,000; opening 3,000
    assert l3[:3] == [D("7000.00"), D("4500.00"), D("2500.00")]
    assert percent(l3[3]) == "22.2 %" and figure(l3[4], "number") == "0.67"
    assert figure(l3[5], "number") == "3.00"  # only C×L3 has turns
    l4 = rows["L4"]  # a plan and no OTB row: the ratios over zero follow planning/otb.py
    assert l4[:3] == [D("1000.00"), D("0"), D("1000.00")]
    # No OTB sales to divide by and nothing to divide: "—", with its reason (issue 15, item 2).
    for value, kind in ((l4[3], "percent"), (l4[4], "number"), (l4[5], "number")):
        assert ">—<" in figure(value, kind) and "title=" in figure(value, kind)


def test_plan_figures_per_top_category_and_in_total(session, season):
    table = reports.dashboard(session, season).table("plan_figures")
    rows = {r[0]: r for r in table.rows}
    assert rows["D1"][1] == "D1"
    d1 = rows["D1"][2:]  # OTB sales 11,000, markdowns 1,000, opening 10,500
    assert d1[:3] == [D("10000.00"), D("11000.00"), D("-1000.00")]
    assert percent(d1[3]) == "9.1 %" and figure(d1[4], "number") == "0.95"
    assert figure(d1[5], "number") == "3.80"  # (9,000 × 4 + 1,000 × 2) ÷ 10,000
    total = table.total[2:]  # OTB sales 15,500, markdowns 2,000, opening 13,500
    assert total[:3] == [D("18000.00"), D("15500.00"), D("2500.00")]
    assert percent(total[3]) == "12.9 %" and figure(total[4], "number") == "0.87"
    assert figure(total[5], "number") == "3.67"  # 44,000 ÷ 12,000


def test_plan_figures_on_the_pages_the_exports_and_the_pack(login, season):
    dashboard = page(login, season)
    assert "Plan figures by category at level 1" in dashboard
    for shown in ("9.1 %", "0.95", "3.80", "12.9 %", "0.87", "3.67", "-1,000.00", "2,500.00"):
        assert f">{shown}<" in dashboard, shown
    assert "stock-to-sales = opening stock ÷ planned sales (OTB)" in dashboard
    categories = page(login, season, "categories?level=2")
    assert "Plan figures by category at level 2" in categories and ">22.2 %<" in categories
    rows = csv_rows(login, season, "categories?level=2&format=csv&table=plan_figures")
    assert rows[0] == ["Code", "Category", "Planned sales (plans)", "Planned sales (OTB)",
                       "Sales gap (plans − OTB)", "Planned markdown", "Stock-to-sales",
                       "Turns (sales-weighted)"]
    l3 = next(r for r in rows if r[0] == "L3")
    assert l3[2:] == ["7000.00", "4500.00", "2500.00", "22.2", "0.67", "3.00"]
    assert rows[-1][0] == "All" and rows[-1][2:5] == ["18000.00", "15500.00", "2500.00"]
    book = workbook(login, season, "?format=xlsx")
    sheet = book[next(n for n in book.sheetnames if n.startswith("Plan figures"))]
    assert sheet_rows(sheet)[-1][:5] == ["All", None, 18000, 15500, 2500]
    pack = page(login, season, "pack")
    assert pack.count("Plan figures by category at level 1") == 2  # dashboard and categories
    assert ">3.67<" in pack
