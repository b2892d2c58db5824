"""Plans by group (issue 14, item 1): the season plan rows in the location and category
hierarchy with group figures checked by hand (weighted margin and turns are no sums), both
layouts, opening and closing with and without htmx, sorting, filters, an empty season, the
links to the plans grid editor, and a fixed number of SQL statements."""
from __future__ import annotations

import re
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from kyros_web.extensions import db
from kyros_web.masterdata.services import create_location
from kyros_web.planning.models import SeasonPlan
from kyros_web.planning.pivot import segment
from kyros_web.planning.services import approve_plans, upsert_plan
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.versions import FigureCache
from tests.web.test_statement_counts import build, count_statements, statements_of

HX = {"HX-Request": "true"}

# (location, leaf, planned sales, margin, turns, approved)
PLANS = (("Alpha", "W-T-1", "1000", "40", "4", True),
         ("Alpha", "W-T-2", "3000", "20", None, False),
         ("Beta", "W-T-1", "500", "50", "2", True),
         ("Gamma", "M", "0", "30", "5", False),
         ("Gamma", "W-T-2", "1500", "10", "3", False))


def build_plan_season(make, session):
    """A locations_defined season: Womens › Tops › (Tees, Shirts) and Womens › Bottoms ›
    Jeans beside Mens; Alpha and Beta in North, Gamma in no cluster; the plan rows of PLANS
    (Jeans has none; Gamma × Mens sells nothing)."""
    womens = make.category("W", name="Womens")
    tops = make.category("W-T", parent=womens, name="Tops")
    leaves = {"W-T-1": make.category("W-T-1", parent=tops, name="Tees"),
              "W-T-2": make.category("W-T-2", parent=tops, name="Shirts"),
              "W-B-1": make.category("W-B-1", parent=make.category("W-B", parent=womens,
                                                                   name="Bottoms"), name="Jeans"),
              "M": make.category("M", name="Mens")}
    north = make.cluster("North")
    locations = {"Alpha": make.location(name="Alpha", cluster=north),
                 "Beta": make.location(name="Beta", cluster=north),
                 "Gamma": create_location(session, make.admin, name="Gamma", type="store")}
    season = make.season(SeasonStatus.LOCATIONS_DEFINED, locations=list(locations.values()),
                         leaves=list(leaves.values()))
    approved = []
    for loc, leaf, sales, margin, turns, is_approved in PLANS:
        row = upsert_plan(session, make.admin, season.id, location_id=locations[loc].id,
                          category_id=leaves[leaf].id, planned_sales=D(sales),
                          planned_margin=D(margin),
                          inventory_turns=D(turns) if turns else None).row
        if is_approved:
            approved.append(row.id)
    approve_plans(session, make.admin, season.id, approved)
    session.expire_all()
    return season, locations, leaves, north


@pytest.fixture
def plan_season(make, session):
    return build_plan_season(make, session)


def url(season, query=""):
    return f"/planning/{season.season_code}/plans/groups" + (f"?{query}" if query else "")


def row(html: str, key: str) -> list[str]:
    """The text of each cell of the row of `key` ("" for the grand total)."""
    if key:
        body = re.search(r'<tbody class="pivot-node[^"]*" data-key="' + re.escape(key)
                         + r'".*?</tbody>', html, re.S)
    else:
        body = re.search(r'<tbody class="pivot-grand">.*?</tbody>', html, re.S)
    assert body, key
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", body.group(0), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", c).replace("&amp;", "&").split()) for c in cells]


def keys(html: str) -> list[str]:
    """The keys of the rows shown, in order."""
    return re.findall(r'<tbody class="pivot-node[^"]*" data-key="([^"]+)"', html)


def get(client, address, **kw):
    response = client.get(address, **kw)
    assert response.status_code == 200, address
    return response.get_data(as_text=True)


