"""Editing in the OTB pivot (issue 14, items 2, 3, 4, 6, 8): the cells the page marks for the
grid module, the module's answers (the grid again, or JSON naming refused cells) and the same
edits through forms without script."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from kyros_web.models import OTBPlan
from kyros_web.planning.pivot import cell_key, segment
from kyros_web.seasons.workflow import SeasonStatus
from tests.services.test_pivot import build_pivot_season

HX = {"HX-Request": "true"}
FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)


@pytest.fixture
def season_data(make, session):
    return build_pivot_season(make, session, status=SeasonStatus.PLAN_UPLOADED)


def leaf_url(season, locations, leaves, north, measure="planned_sales", extra=""):
    """The pivot open down to Alpha's leaf rows, showing one measure."""
    n, a = segment("cluster", north.id), segment("location", locations[0].id)
    return (f"/planning/{season.season_code}/otb/pivot?measure={measure}&open={n}"
            f"&open={n}~{a}&level=9{extra}")


def stored(session, season, loc, leaf, month):
    session.expire_all()
    return session.scalar(select(OTBPlan).where(
        OTBPlan.season_id == season.id, OTBPlan.location_id == loc.id,
        OTBPlan.category_id == leaf.id, OTBPlan.month == month))


def test_a_planner_sees_editable_cells_a_viewer_does_not(login, season_data):
    season, locations, leaves, north = season_data
    url = leaf_url(season, locations, leaves, north)
    key = cell_key("planned_sales", locations[0].id, leaves[0].id, FEB)
    html = login("planner").get(url).get_data(as_text=True)
    assert f'data-cell="{key}" data-version="1" data-value="1000.25" tabindex="-1"' in html
    assert 'data-spread="|planned_sales|total"' in html  # the grand total spreads
    assert "data-grid-edit" in html and "Paste a block" in html and "Undo" in html
    viewer = login("viewer").get(url).get_data(as_text=True)
    assert "data-cell=" not in viewer and "data-spread=" not in viewer
    assert "data-grid-edit" not in viewer and "Paste a block" not in viewer


def test_computed_measures_are_not_cells(login, season_data):
    season, locations, leaves, north = season_data
    html = login("planner").get(leaf_url(season, locations, leaves, north, "otb")).get_data(as_text=True)
    assert "data-cell=" not in html and "data-spread=" not in html
    assert "figure-link" in html  # leaf OTB figures still open the cell page


def test_the_module_saves_a_cell_and_gets_the_grid_back(login, session, season_data):
    season, locations, leaves, north = season_data
    planner = login("planner")
    url = leaf_url(season, locations, leaves, north)
    key = cell_key("planned_sales", locations[0].id, leaves[0].id, FEB)
    page_query = url.split("?", 1)[1]
    response = planner.post(f"/planning/{season.season_code}/otb/pivot/cells?{page_query}",
                            data={"cell": key, "value": "1,500", "version": "1"},
                            headers={**HX, "HX-Current-URL": "http://localhost" + url})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith('<section id="grid"')
    assert f'data-cell="{key}" data-version="2" data-value="1500.00"' in html
    assert "Saved: Planned sales" in html  # the notice
    assert stored(session, season, locations[0], leaves[0], FEB).planned_sales == D("1500")
    # The totals refreshed: the grand total's February is the new sum.
    total = sum(stored(session, season, loc, leaf, FEB).planned_sales
                for loc in locations for leaf in leaves)
    assert f"{total:,.2f}" in html


def test_the_module_gets_each_refused_cell_as_json(login, session, season_data):
    season, locations, leaves, north = season_data
    planner = login("planner")
    good = cell_key("planned_sales", locations[0].id, leaves[0].id, FEB)
    bad = cell_key("planned_sales", locations[0].id, leaves[0].id, MAR)
    stale = cell_key("on_order", locations[0].id, leaves[1].id, FEB)
    response = planner.post(f"/planning/{season.season_code}/otb/pivot/cells",
                            data={"cell": [good, bad, stale], "value": ["1", "x", "3"],
                                  "version": ["1", "1", "0"], "kind": "paste"}, headers=HX)
    assert response.status_code == 409
    body = response.get_json()
    assert set(body["cells"]) == {bad, stale}
    assert "Planned sales" in body["cells"][bad] and "since you loaded" in body["cells"][stale]
    assert stored(session, season, locations[0], leaves[0], FEB).planned_sales == D("1000.25")


