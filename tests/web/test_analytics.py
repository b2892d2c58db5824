"""Analytics: every figure of a hand-made season computed by hand (SPEC §5, §7)."""
import io
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from kyros_web.analytics import reports
from kyros_web.analytics.data import fingerprint
from kyros_web.planning.services import approve_plans, upsert_plan, upsert_range
from kyros_web.purchasing.services import cancel_po, close_po, create_grn, create_po
from kyros_web.seasons.services import advance_season, assign_locations, create_season
from kyros_web.templating import percent


@pytest.fixture
def world(make, session):
    """Two clusters, three locations, leaves L1, L2 under D1 > P1 and L3 right under D2.

    Plans  A×L1 9,000 @ 40 %, A×L2 1,000 @ 10 %, B×L3 5,000 @ 20 %, C×L3 2,000 @ 50 %.
    OTB    A×L1 Feb 100,000 + 0 + 50,000 − 30,000 − 10,000 = 110,000 (the seed's example),
           A×L2 Mar 1,000, B×L3 Feb 5,000, C×L3 Mar 2,000.
    POs    P1 A×L1 Feb 12,500 (GRN 11,250 in Feb), P2 B×L3 Feb 6,000 (GRN 6,000 in May: a
           month with GRNs but no OTB), P3 C×L3 Mar 1,000 cancelled, P4 A×L2 Mar 800
           short-closed after 300 received in Mar.
    """
    admin = make.admin
    north, south = make.cluster("North"), make.cluster("South")
    a = make.location(name="Store A", cluster=north)
    b = make.location(name="Store B", cluster=north)
    c = make.location(name="Store C", cluster=south)
    d1 = make.category("D1")
    p1 = make.category("D1-P1", parent=d1)
    l1, l2 = make.category("L1", parent=p1), make.category("L2", parent=p1)
    d2 = make.category("D2")
    l3 = make.category("L3", parent=d2)
    s = create_season(session, admin, name="Hand made", start_date=date(2026, 2, 1),
                      end_date=date(2026, 4, 30))
    assign_locations(session, admin, s.id, [a.id, b.id, c.id])
    advance_season(session, admin, s.id)
    for loc, leaf, sales, margin in ((a, l1, "9000", "40"), (a, l2, "1000", "10"),
                                     (b, l3, "5000", "20"), (c, l3, "2000", "50")):
        row = upsert_plan(session, admin, s.id, location_id=loc.id, category_id=leaf.id,
                          planned_sales=sales, planned_margin=margin).row
        approve_plans(session, admin, s.id, [row.id])
    advance_season(session, admin, s.id)
    make.otb_rows(s, [(a, l1, date(2026, 2, 1), ("100000", "0", "50000", "30000", "10000")),
                      (a, l2, date(2026, 3, 1), ("1000", "0", "0", "0", "0")),
                      (b, l3, date(2026, 2, 1), ("5000", "0", "0", "0", "0")),
                      (c, l3, date(2026, 3, 1), ("2000", "0", "0", "0", "0"))])
    advance_season(session, admin, s.id)
    for leaf, core, bands in ((l1, "60", ("30", "50", "20")), (l2, "50", ("20", "60", "20")),
                              (l3, "70", ("40", "40", "20"))):
        upsert_range(session, admin, s.id, category_id=leaf.id, core_percent=core,
                     fashion_percent=str(100 - int(core)),
                     price_bands=dict(zip(("low", "mid", "high"), bands)))
    advance_season(session, admin, s.id)
    buyer = make.user("buyer")
    p1_ = create_po(session, buyer, s.id, po_number="P1", location_id=a.id, category_id=l1.id,
                    po_value="12500", order_date=date(2026, 2, 1), supplier="=HYPERLINK(\"x\")").po
    p2_ = create_po(session, buyer, s.id, po_number="P2", location_id=b.id, category_id=l3.id,
                    po_value="6000", order_date=date(2026, 2, 2)).po
    p3_ = create_po(session, buyer, s.id, po_number="P3", location_id=c.id, category_id=l3.id,
                    po_value="1000", order_date=date(2026, 3, 1)).po
    p4_ = create_po(session, buyer, s.id, po_number="P4", location_id=a.id, category_id=l2.id,
                    po_value="800", order_date=date(2026, 3, 2)).po
    create_grn(session, buyer, po_id=p1_.id, grn_number="G1", grn_date=date(2026, 2, 20),
               received_value="11250")
    create_grn(session, buyer, po_id=p2_.id, grn_number="G2", grn_date=date(2026, 5, 3),
               received_value="6000")
    create_grn(session, buyer, po_id=p4_.id, grn_number="G3", grn_date=date(2026, 3, 10),
               received_value="300")
    cancel_po(session, buyer, p3_.id)
    close_po(session, buyer, p4_.id)
    return s


