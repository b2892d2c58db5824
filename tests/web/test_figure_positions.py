"""Issue 15, items 1, 2 and 11 on a hand-made season: open to buy and over-bought summed per
cell next to net remaining, utilisation without a budget, and every row one click from the OTB
grid, on the pages, the CSV and XLSX exports and the season pack."""
import io
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from kyros_web.analytics import reports
from kyros_web.planning.services import approve_plans, upsert_otb, upsert_plan, upsert_range
from kyros_web.purchasing.services import create_grn, create_po
from kyros_web.seasons.services import advance_season, assign_locations, create_season
from kyros_web.templating import percent

FEB, MAR = date(2026, 2, 1), date(2026, 3, 1)


@pytest.fixture
def season(make, session):
    """Store A (North) and warehouse W (South); leaves L1, L2 under D1. Cells:
    A×L1 Feb OTB 1,000, PO 1,500: over-bought 500.
    A×L2 Feb OTB 2,000, PO 500 (received 500 in Feb): open to buy 1,500.
    A×L1 Mar OTB 0, nothing committed: utilisation "—".
    W×L1 Mar no OTB row, PO 6,000: OTB 0, over-bought 6,000.
    W×L2 Mar OTB 100 − 500 opening stock = −400, nothing committed: over-bought 400.
    Season: OTB 2,600, committed 8,000, net −5,400 = open 1,500 − over-bought 6,900 in 3 cells.
    """
    admin = make.admin
    a = make.location(name="Store A", cluster=make.cluster("North"))
    w = make.location(name="Warehouse W", type="warehouse", cluster=make.cluster("South"))
    d1 = make.category("D1")
    l1, l2 = make.category("L1", parent=d1), make.category("L2", parent=d1)
    s = create_season(session, admin, name="Positions", start_date=FEB, end_date=date(2026, 3, 31))
    assign_locations(session, admin, s.id, [a.id, w.id])
    advance_season(session, admin, s.id)
    for loc, leaf in ((a, l1), (a, l2), (w, l2)):
        row = upsert_plan(session, admin, s.id, location_id=loc.id, category_id=leaf.id,
                          planned_sales="1000", planned_margin="40").row
        approve_plans(session, admin, s.id, [row.id])
    advance_season(session, admin, s.id)
    for loc, leaf, month, sales, opening in ((a, l1, FEB, "1000", "0"), (a, l2, FEB, "2000", "0"),
                                             (a, l1, MAR, "0", "0"), (w, l2, MAR, "100", "500")):
        upsert_otb(session, admin, s.id, location_id=loc.id, category_id=leaf.id, month=month,
                   planned_sales=sales, planned_markdowns="0", planned_closing_stock="0",
                   opening_stock=opening, on_order="0")
    advance_season(session, admin, s.id)
    for leaf in (l1, l2):
        upsert_range(session, admin, s.id, category_id=leaf.id, core_percent="60",
                     fashion_percent="40", price_bands={"low": "30", "mid": "50", "high": "20"})
    advance_season(session, admin, s.id)
    buyer = make.user("buyer")
    for number, loc, leaf, value, due in (("PA1", a, l1, "1500", date(2026, 2, 15)),
                                          ("PA2", a, l2, "500", date(2026, 2, 15)),
                                          ("PW1", w, l1, "6000", date(2026, 3, 10))):
        po = create_po(session, buyer, s.id, po_number=number, location_id=loc.id,
                       category_id=leaf.id, po_value=value, order_date=date(2026, 2, 1),
                       delivery_date=due).po
        if number == "PA2":
            create_grn(session, buyer, po_id=po.id, grn_number="GA2", grn_date=date(2026, 2, 20),
                       received_value="500")
    s.ids = {"A": a.id, "W": w.id, "D1": d1.id, "L1": l1.id, "North": a.cluster_id}
    return s


POSITIONS = [D("-5400.00"), D("1500.00"), D("6900.00"), 3]


