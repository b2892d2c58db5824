"""The In season page in the app (issue 16, items 2 and 5): the reforecast method form and its
refusals, the filter controls (by, category level, period), and the page in the season pack
and the exports."""
import io
import re
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from kyros_web.audit import AuditEvent
from kyros_web.seasons.models import Season
from kyros_web.seasons.services import advance_season
from kyros_web.seasons.workflow import SeasonStatus

from ..services.test_uploads import load

ACTUALS = ("location_code,category_code,month,net_sales,markdowns,closing_stock\n"
           "{loc},{leaf},2026-02,1500.00,0,2000.00\n")


@pytest.fixture
def in_season(app, make, session, monkeypatch):
    """A Feb–Apr 2026 season in range_uploaded, one location, one leaf under a parent; planned
    sales Feb 3,000, Mar 2,000, Apr 4,000; February's actual net sales 1,500 (half the plan),
    the clock on 15 March. By the trend method March and April are forecast at half their
    plan (1,000.00 and 2,000.00); by the plan method at the plan (2,000.00 and 4,000.00)."""
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 3, 15))
    parent = make.category(name="Womens")
    leaf = make.category(parent=parent, name="Tops")
    location = make.location()
    season = make.season(SeasonStatus.PLAN_UPLOADED, locations=[location], leaves=[leaf])
    make.otb_rows(season, [(location, leaf, date(2026, 3, 1), ("2000", "0", "1000", "1000", "0")),
                           (location, leaf, date(2026, 4, 1), ("4000", "0", "1000", "1000", "0"))])
    for _ in range(2):  # the February row (the factory's), the range, then in season
        make.fill(season)
        advance_season(session, make.admin, season.id)
    data = ACTUALS.format(loc=location.location_code, leaf=leaf.code).encode()
    assert load(session, make.admin, "actuals", data, season).rows_new == 1
    season.parent, season.leaf, season.location = parent, leaf, location
    return season


def page(client, season, query=""):
    response = client.get(f"/analytics/{season.season_code}/in-season{query}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def months_row(html: str, label: str) -> list[str]:
    """The cells after the label of a row of the months table."""
    row = re.search(re.escape(label) + r"</td>(.*?)</tr>", html, re.S).group(1)
    return [c.strip() for c in re.findall(r"<td[^>]*>([^<]*)</td>", row)]


def selected(html: str, name: str) -> str:
    select_ = re.search(rf'<select id="{name}" name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.search(r'<option value="([^"]*)" selected>', select_).group(1)


