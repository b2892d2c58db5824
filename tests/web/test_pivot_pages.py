"""The OTB by month page (issue 14, item 1): the page for a viewer, opening a group with and
without htmx, fallbacks for unknown arguments, and a fixed number of SQL statements."""
from __future__ import annotations

import re

import pytest

from kyros_web.planning.pivot import segment
from kyros_web.versions import FigureCache
from tests.services.test_pivot import build_pivot_season
from tests.web.test_statement_counts import build, count_statements

HX = {"HX-Request": "true"}


def grid(html: str) -> str:
    """The pivot table alone (the filter form above it names every location)."""
    return html[html.index('<section id="grid"'):]


@pytest.fixture
def pivot_season(make, session):
    return build_pivot_season(make, session)


def test_the_page_renders_for_a_viewer(login, pivot_season):
    season, locations, leaves, north = pivot_season
    html = login("viewer").get(f"/planning/{season.season_code}/otb/pivot").get_data(as_text=True)
    assert "OTB by month" in html
    html = grid(html)
    assert "Feb 2026" in html and "Apr 2026" in html
    assert "Season total" in html and "North" in html and "(no cluster)" in html
    assert html.count('class="pivot-measure"') >= 3  # OTB, committed, remaining lines
    assert "Alpha" not in html  # groups start closed
    assert 'aria-label="Committed, all rows, Feb 2026"' in html
    assert "1,000.10" in html  # committed in February


def test_the_otb_grid_and_the_season_tabs_link_to_it(login, pivot_season):
    season = pivot_season[0]
    viewer = login("viewer")
    url = f"/planning/{season.season_code}/otb/pivot"
    assert f'href="{url}"' in viewer.get(f"/planning/{season.season_code}/otb").get_data(as_text=True)
    assert f'href="{url}"' in viewer.get(f"/seasons/{season.season_code}").get_data(as_text=True)


def test_an_opened_group_shows_its_children(login, pivot_season):
    """Without script: the open link is the page with the group open, down to the leaf rows
    and their accessible names and data attributes."""
    season, locations, leaves, north = pivot_season
    viewer = login("viewer")
    page = viewer.get(f"/planning/{season.season_code}/otb/pivot").get_data(as_text=True)
    north_key = segment("cluster", north.id)
    link = re.search(r'<a class="toggle" href="([^"]+)" aria-expanded="false"\s+hx-get="[^"]+'
                     + re.escape(north_key.replace(".", ".")), page)
    assert link, "North has an open link"
    html = grid(viewer.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True))
    assert "Alpha" in html and "Beta" in html and "Gamma" not in html
    loc = segment("location", locations[0].id)
    html = viewer.get(f"/planning/{season.season_code}/otb/pivot?measure=planned_sales"
                      f"&open={north_key}&open={north_key}~{loc}&level=9").get_data(as_text=True)
    assert "Womens › Tops › Tees" in html and 'title="W-T-1"' in html
    label = f'aria-label="Planned sales, {locations[0].location_code}, W-T-1, Feb 2026"'
    assert label in html
    cell = re.search(r'<td class="num" data-location="([^"]+)" data-category="([^"]+)" '
                     r'data-month="2026-02" data-measure="planned_sales"\s+' + label, html)
    assert cell and cell.groups() == (str(locations[0].id), str(leaves[0].id))


def test_the_htmx_fragment_of_a_group_is_its_rows_only(login, pivot_season):
    season, locations, leaves, north = pivot_season
    key = segment("cluster", north.id)
    html = login("viewer").get(
        f"/planning/{season.season_code}/otb/pivot/group?node={key}&open={key}",
        headers=HX).get_data(as_text=True)
    assert html.lstrip().startswith("<tbody") and "<table" not in html and "<thead" not in html
    assert html.count("<tbody") == 3  # North (now open) and its two locations
    assert "Alpha" in html and "Beta" in html and "(no cluster)" not in html
    assert 'aria-expanded="true"' in html  # North's link now closes it


def test_a_group_not_shown_is_not_found(login, pivot_season):
    season, locations, _, _ = pivot_season
    viewer = login("viewer")
    closed = "c.none~" + segment("location", locations[2].id)  # under a closed group
    assert viewer.get(f"/planning/{season.season_code}/otb/pivot/group?node={closed}",
                      headers=HX).status_code == 404
    assert viewer.get(f"/planning/{season.season_code}/otb/pivot/group?node=zz",
                      headers=HX).status_code == 404


@pytest.mark.parametrize("query", [
    "layout=sideways", "measure=nothing&measure=", "sort=2031-07&dir=sideways",
    "sort=total&dir=desc", "sort=label", "level=abc", "level=-5", "level=99999999999999",
    "open=&open=c.zz&closed=k.&open=c.none~l.1", "month=2026-13&cluster=nope&location=1&category=x",
    "layout=category&level=9&measure=planned_closing_stock&measure=opening_stock",
])
def test_unknown_arguments_fall_back_to_defaults(login, pivot_season, query):
    season = pivot_season[0]
    viewer = login("viewer")
    for path in ("otb/pivot", "otb/pivot/group"):
        response = viewer.get(f"/planning/{season.season_code}/{path}?{query}", headers=HX)
        assert response.status_code in (200, 404), (path, response.status_code)
    assert viewer.get(f"/planning/{season.season_code}/otb/pivot?{query}").status_code == 200


def test_stock_measures_say_how_they_total(login, pivot_season):
    season = pivot_season[0]
    html = login("viewer").get(f"/planning/{season.season_code}/otb/pivot"
                               "?measure=planned_closing_stock").get_data(as_text=True)
    assert "closing stock of the last month shown" in html