def test_dashboard_and_view_show_open_to_buy_and_over_bought(session, season):
    for build in (reports.dashboard, reports.season_view):
        kpis = {k.label: k for k in build(session, season).kpis}
        assert [kpis[n].value for n in ("Net remaining", "Open to buy", "Over-bought",
                                        "Over-bought cells")] == POSITIONS
        assert kpis["Over-bought cells"].drill == {"flag": "over"}
        assert percent(kpis["Budget utilisation"].value) == "307.7 %"  # 8,000 / 2,600


def test_each_group_sums_its_cells_never_its_net(session, season):
    """March nets −400 OTB against 6,000 committed: over budget, over-bought 6,400 in 2 cells."""
    table = reports.budget_vs_actual(session, season).tables[0]
    rows = {r[0]: r for r in table.rows}
    assert rows[FEB][5:9] == [D("1000.00"), D("1500.00"), D("500.00"), 1]
    assert percent(rows[FEB][9]) == "66.7 %" and percent(rows[FEB][10]) == "25.0 %"
    assert rows[MAR][5:9] == [D("-6400.00"), D("0.00"), D("6400.00"), 2]
    assert ">over budget<" in percent(rows[MAR][9])
    assert table.total[5:9] == POSITIONS
    assert table.links == [{"month": "2026-02"}, {"month": "2026-03"}]
    d1 = reports.category_breakdown(session, season, level=1).tables[0].rows[0]
    assert d1[0] == "D1" and d1[7:11] == POSITIONS
    leaves = {r[0]: r for r in reports.category_breakdown(session, season, level=2).tables[0].rows}
    # L1: Feb over by 500 and Mar over by 6,000 (OTB 1,000 against 7,500 committed).
    assert leaves["L1"][7:11] == [D("-6500.00"), D("0.00"), D("6500.00"), 2]
    clusters = {r[0]: r for r in reports.cluster_summary(session, season).tables[0].rows}
    assert clusters["North"][7:11] == [D("1000.00"), D("1500.00"), D("500.00"), 1]
    assert clusters["South"][7:11] == [D("-6400.00"), D("0.00"), D("6400.00"), 2]
    assert ">over budget<" in percent(clusters["South"][12])


def test_a_location_without_budget_ranks_as_the_most_over(session, season):
    """W commits 6,000 against an OTB of −400: over budget, never the lowest spender."""
    bottom = reports.location_performance(session, season, top=2, worst=True).tables[0]
    assert [r[2] for r in bottom.rows] == ["Store A", "Warehouse W"]
    top = reports.location_performance(session, season, top=1).tables[0]
    assert top.rows[0][2] == "Warehouse W" and ">over budget<" in percent(top.rows[0][15])
    assert top.links == [{"location": str(season.ids["W"])}]


def test_pages_link_rows_and_over_bought_cells_to_the_otb_grid(login, season):
    v = login("viewer")
    code = season.season_code
    grid = f"/planning/{code}/otb"
    dashboard = v.get(f"/analytics/{code}/").get_data(as_text=True)
    for text in ("Open to buy", "1,500.00", "6,900.00", "-5,400.00", f'href="{grid}?flag=over">3</a>',
                 f'href="{grid}?month=2026-03&amp;flag=over">2</a>',
                 f'href="{grid}?month=2026-02">Feb 2026</a>',
                 'title="Goods are committed against an OTB of 0 or less.">over budget</span>'):
        assert text in dashboard, text
    categories = v.get(f"/analytics/{code}/categories").get_data(as_text=True)
    assert f'href="{grid}?category={season.ids["D1"]}">D1</a>' in categories
    clusters = v.get(f"/analytics/{code}/clusters").get_data(as_text=True)
    assert f'href="{grid}?cluster={season.ids["North"]}">North</a>' in clusters
    locations = v.get(f"/analytics/{code}/locations").get_data(as_text=True)
    assert f'href="{grid}?location={season.ids["A"]}">2</a>' in locations  # W, over budget, is 1
    view = v.get(f"/analytics/{code}/view").get_data(as_text=True)
    assert "Over-bought cells" in view and f'href="{grid}?flag=over">3</a>' in view
    for page in (dashboard, categories, clusters, locations, view):
        assert "-0.0 %" not in page and "−0.0 %" not in page