def test_grand_total_and_groups_are_exact(login, plan_season):
    """Sums and weighted averages against figures worked out by hand: margin is
    Σ margin × sales ÷ Σ sales over the group's rows, turns the same over rows with turns."""
    season, locations, leaves, north = plan_season
    html = get(login("viewer"), url(season, "level=2"))
    # Total: 140,000 / 6,000 = 23.33 %; turns 9,500 / 3,000 = 3.17.
    assert row(html, "")[0:1] + row(html, "")[2:] == [
        "Total", "5", "6,000.00", "23.3 %", "3.17", "2 of 5", ""]
    n = segment("cluster", north.id)
    assert row(html, n)[2:7] == ["3", "4,500.00", "27.8 %", "3.33", "2 of 3"]
    assert row(html, "c.none")[2:7] == ["2", "1,500.00", "10.0 %", "3.00", "0 of 2"]
    alpha = f"{n}~{segment('location', locations['Alpha'].id)}"
    assert row(html, alpha)[1:7] == [locations["Alpha"].location_code, "2", "4,000.00",
                                     "25.0 %", "4.00", "1 of 2"]
    gamma = f"c.none~{segment('location', locations['Gamma'].id)}"
    mens = f"{gamma}~{segment('category', leaves['M'].id)}"
    # Sells nothing: no weight, so margin and turns are blank, not 0.
    assert row(html, mens)[0:7] == ["Mens", "M", "1", "0.00", "", "", "0 of 1"]


def test_the_page_says_what_each_group_figure_means(login, plan_season):
    html = get(login("viewer"), url(plan_season[0]))
    assert "not a sum" in html and "weighted by its planned sales" in html
    assert "over the rows that have turns" in html and "blank when none has" in html


def test_locations_first_goes_down_the_category_tree(login, plan_season):
    """Cluster, location, then every category level to the leaf, named by its path with
    its code in a column; a leaf without turns shows them blank."""
    season, locations, leaves, north = plan_season
    html = get(login("viewer"), url(season, "level=9"))
    alpha = f"{segment('cluster', north.id)}~{segment('location', locations['Alpha'].id)}"
    w = f"{alpha}~{segment('category', leaves['W-T-1'].parent.parent_id)}"
    tops = f"{w}~{segment('category', leaves['W-T-1'].parent_id)}"
    assert row(html, w)[0:3] == ["▾ Close Womens", "W", "2"]
    assert row(html, tops)[0:7] == ["▾ Close Womens › Tops", "W-T", "2", "4,000.00", "25.0 %",
                                    "4.00", "1 of 2"]
    shirts = f"{tops}~{segment('category', leaves['W-T-2'].id)}"
    assert row(html, shirts)[0:7] == ["Womens › Tops › Shirts", "W-T-2", "1", "3,000.00",
                                      "20.0 %", "", "0 of 1"]
    assert "Jeans" not in html[html.index('<section id="grid"'):]  # no plan row


def test_categories_first_weights_over_every_row_of_a_category(login, plan_season):
    season, locations, leaves, north = plan_season
    html = get(login("viewer"), url(season, "layout=category&level=3"))
    womens = segment("category", leaves["W-T-1"].parent.parent_id)
    tops = f"{womens}~{segment('category', leaves['W-T-1'].parent_id)}"
    tees = f"{tops}~{segment('category', leaves['W-T-1'].id)}"
    shirts = f"{tops}~{segment('category', leaves['W-T-2'].id)}"
    assert keys(html)[0] == segment("category", leaves["M"].id)
    assert row(html, womens)[2:7] == ["4", "6,000.00", "23.3 %", "3.17", "2 of 4"]
    # 65,000 / 1,500 = 43.33 %; 5,000 / 1,500 = 3.33.
    assert row(html, tees)[2:7] == ["2", "1,500.00", "43.3 %", "3.33", "2 of 2"]
    assert row(html, shirts)[2:7] == ["2", "4,500.00", "16.7 %", "3.00", "0 of 2"]
    north_key = f"{shirts}~{segment('cluster', north.id)}"
    assert row(html, north_key)[2:7] == ["1", "3,000.00", "20.0 %", "", "0 of 1"]
    assert row(html, "")[2:7] == ["5", "6,000.00", "23.3 %", "3.17", "2 of 5"]