def test_dashboard_kpis(session, world):
    kpis = {k.label: k.value for k in reports.dashboard(session, world).kpis}
    assert kpis["OTB (retail)"] == D("118000.00")
    assert kpis["Committed"] == D("18800.00")  # 12,500 + 6,000 + 0 (cancelled) + 300 (closed)
    assert kpis["Net remaining"] == D("99200.00")
    # Per cell: A×L1 Feb 97,500 + A×L2 Mar 700 + C×L3 Mar 2,000 open; B×L3 Feb 1,000 over.
    assert kpis["Open to buy"] == D("100200.00") and kpis["Over-bought"] == D("1000.00")
    assert kpis["Over-bought cells"] == 1
    assert kpis["Received"] == D("17550.00")
    assert percent(kpis["Budget utilisation"]) == "15.9 %"
    assert percent(kpis["Fulfilment rate"]) == "93.4 %"
    assert kpis["Planned sales"] == D("17000.00")
    assert percent(kpis["Planned margin (sales-weighted)"]) == "33.5 %"  # 570,000 / 17,000
    assert kpis["Purchase orders"] == 4 and kpis["Open or partly received"] == 1


def test_budget_vs_actual_by_month(session, world):
    """Received of committed is on the delivery basis: Feb's POs P1 and P2 have received
    11,250 + 6,000 (P2's in May) of their 18,500; May, after the season, is a line of its own."""
    table = reports.budget_vs_actual(session, world).tables[0]
    rows = {r[0]: r[1:] for r in table.rows}
    assert list(rows) == [date(2026, 2, 1), date(2026, 3, 1), "After season"]
    assert table.columns[2].title == "Adjustments"
    assert table.columns[10].title == "Received of committed (POs due that month)"
    feb = rows[date(2026, 2, 1)]
    assert feb[:8] == [D("115000.00"), D("0.00"), D("18500.00"), D("11250.00"), D("96500.00"),
                       D("97500.00"), D("1000.00"), 1]
    assert percent(feb[8]) == "16.1 %" and percent(feb[9]) == "93.2 %"  # 17,250 / 18,500
    march = rows[date(2026, 3, 1)]
    assert march[:8] == [D("3000.00"), D("0.00"), D("300.00"), D("300.00"), D("2700.00"),
                         D("2700.00"), D("0.00"), 0]
    assert percent(march[9]) == "100.0 %"  # P4 closed at its 300 received
    after = rows["After season"]
    # Utilisation with no OTB and nothing committed is "—"; receipts with no commitments "n/a".
    assert after[:8] == [D("0.00"), D("0.00"), D("0.00"), D("6000.00"), D("0.00"), D("0.00"),
                         D("0.00"), 0]
    assert ">—<" in percent(after[8])
    assert ">—<" in percent(after[9])  # P2's May receipts count in February, its delivery month
    assert table.total[1:5] == [D("118000.00"), D("0.00"), D("18800.00"), D("17550.00")]
    assert percent(table.total[10]) == "93.4 %"  # 17,550 / 18,800


