"""The planning grid in a real browser (issue 14): the OTB pivot of the demo season that is
open for OTB (Autumn Winter 2026, plan_uploaded), driven with the keyboard, a pasted block
(a paste event carrying tab-separated text), a spread total and undo, each checked against
the stored values and the totals on screen; then the same edits through the forms a browser
without JavaScript gets.

Skipped like the journey when Playwright or chromium is missing (KYROS_REQUIRE_E2E=1 fails)."""
from __future__ import annotations

import re
from decimal import Decimal

import pytest
from sqlalchemy import create_engine, text

from .serving import require_browser, served
from .test_journey import browser  # noqa: F401  (the browser fixture)

SEASON = "Autumn Winter 2026"
PASSWORD = "kyros-demo"


@pytest.fixture(scope="module")
def demo():
    """gunicorn on the demo data, and an engine on its database to read what was stored."""
    require_browser("the grid's browser test")
    with served("kyros-grid-", ["kyros", "demo-data"]) as (base, db_url):
        engine = create_engine(db_url)
        with engine.connect() as conn:
            code = conn.execute(text("SELECT season_code FROM seasons WHERE name = :n"),
                                {"n": SEASON}).scalar_one()
        yield base, engine, code
        engine.dispose()


def money(value) -> Decimal:
    """A stored figure (cents on SQLite, NUMERIC on PostgreSQL) as Decimal."""
    return Decimal(value) / 100 if isinstance(value, int) else Decimal(value).quantize(Decimal("0.01"))


def stored(engine, code, cell_key) -> Decimal:
    """The stored value of a grid cell, by its key "measure|location|category|YYYY-MM"."""
    measure, location, category, month = cell_key.split("|")
    assert re.fullmatch(r"[a-z_]+", measure)
    with engine.connect() as conn:
        rows = conn.execute(text(
            f"SELECT o.{measure}, o.location_id, o.category_id, o.month FROM otb_plan o "
            "JOIN seasons s ON s.id = o.season_id WHERE s.season_code = :code"),
            {"code": code}).all()
    for value, loc, cat, when in rows:
        if (str(loc).replace("-", "") == location and str(cat).replace("-", "") == category
                and str(when)[:7] == month):
            return money(value)
    raise AssertionError(f"no row for {cell_key}")


def season_sum(engine, code, measure="planned_sales", month=None) -> Decimal:
    """The stored sum of an input over the season (or one month, "YYYY-MM-DD")."""
    with engine.connect() as conn:
        values = conn.execute(text(
            f"SELECT o.{measure}, o.month FROM otb_plan o JOIN seasons s ON s.id = o.season_id "
            "WHERE s.season_code = :code"), {"code": code}).all()
    return sum((money(v) for v, when in values if month is None or str(when)[:10] == month),
               Decimal("0"))


def shown(page, selector) -> Decimal:
    return Decimal(page.locator(selector).first.inner_text().strip().replace(",", ""))


def log_in(browser, base, js):  # noqa: F811
    context = browser.new_context(java_script_enabled=js, viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20000)
    page = context.new_page()
    page.goto(base + "/login")
    page.get_by_label("Email").fill("planner@kyros.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/seasons/$"))
    return page


def saved(page, text_start):
    page.wait_for_selector(f"#grid .grid-notice:has-text('{text_start}')")


