"""The in-season OTB beside the original on the OTB grid, the OTB cell page and the dashboard
(issue 16, item 3), checked on a season worked by hand.

One location × one leaf, February to April 2026, on order 0:

    plan    sales  markdowns  closing  opening   OTB          actuals  sales  markdowns  closing
    Feb     1,000     50        800      900      950                   1,200     40        650
    Mar     2,000    100        700      800    2,000                   2,400     90        600
    Apr     3,000      0        500      700    2,800                   (none: forecast)

A PO of 1,000 is due in April. The trend is (1,200 + 2,400) ÷ (1,000 + 2,000) = 1.2, so April's
forecast sales are 3,600.00; April opens with March's actual closing stock, 600: reforecast
receipts 3,600 + 0 + 500 − 600 − 0 = 3,500.00, in-season OTB 3,500 − 1,000 = 2,500.00. Its
original OTB 2,800 leaves 1,800.00 after committed: the in-season OTB is 700.00 more, 600.00
from the sales (3,600 − 3,000) and 100.00 from the opening stock (700 planned − 600 actual).
By the plan method April sells 3,000: receipts 2,900.00, in-season OTB 1,900.00.
"""
import re
from datetime import date

import pytest

from kyros_web.analytics import reports
from kyros_web.purchasing.services import create_po
from kyros_web.seasons.services import advance_season, set_reforecast_method
from kyros_web.seasons.workflow import SeasonStatus

from ..services.test_uploads import load
from .test_figures_receipts import page_text

FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
HEADER = "location_code,category_code,month,net_sales,markdowns,closing_stock\n"
NO_ACTUALS = ("No actuals yet: the in-season OTB is the original OTB until the shops report "
              "a month (upload “actuals”).")


@pytest.fixture
def hand(app, make, session, monkeypatch):
    """The season above, in range_uploaded, without actuals yet (15 April 2026)."""
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 4, 15))
    loc, leaf = make.location(), make.category()
    season = make.season(SeasonStatus.PLAN_UPLOADED, locations=[loc], leaves=[leaf])
    make.otb_rows(season, [(loc, leaf, FEB, ("1000", "50", "800", "900", "0")),
                           (loc, leaf, MAR, ("2000", "100", "700", "800", "0")),
                           (loc, leaf, APR, ("3000", "0", "500", "700", "0"))])
    advance_season(session, make.admin, season.id)
    make.fill(season)  # the range intent
    advance_season(session, make.admin, season.id)
    create_po(session, make.user("buyer"), season.id, po_number="PO-APR", location_id=loc.id,
              category_id=leaf.id, po_value="1000", order_date=date(2026, 3, 1),
              delivery_date=date(2026, 4, 10))
    season.cell = (loc, leaf)
    return season


def report_actuals(session, make, season):
    loc, leaf = season.cell
    rows = [(FEB, "1200", "40", "650"), (MAR, "2400", "90", "600")]
    data = HEADER + "".join(f"{loc.location_code},{leaf.code},{m:%Y-%m},{s},{md},{c}\n"
                            for m, s, md, c in rows)
    upload = load(session, make.admin, "actuals", data.encode(), season)
    assert upload.rows_new == 2, upload.status


def grid_rows(html: str) -> dict:
    """The OTB grid's rows by month label, each as its cells' text."""
    rows = {}
    for row in re.findall(r'<tr id="otb-[^"]+">(.*?)</tr>', html, re.S):
        cells = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip()
                 for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        rows[cells[2]] = cells
    return rows


def text_of(response) -> str:
    """The page's text, table cells joined by '|'."""
    return re.sub(r"\s*\|\s*", "|", page_text(response))


def cell_url(season, month: date) -> str:
    loc, leaf = season.cell
    return f"/planning/{season.season_code}/otb/cell/{loc.location_code}/{leaf.code}/{month:%Y-%m}"