def test_exports_and_pack_say_the_same_words(login, season):
    v = login("viewer")
    code = season.season_code
    csv = v.get(f"/analytics/{code}/budget?format=csv").get_data(as_text=True).splitlines()
    assert csv[0].split(",")[5:9] == ["Net remaining", "Open to buy", "Over-bought",
                                      "Over-bought cells"]
    assert csv[2] == "2026-03,-400.00,0.00,6000.00,0.00,-6400.00,0.00,6400.00,2,over budget,0.0"
    assert csv[3] == "Season,2600.00,0.00,8000.00,500.00,-5400.00,1500.00,6900.00,3,307.7,6.3"
    sheet = load_workbook(io.BytesIO(v.get(f"/analytics/{code}/budget?format=xlsx").data)).worksheets[1]
    assert [c.value for c in sheet[3]][5:11] == [-6400, 0, 6400, 2, "over budget", 0]
    pack = v.get(f"/analytics/{code}/pack").get_data(as_text=True)
    assert pack.count(">over budget<") >= 4 and "6,900.00" in pack
    book = load_workbook(io.BytesIO(v.get(f"/analytics/{code}/pack.xlsx").data))
    cells = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert "over budget" in cells and "Open to buy" in cells and 6900 in cells


def test_the_over_bought_grid_lists_cells_without_an_otb_row(login, season):
    """?flag=over: the OTB rows over (A×L1 Feb, W×L2 Mar) and W×L1 Mar, which has no row."""
    html = login("viewer").get(f"/planning/{season.season_code}/otb?flag=over").get_data(as_text=True)
    assert "Over OTB by 500.00" in html and "Over OTB by 400.00" in html
    assert "Over-bought cells with no OTB row (1)" in html
    assert f'/planning/{season.season_code}/otb/cell/{_code(html, "Warehouse W")}/L1/2026-03' in html
    plain = login("viewer").get(f"/planning/{season.season_code}/otb").get_data(as_text=True)
    assert "no OTB row (" not in plain and "Over OTB by 2,000.00" not in plain


def _code(html, name):
    after = html[html.index("Over-bought cells with no OTB row"):]
    after = after[after.index(name) + len(name):]
    return after[after.index('class="code">') + 13:after.index("</span>")]


def test_the_cell_page_links_each_figure_to_its_rows(login, season):
    v = login("viewer")
    code = season.season_code
    grid = v.get(f"/planning/{code}/otb?flag=over").get_data(as_text=True)
    loc = _code(grid, "Warehouse W")
    html = v.get(f"/planning/{code}/otb/cell/{loc}/L1/2026-03").get_data(as_text=True)
    # No OTB row: the OTB figure has no row to link to; committed links to the POs.
    assert (f'href="/purchasing/{code}/pos?location={season.ids["W"]}&amp;'
            f'category={season.ids["L1"]}&amp;month=2026-03">6,000.00</a>') in html
    assert ">over budget<" in html
    a = _location_code(v, code, "Store A")
    html = v.get(f"/planning/{code}/otb/cell/{a}/L2/2026-02").get_data(as_text=True)
    to_grid = f'href="/planning/{code}/otb?location={season.ids["A"]}&amp;category='
    assert html.count(to_grid) >= 3  # back link, the waterfall's OTB, the OTB figure, remaining
    assert '<a href="#cell-pos">500.00</a>' in html and "25.0 %" in html
    assert f'href="/purchasing/{code}/grns?number=GA2">GA2</a>' in html


def _location_code(client, code, name):
    from kyros_web.extensions import db
    from kyros_web.models import Location
    from sqlalchemy import select
    return db.session.scalar(select(Location.location_code).where(Location.name == name))
