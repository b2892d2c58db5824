"""The analytics pages, their exports, the data workbook and the pack read a cell's budget
(OTB + approved adjustments, issue 17) on a season moved by hand.

Locations A (North) and B (South); leaves X and Z under D; February and March. OTB each month:
A×X 1,000, B×X 3,000, A×Z 400, B×Z 600 (10,000 in the season). POs due in February: A×X 900,
A×Z 700. Move 1 takes 400 from X in March (A×X −100, B×X −300: by budget) to A×Z in February
(+400), approved; move 2 (50 from Z to X in March) is still pending and moves nothing.

    budget   Feb: A×X 1,000  B×X 3,000  A×Z 800  B×Z 600   Mar: A×X 900  B×X 2,700  A×Z 400  B×Z 600
    remain   Feb:      100       3,000      100      600   Mar:     900       2,700      400      600

Feb: OTB 5,000 + 400 − 1,600 = 3,800; Mar: 5,000 − 400 − 0 = 4,600; the season 10,000 + 0 −
1,600 = 8,400, all open to buy. Before the approval A×Z in February was over-bought by 300.
"""
import io
import re
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import load_workbook

from kyros_web.analytics import reports
from kyros_web.analytics.data import fingerprint
from kyros_web.analytics.in_season import in_season
from kyros_web.planning import services
from kyros_web.planning.adjustments import Scope
from kyros_web.planning.services import upsert_range
from kyros_web.purchasing.services import create_po
from kyros_web.seasons.services import advance_season
from kyros_web.seasons.workflow import SeasonStatus

from ..services.test_adjustments import shop  # noqa: F401  (the fixture)
from kyros_web.templating import percent

FEB, MAR = date(2026, 2, 1), date(2026, 3, 1)
REMAINING = "Net remaining = OTB + adjustments − committed"


@pytest.fixture
def moved(make, session):
    """The season above with move 1 requested but not yet decided: `approve()` approves it,
    `ask_again()` requests move 2."""
    north, south = make.cluster("North"), make.cluster("South")
    a, b = make.location(cluster=north), make.location(cluster=south)
    d = make.category()
    x, z = make.category(parent=d), make.category(parent=d)
    season = make.season(SeasonStatus.PLAN_UPLOADED, start=FEB, end=date(2026, 3, 31),
                         locations=[a, b], leaves=[x, z])
    otb = {(a, x): "1000", (b, x): "3000", (a, z): "400", (b, z): "600"}
    make.otb_rows(season, [(loc, leaf, month, (value, "0", "0", "0", "0"))
                           for (loc, leaf), value in otb.items() for month in (FEB, MAR)])
    advance_season(session, make.admin, season.id)
    for leaf, core in ((x, "60"), (z, "80")):
        upsert_range(session, make.admin, season.id, category_id=leaf.id, core_percent=core,
                     fashion_percent=str(100 - int(core)),
                     price_bands={"low": "30", "mid": "50", "high": "20"})
    advance_season(session, make.admin, season.id)
    buyer = make.user("buyer")
    for number, leaf, value in (("PX", x, "900"), ("PZ", z, "700")):
        create_po(session, buyer, season.id, po_number=number, location_id=a.id,
                  category_id=leaf.id, po_value=value, order_date=date(2026, 1, 20),
                  delivery_date=date(2026, 2, 10))
    asker, approver = make.user("planner", email="asker@example.com"), make.user(
        "planner", email="approver@example.com")
    first = services.request_adjustment(
        session, asker, season.id, amount=D("400.00"), source=Scope(category_id=x.id, month=MAR),
        target=Scope(location_id=a.id, category_id=z.id, month=FEB), reason="Z sells out")
    season.cells = dict(a=a, b=b, d=d, x=x, z=z)

    season.approve = lambda: services.decide_adjustment(session, approver, first.id,
                                                        approve=True, note="agreed")
    season.ask_again = lambda: services.request_adjustment(
        session, asker, season.id, amount=D("50.00"), source=Scope(category_id=z.id, month=MAR),
        target=Scope(category_id=x.id, month=MAR), reason="later")
    return season


