"""Hostile requests: NUL bytes anywhere in the input, absurd page numbers on every page, and
htmx history restores (SPEC §8)."""
import io
import re
import uuid

import pytest
from sqlalchemy import func, select

from kyros_web.models import Cluster, Upload, UserSession
from kyros_web.seasons.workflow import SeasonStatus
from tests.factories import PASSWORD

NUL = "\x00"


def refused_naming(response, field):
    """A 400 page whose message names the field."""
    html = response.get_data(as_text=True)
    return (response.status_code == 400
            and f"The field &#34;{field}&#34; contains a NUL byte" in html)


@pytest.mark.parametrize("field", ["email", "password"])
def test_nul_byte_in_login_form_is_a_400_naming_the_field(browser, make, session, field):
    """/login refuses it before looking anyone up, and no session starts."""
    user = make.user("viewer")
    data = {"email": user.email, "password": PASSWORD}
    data[field] = data[field][:3] + NUL + data[field][3:]
    response = browser.post("/login", data)
    assert refused_naming(response, field)
    assert session.scalar(select(func.count()).select_from(UserSession)) == 0


def test_nul_byte_in_a_search_is_a_400(login, make):
    """The seasons search box: PostgreSQL would refuse the LIKE with a 500."""
    make.season(SeasonStatus.CREATED)
    viewer = login("viewer")
    assert refused_naming(viewer.get("/seasons/?q=a%00b"), "q")
    assert refused_naming(viewer.get("/seasons/?q=a%00b", headers={"HX-Request": "true"}), "q")


def test_nul_byte_in_an_argument_name_is_a_400(login):
    """The name of a query argument is checked as well as its value."""
    viewer = login("viewer")
    assert refused_naming(viewer.get("/seasons/?status%00=x"), "status\\0")


def test_nul_byte_in_the_address_is_a_400(login, make):
    """A season code taken from the path."""
    viewer = login("viewer")
    assert refused_naming(viewer.get("/seasons/AB%00CD"), "code")


def test_nul_byte_in_a_write_form_is_a_400_and_stores_nothing(login, session):
    """Creating a cluster whose name holds NUL."""
    planner = login("planner")
    response = planner.post("/masterdata/clusters", {"name": "North" + NUL, "description": ""})
    assert refused_naming(response, "name")
    assert session.scalar(select(func.count(Cluster.id))) == 0


def test_nul_byte_in_an_uploaded_file_name_is_a_400_and_stores_nothing(login, session):
    """The file's name is checked; the upload is not kept."""
    planner = login("planner")
    response = planner.post("/uploads/", {"kind": "locations",
                                          "file": (io.BytesIO(b"location_code\n"),
                                                   "loc" + NUL + "ations.csv")},
                            content_type="multipart/form-data")
    assert refused_naming(response, "file")
    assert session.scalar(select(func.count(Upload.id))) == 0


def test_nul_bytes_inside_file_content_are_the_parsers_business(login, session):
    """Only names are checked: the content goes on to the upload's own validation."""
    planner = login("planner")
    response = planner.post("/uploads/", {"kind": "locations",
                                          "file": (io.BytesIO(b"location_code\nA\x00B\n"),
                                                   "locations.csv")},
                            content_type="multipart/form-data")
    assert "contains a NUL byte" not in response.get_data(as_text=True)
    assert response.status_code < 500


# Every list with a pager: these must answer 200 whatever the page asked for.
LISTS = {"seasons.index", "seasons.locations", "seasons.history", "masterdata.clusters",
         "masterdata.locations", "auth.users", "uploads.index", "planning.plans", "planning.otb",
         "purchasing.pos", "purchasing.grns", "analytics.workflow"}
HOSTILE_PAGES = ["page=10000000000000000000", "page=-1", "page=abc", "page=0",
                 "page=" + "9" * 5000, "per_page=10000000000000000000&page=2",
                 "per_page=-5", "page=1e9"]


def filled(rule, season_code):
    """The rule's URL with real values where we have them, placeholders elsewhere."""
    values = {"code": season_code, "slug": "dashboard", "kind": "locations", "fmt": "csv"}
    url = rule.rule
    for converter, arg in re.findall(r"<(?:([^:>]+):)?([^>]+)>", rule.rule):
        value = str(uuid.uuid4()) if converter == "uuid" else values.get(arg, "NOPE")
        url = re.sub(rf"<(?:[^:>]+:)?{arg}>", value, url)
    return url


def test_absurd_page_numbers_never_break_a_page(app, login, make):
    """Every GET route, with each hostile page and per_page: lists answer 200, the rest
    never more than a 4xx."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    admin = login("admin")
    checked = set()
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in {"static", "auth.login"}:
            continue
        url = filled(rule, season.season_code)
        for query in HOSTILE_PAGES:
            response = admin.client.get(f"{url}?{query}")
            expected = {200} if rule.endpoint in LISTS else set(range(200, 500))
            assert response.status_code in expected, (url, query, response.status_code)
            response.close()
        checked.add(rule.endpoint)
    assert LISTS <= checked


def test_page_past_the_end_shows_the_last_page(login, make):
    """30 clusters at 25 a page: any page beyond 2 is page 2; below 1 or unreadable is 1."""
    for n in range(30):
        make.cluster(f"Cluster {n:02}")
    viewer = login("viewer")
    for query, shown in [("page=10000000000000000000", 2), ("page=3", 2), ("page=2", 2),
                         ("page=-1", 1), ("page=abc", 1), ("page=0", 1)]:
        html = viewer.get(f"/masterdata/clusters?{query}").get_data(as_text=True)
        assert f"Page {shown} of 2 (30 in all)" in html, query


def test_grid_page_past_the_end_shows_the_last_page(login, make):
    """The PO list (paged by paginate_rows) clamps the same way."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    viewer = login("viewer")
    response = viewer.get(f"/purchasing/{season.season_code}/pos?page=10000000000000000000")
    assert response.status_code == 200


def test_history_restore_gets_the_whole_page(login, make):
    """The back button after an htmx filter (a history-cache miss) reloads the full page."""
    make.season(SeasonStatus.CREATED)
    viewer = login("viewer")
    hx = {"HX-Request": "true"}
    fragment = viewer.get("/seasons/?q=x", headers=hx)
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    restored = viewer.get("/seasons/?q=x",
                          headers={**hx, "HX-History-Restore-Request": "true"})
    html = restored.get_data(as_text=True)
    assert restored.status_code == 200
    assert html.lstrip().startswith("<!doctype html>") and 'class="site-header' in html
    assert "HX-History-Restore-Request" in restored.headers["Vary"]