def test_opening_a_group_without_script(login, plan_season):
    """Groups start closed; a group's link is the page with it open, and the open page's link
    closes it again."""
    season, locations, leaves, north = plan_season
    viewer = login("viewer")
    html = get(viewer, url(season))
    assert keys(html) == [segment("cluster", north.id), "c.none"]
    link = re.search(r'<a class="toggle" href="([^"]+)" aria-expanded="false"', html)
    opened = get(viewer, link.group(1).replace("&amp;", "&"))
    assert "Alpha" in row(opened, keys(opened)[1])[0] and len(keys(opened)) == 4
    close = re.search(r'<a class="toggle" href="([^"]+)" aria-expanded="true"', opened)
    assert len(keys(get(viewer, close.group(1).replace("&amp;", "&")))) == 2


def test_the_htmx_fragment_of_a_group_is_its_rows_only(login, plan_season):
    season, locations, leaves, north = plan_season
    key = segment("cluster", north.id)
    response = login("viewer").get(url(season, f"node={key}&toggle={key}").replace(
        "/groups?", "/groups/group?"), headers=HX)
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith("<tbody") and "<table" not in html
    assert keys(html) == [key, f"{key}~{segment('location', locations['Alpha'].id)}",
                          f"{key}~{segment('location', locations['Beta'].id)}"]
    assert f"open={key}" in response.headers["HX-Push-Url"]


def test_a_group_not_shown_is_not_found(login, plan_season):
    season, locations, _, _ = plan_season
    viewer = login("viewer")
    hidden = "c.none~" + segment("location", locations["Gamma"].id)
    for node in (hidden, "zz"):
        assert viewer.get(f"/planning/{season.season_code}/plans/groups/group?node={node}",
                          headers=HX).status_code == 404


def test_sorting_orders_siblings_by_a_column(login, plan_season):
    season, locations, leaves, north = plan_season
    viewer = login("viewer")
    n = segment("cluster", north.id)
    alpha, beta = (f"{n}~{segment('location', locations[x].id)}" for x in ("Alpha", "Beta"))
    html = get(viewer, url(season, "level=1&sort=margin&dir=desc"))
    # Beta 50 % before Alpha 25 %; North 27.8 % before (no cluster) 10 %; children stay under
    # their parents.
    assert keys(html) == [n, beta, alpha, "c.none", f"c.none~{segment('location', locations['Gamma'].id)}"]
    assert 'aria-sort="descending"' in html
    html = get(viewer, url(season, "level=1&sort=rows"))
    assert keys(html)[:3] == ["c.none", f"c.none~{segment('location', locations['Gamma'].id)}", n]
    # Blank turns sort lowest: Shirts (blank) before Tees at Alpha.
    html = get(viewer, url(season, "level=9&sort=turns"))
    leaf_rows = [k for k in keys(html) if k.startswith(alpha) and k.count("~") == 4]
    assert [k.rsplit(".", 1)[1] for k in leaf_rows] == [leaves["W-T-2"].id.hex,
                                                         leaves["W-T-1"].id.hex]


@pytest.mark.parametrize("query, total", [
    ("approved=yes", ["2", "1,500.00", "43.3 %", "3.33", "2 of 2"]),
    ("approved=no", ["3", "4,500.00", "16.7 %", "3.00", "0 of 3"]),
])
def test_the_approved_filter(login, plan_season, query, total):
    html = get(login("viewer"), url(plan_season[0], query))
    assert row(html, "")[0] == "Total (filtered)" and row(html, "")[2:7] == total


def test_location_cluster_and_category_filters(login, plan_season):
    season, locations, leaves, north = plan_season
    viewer = login("viewer")
    html = get(viewer, url(season, f"cluster={north.id}"))
    assert keys(html) == [segment("cluster", north.id)]
    assert row(html, "")[2:4] == ["3", "4,500.00"]
    html = get(viewer, url(season, f"location={locations['Gamma'].id}"))
    assert row(html, "")[2:4] == ["2", "1,500.00"]
    html = get(viewer, url(season, f"category={leaves['W-T-1'].parent_id}&layout=category"))
    assert row(html, "")[2:7] == ["4", "6,000.00", "23.3 %", "3.17", "2 of 4"]
    assert keys(html) == [segment("category", leaves["W-T-1"].parent.parent_id)]


def test_the_filters_listen_to_their_own_selects_only(login, plan_season):
    """Changing the layout or the level must not also send the filter form (a document-wide
    `change from:select`), whose answer would put back the old layout."""
    html = get(login("viewer"), url(plan_season[0]))
    filters = html[html.index('<form class="filters"'):html.index('<section id="grid"')]
    assert 'hx-trigger="submit, change"' in filters and "from:select" not in filters