def test_budget_vs_actual_reads_otb_plus_adjustments_minus_committed(session, moved):
    before = {r[0]: r[1:] for r in reports.budget_vs_actual(session, moved).tables[0].rows}
    # OTB, adjustments, committed, received, net remaining, open to buy, over-bought, cells.
    assert before[FEB][:8] == [D("5000.00"), D("0.00"), D("1600.00"), D("0.00"), D("3400.00"),
                               D("3700.00"), D("300.00"), 1]
    moved.approve()
    table = reports.budget_vs_actual(session, moved).tables[0]
    assert [c.title for c in table.columns[1:6]] == [
        "OTB", "Adjustments", "Committed (delivery month)", "Received (GRN month)",
        "Net remaining"]
    rows = {r[0]: r[1:] for r in table.rows}
    assert rows[FEB][:8] == [D("5000.00"), D("400.00"), D("1600.00"), D("0.00"), D("3800.00"),
                             D("3800.00"), D("0.00"), 0]
    assert percent(rows[FEB][8]) == "29.6 %"  # 1,600 ÷ 5,400
    assert rows[MAR][:8] == [D("5000.00"), D("-400.00"), D("0.00"), D("0.00"), D("4600.00"),
                             D("4600.00"), D("0.00"), 0]
    for month in (FEB, MAR):
        otb, adjustments, committed, _, remaining = rows[month][:5]
        assert otb + adjustments - committed == remaining
    assert table.total[1:9] == [D("10000.00"), D("0.00"), D("1600.00"), D("0.00"),
                                D("8400.00"), D("8400.00"), D("0.00"), 0]
    assert REMAINING in table.note


def test_categories_clusters_and_locations_show_the_adjustments(session, moved):
    moved.approve()
    c = moved.cells
    leaves = {r[0]: r for r in reports.category_breakdown(session, moved, level=2).tables[0].rows}
    # OTB, adjustments, committed, net remaining, open to buy, over-bought, cells.
    assert leaves[c["x"].code][4:11] == [D("8000.00"), D("-400.00"), D("900.00"), D("6700.00"),
                                         D("6700.00"), D("0.00"), 0]
    assert leaves[c["z"].code][4:11] == [D("2000.00"), D("400.00"), D("700.00"), D("1700.00"),
                                         D("1700.00"), D("0.00"), 0]
    assert percent(leaves[c["x"].code][12]) == "11.8 %"  # 900 ÷ 7,600, not 900 ÷ 8,000
    assert percent(leaves[c["z"].code][12]) == "29.2 %"  # 700 ÷ 2,400, not 700 ÷ 2,000
    report = reports.category_breakdown(session, moved, level=1)
    assert report.tables[0].columns[5].title == "Adjustments"
    assert report.tables[0].rows[0][4:8] == [D("10000.00"), D("0.00"), D("1600.00"),
                                             D("8400.00")]
    assert REMAINING in report.tables[0].note
    clusters = {r[0]: r for r in reports.cluster_summary(session, moved).tables[0].rows}
    assert clusters["North"][4:8] == [D("2800.00"), D("300.00"), D("1600.00"), D("1500.00")]
    assert clusters["South"][4:8] == [D("7200.00"), D("-300.00"), D("0.00"), D("6900.00")]
    locations = reports.location_performance(session, moved, by="committed").tables[0]
    assert locations.rows[0][7:11] == [D("2800.00"), D("300.00"), D("1600.00"), D("1500.00")]
    assert REMAINING in locations.note


def test_dashboard_and_view_kpis(session, moved):
    before = {k.label: k.value for k in reports.dashboard(session, moved).kpis}
    assert before["Over-bought"] == D("300.00") and before["Over-bought cells"] == 1
    moved.approve()
    for build in (reports.dashboard, reports.season_view):
        report = build(session, moved)
        labels = [k.label for k in report.kpis]
        assert labels[:3] == ["OTB (retail)", "Adjustments", "Committed"]
        kpis = {k.label: k.value for k in report.kpis}
        # A move keeps the season's total: its adjustments add up to 0.
        assert [kpis[n] for n in ("OTB (retail)", "Adjustments", "Committed", "Net remaining",
                                  "Open to buy", "Over-bought", "Over-bought cells")] == [
            D("10000.00"), D("0.00"), D("1600.00"), D("8400.00"), D("8400.00"), D("0.00"), 0]
        budget = report.table("budget_vs_actual")
        assert {r[0]: r[2] for r in budget.rows} == {FEB: D("400.00"), MAR: D("-400.00")}


def test_price_bands_weigh_by_budget(session, moved):
    moved.approve()
    table = reports.price_bands(session, moved, level=1).tables[0]
    row = table.rows[0]
    assert row[3:5] == [D("10000.00"), D("0.00")]
    # Core: X 60 % on a budget of 7,600, Z 80 % on 2,400: 64.8 % (by OTB alone, 64.0 %).
    assert percent(row[5]) == "64.8 %"
    leaves = {r[0]: r for r in reports.price_bands(session, moved, level=2).tables[0].rows}
    assert leaves[moved.cells["z"].code][3:5] == [D("2000.00"), D("400.00")]
    assert "budget (OTB + adjustments" in table.note