def options(html: str, name: str) -> list[str]:
    select_ = re.search(rf'<select id="{name}" name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select_)


def refused(client, session, season, status: int, message: str) -> None:
    """Asking for the "plan" method gets `status` and `message`; the season keeps "trend"."""
    response = client.post(f"/seasons/{season.season_code}/reforecast-method",
                           {"reforecast_method": "plan"})
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    session.expire_all()
    assert session.get(Season, season.id).reforecast_method == "trend"


def test_changing_the_method_to_plan_moves_the_reforecast(login, session, in_season):
    planner = login("planner")
    before = page(planner, in_season)
    assert selected(before, "reforecast_method") == "trend"
    assert months_row(before, "Sales: reforecast") == ["1,500.00", "1,000.00", "2,000.00",
                                                       "4,500.00"]
    response = planner.post(f"/seasons/{in_season.season_code}/reforecast-method",
                            {"reforecast_method": "plan"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/analytics/{in_season.season_code}/in-season")
    after = planner.get(response.headers["Location"]).get_data(as_text=True)
    assert "Reforecast method of season" in after and "Plan: the plan unchanged" in after
    assert selected(after, "reforecast_method") == "plan"
    # April (and March) now forecast at the plan; February stays actualised.
    assert months_row(after, "Sales: reforecast") == ["1,500.00", "2,000.00", "4,000.00",
                                                      "7,500.00"]
    session.expire_all()
    assert session.get(Season, in_season.id).reforecast_method == "plan"
    changes = session.execute(select(AuditEvent.before, AuditEvent.after).where(
        AuditEvent.season_id == in_season.id, AuditEvent.entity == "season")).all()
    assert ({"reforecast_method": "trend"}, {"reforecast_method": "plan"}) in [tuple(c) for c in changes]


def test_a_bad_method_is_named_and_changes_nothing(login, session, in_season):
    response = login("planner").post(f"/seasons/{in_season.season_code}/reforecast-method",
                                     {"reforecast_method": "guess"})
    assert response.status_code == 422
    assert "Reforecast method “guess” is unknown: it is “trend” or “plan”" in response.get_data(as_text=True)
    missing = login("planner").post(f"/seasons/{in_season.season_code}/reforecast-method", {})
    assert missing.status_code == 422 and "Reforecast method “” is unknown" in missing.get_data(as_text=True)
    session.expire_all()
    assert session.get(Season, in_season.id).reforecast_method == "trend"


def test_a_locked_season_keeps_its_method(login, make, session):
    season = make.season(SeasonStatus.LOCKED)
    planner = login("planner")
    html = page(planner, season)
    assert 'name="reforecast_method"' not in html
    assert "Reforecast method: Trend: the plan scaled" in html
    refused(planner, session, season, 409, "Season is locked and cannot be modified")


@pytest.mark.parametrize("role", ["viewer", "buyer"])
def test_who_may_not_manage_seasons_sees_the_method_only(login, session, in_season, role):
    client = login(role)
    html = page(client, in_season)
    assert html.count('method="post"') == 1  # the logout form
    assert "Reforecast method: Trend: the plan scaled" in html
    refused(client, session, in_season, 403, "Your role does not allow this action.")


def test_the_filter_controls_offer_every_grouping_level_and_period(login, in_season):
    html = page(login("viewer"), in_season)
    assert options(html, "by") == ["category", "cluster", "location"]
    assert options(html, "level") == ["1", "2"]
    assert options(html, "period") == ["std", "2026-02", "2026-03", "2026-04"]
    assert (selected(html, "by"), selected(html, "level"), selected(html, "period")) == (
        "category", "1", "std")
    assert re.search(r'<form method="get" action="/analytics/[^"]+/in-season" class="filters">',
                     html)
    assert "KPIs by category (category level 1), season to date" in html
    assert f">{in_season.parent.code}</a>" in html


@pytest.mark.parametrize("query,title,shown", [
    ("?by=category&level=2", "KPIs by category (category level 2), season to date", "leaf"),
    ("?by=location", "KPIs by location, season to date", "location"),
    ("?by=cluster", "KPIs by cluster, season to date", "cluster"),
    ("?period=2026-02", "KPIs by category (category level 1), February 2026", "parent"),
    ("?by=location&period=2026-03", "KPIs by location, March 2026", "location"),
])
def test_each_control_narrows_the_page(login, in_season, query, title, shown):
    html = page(login("viewer"), in_season, query)
    assert title in html
    code = {"leaf": in_season.leaf.code, "parent": in_season.parent.code,
            "location": in_season.location.location_code,
            "cluster": None}[shown]
    if code:
        assert f">{code}</a>" in html
    for name, value in re.findall(r"(by|level|period)=([\w-]+)", query):
        assert selected(html, name) == value


@pytest.mark.parametrize("query", ["?by=nothing", "?level=99", "?level=x", "?period=2031-01",
                                   "?period=%27%3B", "?by=&level=&period="])
def test_hostile_filters_fall_back(login, in_season, query):
    html = page(login("viewer"), in_season, query)
    assert "KPIs by category" in html and selected(html, "by") == "category"
    if "period" in query:
        assert selected(html, "period") == "std" and "season to date" in html


def test_the_page_is_in_the_pack_and_the_exports(login, in_season):
    viewer = login("viewer")
    code = in_season.season_code
    pack = viewer.get(f"/analytics/{code}/pack").get_data(as_text=True)
    assert 'id="report-in-season"' in pack and "Plan, actual and reforecast by month" in pack
    book = load_workbook(io.BytesIO(viewer.get(f"/analytics/{code}/pack.xlsx").data))
    assert any(name.startswith("In season") for name in book.sheetnames)
    page_book = load_workbook(io.BytesIO(viewer.get(f"/analytics/{code}/in-season?format=xlsx").data))
    assert len(page_book.sheetnames) == 1 + 1 + 8  # About, the key figures and eight tables
    months = viewer.get(f"/analytics/{code}/in-season?format=csv&table=months")
    assert months.mimetype == "text/csv"
    lines = months.get_data(as_text=True).splitlines()
    assert lines[0] == "Measure,Feb 2026,Mar 2026,Apr 2026,Season"
    assert lines[3] == "Sales: reforecast,1500.00,1000.00,2000.00,4500.00"
    export = viewer.get(f"/analytics/{code}/export").get_data(as_text=True)
    assert f"/analytics/{code}/in-season?format=xlsx" in export