def test_category_breakdown_at_each_level(session, world):
    leaves = {r[0]: r for r in reports.category_breakdown(session, world, level=3).tables[0].rows}
    l1 = leaves["L1"]
    assert l1[2:12] == [D("9000.00"), D("40"), D("110000.00"), D("0.00"), D("12500.00"),
                        D("97500.00"), D("97500.00"), D("0.00"), 0, D("11250.00")]
    assert percent(l1[12]) == "11.4 %" and l1[12].value.quantize(D("0.01")) == D("11.36")
    assert percent(l1[13]) == "90.0 %"
    l3 = leaves["L3"]  # a leaf above level 3 shows as itself
    assert l3[2] == D("7000.00") and percent(l3[3]) == "28.6 %" and l3[7] == D("1000.00")
    # L3: B Feb over by 1,000 and C Mar open 2,000 are not netted away.
    assert l3[8:11] == [D("2000.00"), D("1000.00"), 1]
    top = {r[0]: r for r in reports.category_breakdown(session, world, level=1).tables[0].rows}
    assert sorted(top) == ["D1", "D2"]
    assert top["D1"][2] == D("10000.00") and percent(top["D1"][3]) == "37.0 %"
    assert top["D1"][4:7] == [D("111000.00"), D("0.00"), D("12800.00")]
    assert percent(top["D1"][12]) == "11.5 %" and percent(top["D1"][13]) == "90.2 %"
    assert top["D2"][4:8] == [D("7000.00"), D("0.00"), D("6000.00"), D("1000.00")]


def test_cluster_summary(session, world):
    rows = {r[0]: r for r in reports.cluster_summary(session, world).tables[0].rows}
    north, south = rows["North"], rows["South"]
    assert north[1] == 2 and north[2] == D("15000.00") and percent(north[3]) == "31.3 %"
    assert north[4:12] == [D("116000.00"), D("0.00"), D("18800.00"), D("97200.00"),
                           D("98200.00"), D("1000.00"), 1, D("17550.00")]
    assert percent(north[12]) == "16.2 %" and percent(north[13]) == "93.4 %"
    assert south[1] == 1 and south[4:7] == [D("2000.00"), D("0.00"), D("0.00")]
    assert percent(south[12]) == "0.0 %" and ">—<" in percent(south[13])


def test_location_ranking(session, world):
    top = reports.location_performance(session, world, by="utilisation", top=3).tables[0].rows
    assert [r[2] for r in top] == ["Store B", "Store A", "Store C"]
    assert percent(top[0][15]) == "120.0 %" and percent(top[1][15]) == "11.5 %"
    bottom = reports.location_performance(session, world, by="utilisation", top=1, worst=True)
    assert [r[2] for r in bottom.tables[0].rows] == ["Store C"]
    by_sales = reports.location_performance(session, world, by="sales", top=2).tables[0].rows
    assert [(r[2], r[5]) for r in by_sales] == [("Store A", D("10000.00")), ("Store B", D("5000.00"))]


def test_po_status(session, world):
    report = reports.po_status(session, world, as_of=date(2026, 3, 15))
    status = {r[0]: r[1:] for r in report.table("by_status").rows}
    assert status["Open"] == [0, D("0"), D("0")]
    assert status["Partially received"] == [1, D("12500.00"), D("11250.00")]
    assert status["Received"] == [1, D("6000.00"), D("6000.00")]
    assert status["Closed"] == [1, D("800.00"), D("300.00")]
    assert status["Cancelled"] == [1, D("1000.00"), D("0.00")]
    assert report.table("by_source").rows == [["Manual", 4, D("20300.00")]]
    partial = report.table("partial").rows
    assert [r[0] for r in partial] == ["P1"] and percent(partial[0][5]) == "90.0 %"
    ageing = {r[0]: r[1:] for r in report.table("ageing").rows}
    assert ageing["31–60 days late"] == [1, D("12500.00"), D("1250.00")]  # P1, due Feb 1
    assert ageing["Not yet due"][0] == ageing["1–30 days late"][0] == 0


def test_price_bands_weighted_by_otb(session, world):
    leaves = {r[0]: r for r in reports.price_bands(session, world, level=3).tables[0].rows}
    assert [leaves["L1"][i] for i in (5, 6, 7, 8, 9)] == [D(60), D(40), D(30), D(50), D(20)]
    top = {r[0]: r for r in reports.price_bands(session, world, level=1).tables[0].rows}
    d1 = top["D1"]
    assert d1[2] == 2 and d1[3:5] == [D("111000.00"), D("0.00")]
    assert [percent(v) for v in d1[5:10]] == ["59.9 %", "40.1 %", "29.9 %", "50.1 %", "20.0 %"]
    assert [percent(v) for v in top["D2"][5:10]] == ["70.0 %", "30.0 %", "40.0 %", "40.0 %", "20.0 %"]