def test_the_otb_grid_shows_the_in_season_otb_once_actuals_are_in(login, make, session, hand):
    viewer = login("viewer")
    before = viewer.get(f"/planning/{hand.season_code}/otb").get_data(as_text=True)
    assert "In-season OTB" not in before and "actualised" not in before
    report_actuals(session, make, hand)
    html = viewer.get(f"/planning/{hand.season_code}/otb").get_data(as_text=True)
    assert "In-season OTB</span></th>" in html
    rows = grid_rows(html)
    # OTB, adjustments, committed, remaining, then the in-season OTB.
    assert rows["Feb 2026"][8:13] == ["950.00", "0.00", "0.00", "950.00", "actualised"]
    assert rows["Mar 2026"][8:13] == ["2,000.00", "0.00", "0.00", "2,000.00", "actualised"]
    assert rows["Apr 2026"][8:13] == ["2,800.00", "0.00", "1,000.00", "1,800.00", "2,500.00"]
    assert 'title="This month has actuals: it is history' in html
    # A page filtered to April alone still reads the trend from February and March.
    april = viewer.get(f"/planning/{hand.season_code}/otb?month=2026-04").get_data(as_text=True)
    assert grid_rows(april)["Apr 2026"][12] == "2,500.00"


def test_one_row_of_the_grid_keeps_its_in_season_otb(login, make, session, hand):
    """The row block alone (htmx: a row back from its edit) carries the column too."""
    report_actuals(session, make, hand)
    otb_id = re.search(r'<tr id="otb-([^"]+)">(?:(?!</tr>).)*Apr 2026', login("viewer").get(
        f"/planning/{hand.season_code}/otb").get_data(as_text=True), re.S).group(1)
    row = login("viewer").get(f"/planning/{hand.season_code}/otb/{otb_id}",
                              headers={"HX-Request": "true"}).get_data(as_text=True)
    assert not row.lstrip().startswith("<!DOCTYPE") and "2,500.00" in row


def test_the_cell_page_before_any_actuals_says_the_in_season_otb_is_the_original(
        login, hand):
    text = text_of(login("viewer").get(cell_url(hand, APR)))
    assert NO_ACTUALS in text and "Reforecast receipts" not in text
    assert "2,800.00" in text  # the original waterfall, as before


def test_the_cell_page_of_a_forecast_month_walks_down_to_the_in_season_otb(
        login, make, session, hand):
    report_actuals(session, make, hand)
    text = text_of(login("viewer").get(cell_url(hand, APR)))
    assert ("Trend: actual ÷ planned sales to date = 3,600.00 ÷ 3,000.00 = 1.2000; forecast "
            "sales = planned 3,000.00 × 1.2000 = 3,600.00.") in text
    for step in ("+ Forecast sales|3,600.00", "+ Planned markdowns|0.00",
                 "+ Planned closing stock|500.00",
                 "− Opening stock (actual closing of Mar 2026)|600.00", "− On order|0.00",
                 "= Reforecast receipts|3,500.00", "− Committed|1,000.00",
                 "= In-season OTB|2,500.00"):
        assert step in text, step
    assert ("For Apr 2026 the in-season OTB is 2,500.00, 700.00 more than the original OTB "
            "remaining (1,800.00): 600.00 because sales to date run 20.0 % ahead of plan and "
            "the reforecast sales follow, and 100.00 because Apr 2026 opens with the actual "
            "closing stock of Mar 2026 instead of its planned opening stock (less stock on "
            "hand means more to buy).") in text
    assert "Original OTB 2,800.00" in text and "Original OTB remaining (after committed) 1,800.00" in text


def test_the_cell_page_of_an_actualised_month_sets_actuals_beside_the_plan(
        login, make, session, hand):
    report_actuals(session, make, hand)
    text = text_of(login("viewer").get(cell_url(hand, MAR)))
    assert "Mar 2026 has actuals: it is history" in text
    assert "Net sales|2,000.00|2,400.00|400.00|20.0 %" in text
    assert "Markdowns|100.00|90.00|-10.00|-10.0 %" in text
    assert "Closing stock|700.00|600.00|-100.00|-14.3 %" in text
    assert "Reforecast receipts" not in text


def test_the_cell_page_by_the_plan_method_keeps_the_planned_sales(login, make, session, hand):
    report_actuals(session, make, hand)
    set_reforecast_method(session, make.admin, hand.id, "plan")
    text = text_of(login("viewer").get(cell_url(hand, APR)))
    assert "Plan method: the forecast sales are the planned sales, 3,000.00." in text
    assert "= Reforecast receipts|2,900.00" in text and "= In-season OTB|1,900.00" in text
    assert ("For Apr 2026 the in-season OTB is 1,900.00, 100.00 more than the original OTB "
            "remaining (1,800.00): 0.00 because the plan method keeps the planned sales, and "
            "100.00 because Apr 2026 opens") in text