def test_in_season_original_remaining_counts_the_adjustments(session, moved):
    moved.approve()
    rows = {r[0]: r[1:] for r in in_season(session, moved).table("months").rows}
    assert rows["OTB: original"] == [D("5000.00"), D("5000.00"), D("10000.00")]
    assert rows["OTB: adjustments"] == [D("400.00"), D("-400.00"), D("0.00")]
    # No actuals: every cell is ahead. Feb 5,000 + 400 − 1,600; Mar 5,000 − 400 − 0.
    assert rows["OTB: original remaining of the same cells"] == [
        D("3800.00"), D("4600.00"), D("8400.00")]
    assert "original remaining = OTB + adjustments" in in_season(session, moved).table(
        "months").note


def test_the_data_workbook_lists_the_requests_and_their_lines(login, moved):
    moved.approve()
    moved.ask_again()
    c = moved.cells
    book = load_workbook(io.BytesIO(login("viewer").get(
        f"/analytics/{moved.season_code}/data.xlsx").data))
    assert book.sheetnames[-1] == "Adjustments" and book["OTB"].max_row == 1 + 8
    rows = list(book["Adjustments"].iter_rows(values_only=True))
    assert rows[0] == ("number", "status", "amount", "from_scope", "to_scope", "reason",
                       "requested_by", "decided_by", "decision_note", "override_reason",
                       "location_code", "category_code", "month", "line_amount")
    # The scopes in the words of the OTB moves page.
    request = (1, "approved", 400, f"every location × {c['x'].code} {c['x'].name} × Mar 2026",
               f"{c['a'].name} ({c['a'].location_code}) × {c['z'].code} {c['z'].name} × Feb 2026",
               "Z sells out", "asker@example.com", "approver@example.com", "agreed", None)
    lines = sorted((r[10], r[11], r[12].date(), r[13]) for r in rows[1:4])
    assert all(r[:10] == request for r in rows[1:4])
    assert lines == sorted([(c["a"].location_code, c["x"].code, MAR, -100),
                            (c["b"].location_code, c["x"].code, MAR, -300),
                            (c["a"].location_code, c["z"].code, FEB, 400)])
    assert rows[4][:2] == (2, "pending") and rows[4][7] is None and rows[4][10:] == (None,) * 4
    assert len(rows) == 5


def test_the_fingerprint_changes_with_each_request_and_decision(session, moved, login):
    asked = fingerprint(session, moved)
    moved.approve()
    decided = fingerprint(session, moved)
    assert decided != asked and fingerprint(session, moved) == decided
    moved.ask_again()
    again = fingerprint(session, moved)
    assert again not in (asked, decided)
    pack = login("viewer").get(f"/analytics/{moved.season_code}/pack").get_data(as_text=True)
    assert again in pack and REMAINING in pack


def test_the_otb_moves_page_lists_every_request_and_the_pack_prints_it(session, shop,  # noqa: F811
                                                                       login):
    """The analytics page of the season's moves (in the pack and its exports): each request
    with its scopes, reason, people and note, and the amounts approved."""
    s, code = shop, shop["season"].season_code
    moved = services.request_adjustment(session, s["requester"], s["season"].id, amount="300",
                                        source=Scope(category_id=s["x"].id),
                                        target=Scope(category_id=s["z"].id),
                                        reason="x sells slowly")
    services.decide_adjustment(session, s["approver"], moved.id, approve=True, note="agreed")
    services.request_adjustment(session, s["requester"], s["season"].id, amount="50",
                                source=Scope(category_id=s["z"].id),
                                target=Scope(category_id=s["x"].id), reason="second thoughts")
    viewer = login("viewer")
    for url in (f"/analytics/{code}/moves", f"/analytics/{code}/pack"):
        html = viewer.get(url).get_data(as_text=True)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
        assert "OTB moves" in text and "x sells slowly" in text and "agreed" in text
        assert "second thoughts" in text and "Pending" in text
        assert re.search(r"Open to buy moved\s*300\.00", text), url
    csv = viewer.get(f"/analytics/{code}/moves?format=csv").get_data(as_text=True)
    assert "x sells slowly" in csv and s["approver"].email in csv