def test_negative_remaining_is_flagged(login, pivot_season):
    season = pivot_season[0]
    html = login("viewer").get(f"/planning/{season.season_code}/otb/pivot?level=9"
                               "&measure=remaining").get_data(as_text=True)
    assert '<span class="flag-bad">-' in html and "(negative)" in html


@pytest.mark.parametrize("query", ["", "layout=category&level=2&measure=otb&sort=total",
                                   "level=2&open=c.none"])
def test_statement_count_does_not_grow_with_data(app, login, make, session, monkeypatch, query):
    monkeypatch.setitem(app.extensions, "kyros_figures", FigureCache(0))
    small, large = build(make, session, 2), build(make, session, 20)
    viewer = login("viewer")
    counts = []
    for code in (small[0].season_code, large[0].season_code):
        for path in ("otb/pivot", "otb/pivot/group"):
            url = f"/planning/{code}/{path}?{query}&node=c.none&month=2026-02"
            viewer.get(url)
            session.close()
            with count_statements() as statements:
                response = viewer.get(url, headers=HX if "group" in path else {})
            assert response.status_code in (200, 404), url
            counts.append(len(statements))
    assert counts[:2] == counts[2:], counts
    assert max(counts) <= 20, counts


def test_opening_a_group_does_not_read_the_first_level_again(app, login, pivot_season):
    """With the figure cache on, the top level read for the page serves the opened group."""
    season = pivot_season[0]
    viewer = login("viewer")
    viewer.get(f"/planning/{season.season_code}/otb/pivot")
    with count_statements() as statements:
        viewer.get(f"/planning/{season.season_code}/otb/pivot/group?node=c.none&open=c.none",
                   headers=HX)
    assert sum("pivot_facts" in s for s in statements) == 1


def test_htmx_keeps_the_groups_opened_in_place(login, pivot_season):
    """Links rendered before a group was opened in place carry an older set of open groups:
    an htmx request takes them from the page's address, applies its toggle and names the new
    address."""
    season, locations, leaves, north = pivot_season
    page = f"/planning/{season.season_code}/otb/pivot"
    north_key = segment("cluster", north.id)
    gamma_key = "c.none"
    # North was opened in place; the (no cluster) link, rendered before, knows nothing of it.
    current = {"HX-Current-URL": f"http://localhost{page}?open={north_key}", **HX}
    response = login("viewer").get(
        f"{page}/group?node={gamma_key}&toggle={gamma_key}", headers=current)
    assert response.status_code == 200
    pushed = response.headers["HX-Push-Url"]
    assert f"open={north_key}" in pushed and f"open={gamma_key}" in pushed
    html = response.get_data(as_text=True)
    assert "Gamma" in html and "Alpha" not in html
    # Closing North from a stale link keeps (no cluster) open.
    viewer = login("viewer")
    current = {"HX-Current-URL": f"http://localhost{page}?open={north_key}&open={gamma_key}", **HX}
    response = viewer.get(f"{page}?toggle={north_key}&open={north_key}", headers=current)
    assert response.headers["HX-Push-Url"] == f"{page}?open={gamma_key}"
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="grid"') and "Gamma" in html and "Alpha" not in html
    # A page that is not the pivot lends nothing; a boosted navigation follows its link.
    other = {"HX-Current-URL": f"http://localhost/planning/{season.season_code}/otb?open={north_key}", **HX}
    assert "HX-Push-Url" in viewer.get(page, headers=other).headers
    assert "Alpha" not in grid(viewer.get(page, headers=other).get_data(as_text=True))
    boosted = {**current, "HX-Boosted": "true"}
    response = viewer.get(page, headers=boosted)
    assert "HX-Push-Url" not in response.headers
    assert "Alpha" not in grid(response.get_data(as_text=True))


def test_actuals_are_measures_of_the_pivot(app, login, session, pivot_season, monkeypatch):
    """Issue 16, item 1: actual sales, markdowns and closing stock beside the plan; the season
    total of actual closing stock is the current month's (the app's clock), not a sum."""
    from datetime import date
    from decimal import Decimal as D

    from kyros_web.models import SeasonActual

    season, locations, leaves, north = pivot_season
    for i, loc in enumerate(locations):
        for month, sales, stock in ((date(2026, 2, 1), "100.10", "50"),
                                    (date(2026, 3, 1), "-20.00", "70")):
            session.add(SeasonActual(season_id=season.id, location_id=loc.id,
                                     category_id=leaves[0].id, month=month,
                                     net_sales=D(sales) + i, markdowns=D("1"),
                                     closing_stock=D(stock), version=1))
    session.commit()
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 3, 15))
    html = grid(login("viewer").get(
        f"/planning/{season.season_code}/otb/pivot?measure=actual_sales"
        "&measure=actual_closing_stock").get_data(as_text=True))
    # Feb: 100.10 + 101.10 + 102.10; Mar: −20 − 19 − 18 (returns); no April yet.
    assert 'aria-label="Actual sales, all rows, Feb 2026">303.30<' in html
    assert 'aria-label="Actual sales, all rows, Mar 2026"><span class="flag-bad">' not in html
    assert '"Actual sales, all rows, Mar 2026">-57.00<' in html
    assert '"Actual sales, all rows, season total">246.30<' in html
    # Closing stock of March (the current month): 3 × 70, not Feb + Mar, nor April's 0.
    assert '"Actual closing stock, all rows, season total">210.00<' in html
    assert "its season total is the actual closing stock of\n    Mar 2026" in html
    assert "data-cell=" not in html  # actuals are uploaded, not typed