def test_keyboard_paste_spread_and_undo(browser, demo):  # noqa: F811
    base, engine, code = demo
    page = log_in(browser, base, js=True)
    page.goto(f"{base}/planning/{code}/otb/pivot?measure=planned_sales&level=9")
    cells = page.locator("td[data-cell]")
    first = cells.first
    key, label = first.get_attribute("data-cell"), first.get_attribute("aria-label")
    assert re.fullmatch(r"Planned sales, [A-Z0-9]+, [A-Z0-9-]+, Aug 2026", label)
    month_total = "tbody.pivot-grand td[data-col='2026-08']"
    before_total = shown(page, month_total)
    before = stored(engine, code, key)

    # Typing replaces; Tab saves and moves right; the totals on screen follow.
    first.click()
    page.keyboard.type("4321.5")
    page.keyboard.press("Tab")
    saved(page, "Saved")
    assert stored(engine, code, key) == Decimal("4321.50")
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == label.replace(
        "Aug 2026", "Sep 2026")
    assert shown(page, month_total) == before_total - before + Decimal("4321.50")
    assert shown(page, f"td[data-cell='{key}']") == Decimal("4321.50")

    # Arrow keys move; Escape cancels an edit; F2 edits the value in place.
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.activeElement.getAttribute('data-cell')") == key
    page.keyboard.press("ArrowDown")
    below = page.evaluate("document.activeElement.getAttribute('data-cell')")
    assert below != key and below.endswith("|2026-08")
    page.keyboard.type("999")
    page.keyboard.press("Escape")
    assert stored(engine, code, below) != Decimal("999")
    page.keyboard.press("Shift+Enter")
    assert page.evaluate("document.activeElement.getAttribute('data-cell')") == key
    page.keyboard.press("F2")
    assert page.locator(f"td[data-cell='{key}'] input").input_value() == "4321.50"
    page.keyboard.press("End")
    page.keyboard.type("1")  # 4321.501: too many decimals
    page.keyboard.press("Enter")
    page.wait_for_selector(f"td[data-cell='{key}'].refused .cell-error")
    assert "decimal" in page.locator(f"td[data-cell='{key}'] .cell-error").inner_text()
    assert page.locator(f"td[data-cell='{key}'] input").input_value() == "4321.501"
    assert stored(engine, code, key) == Decimal("4321.50")
    page.keyboard.press("Escape")

    # Paste a 2 × 2 block at the focused cell.
    page.locator(f"td[data-cell='{key}']").click()
    page.evaluate("""() => {
        const data = new DataTransfer();
        data.setData('text/plain', '10\\t20\\r\\n30\\t40\\r\\n');
        document.activeElement.dispatchEvent(new ClipboardEvent('paste', {clipboardData: data, bubbles: true}));
    }""")
    saved(page, "Saved: Pasted 4 cells")
    lines = page.locator("tr:has(td[data-cell])")
    pasted = [lines.nth(r).locator("td[data-cell]").nth(c).get_attribute("data-cell")
              for r in range(2) for c in range(2)]
    assert [stored(engine, code, k) for k in pasted] == [Decimal(v) for v in ("10", "20", "30", "40")]

    # Type a season total and spread it, after the preview.
    spread_cell = page.locator("td[data-spread='|planned_sales|total']")
    spread_cell.click()
    page.keyboard.type("200000")
    page.keyboard.press("Enter")
    page.wait_for_selector("#spread-dialog[open]")
    assert "Spreading 200,000.00 of planned sales" in page.locator("#spread-dialog").inner_text()
    assert "by their current values" in page.locator("#spread-dialog").inner_text()
    page.locator("#spread-dialog .spread-shape").select_option("even")  # previewed again
    page.wait_for_selector("#spread-dialog:has-text('will change, by evenly')")
    assert season_sum(engine, code) != Decimal("200000")  # nothing saved by the preview
    page.get_by_role("button", name="Save the spread").click()
    saved(page, "Spread 200,000.00")
    # Closed, and not reopened by a preview that answered late.
    page.locator("#spread-dialog[open]").wait_for(state="detached")
    assert season_sum(engine, code) == Decimal("200000.00")
    assert shown(page, "td[data-spread='|planned_sales|total']") == Decimal("200000.00")

    # Undo, one step at a time: the spread, then the paste.
    page.locator(f"td[data-cell='{key}']").click()
    page.keyboard.press("Control+z")
    saved(page, "Undone: Spread")
    assert stored(engine, code, pasted[0]) == Decimal("10")
    assert season_sum(engine, code) != Decimal("200000.00")
    page.locator(f"td[data-cell='{key}']").click()
    page.keyboard.press("Control+z")
    saved(page, "Undone: Pasted 4 cells")
    assert stored(engine, code, key) == Decimal("4321.50")
    page.context.close()


def test_the_same_edits_without_javascript(browser, demo):  # noqa: F811
    base, engine, code = demo
    page = log_in(browser, base, js=False)
    page.goto(f"{base}/planning/{code}/otb/pivot?measure=on_order&level=9")
    row_label = page.locator("tbody.pivot-leaf th.pivot-label").first
    link = row_label.locator("a.row-edit")
    link.click()
    page.wait_for_url(re.compile(r".*/otb/pivot/row.*"))
    field = page.get_by_label(re.compile(r"^On order, .*, Aug 2026$"))
    name = field.get_attribute("id")
    key = page.locator(f"#{name}").locator("xpath=..").locator("input[name=cell]").get_attribute("value")
    field.fill("12.34")
    page.get_by_role("button", name="Save").click()
    page.wait_for_url(re.compile(r".*/otb/pivot\?.*"))
    assert "Saved: On order" in page.locator(".flashes").inner_text()
    assert stored(engine, code, key) == Decimal("12.34")

    # Paste a block through the form: the block, where it starts, then the cells to save.
    page.get_by_role("link", name="Paste a block").click()
    page.get_by_label("Starting at the line").select_option(index=0)
    page.get_by_label("and the month").select_option("2026-09")
    page.get_by_label("Block").fill("5\t6")
    page.get_by_role("button", name="Show the cells it fills").click()
    page.wait_for_selector("h2:has-text('Check the 2 pasted cells')")
    page.get_by_role("button", name="Save").click()
    assert "Saved: Pasted 2 cells" in page.locator(".flashes").inner_text()

    # Spread a total through the form, after its preview.
    page.get_by_role("link", name="Spread a total").click()
    page.get_by_label("Total", exact=True).select_option(label="On order, all rows, Sep 2026")
    page.get_by_label("Spread this total").fill("3000")
    page.get_by_label("Shared").select_option("even")
    page.get_by_role("button", name="Show what changes").click()
    page.wait_for_selector("h3:has-text('Spreading 3,000.00 of on order')")
    page.get_by_role("button", name="Save the spread").click()
    assert "Spread 3,000.00" in page.locator(".flashes").inner_text()
    assert season_sum(engine, code, "on_order", "2026-09-01") == Decimal("3000.00")

    # Undo from the button: the spread goes back, the paste stays.
    page.get_by_role("button", name="Undo").click()
    assert "Undone: Spread" in page.locator(".flashes").inner_text()
    assert season_sum(engine, code, "on_order", "2026-09-01") != Decimal("3000.00")
    page.context.close()
