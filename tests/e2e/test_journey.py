"""The main journey in a real browser (Debian's chromium driven by Playwright), against
gunicorn on a loopback port and a fresh database: master data, a season walked to locked
through uploads and forms, buying with an over-OTB warning, analytics, printing to PDF, and
a viewer who finds nothing to edit. Run once with JavaScript and once without.

Skipped, with the reason, when Playwright or chromium is missing; KYROS_REQUIRE_E2E=1 (set by
.ci/run) turns that skip into a failure."""
from __future__ import annotations

import csv
import re
import subprocess
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest

from .serving import CHROMIUM, require_browser, served

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "tests" / "data"
PASSWORD = "journey-password"
ANALYTICS = ["Dashboard", "Read-only view", "Budget vs actual", "Category breakdown",
             "Cluster summary", "Location performance", "PO status", "Price band analysis"]


@pytest.fixture
def server():
    """A fresh database and gunicorn for each run: PO numbers are unique across seasons."""
    require_browser("the browser journey", pdf=True)
    users = [["kyros", "create-user", f"{role}@e2e.example", "--role", role,
              "--password", PASSWORD] for role in ("planner", "buyer", "viewer")]
    with served("kyros-e2e-", *users) as (base, _):
        yield base


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"])
        yield b
        b.close()


def log_in(browser, base, role, js):
    context = browser.new_context(java_script_enabled=js, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(20000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(base + "/login")
    page.get_by_label("Email").fill(f"{role}@e2e.example")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r".*/seasons/$"))
    return page


def upload(page, base, link_name, sample, kind=None, season=None):
    if link_name:
        page.get_by_role("link", name=link_name).first.click()
    else:
        page.goto(f"{base}/uploads/new?kind={kind}" + (f"&season={season}" if season else ""))
    page.wait_for_url(re.compile(r".*/uploads/new.*"))
    page.get_by_label("File", exact=True).set_input_files(str(SAMPLES / sample))
    page.get_by_role("button", name="Upload").click()
    page.get_by_role("button", name="Confirm import").wait_for()
    preview = page.content()
    page.get_by_role("button", name="Confirm import").click()
    page.get_by_text("Committed: every row was written.").first.wait_for()
    return preview


def advance(page, base, code, title):
    page.goto(f"{base}/seasons/{code}")
    page.get_by_role("button", name=f"Advance to {title}").click()
    page.get_by_text(f"is now {title}").first.wait_for()


