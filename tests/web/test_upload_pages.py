"""Upload pages: form, preview, confirm, rejected rows, templates, history, roles."""
import gc
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from kyros_web.models import Location, SeasonPlan, Upload
from kyros_web.seasons.workflow import SeasonStatus

SAMPLES = Path(__file__).parent.parent / "data"
HX = {"HX-Request": "true"}


def post_file(browser, data: bytes, name: str, **fields):
    return browser.post("/uploads/", {**fields, "file": (io.BytesIO(data), name)},
                        content_type="multipart/form-data")


def test_upload_preview_confirm(login, session):
    b = login("planner")
    assert b.get("/uploads/new?kind=locations").status_code == 200
    response = post_file(b, (SAMPLES / "locations.csv").read_bytes(), "locations.csv",
                         kind="locations")
    assert response.status_code == 303
    preview = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "Preview: nothing is written until you confirm." in preview
    assert "New clusters will be created: Region 01, Region 02" in preview
    assert ">Confirm import</button>" in preview
    assert session.scalar(select(func.count(Location.id))) == 0
    upload = session.scalar(select(Upload))
    done = b.post(f"/uploads/{upload.id}/confirm")
    assert done.status_code == 303
    page = b.get(done.headers["Location"]).get_data(as_text=True)
    assert "Committed: every row was written." in page and "7 new" in page
    assert session.scalar(select(func.count(Location.id))) == 7
    assert b.post(f"/uploads/{upload.id}/confirm").status_code == 422  # not twice
    history = b.get("/uploads/").get_data(as_text=True)
    assert "locations.csv" in history and "Committed" in history


def test_rejected_file_shows_errors_and_cannot_be_confirmed(login, make, session):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    b = login("planner")
    data = b"location_code,category_code,planned_sales,planned_margin\nNOPE,X,<b>1</b>,1\n"
    response = post_file(b, data, "plans.csv", kind="plans", season=season.season_code)
    page = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "Rejected: nothing was written." in page and "Confirm import" not in page
    assert "&lt;b&gt;1&lt;/b&gt;" in page and "<b>1</b>" not in page
    upload = session.scalar(select(Upload))
    csv_body = b.get(f"/uploads/{upload.id}/rejected.csv")
    assert csv_body.mimetype == "text/csv" and "error" in csv_body.get_data(as_text=True).splitlines()[0]
    assert b.post(f"/uploads/{upload.id}/confirm").status_code == 422
    assert session.scalar(select(func.count(SeasonPlan.id))) == 0


def test_rejected_rows_download_under_a_safe_name(login, make, session):
    """The uploader's file name reaches the download's header with only safe characters."""
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    b = login("planner")
    data = b"location_code,category_code,planned_sales,planned_margin\nNOPE,X,1,1\n"
    post_file(b, data, "plans (v2) für Nord.csv", kind="plans", season=season.season_code)
    upload = session.scalar(select(Upload))
    response = b.get(f"/uploads/{upload.id}/rejected.csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=plans_v2_fur_Nord-rejected.csv")
    assert response.get_data(as_text=True).splitlines()[1].startswith("NOPE,X,1,1,")


def test_form_errors_are_422_fragments(login, make):
    b = login("planner")
    missing = b.post("/uploads/", {"kind": "locations"}, headers=HX)
    assert missing.status_code == 422 and "Choose a file to upload." in missing.get_data(as_text=True)
    assert missing.get_data(as_text=True).lstrip().startswith('<form id="upload-form"')
    no_season = post_file(b, b"a,b\n", "x.csv", kind="plans")
    assert no_season.status_code == 422 and "choose one" in no_season.get_data(as_text=True)


# Werkzeug's test client spools a body over 500 KB to a temporary file that it never closes;
# the app closes its own copy (see uploads.views.create).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_too_large_is_refused_and_stores_nothing(app, login, session):
    b = login("planner")
    app.config["KYROS_MAX_UPLOAD_MB"] = 1
    try:
        response = post_file(b, b"name,type\n" + b"x" * (1024 * 1024 + 10), "big.csv", kind="locations")
    finally:
        app.config["KYROS_MAX_UPLOAD_MB"] = 25
    assert response.status_code == 422 and "larger than 1 MB" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Upload.id))) == 0
    del response
    gc.collect()  # the client's temporary file goes here, under this test's filters