def test_workflow_status_of_all_seasons(session, make, world):
    make.season()
    report = reports.workflow_status(session)
    mix = {r[0]: r[1] for r in report.table("status_mix").rows}
    assert mix["Range uploaded"] == 1 and mix["Created"] == 1 and report.table("status_mix").total[1] == 2
    rows = {r[1]: r for r in report.table("seasons").rows}
    assert rows["Hand made"][2] == "Range uploaded" and rows["Hand made"][5] is not None


def test_fingerprint_is_stable_and_follows_the_data(session, world, make):
    first = fingerprint(session, world)
    assert first == fingerprint(session, world) and len(first) == 64
    create_po(session, make.user("buyer"), world.id, po_number="P9",
              location_id=world_location(session, "Store A"), category_id=world_leaf(session, "L1"),
              po_value="1", order_date=date(2026, 2, 1))
    assert fingerprint(session, world) != first


def test_the_fingerprint_covers_actuals_and_the_reforecast_method(session, world, make):
    """The In season figures follow the actuals and the season's reforecast method: a pack
    printed before either changed must not match the data after."""
    from kyros_web.planning.models import SeasonActual
    from kyros_web.seasons.services import set_reforecast_method

    first = fingerprint(session, world)
    session.add(SeasonActual(season_id=world.id, location_id=world_location(session, "Store A"),
                             category_id=world_leaf(session, "L1"), month=date(2026, 2, 1),
                             net_sales=D("10.00"), markdowns=D("0.00"),
                             closing_stock=D("5.00")))
    session.commit()
    second = fingerprint(session, world)
    assert second != first
    set_reforecast_method(session, make.user("planner"), world.id, "plan")
    assert fingerprint(session, world) not in (first, second)


def test_the_database_hashes_a_table_as_python_does(session, world, make, monkeypatch):
    """On PostgreSQL the large tables are hashed in the database (analytics/data.py): every
    table's chunks, in SQL and in Python, are the same digests, for rows with empty values,
    booleans, enums, dates and money; and several chunks (a chunk of two rows here)."""
    from kyros_web.analytics import data, sql

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the database hashes on PostgreSQL; CI runs this there")
    create_po(session, make.user("buyer"), world.id, po_number="P-EMPTY",
              location_id=world_location(session, "Store A"),
              category_id=world_leaf(session, "L1"), po_value="12.30",
              order_date=date(2026, 2, 1))
    monkeypatch.setattr(data, "CHUNK", 2)
    hashed, chunks = 0, 0
    for name, stmt in sql.season_data(world.id):
        if name not in data.IN_DATABASE:
            continue
        hashed += 1
        python = data._chunks(session, stmt)
        assert data._chunks_in_sql(session, stmt) == python, name
        chunks += len(python)
    assert hashed == len(data.IN_DATABASE) and chunks >= 4


def world_location(session, name):
    from sqlalchemy import select
    from kyros_web.models import Location
    return session.scalar(select(Location.id).where(Location.name == name))


def world_leaf(session, code):
    from sqlalchemy import select
    from kyros_web.models import Category
    return session.scalar(select(Category.id).where(Category.code == code))