def test_garbled_cells_are_refused_with_a_message(login, season_data):
    season = season_data[0]
    planner = login("planner")
    url = f"/planning/{season.season_code}/otb/pivot/cells"
    for data in ({"cell": "nonsense", "value": "1", "version": "1"},
                 {"cell": ["a", "b"], "value": "1", "version": "1"},
                 {"cell": cell_key("planned_sales", *(season_data[1][0].id, season_data[2][0].id), FEB),
                  "value": "1", "version": "x"}):
        response = planner.post(url, data=data, headers=HX)
        assert response.status_code == 422, data
        assert response.get_json()["message"]


def test_a_viewer_cannot_post_cells(login, season_data):
    season, locations, leaves, _ = season_data
    key = cell_key("planned_sales", locations[0].id, leaves[0].id, FEB)
    response = login("viewer").post(f"/planning/{season.season_code}/otb/pivot/cells",
                                    data={"cell": key, "value": "1", "version": "1"})
    assert response.status_code == 403


def test_a_row_form_without_script(login, session, season_data):
    season, locations, leaves, north = season_data
    planner = login("planner")
    page = planner.get(leaf_url(season, locations, leaves, north)).get_data(as_text=True)
    link = re.search(r'<a class="row-edit" href="([^"]+)">Edit<span class="visually-hidden"> W-T-1<', page)
    assert link
    form = planner.get(link.group(1).replace("&amp;", "&")).get_data(as_text=True)
    assert "Planned sales, " in form and form.count('name="cell"') == 15  # 5 inputs × 3 months
    keys = re.findall(r'name="cell" value="([^"]+)"', form)
    versions = re.findall(r'name="version" value="([^"]+)"', form)
    originals = re.findall(r'name="original" value="([^"]*)"', form)
    values = list(originals)
    values[0] = "1234.50"  # planned sales, February
    action = re.search(r'<form method="post" action="([^"]+cells[^"]*)"', form).group(1)
    response = planner.post(action.replace("&amp;", "&"), data={
        "cell": keys, "version": versions, "original": originals, "value": values,
        "kind": "type"})
    assert response.status_code == 303
    assert stored(session, season, locations[0], leaves[0], FEB).planned_sales == D("1234.50")
    # A refused value: the form again with the cell's message, nothing saved.
    values[1] = "-1"
    versions = [str(int(v) + 1) if n == 0 else v for n, v in enumerate(versions)]
    response = planner.post(action.replace("&amp;", "&"), data={
        "cell": keys, "version": versions, "original": originals, "value": values,
        "kind": "type"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "must be 0 or more" in html and 'aria-invalid="true"' in html
    assert stored(session, season, locations[0], leaves[0], MAR).planned_sales == D("1001.25")


def test_paste_without_script_shows_then_saves(login, session, season_data):
    season, locations, leaves, north = season_data
    planner = login("planner")
    url = leaf_url(season, locations, leaves, north).replace("/otb/pivot?", "/otb/pivot/paste?")
    form = planner.get(url).get_data(as_text=True)
    assert '<textarea id="paste-block"' in form and "Tees" in form
    # Lines sort by label: Mens, Jeans, Shirts (W-T-2), Tees (W-T-1).
    line = re.search(r'<option value="(\d+)" >Planned sales · Alpha \([^)]+\) · Womens › Tops › Shirts \(W-T-2\)', form)
    assert line
    response = planner.post(url, data={"line": line.group(1), "month": "2026-03",
                                       "block": "10\t20\r\n30\t40\n"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Check the 4 pasted cells" in html
    keys = re.findall(r'name="cell" value="([^"]+)"', html)
    assert keys == [cell_key("planned_sales", locations[0].id, leaf.id, m)
                    for leaf in (leaves[1], leaves[0]) for m in (MAR, APR)]
    versions = re.findall(r'name="version" value="([^"]+)"', html)
    values = re.findall(r'id="cell-\d+" name="value" inputmode="decimal" size="14" value="([^"]*)"', html)
    assert values == ["10", "20", "30", "40"]
    action = re.search(r'<form method="post" action="([^"]+cells[^"]*)"', html).group(1)
    response = planner.post(action.replace("&amp;", "&"), data={
        "cell": keys, "version": versions, "original": [""] * 4, "value": values, "kind": "paste"})
    assert response.status_code == 303
    assert stored(session, season, locations[0], leaves[1], APR).planned_sales == D("20")
    assert stored(session, season, locations[0], leaves[0], MAR).planned_sales == D("30")
    # A block that runs past the grid's last month is refused, naming why.
    response = planner.post(url, data={"line": line.group(1), "month": "2026-04", "block": "1\t2"})
    assert response.status_code == 422 and "runs past" in response.get_data(as_text=True)


def test_spread_without_script_previews_then_saves(login, session, season_data):
    season, locations, leaves, north = season_data
    planner = login("planner")
    north_key = segment("cluster", north.id)
    alpha = f"{north_key}~{segment('location', locations[0].id)}"
    base = (f"/planning/{season.season_code}/otb/pivot/spread?measure=planned_sales"
            f"&open={north_key}")
    form = planner.get(base).get_data(as_text=True)
    assert "Planned sales, all rows, season total" in form
    assert f'value="{alpha}|planned_sales|2026-02"' in form
    response = planner.post(base, data={"target": f"{alpha}|planned_sales|2026-02",
                                        "total": "1000", "shape": "even"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "4 cells now adding up to" in html
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', html).group(1)
    response = planner.post(base.replace("/spread?", "/spread/save?"),
                            data={"target": f"{alpha}|planned_sales|2026-02", "total": "1000",
                                  "shape": "even", "fingerprint": fingerprint})
    assert response.status_code == 303
    values = [stored(session, season, locations[0], leaf, FEB).planned_sales for leaf in leaves]
    assert values == [D("250")] * 4
    # Beta, outside the group, is untouched.
    assert stored(session, season, locations[1], leaves[0], FEB).planned_sales == D("1100.25")


def test_spread_preview_refusals_and_a_stale_save(login, session, season_data):
    season, locations, leaves, north = season_data
    planner = login("planner")
    base = f"/planning/{season.season_code}/otb/pivot/spread"
    response = planner.post(base, data={"target": "|planned_sales|total", "total": "1.234"})
    assert response.status_code == 422 and "decimal" in response.get_data(as_text=True)
    response = planner.post(base, data={"target": "garbage", "total": "1"})
    assert response.status_code == 422 and "Choose a group" in response.get_data(as_text=True)
    response = planner.post(f"{base}/save", data={"target": "|planned_sales|total",
                                                  "total": "10", "fingerprint": "old"},
                            headers=HX)
    assert response.status_code == 409
    assert "preview the spread again" in response.get_json()["message"]


def test_undo_with_and_without_script(login, session, season_data):
    season, locations, leaves, north = season_data
    planner = login("planner")
    key = cell_key("on_order", locations[0].id, leaves[0].id, FEB)
    planner.post(f"/planning/{season.season_code}/otb/pivot/cells",
                 data={"cell": key, "value": "77", "version": "1"}, headers=HX)
    page = planner.get(leaf_url(season, locations, leaves, north)).get_data(as_text=True)
    assert "Last: On order" in page
    response = planner.post(f"/planning/{season.season_code}/otb/pivot/undo")
    assert response.status_code == 303
    assert stored(session, season, locations[0], leaves[0], FEB).on_order == D("0")
    response = planner.post(f"/planning/{season.season_code}/otb/pivot/undo", headers=HX)
    assert response.status_code == 422
    assert "nothing of yours to undo" in response.get_json()["message"]


def test_the_module_gets_the_spread_preview_as_a_block(login, session, season_data):
    """The module shows the preview in a dialog: the block alone, with the form that saves."""
    season, locations, leaves, north = season_data
    planner = login("planner")
    base = f"/planning/{season.season_code}/otb/pivot/spread?measure=planned_sales"
    response = planner.post(base, data={"target": "|planned_sales|total", "total": "500",
                                        "shape": "current"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and html.lstrip().startswith('<div id="spread-preview"')
    assert "Spreading 500.00 of planned sales" in html and "<form" in html
    assert 'name="csrf_token"' in html and 'name="fingerprint"' in html
    response = planner.post(base, data={"target": "|planned_sales|total", "total": "-5"},
                            headers=HX)
    assert response.status_code == 422
    assert "0 or more" in response.get_data(as_text=True)


def test_a_stock_total_spreads_over_its_own_month(login, session, season_data):
    """The season total of closing stock is the last month's: typing it changes April only."""
    season, locations, leaves, north = season_data
    planner = login("planner")
    base = f"/planning/{season.season_code}/otb/pivot/spread?measure=planned_closing_stock"
    response = planner.post(base, data={"target": "|planned_closing_stock|total",
                                        "total": "12000", "shape": "even"})
    html = response.get_data(as_text=True)
    assert "12 cells now adding up to" in html  # 3 locations × 4 leaves, April only
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', html).group(1)
    planner.post(base.replace("/spread?", "/spread/save?"), data={
        "target": "|planned_closing_stock|total", "total": "12000", "shape": "even",
        "fingerprint": fingerprint})
    assert stored(session, season, locations[0], leaves[0], APR).planned_closing_stock == D("1000")
    assert stored(session, season, locations[0], leaves[0], MAR).planned_closing_stock == D("450")


def _cells(html: str) -> list:
    """Every figure cell of the grid with its attributes (the notice and undo text aside)."""
    table = html[html.index("<table"):html.index("</table>")]
    return re.findall(r"<td[^>]*>.*?</td>", table, flags=re.S)


def test_a_saved_cell_keeps_the_pivot_warm_and_exact(login, session, season_data):
    """The grid a save answers with adds the step to the sums cached before it: the same
    figures as a grid read afresh, without reading the season again."""
    from kyros_web.versions import current, figures_cache

    season, locations, leaves, north = season_data
    planner = login("planner")
    url = leaf_url(season, locations, leaves, north, extra="&measure=otb")
    planner.get(url)  # the sums are cached
    before = current(session, season.id)
    key = cell_key("planned_sales", locations[0].id, leaves[0].id, FEB)
    answer = planner.post(f"/planning/{season.season_code}/otb/pivot/cells?{url.split('?', 1)[1]}",
                          data={"cell": key, "value": "1500.25", "version": "1"},
                          headers={**HX, "HX-Current-URL": "http://localhost" + url})
    assert answer.status_code == 200
    after = current(session, season.id)
    assert after == (before[0] + 1, before[1])
    carried = dict(figures_cache().entries_at(season.id, after))
    assert any(k[0] == "pivot" for k in carried) and ("pivot-hierarchy",) in carried
    figures_cache().clear()
    fresh = planner.get(url, headers={**HX, "HX-Current-URL": "http://localhost" + url})
    assert _cells(answer.get_data(as_text=True)) == _cells(fresh.get_data(as_text=True))
    assert f'data-cell="{key}" data-version="2" data-value="1500.25"' in answer.get_data(as_text=True)


def test_nothing_is_carried_when_another_write_came_between(session, make, season_data):
    """A step records the version its commit made only when it was the season's one change
    then; otherwise nothing is carried from it."""
    from kyros_web.models import GridEdit
    from kyros_web.planning import edits
    from kyros_web.planning.services import upsert_otb
    from kyros_web.versions import current

    season, locations, leaves, _ = season_data
    typed = edits.Typed(edits.Cell("on_order", locations[0].id, leaves[0].id, FEB), "3", 1)
    step = edits.write_cells(session, make.admin, season.id, [typed])
    upsert_otb(session, make.admin, season.id, location_id=locations[1].id,
               category_id=leaves[0].id, month=FEB, expected_version=1, planned_sales="1",
               planned_markdowns="0", planned_closing_stock="400", opening_stock="350",
               on_order="0")
    assert edits.note_season_version(session, step) is None
    assert session.get(GridEdit, step.id).season_version is None
    typed = edits.Typed(edits.Cell("on_order", locations[0].id, leaves[0].id, FEB), "4", 2)
    step = edits.write_cells(session, make.admin, season.id, [typed])
    now = current(session, season.id)
    assert edits.note_season_version(session, step) == now
    session.expire_all()
    assert session.get(GridEdit, step.id).season_version == now[0]
    assert current(session, season.id) == now  # recording it moved no version


def test_a_worker_with_an_older_pivot_adds_the_steps_in_between(login, session, season_data):
    """Two workers: the other one served the last save, so this one's pivot is a step old.
    It adds that recorded step and its own, and answers with the figures read afresh."""
    from kyros_web.versions import current, figures_cache

    season, locations, leaves, north = season_data
    planner = login("planner")
    url = leaf_url(season, locations, leaves, north, extra="&measure=otb")
    headers = {**HX, "HX-Current-URL": "http://localhost" + url}
    cells_url = f"/planning/{season.season_code}/otb/pivot/cells?{url.split('?', 1)[1]}"
    planner.get(url)
    v0 = current(session, season.id)
    this_worker = figures_cache().entries_at(season.id, v0)
    first = cell_key("planned_sales", locations[0].id, leaves[0].id, FEB)
    assert planner.post(cells_url, data={"cell": first, "value": "10", "version": "1"},
                        headers=headers).status_code == 200
    figures_cache().clear()  # this worker did not serve that save: it holds the pivot at v0
    for key, value in this_worker:
        figures_cache().put((season.id, v0, key), value)
    second = cell_key("on_order", locations[0].id, leaves[1].id, MAR)
    answer = planner.post(cells_url, data={"cell": second, "value": "77", "version": "1"},
                          headers=headers)
    now = current(session, season.id)
    assert now == (v0[0] + 2, v0[1])
    assert any(k[0] == "pivot" for k, _ in figures_cache().entries_at(season.id, now))
    figures_cache().clear()
    fresh = planner.get(url, headers=headers)
    assert _cells(answer.get_data(as_text=True)) == _cells(fresh.get_data(as_text=True))
    assert 'data-value="10.00"' in answer.get_data(as_text=True)


def test_no_pivot_is_carried_past_a_change_that_is_not_a_recorded_step(login, session, make,
                                                                        season_data,
                                                                        monkeypatch):
    """An edit through the OTB row service (no grid step) between: the chain is broken, the
    pivot is read again, with that change in it."""
    from kyros_web.planning import queries
    from kyros_web.planning.services import upsert_otb
    from kyros_web.versions import current

    season, locations, leaves, north = season_data
    planner = login("planner")
    url = leaf_url(season, locations, leaves, north)
    headers = {**HX, "HX-Current-URL": "http://localhost" + url}
    planner.get(url)
    v0 = current(session, season.id)
    upsert_otb(session, make.admin, season.id, location_id=locations[0].id,
               category_id=leaves[1].id, month=FEB, expected_version=1,
               planned_sales="1", planned_markdowns="0", planned_closing_stock="400",
               opening_stock="350", on_order="0")
    carried = []
    monkeypatch.setattr(queries, "carry_entries", lambda *a: carried.append(a) or 0)
    key = cell_key("planned_sales", locations[0].id, leaves[0].id, FEB)
    cells_url = f"/planning/{season.season_code}/otb/pivot/cells?{url.split('?', 1)[1]}"
    answer = planner.post(cells_url, data={"cell": key, "value": "5", "version": "1"},
                          headers=headers).get_data(as_text=True)
    assert current(session, season.id)[0] == v0[0] + 2 and carried == []
    other = cell_key("planned_sales", locations[0].id, leaves[1].id, FEB)
    assert f'data-cell="{other}" data-version="2" data-value="1.00"' in answer


@pytest.mark.parametrize("value", ["\x00", "9" * 400, "-1", "1e999", "NaN", "12,34,5", "%FF%FE"])
def test_hostile_values_are_refused_on_their_cell(login, season_data, value):
    """A cell's value or a total is read by the upload's rules: a clear 4xx (422 naming the
    cell; 400 for a NUL, refused before any view), never a 500."""
    from urllib.parse import quote

    season, locations, leaves, _ = season_data
    key = cell_key("planned_sales", locations[0].id, leaves[0].id, FEB)
    raw = value if value.startswith("%") else quote(value)
    planner = login("planner")
    for url, body in ((f"/planning/{season.season_code}/otb/pivot/cells",
                       f"cell={quote(key)}&value={raw}&version=1"),
                      (f"/planning/{season.season_code}/otb/pivot/spread",
                       f"target={quote('|planned_sales|total')}&total={raw}")):
        body += f"&csrf_token={quote(planner.csrf_token())}"
        response = planner.client.post(url, data=body.encode(), headers=HX,
                                       content_type="application/x-www-form-urlencoded")
        expected = 400 if value == "\x00" else 422
        assert response.status_code == expected, (url, value, response.status_code)
        if expected == 422 and url.endswith("cells"):
            assert key in response.get_json()["cells"]