def test_roles(login, make):
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    assert login("viewer").get("/uploads/new").status_code == 403
    buyer = login("buyer")
    response = post_file(buyer, b"location_code\n", "p.csv", kind="plans", season=season.season_code)
    assert response.status_code == 403
    form = buyer.get("/uploads/new").get_data(as_text=True)
    assert "Purchase orders" in form and "Season plans" not in form


def test_templates_download(login, make):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    make.category()  # one leaf × the season's one location
    b = login("planner")
    csv_body = b.get(f"/uploads/template/plans.csv?season={season.season_code}")
    lines = csv_body.get_data(as_text=True).splitlines()
    assert lines[0] == ("location_code,category_code,planned_sales,planned_margin,"
                        "inventory_turns,location_name,category_name")
    assert len(lines) == 2
    xlsx = b.get("/uploads/template/pos.xlsx")
    assert xlsx.data[:2] == b"PK" and "attachment" in xlsx.headers["Content-Disposition"]
    assert b.get("/uploads/template/nope.csv").status_code == 404
    assert b.get("/uploads/template/plans.pdf").status_code == 404


def test_actuals_upload_page_warns_of_negative_net_sales(app, login, make, session,
                                                        monkeypatch):
    """The form and the history offer the actuals kind; a file with negative net sales
    previews with its warning and confirms; the season's template names the started months."""
    from datetime import date

    from kyros_web.models import SeasonActual

    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 2, 20))
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    loc, leaf = season.test_locations[0].location_code, season.test_leaves[0].code
    b = login("planner")
    form = b.get("/uploads/new").get_data(as_text=True)
    assert '<option value="actuals" >Actuals</option>' in form
    assert '<option value="actuals" >Actuals</option>' in b.get("/uploads/").get_data(as_text=True)
    data = ("location_code,category_code,month,net_sales,markdowns,closing_stock\n"
            f"{loc},{leaf},2026-02,-12.00,0,900\n").encode()
    response = post_file(b, data, "actuals.csv", kind="actuals", season=season.season_code)
    assert response.status_code == 303
    preview = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "1 row(s) have negative net sales (more returned than sold)" in preview
    upload = session.scalar(select(Upload))
    assert b.post(f"/uploads/{upload.id}/confirm").status_code == 303
    assert session.scalar(select(SeasonActual.net_sales)) == -12
    done = b.get(f"/uploads/{upload.id}").get_data(as_text=True)
    assert f'href="/analytics/{season.season_code}/in-season">See the data' in done
    lines = b.get(f"/uploads/template/actuals.csv?season={season.season_code}"
                  ).get_data(as_text=True).splitlines()
    assert lines[0].startswith("location_code,category_code,month,net_sales,markdowns,")
    assert [line.split(",")[2] for line in lines[1:]] == ["2026-02"]


def test_actuals_refused_before_the_season_is_in_season(login, make):
    """Before range_uploaded the page says why, in the workflow's words."""
    season = make.season(SeasonStatus.OTB_UPLOADED)
    b = login("planner")
    data = b"location_code,category_code,month,net_sales,markdowns,closing_stock\n"
    response = post_file(b, data, "actuals.csv", kind="actuals", season=season.season_code)
    page = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "Actuals can only be changed while the season is &#39;range_uploaded&#39;" in page


def test_history_shows_where_an_import_came_from(login, session):
    """Issue 18, item 7: the upload page's imports say File, the API's bulk writes API."""
    b = login("planner")
    post_file(b, (SAMPLES / "locations.csv").read_bytes(), "locations.csv", kind="locations")
    post_file(b, (SAMPLES / "locations.csv").read_bytes(), "bulk.json", kind="locations")
    api_upload = session.scalar(select(Upload).where(Upload.file_name == "bulk.json"))
    assert api_upload.source == "file"
    api_upload.source = "api"
    session.commit()
    html = b.get("/uploads/").get_data(as_text=True)
    assert '<th scope="col">Source</th>' in html
    rows = {name: html[html.index(f">{name}</a>"):].split("</tr>")[0]
            for name in ("locations.csv", "bulk.json")}
    assert "<td>API</td>" in rows["bulk.json"] and "<td>File</td>" not in rows["bulk.json"]
    assert "<td>File</td>" in rows["locations.csv"] and "<td>API</td>" not in rows["locations.csv"]
    detail = b.get(f"/uploads/{api_upload.id}").get_data(as_text=True)
    assert "sent through the API by" in detail
