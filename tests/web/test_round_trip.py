"""The grid's round trip through a file (issue 14, item 7): download the filtered plans or OTB
grid in the upload's columns, upload it back unchanged or with one figure changed, and the
preview counts and lists exactly the changed cells; the upload page's template links."""
import csv
import io
from datetime import date
from decimal import Decimal as D

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from kyros_web.models import Upload
from kyros_web.planning.services import upsert_plan
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.uploads.models import UploadStatus

PLAN_HEADERS = ["location_code", "category_code", "planned_sales", "planned_margin",
                "inventory_turns", "location_name", "category_name"]
OTB_HEADERS = ["location_code", "category_code", "month", "planned_sales",
               "planned_closing_stock", "opening_stock", "on_order", "planned_markdowns",
               "location_name", "category_name"]


def post_file(browser, data: bytes, name: str, **fields):
    return browser.post("/uploads/", {**fields, "file": (io.BytesIO(data), name)},
                        content_type="multipart/form-data")


def read_rows(response, fmt: str) -> list[list[str]]:
    """The downloaded file's rows (header first) as text, whichever its format."""
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    if fmt == "csv":
        return list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).worksheets[0]
    return [["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)]


def figures(cells: list[str]) -> list:
    """Numbers as written (a workbook keeps 3001.10 as the number 3001.1), blank as None."""
    return [D(c) if c else None for c in cells]


def write_rows(rows: list[list[str]], fmt: str) -> bytes:
    """The rows as a file of the format, the way a planner saves an edited download."""
    if fmt == "csv":
        out = io.StringIO()
        csv.writer(out).writerows(rows)
        return out.getvalue().encode()
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def preview(browser, session, data: bytes, fmt: str, kind: str, season) -> Upload:
    response = post_file(browser, data, f"values.{fmt}", kind=kind, season=season.season_code)
    assert response.status_code == 303, response.get_data(as_text=True)
    return session.scalar(select(Upload).order_by(Upload.created_at.desc()))


@pytest.fixture
def plans_season(make, session):
    """A season open for plans: two locations × three leaves, figures with cents, no turns on
    some rows."""
    leaves = [make.category(f"CAT-{n}") for n in (1, 2, 3)]
    locations = [make.location(name="Alpha"), make.location(name="Beta")]
    season = make.season(SeasonStatus.LOCATIONS_DEFINED, locations=locations, leaves=leaves)
    for i, loc in enumerate(locations):
        for j, leaf in enumerate(leaves):
            upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                        planned_sales=f"{1000 * (i + 1) + j}.5{j}", planned_margin=f"3{j}.25",
                        inventory_turns=None if j == 2 else f"{j + 1}.5")
    return season, locations, leaves


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_plans_values_round_trip(login, session, plans_season, fmt):
    """The filtered plans download holds exactly the filtered rows in the upload's columns;
    uploaded back it changes nothing, and one edited figure is the one changed cell."""
    season, (alpha, beta), leaves = plans_season
    url = f"/planning/{season.season_code}/plans/values.{fmt}?location={beta.id}&sort=sales&dir=desc"
    rows = read_rows(login("viewer").get(url), fmt)  # a viewer may download
    assert rows[0] == PLAN_HEADERS
    assert [r[:2] for r in rows[1:]] == [[beta.location_code, leaf.code]
                                        for leaf in reversed(leaves)]  # the grid's order
    assert figures(rows[1][2:5]) == [D("2002.52"), D("32.25"), None]
    assert rows[1][5:] == ["Beta", "CAT-3"]

    planner = login("planner")
    same = preview(planner, session, write_rows(rows, fmt), fmt, "plans", season)
    assert same.status is UploadStatus.PREVIEWED
    assert (same.rows_new, same.rows_updated, same.rows_unchanged) == (0, 0, 3)
    assert "changes" not in same.summary

    rows[2][2] = "1999.99"  # Beta × CAT-2's planned sales
    changed = preview(planner, session, write_rows(rows, fmt), fmt, "plans", season)
    assert (changed.rows_new, changed.rows_updated, changed.rows_unchanged) == (0, 1, 2)
    assert changed.summary["changed_cells"] == 1
    [cell] = changed.summary["changes"]
    assert (cell["row"], cell["column"]) == (f"{beta.location_code} × CAT-2", "planned_sales")
    assert (D(cell["old"]), D(cell["new"])) == (D("2001.51"), D("1999.99"))
    page = planner.get(f"/uploads/{changed.id}").get_data(as_text=True)
    assert "Changed cells" in page and f"{beta.location_code} × CAT-2" in page
    assert "1999.99" in page and "1 cell in 1 updated row" in page


@pytest.fixture
def otb_season(make, session):
    """A season open for OTB: one location × two leaves × three months, one broken stock
    chain (CAT-B's March opening is not February's closing)."""
    leaves = [make.category("CAT-A"), make.category("CAT-B")]
    location = make.location(name="Gamma")
    season = make.season(SeasonStatus.PLAN_UPLOADED, locations=[location], leaves=leaves)
    for leaf in leaves:
        for n, month in enumerate([date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]):
            opening = "999.99" if (leaf.code, n) == ("CAT-B", 1) else f"{1000 + n * 100}.00"
            make.otb_row(season, location, leaf, month, planned_sales=f"{3000 + n}.10",
                         planned_closing_stock=f"{1100 + n * 100}.00", opening_stock=opening,
                         on_order="12.34", planned_markdowns="0.01" if n else "0")
    return season, location, leaves


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_otb_values_round_trip(login, session, otb_season, fmt):
    """The OTB download filtered by month holds that month's rows; back unchanged it is all
    unchanged, and one edited figure is listed as the one changed cell."""
    season, location, leaves = otb_season
    url = f"/planning/{season.season_code}/otb/values.{fmt}?month=2026-03"
    rows = read_rows(login("viewer").get(url), fmt)
    assert rows[0] == OTB_HEADERS
    assert [r[:3] for r in rows[1:]] == [[location.location_code, leaf.code, "2026-03"]
                                        for leaf in leaves]
    assert figures(rows[1][3:8]) == [D("3001.10"), D("1200"), D("1100"), D("12.34"), D("0.01")]
    assert rows[1][8:] == ["Gamma", "CAT-A"]

    planner = login("planner")
    same = preview(planner, session, write_rows(rows, fmt), fmt, "otb", season)
    assert (same.rows_new, same.rows_updated, same.rows_unchanged) == (0, 0, 2)

    rows[1][6] = "50"  # Gamma × CAT-A × March: on order
    changed = preview(planner, session, write_rows(rows, fmt), fmt, "otb", season)
    assert (changed.rows_new, changed.rows_updated, changed.rows_unchanged) == (0, 1, 1)
    assert changed.summary["changed_cells"] == 1
    [cell] = changed.summary["changes"]
    assert cell["row"] == f"{location.location_code} × CAT-A × 2026-03"
    assert cell["column"] == "on_order"
    assert (D(cell["old"]), D(cell["new"])) == (D("12.34"), D("50"))


def test_otb_values_follow_a_flag_that_needs_the_stock_chain(login, otb_season):
    """A flag filter read over the joined figures (the broken stock chain) keeps its rows."""
    season, location, leaves = otb_season
    rows = read_rows(login("viewer").get(
        f"/planning/{season.season_code}/otb/values.csv?flag=chain"), "csv")
    assert [r[:3] for r in rows[1:]] == [[location.location_code, "CAT-B", "2026-03"]]


def test_grids_link_to_their_values_with_the_filters(login, plans_season, otb_season):
    """Everyone who sees a grid gets the download links, carrying the grid's filters."""
    season, (alpha, beta), leaves = plans_season
    v = login("viewer")
    html = v.get(f"/planning/{season.season_code}/plans?location={beta.id}").get_data(as_text=True)
    assert f"/planning/{season.season_code}/plans/values.csv?location={beta.id}" in html
    assert "Download these values (3 rows, as filtered)" in html
    otb, *_ = otb_season
    html = v.get(f"/planning/{otb.season_code}/otb?month=2026-03").get_data(as_text=True)
    assert f"/planning/{otb.season_code}/otb/values.xlsx?month=2026-03" in html
    assert v.get(f"/planning/{otb.season_code}/otb/values.pdf").status_code == 404


def test_many_changes_keep_the_first_ones_and_count_all(login, session, otb_season, monkeypatch):
    """A file changing more cells than are shown keeps the first ones and the full count."""
    from kyros_web.uploads import kinds
    monkeypatch.setattr(kinds, "CHANGES_SHOWN", 3)
    season, location, leaves = otb_season
    rows = read_rows(login("viewer").get(f"/planning/{season.season_code}/otb/values.csv"),
                     "csv")
    for row in rows[1:]:
        row[3] = "1"
    upload = preview(login("planner"), session, write_rows(rows, "csv"), "csv", "otb", season)
    assert upload.rows_updated == 6 and upload.summary["changed_cells"] == 6
    assert len(upload.summary["changes"]) == 3


def test_template_link_follows_the_season_argument(login, otb_season):
    """The template URL with ?season= gives that season's rows; the form's links can follow
    the season select (data attributes the page script reads)."""
    season, location, leaves = otb_season
    p = login("planner")
    rows = read_rows(p.get(f"/uploads/template/otb.csv?season={season.season_code}"), "csv")
    assert len(rows) == 1 + 2 * 3 and rows[1][:3] == [location.location_code, "CAT-A", "2026-02"]
    assert len(read_rows(p.get("/uploads/template/otb.csv"), "csv")) == 1
    form = p.get("/uploads/new").get_data(as_text=True)
    assert "data-template-season" in form and form.count("data-template-link") >= 4
