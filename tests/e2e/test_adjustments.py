"""Moving open to buy in a real browser (issue 17, Evidence): on the demo data a planner asks to
move 700.00 of open to buy from Mens Tops in April to Mens Bottoms in March with the OTB moves
form, a second planner approves it in place on the Approvals page (htmx); the OTB grid's totals
of the two departments and the dashboard's months move by exactly the amount, the uploaded OTB
unchanged, and the season pack prints the move.

Skipped like the journey when Playwright or chromium is missing (KYROS_REQUIRE_E2E=1 fails)."""
from __future__ import annotations

import re
import subprocess
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from .serving import require_browser, served
from .test_grid import PASSWORD, log_in
from .test_journey import browser  # noqa: F401  (the browser fixture)

SEASON = "Spring Summer 2026"
SECOND = "second.planner@kyros.example"
AMOUNT = Decimal("700.00")


@pytest.fixture(scope="module")
def demo():
    """gunicorn on the demo data with a second planner; the season's code and the ids of the
    two departments."""
    require_browser("the OTB moves browser test", pdf=True)
    with served("kyros-moves-", ["kyros", "demo-data"],
                ["kyros", "create-user", SECOND, "--role", "planner", "--password", PASSWORD,
                 "--name", "Sam Second"]) as (base, db_url):
        engine = create_engine(db_url)
        with engine.connect() as conn:
            code = conn.execute(text("SELECT season_code FROM seasons WHERE name = :n"),
                                {"n": SEASON}).scalar_one()
            ids = dict(conn.execute(text("SELECT code, id FROM categories WHERE code IN "
                                         "('D02-P01', 'D02-P02')")).all())
        engine.dispose()
        # SQLite keeps a UUID as 32 hex digits; the pages write it with dashes.
        yield base, code, {k: str(uuid.UUID(str(v))) for k, v in ids.items()}


def figure(text_: str) -> Decimal:
    return Decimal(text_.strip().replace(",", ""))


def month_totals(page, base, code, category_id, month) -> tuple[Decimal, Decimal, Decimal]:
    """(OTB, adjustments, remaining) of the OTB grid's total of a category in a month."""
    page.goto(f"{base}/planning/{code}/otb?category={category_id}&month={month}")
    cells = page.locator("#otb-totals tr").first.locator("td")
    values = [cells.nth(i).inner_text() for i in range(cells.count())]
    # planned sales, markdowns, closing, opening, on order, OTB, adjustments, committed, remaining
    return figure(values[5]), figure(values[6]), figure(values[8])


def dashboard_month(page, base, code, label) -> tuple[Decimal, Decimal]:
    """(adjustments, net remaining) of a month in the dashboard's budget vs actual table."""
    page.goto(f"{base}/analytics/{code}/")
    row = page.locator("table", has_text="Net remaining").first.locator(
        "tr", has=page.locator(f"td:first-child a:text-is('{label}')")).first
    cells = [row.locator("td").nth(i).inner_text() for i in range(row.locator("td").count())]
    # Month, OTB, adjustments, committed, received, net remaining, …
    return figure(cells[2]), figure(cells[5])


def test_a_planner_moves_budget_and_a_second_planner_approves(demo, browser):  # noqa: F811
    base, code, ids = demo
    planner = log_in(browser, base, js=True)
    tops_before = month_totals(planner, base, code, ids["D02-P01"], "2026-04")
    bottoms_before = month_totals(planner, base, code, ids["D02-P02"], "2026-03")
    march_before = dashboard_month(planner, base, code, "Mar 2026")
    april_before = dashboard_month(planner, base, code, "Apr 2026")

    planner.goto(f"{base}/planning/{code}/adjustments")
    planner.get_by_label("Amount to move").fill("700")
    source = planner.locator("fieldset", has_text="From (source)")
    source.get_by_label("Category (any level)").select_option(ids["D02-P01"])
    source.get_by_label("Month").select_option("2026-04")
    target = planner.locator("fieldset", has_text="To (target)")
    target.get_by_label("Category (any level)").select_option(ids["D02-P02"])
    target.get_by_label("Month").select_option("2026-03")
    planner.get_by_label("Reason").fill("Bottoms sell through faster")
    planner.get_by_role("button", name="Ask for approval").click()
    planner.get_by_text("waits for another planner or an admin to approve it").first.wait_for()
    # Asked, nothing moved yet.
    assert month_totals(planner, base, code, ids["D02-P02"], "2026-03") == bottoms_before

    second = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    second.goto(base + "/login")
    second.get_by_label("Email").fill(SECOND)
    second.get_by_label("Password").fill(PASSWORD)
    second.get_by_role("button", name="Log in").click()
    second.wait_for_url(re.compile(r".*/seasons/$"))
    # The navigation counts what waits: the demo's own request and this one.
    assert second.locator("nav .count-badge").inner_text() == "2"
    second.get_by_role("link", name=re.compile("Approvals")).click()
    request = second.locator("li.decision", has_text="Bottoms sell through faster")
    request.get_by_label("Your note").fill("Agreed")
    request.get_by_role("button", name=re.compile(r"Approve #\d+")).click()
    second.get_by_text(re.compile(r"Request #\d+ to move 700\.00 is approved")).wait_for()
    # The navigation's count follows the decision without a reload.
    second.locator("nav .count-badge", has_text="1").wait_for()

    tops = month_totals(second, base, code, ids["D02-P01"], "2026-04")
    bottoms = month_totals(second, base, code, ids["D02-P02"], "2026-03")
    assert tops[0] == tops_before[0] and bottoms[0] == bottoms_before[0]  # the OTB stays
    assert tops[1] == tops_before[1] - AMOUNT and bottoms[1] == bottoms_before[1] + AMOUNT
    assert tops[2] == tops_before[2] - AMOUNT and bottoms[2] == bottoms_before[2] + AMOUNT
    # The dashboard: March gains the amount, April gives it.
    march, april = (dashboard_month(second, base, code, m) for m in ("Mar 2026", "Apr 2026"))
    assert march == (march_before[0] + AMOUNT, march_before[1] + AMOUNT)
    assert april == (april_before[0] - AMOUNT, april_before[1] - AMOUNT)

    # The season pack prints the move, with who asked, why and who approved.
    second.goto(f"{base}/analytics/{code}/pack")
    pdf = second.pdf(format="A4")
    printed = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf,
                             capture_output=True).stdout.decode()
    moves = printed[printed.index("Kyros season pack · OTB moves"):]
    # The reason wraps in its column: its words are all there.
    assert all(word in moves for word in "Bottoms sell through faster".split())
    assert SECOND in moves and "Approved" in moves and "700.00" in moves
    planner.context.close()
    second.context.close()