PAGES = ["", "view", "budget", "moves", "categories", "categories?level=3", "clusters", "locations",
         "locations?order=bottom&top=2&by=fulfilment", "pos", "price-bands", "in-season",
         "in-season?by=location&period=2026-02", "in-season?by=cluster&period=2026-03",
         "export", "pack"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_opens_for_a_viewer(login, world, path):
    response = login("viewer").get(f"/analytics/{world.season_code}/{path}")
    html = response.get_data(as_text=True)
    assert response.status_code == 200, path
    assert 'media="print"' in html
    if path != "export":
        assert "print-header" in html
    assert html.count('method="post"') == 1  # the logout form: nothing to edit here


def test_pages_show_the_hand_made_figures(login, world):
    v = login("viewer")
    dashboard = v.get(f"/analytics/{world.season_code}/").get_data(as_text=True)
    for figure in ("118,000.00", "18,800.00", "17,550.00", "15.9 %", "93.4 %", "33.5 %"):
        assert figure in dashboard, figure
    assert "<svg" in dashboard
    assert "<title>Budget (OTB + adjustments), Feb 2026: 115,000.00</title>" in dashboard
    pack = v.get(f"/analytics/{world.season_code}/pack").get_data(as_text=True)
    printed = fingerprint(__import__("kyros_web.extensions", fromlist=["db"]).db.session, world)
    assert pack.count(printed) >= 8 and world.season_code in pack


def test_workflow_page_for_everyone(login, world):
    html = login("buyer").get("/analytics/workflow").get_data(as_text=True)
    assert "Seasons per status" in html and world.season_code in html


def test_csv_export_neutralises_formulas(login, world):
    response = login("viewer").get(f"/analytics/{world.season_code}/pos?format=csv&table=partial")
    body = response.get_data(as_text=True)
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=kyros-{world.season_code}-pos-partial.csv")
    assert body.splitlines()[1].startswith('P1,"\'=HYPERLINK(""x"")"')
    assert ",12500.00,11250.00,90.0" in body


def test_xlsx_export_has_numbers_and_dates(login, world):
    response = login("viewer").get(f"/analytics/{world.season_code}/budget?format=xlsx")
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames[0] == "About" and "Season " + world.season_code in book["About"]["A2"].value
    sheet = book.worksheets[1]
    assert sheet["A1"].value == "Month" and sheet["B2"].value == 115000
    assert sheet["A2"].value.date() == date(2026, 2, 1)
    pos = load_workbook(io.BytesIO(login("viewer").get(
        f"/analytics/{world.season_code}/pos?format=xlsx").data))
    partial = pos.worksheets[3]
    assert partial["B2"].value == "'=HYPERLINK(\"x\")"


def world_locations(season):
    from kyros_web.analytics.sql import season_locations
    from kyros_web.extensions import db

    return season_locations(db.session, season.id)


def test_season_data_and_pack_workbooks(login, world):
    v = login("viewer")
    data = load_workbook(io.BytesIO(v.get(f"/analytics/{world.season_code}/data.xlsx").data))
    assert data.sheetnames == ["About", "Locations", "Plans", "OTB", "Range intent", "POs",
                               "Actuals", "GRNs", "Adjustments"]
    assert data["Locations"].max_row == 1 + len(world_locations(world))
    assert data["OTB"].max_row == 5 and data["POs"].max_row == 5
    pack = load_workbook(io.BytesIO(v.get(f"/analytics/{world.season_code}/pack.xlsx").data))
    assert pack["About"]["A2"].value.startswith("Fingerprint ") and len(pack.sheetnames) > 10


def test_unknown_report_and_anonymous(app, login, world):
    assert login("viewer").get(f"/analytics/{world.season_code}/nope").status_code == 404
    assert app.test_client().get(f"/analytics/{world.season_code}/").status_code == 302


def test_a_locked_season_has_no_edit_controls_anywhere(login, make):
    season = make.season("locked")
    admin = login("admin")  # the role that may edit everything else
    code = season.season_code
    for path in (f"/analytics/{code}/view", f"/seasons/{code}", f"/seasons/{code}/locations",
                 f"/planning/{code}/plans", f"/planning/{code}/otb", f"/planning/{code}/range",
                 f"/purchasing/{code}/pos", f"/purchasing/{code}/grns"):
        html = admin.get(path).get_data(as_text=True)
        assert html.count('method="post"') == 1, path  # only the logout form
        assert "<input form=" not in html and "Upload a" not in html and "Edit season" not in html, path


def test_every_total_line_is_the_whole_season(session, world):
    """Totals are summed from each report's own groups; every grouping covers each fact once."""
    kpis = {k.label: k.value for k in reports.dashboard(session, world).kpis}
    season = [kpis[k] for k in ("OTB (retail)", "Adjustments", "Committed", "Net remaining",
                                "Open to buy", "Over-bought", "Over-bought cells", "Received")]
    budget = reports.budget_vs_actual(session, world).tables[0].total
    assert budget[1:5] == [*season[0:3], season[7]] and budget[5:9] == season[3:7]
    clusters = reports.cluster_summary(session, world).tables[0].total
    levels = [reports.category_breakdown(session, world, level=n).tables[0].total
              for n in (1, 2, 3)]
    for total in (clusters, *levels):
        assert total[2] == kpis["Planned sales"] and total[3] == kpis["Planned margin (sales-weighted)"]
        assert total[4:12] == season