@pytest.mark.parametrize("js", [True, False], ids=["javascript", "no-javascript"])
def test_the_main_journey(server, browser, js, tmp_path):
    base = server
    planner = log_in(browser, base, "planner", js)

    upload(planner, base, None, "locations.csv", kind="locations")
    upload(planner, base, None, "categories.csv", kind="categories")

    planner.goto(base + "/seasons/")
    planner.get_by_role("link", name="New season").click()
    planner.wait_for_url(re.compile(r".*/seasons/new$"))
    name = f"Journey {'JS' if js else 'no JS'}"
    planner.get_by_label("Name", exact=True).fill(name)
    planner.get_by_label("Start date").fill("2026-02-01")
    planner.get_by_label("End date").fill("2026-04-30")
    planner.get_by_role("button", name="Create season").click()
    planner.get_by_text("Assign at least one active location").first.wait_for()
    code = re.search(r"/seasons/([A-Z0-9]{4}-[A-Z0-9]{4})", planner.url).group(1)
    if js:  # the upload page's template links follow the season chosen in the form
        planner.goto(f"{base}/uploads/new")
        template = planner.locator("a[data-template-link]").first
        assert "season=" not in template.get_attribute("href")
        planner.locator("#season").select_option(code)
        assert f"season={code}" in template.get_attribute("href")
        planner.goto(f"{base}/seasons/{code}")

    planner.get_by_role("link", name="Fix in Season locations").click()
    planner.wait_for_url(re.compile(r".*/locations$"))
    planner.get_by_role("button", name="Add every active location").click()
    planner.get_by_text("7 locations assigned").first.wait_for()
    advance(planner, base, code, "Locations defined")

    planner.goto(f"{base}/planning/{code}/plans")
    upload(planner, base, "Upload a plans file", "plans.csv")
    planner.goto(f"{base}/planning/{code}/plans")
    planner.get_by_role("button", name="Approve all 72 shown by the filters").click()
    planner.get_by_text("72 plan rows approved.").first.wait_for()
    advance(planner, base, code, "Plan uploaded")

    planner.goto(f"{base}/planning/{code}/otb")
    upload(planner, base, "Upload an OTB file", "otb.csv")
    advance(planner, base, code, "OTB uploaded")

    planner.goto(f"{base}/planning/{code}/range")
    for label, value in (("Core % for D01-P01-C01", "50"), ("Fashion % for D01-P01-C01", "50"),
                         ("Price band low % for D01-P01-C01", "30"),
                         ("Price band mid % for D01-P01-C01", "55"),
                         ("Price band high % for D01-P01-C01", "15")):
        planner.get_by_label(label).fill(value)
    planner.get_by_role("button", name="Save D01-P01-C01").click()
    planner.get_by_text("11 leaf categories with OTB but no range intent").first.wait_for()
    preview = upload(planner, base, "Upload a range intent file", "range.csv")
    assert re.search(r">\s*11\s*<", preview) and re.search(r">\s*1\s*<", preview)
    advance(planner, base, code, "Range uploaded")

    buyer = log_in(browser, base, "buyer", js)
    buyer.goto(f"{base}/purchasing/{code}/pos")
    preview = upload(buyer, base, "Upload a PO file", "pos.csv")
    assert "OTB cell(s) would go over OTB" in preview
    buyer.goto(f"{base}/purchasing/{code}/grns")
    upload(buyer, base, "Upload a GRN file", "grns.csv")
    buyer.goto(f"{base}/purchasing/{code}/pos?status=received")
    assert buyer.get_by_role("link", name="PO-26-000002").count() == 1

    planner.goto(f"{base}/seasons/{code}")
    planner.get_by_label("I understand that locking is final").check()
    planner.get_by_role("button", name="Advance to Locked").click()
    planner.get_by_text("is now Locked").first.wait_for()

    for title in ANALYTICS:
        planner.goto(f"{base}/analytics/{code}/")
        planner.get_by_role("navigation", name="Analytics").get_by_role("link", name=title).click()
        planner.wait_for_load_state()
        planner.get_by_role("heading", name=title, exact=True).wait_for()
    planner.goto(f"{base}/analytics/workflow")
    planner.get_by_role("heading", name="Workflow status of all seasons").first.wait_for()
    if js:  # printing to PDF needs the page as rendered; once is enough
        planner.goto(f"{base}/analytics/{code}/")
        pdf = tmp_path / "dashboard.pdf"
        planner.pdf(path=str(pdf), format="A4")
        text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True,
                              text=True).stdout
        assert code in text and "Dashboard" in text and "Log out" not in text
        # Each KPI on one line: its label, then its figure whole.
        for kpi in (r"Budget utilisation +[\d.,]+ %", r"Open or partly received +\d+",
                    r"Planned margin \(sales-weighted\) +[\d.,]+ %"):
            assert re.search(kpi, text), kpi

    viewer = log_in(browser, base, "viewer", js)
    otb_by_month(viewer, base, code)
    for path in (f"/seasons/{code}", f"/seasons/{code}/locations", f"/planning/{code}/plans",
                 f"/planning/{code}/otb", f"/planning/{code}/otb/pivot", f"/planning/{code}/range",
                 f"/purchasing/{code}/pos",
                 f"/purchasing/{code}/grns", f"/uploads/?season={code}", f"/analytics/{code}/",
                 "/masterdata/locations", "/masterdata/categories", "/masterdata/clusters"):
        viewer.goto(base + path)
        assert viewer.locator("form[method=post]").count() == 1, path  # log out only
        assert viewer.locator("input[form]").count() == 0, path
        assert viewer.get_by_role("link", name=re.compile(r"^(New |Upload a|Upload locations|Upload categories|Edit)")).count() == 0, path
    # The viewer's account page ends every session of theirs; a copy of the cookie taken
    # before then opens nothing.
    copied = viewer.context.cookies()
    viewer.get_by_title("Your account").click()
    viewer.get_by_role("heading", name="Your account").wait_for()
    viewer.get_by_role("button", name="Log out everywhere").click()
    viewer.wait_for_url(re.compile(r".*/login.*"))
    replay = browser.new_context(java_script_enabled=js)
    replay.add_cookies(copied)
    replayed = replay.new_page()
    replayed.goto(base + "/seasons/")
    assert "/login" in replayed.url
    replay.close()
    for page in (planner, buyer, viewer):
        page.context.close()


def otb_by_month(page, base, code):
    """From the OTB grid to the pivot: February's OTB of all rows and of one cluster's
    locations, once the cluster is opened, are the sample file's figures."""
    clusters = {}
    with open(SAMPLES / "locations.csv") as f:
        for row in csv.DictReader(f):
            clusters[row["location_code"]] = row["cluster"]
    feb = defaultdict(Decimal)
    with open(SAMPLES / "otb.csv") as f:
        for row in csv.DictReader(f):
            if row["month"] == "2026-02":
                n = {k: Decimal(row[k] or "0") for k in ("planned_sales", "planned_markdowns",
                     "planned_closing_stock", "opening_stock", "on_order")}
                feb[row["location_code"]] += (n["planned_sales"] + n["planned_markdowns"]
                                              + n["planned_closing_stock"] - n["opening_stock"]
                                              - n["on_order"])

    def shown(label):
        return page.get_by_label(label, exact=True).inner_text().strip()

    page.goto(f"{base}/planning/{code}/otb")
    page.get_by_role("link", name="By month", exact=True).click()
    page.wait_for_url(re.compile(r".*/otb/pivot$"))
    assert shown("OTB, all rows, Feb 2026") == f"{sum(feb.values()):,.2f}"
    region = "Region 01"
    page.get_by_role("link", name=f"Open {region}").click()
    page.get_by_role("link", name=f"Close {region}").wait_for()
    for location, cluster in clusters.items():
        if cluster == region and location in feb:
            assert shown(f"OTB, {location}, Feb 2026") == f"{feb[location]:,.2f}", location
        else:
            assert page.get_by_label(f"OTB, {location}, Feb 2026", exact=True).count() == 0