def test_a_cell_without_an_otb_row_or_anything_has_nothing_to_reforecast(
        login, make, session, hand):
    report_actuals(session, make, hand)
    loc, _ = hand.cell
    other = make.category()
    text = text_of(login("viewer").get(
        f"/planning/{hand.season_code}/otb/cell/{loc.location_code}/{other.code}/2026-04"))
    assert "No plan, no actuals and no purchase order for Apr 2026" in text


def test_the_dashboard_sets_the_in_season_otb_beside_the_original(login, make, session, hand):
    kpis = {k.label: k.value for k in reports.dashboard(session, hand).kpis}
    # Before actuals every month is ahead: 950 + 2,000 + 2,800 − 1,000 committed, both.
    assert kpis["Original OTB remaining (months ahead)"] == kpis["In-season OTB (months ahead)"] == 4750
    assert reports.dashboard(session, hand).notes == [NO_ACTUALS]
    report_actuals(session, make, hand)
    report = reports.dashboard(session, hand)
    labels = [k.label for k in report.kpis]
    assert labels[:8] == ["OTB (retail)", "Adjustments", "Committed", "Net remaining",
                          "Open to buy", "Over-bought", "Original OTB remaining (months ahead)",
                          "In-season OTB (months ahead)"]
    kpis = {k.label: k.value for k in report.kpis}
    assert kpis["Original OTB remaining (months ahead)"] == 1800
    assert kpis["In-season OTB (months ahead)"] == 2500
    # The same words as the In season page.
    assert report.notes == reports.in_season(session, hand).notes
    assert report.notes[1] == (
        "For the months still to come the in-season OTB is 2,500.00, 700.00 more than the "
        "original OTB remaining (1,800.00): 600.00 because sales to date run 20.0 % ahead of "
        "plan and the reforecast sales follow, and 100.00 because the months after the last "
        "actuals open with the actual closing stock instead of the planned opening stock (less "
        "stock on hand means more to buy).")
    page = text_of(login("viewer").get(f"/analytics/{hand.season_code}/"))
    assert "In-season OTB (months ahead) 2,500.00" in page
    assert "Original OTB remaining (months ahead) 1,800.00" in page
    assert report.notes[1] in page


def test_the_original_remaining_counts_approved_adjustments(login, make, session, hand):
    """300 moved from March into April (issue 17): April's original OTB remaining is
    2,800 + 300 − 1,000 = 2,100.00; the in-season OTB stays 2,500.00 (the reforecast starts
    from the plan), so it is 400.00 more: 600.00 + 100.00 − 300.00."""
    from decimal import Decimal

    from kyros_web.planning.adjustments import Scope
    from kyros_web.planning.services import decide_adjustment, request_adjustment

    row = request_adjustment(session, make.user("planner"), hand.id, amount=Decimal("300"),
                             source=Scope(month=MAR), target=Scope(month=APR), reason="April")
    decide_adjustment(session, make.user("planner"), row.id, approve=True, note="ok")
    report_actuals(session, make, hand)
    text = text_of(login("viewer").get(cell_url(hand, APR)))
    assert "Original OTB 2,800.00 Adjustments 300.00" in text
    assert "Original OTB remaining (after committed) 2,100.00" in text
    assert "Adjustments effect (in the original, not the reforecast) -300.00" in text
    assert ("For Apr 2026 the in-season OTB is 2,500.00, 400.00 more than the original OTB "
            "remaining (2,100.00): 600.00 because sales to date run 20.0 % ahead of plan and "
            "the reforecast sales follow, 100.00 because Apr 2026 opens with the actual "
            "closing stock of Mar 2026 instead of its planned opening stock (less stock on "
            "hand means more to buy), and -300.00 because the original remaining counts "
            "300.00 of approved adjustments (moves of open to buy) that the reforecast "
            "receipts do not.") in text
    kpis = {k.label: k.value for k in reports.dashboard(session, hand).kpis}
    assert kpis["Original OTB remaining (months ahead)"] == Decimal("2100.00")
    assert kpis["In-season OTB (months ahead)"] == Decimal("2500.00")
    rows = {r[0]: r[1:] for r in reports.in_season(session, hand).table("months").rows}
    assert rows["OTB: adjustments"][:3] == [Decimal("0.00"), Decimal("-300.00"), Decimal("300.00")]
    assert rows["OTB: original remaining of the same cells"][2] == Decimal("2100.00")