def test_an_empty_season(login, make):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    html = get(login("viewer"), url(season))
    assert "No plan rows." in html and row(html, "")[2:7] == ["0", "0.00", "", "", "0 of 0"]


def test_leaves_link_to_the_row_in_the_plans_grid(login, plan_season):
    """A planner's leaf links to the grid narrowed to the row, as a form; a viewer's to the
    row read-only. The grid opened with that link edits the row without script."""
    season, locations, leaves, north = plan_season
    plan = db.session.scalar(select(SeasonPlan).where(
        SeasonPlan.location_id == locations["Beta"].id,
        SeasonPlan.category_id == leaves["W-T-1"].id))
    query = f"location={locations['Beta'].id}&category={leaves['W-T-1'].id}"
    planner = login("planner")
    html = get(planner, url(season, "level=9"))
    edit = f"/planning/{season.season_code}/plans?edit={plan.id}&amp;{query.replace('&', '&amp;')}"
    assert f'href="{edit}"' in html
    form = get(planner, edit.replace("&amp;", "&"))
    assert f'id="plan-form-{plan.id}"' in form and 'name="planned_sales"' in form
    viewer_html = get(login("viewer"), url(season, "level=9"))
    assert "edit=" not in viewer_html
    assert f'/plans?{query.replace("&", "&amp;")}"' in viewer_html


def test_the_plans_grid_and_the_groups_link_to_each_other(login, plan_season):
    season = plan_season[0]
    viewer = login("viewer")
    grid = get(viewer, f"/planning/{season.season_code}/plans?approved=yes&sort=sales")
    assert f'href="{url(season, "approved=yes")}"' in grid
    groups = get(viewer, url(season, "approved=yes"))
    assert f'href="/planning/{season.season_code}/plans?approved=yes"' in groups


@pytest.mark.parametrize("query", [
    "layout=sideways", "sort=2031-07&dir=sideways", "sort=turns&dir=desc", "level=abc",
    "level=-5", "open=&open=c.zz&closed=k.&open=c.none~l.1",
    "cluster=nope&location=1&category=x&approved=maybe", "layout=category&level=9&sort=approved",
])
def test_unknown_arguments_fall_back_to_defaults(login, plan_season, query):
    season = plan_season[0]
    viewer = login("viewer")
    assert viewer.get(url(season, query)).status_code == 200
    assert viewer.get(url(season, query).replace("/groups?", "/groups/group?"),
                      headers=HX).status_code in (200, 404)


@pytest.mark.parametrize("query", ["", "level=9", "layout=category&level=9&sort=margin"])
def test_statement_count_does_not_grow_with_data(app, login, make, session, monkeypatch, query):
    monkeypatch.setitem(app.extensions, "kyros_figures", FigureCache(0))
    small, large = build(make, session, 2), build(make, session, 20)
    viewer = login("viewer")
    # Read before any request empties the session; a top-level group of the layout to open.
    urls = [(f"/planning/{season.season_code}/plans/groups?{query}",
             segment("category", leaf.id) if "category" in query
             else segment("cluster", location.cluster_id))
            for season, location, leaf in (small, large)]
    counts = []
    for page, node in urls:
        counts += [statements_of(viewer, session, page),
                   statements_of(viewer, session, page.replace("/groups?", "/groups/group?")
                                 + f"&node={node}&open={node}", HX)]
    assert counts[:2] == counts[2:], counts
    assert max(counts) <= 20, counts


def test_opening_a_group_reads_only_the_level_below(app, login, plan_season):
    """With the figure cache on, the levels read for the page serve the opened group."""
    season, _, _, north = plan_season
    viewer = login("viewer")
    viewer.get(url(season))
    key = segment("cluster", north.id)
    with count_statements() as statements:
        viewer.get(url(season, f"node={key}&toggle={key}").replace("/groups?", "/groups/group?"),
                   headers=HX)
    plan_reads = [s for s in statements if "season_plans" in s]
    assert len(plan_reads) == 1 and "AS plans" in plan_reads[0], plan_reads
