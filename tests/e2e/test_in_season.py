"""The in-season loop in a real browser (issue 16, Evidence): on the demo data the planner
uploads a corrected March of actuals for "Spring Summer 2026" through the upload page
(preview, then confirm), reads the In season page's figures move by exactly the correction,
then chooses the "plan" reforecast method with the page's form and reads April's reforecast
sales become the plan.

Skipped like the journey when Playwright or chromium is missing (KYROS_REQUIRE_E2E=1 fails)."""
from __future__ import annotations

import re
import subprocess
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from .serving import require_browser, served
from .test_grid import log_in, money
from .test_journey import browser  # noqa: F401  (the browser fixture)

SEASON = "Spring Summer 2026"
CORRECTION = Decimal("1000.00")  # added to the net sales of each corrected cell
CELLS = 3


@pytest.fixture(scope="module")
def demo():
    """gunicorn on the demo data; the season's code and three of its March actuals."""
    require_browser("the in-season browser test", pdf=True)
    with served("kyros-inseason-", ["kyros", "demo-data"]) as (base, db_url):
        engine = create_engine(db_url)
        with engine.connect() as conn:
            code = conn.execute(text("SELECT season_code FROM seasons WHERE name = :n"),
                                {"n": SEASON}).scalar_one()
            rows = conn.execute(text(
                "SELECT l.location_code, c.code, a.month, a.net_sales, a.markdowns, "
                "a.closing_stock FROM season_actuals a JOIN seasons s ON s.id = a.season_id "
                "JOIN locations l ON l.id = a.location_id JOIN categories c ON c.id = a.category_id "
                "WHERE s.season_code = :code ORDER BY l.location_code, c.code, a.month"),
                {"code": code}).all()
        engine.dispose()
        march = [r for r in rows if str(r[2])[:7] == "2026-03"][:CELLS]
        assert len(march) == CELLS
        yield base, code, march


def figure(text_: str) -> Decimal:
    return Decimal(text_.strip().replace(",", ""))


def kpi(page, label: str) -> Decimal:
    return figure(page.locator(f".kpi:has(dt:text-is('{label}')) dd").first.inner_text())


def month_cell(page, measure: str, column: int) -> str:
    """A cell of the months table: column 1 is the season's first month."""
    row = page.locator("table").first.locator(f"tr:has(td:text-is('{measure}'))").first
    return row.locator("td").nth(column).inner_text().strip()


def test_upload_corrected_actuals_and_read_the_in_season_page(demo, browser, tmp_path):  # noqa: F811
    base, code, march = demo
    page = log_in(browser, base, js=True)
    in_season = f"{base}/analytics/{code}/in-season"
    page.goto(in_season)
    sales_before = kpi(page, "Actual sales to date")
    march_before = figure(month_cell(page, "Sales: actual", 2))
    april_trend_before = figure(month_cell(page, "Sales: reforecast", 3))
    closing_before = month_cell(page, "Closing stock: actual", 2)

    lines = ["location_code,category_code,month,net_sales,markdowns,closing_stock"]
    for location, category, _, net_sales, markdowns, closing in march:
        lines.append(f"{location},{category},2026-03,{money(net_sales) + CORRECTION},"
                     f"{money(markdowns)},{money(closing)}")
    corrected = tmp_path / "actuals-march.csv"
    corrected.write_text("\n".join(lines) + "\n")

    page.goto(f"{base}/uploads/new?kind=actuals&season={code}")
    page.get_by_label("File", exact=True).set_input_files(str(corrected))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Confirm import").wait_for()
    page.get_by_role("button", name="Confirm import").click()
    page.get_by_text("Committed: every row was written.").first.wait_for()

    page.goto(in_season)
    added = CORRECTION * CELLS
    assert kpi(page, "Actual sales to date") == sales_before + added
    assert figure(month_cell(page, "Sales: actual", 2)) == march_before + added
    assert month_cell(page, "Closing stock: actual", 2) == closing_before
    # Sales to date ran ahead by the correction: by the trend method April's forecast rises.
    april_trend = figure(month_cell(page, "Sales: reforecast", 3))
    assert april_trend > april_trend_before

    # The reforecast method form: "plan" puts April's forecast back to the plan.
    page.get_by_label("Reforecast method").select_option("plan")
    page.get_by_role("button", name="Save").click()
    page.get_by_text(f"Reforecast method of season {code}: Plan").first.wait_for()
    assert month_cell(page, "Sales: reforecast", 3) == month_cell(page, "Sales: plan", 3)
    assert figure(month_cell(page, "Sales: actual", 2)) == march_before + added

    # Printed: the KPI tables' fifteen columns need the width of a landscape page, and the
    # last one (the in-season OTB) is on it, whole.
    otb = page.locator(".kpi:has(dt:text-is('In-season OTB (months ahead)')) dd").first.inner_text()
    pdf = tmp_path / "in-season.pdf"
    page.pdf(path=str(pdf), format="A4")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Page size: +84[12]\.\d+ x 595\.\d+ pts", info), info
    printed = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                             text=True).stdout
    assert "Log out" not in printed and "Save" not in printed
    assert re.search(r"Season +[\d,.]+ +[\d,.]+ .*" + re.escape(otb.strip()) + r"\s*$", printed,
                     re.M), "the KPI table's total line lost its last column"
    page.context.close()
