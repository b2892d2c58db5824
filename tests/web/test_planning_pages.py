"""Plans grid, OTB grid, range intent and the OTB cell page (SPEC §3, §5, §7)."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.models import OTBPlan, RangeIntent, SeasonPlan
from kyros_web.planning.services import upsert_plan
from kyros_web.purchasing.services import close_po, create_grn, create_po
from kyros_web.seasons.services import advance_season, update_season
from kyros_web.seasons.workflow import SeasonStatus

HX = {"HX-Request": "true"}
FEB = date(2026, 2, 1)


@pytest.fixture
def planning(make, session):
    """A locations_defined season with two locations and three leaves under one department."""
    dept = make.category("DEPT")
    leaves = [make.category(f"DEPT-{n}", parent=dept) for n in (1, 2, 3)]
    other = make.category("OTHER")
    locations = [make.location(name="Alpha"), make.location(name="Beta")]
    season = make.season(SeasonStatus.LOCATIONS_DEFINED, locations=locations,
                         leaves=leaves + [other])
    return season, locations, leaves, other


def plan(session, make, season, loc, leaf, sales, margin, turns=None):
    return upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                       planned_sales=sales, planned_margin=margin, inventory_turns=turns).row


def test_plans_grid_totals_are_weighted(login, make, session, planning):
    season, (a, b), leaves, other = planning
    plan(session, make, season, a, leaves[0], "9000", "40", "4")
    plan(session, make, season, a, leaves[1], "1000", "10", "2")
    html = login("viewer").get(f"/planning/{season.season_code}/plans").get_data(as_text=True)
    assert "Total of 2 rows" in html and "10,000.00" in html
    assert "37.0 %" in html  # sales-weighted, not the plain mean 25 %
    assert "3.80" in html  # turns weighted by sales: (4×9000 + 2×1000) / 10000


def test_plans_grid_filters_by_category_subtree_and_approval(login, make, session, planning):
    season, (a, b), leaves, other = planning
    plan(session, make, season, a, leaves[0], "100", "10")
    row = plan(session, make, season, b, other, "200", "20")
    from kyros_web.planning.services import approve_plans
    approve_plans(session, make.admin, season.id, [row.id])
    v = login("viewer")
    dept = leaves[0].parent_id
    html = v.get(f"/planning/{season.season_code}/plans?category={dept}").get_data(as_text=True)
    assert "DEPT-1" in html and "Total of 1 row" in html and ">OTHER<" not in html
    html = v.get(f"/planning/{season.season_code}/plans?approved=yes").get_data(as_text=True)
    assert "Total of 1 row" in html and "200.00" in html
    html = v.get(f"/planning/{season.season_code}/plans?location={b.id}", headers=HX).get_data(as_text=True)
    assert html.lstrip().startswith('<section id="grid">') and "Beta" in html and "DEPT-1" not in html


def test_plans_grid_sorts(login, make, session, planning):
    season, (a, b), leaves, other = planning
    plan(session, make, season, a, leaves[0], "100", "10")
    plan(session, make, season, a, leaves[1], "300", "10")
    html = login("viewer").get(f"/planning/{season.season_code}/plans?sort=sales&dir=desc").get_data(as_text=True)
    assert html.index("300.00") < html.index("100.00")
    assert 'aria-sort="descending"' in html


def test_inline_edit_round_trip(login, make, session, planning):
    season, (a, b), leaves, other = planning
    row = plan(session, make, season, a, leaves[0], "100", "10")
    p = login("planner")
    base = f"/planning/{season.season_code}/plans/{row.id}"
    form = p.get(base + "/edit", headers=HX).get_data(as_text=True)
    assert form.lstrip().startswith(f'<tr id="plan-{row.id}" class="editing">')
    assert 'name="version" value="1"' in form
    response = p.post(base, {"planned_sales": "150.5", "planned_margin": "12", "version": "1"},
                      headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "plans-changed"
    assert html.lstrip().startswith(f'<tr id="plan-{row.id}">') and "150.50" in html
    session.refresh(row)
    assert row.version == 2 and row.planned_sales == D("150.50")
    totals = p.get(f"/planning/{season.season_code}/plans/totals").get_data(as_text=True)
    assert totals.lstrip().startswith('<tfoot id="plan-totals"') and "150.50" in totals


def test_inline_edit_refuses_a_stale_version(login, make, session, planning):
    season, (a, b), leaves, other = planning
    row = plan(session, make, season, a, leaves[0], "100", "10")
    p = login("planner")
    upsert_plan(session, make.admin, season.id, location_id=a.id, category_id=leaves[0].id,
                planned_sales="120", planned_margin="10")  # someone else, meanwhile
    response = p.post(f"/planning/{season.season_code}/plans/{row.id}",
                      {"planned_sales": "999", "planned_margin": "10", "version": "1"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "changed by" in html and "reload" in html and 'value="120.00"' in html
    session.refresh(row)
    assert row.planned_sales == D("120.00")


def test_inline_edit_bad_value_is_422_next_to_the_cell(login, make, session, planning):
    season, (a, b), leaves, other = planning
    row = plan(session, make, season, a, leaves[0], "100", "10")
    response = login("planner").post(f"/planning/{season.season_code}/plans/{row.id}",
                                     {"planned_sales": "12.345", "planned_margin": "10",
                                      "version": "1"}, headers=HX)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at most 2 decimals" in html and 'value="12.345"' in html and 'aria-invalid="true"' in html


def test_edit_without_javascript(login, make, session, planning):
    season, (a, b), leaves, other = planning
    row = plan(session, make, season, a, leaves[0], "100", "10")
    p = login("planner")
    page = p.get(f"/planning/{season.season_code}/plans/{row.id}/edit").get_data(as_text=True)
    assert "<nav" in page and f'id="plan-form-{row.id}"' in page
    response = p.post(f"/planning/{season.season_code}/plans/{row.id}",
                      {"planned_sales": "101", "planned_margin": "10", "version": "1"})
    assert response.status_code == 303


def test_add_delete_and_approve(login, make, session, planning):
    season, (a, b), leaves, other = planning
    p = login("planner")
    url = f"/planning/{season.season_code}/plans"
    response = p.post(url, {"location_id": str(a.id), "category_id": str(leaves[0].id),
                            "planned_sales": "500", "planned_margin": "30"})
    assert response.status_code == 303
    again = p.post(url, {"location_id": str(a.id), "category_id": str(leaves[0].id),
                         "planned_sales": "1", "planned_margin": "1"})
    assert again.status_code == 422 and "already exists" in again.get_data(as_text=True)
    parent = p.post(url, {"location_id": str(a.id), "category_id": str(leaves[0].parent_id),
                          "planned_sales": "1", "planned_margin": "1"})
    assert parent.status_code == 422 and "leaf categories only" in parent.get_data(as_text=True)
    p.post(url, {"location_id": str(b.id), "category_id": str(other.id),
                 "planned_sales": "5", "planned_margin": "5"})
    rows = session.scalars(select(SeasonPlan).order_by(SeasonPlan.planned_sales)).all()
    assert p.post(url + "/approve", {"scope": "selected", "plan_id": str(rows[0].id)}).status_code == 303
    session.expire_all()
    assert [r.approved for r in session.scalars(select(SeasonPlan).order_by(SeasonPlan.planned_sales))] == [True, False]
    p.post(url + f"/approve?location={a.id}", {"scope": "filtered"})
    session.expire_all()
    assert all(r.approved for r in session.scalars(select(SeasonPlan)))
    assert p.post(url + f"/{rows[0].id}/delete").status_code == 303
    assert session.scalar(select(func.count(SeasonPlan.id))) == 1


def test_buyer_and_viewer_cannot_touch_plans(login, make, session, planning):
    season, (a, b), leaves, other = planning
    row = plan(session, make, season, a, leaves[0], "100", "10")
    for role in ("buyer", "viewer"):
        u = login(role)
        html = u.get(f"/planning/{season.season_code}/plans").get_data(as_text=True)
        assert "Approve selected" not in html and "Add a plan row" not in html and ">Edit<" not in html
        assert u.post(f"/planning/{season.season_code}/plans/{row.id}",
                      {"planned_sales": "1", "planned_margin": "1", "version": "1"}).status_code == 403


def test_plans_are_read_only_after_their_status(login, make, session):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    row = session.scalar(select(SeasonPlan))
    p = login("planner")
    html = p.get(f"/planning/{season.season_code}/plans").get_data(as_text=True)
    assert "Add a plan row" not in html and "Approve selected" not in html
    response = p.post(f"/planning/{season.season_code}/plans/{row.id}",
                      {"planned_sales": "1", "planned_margin": "1", "version": str(row.version)})
    assert response.status_code == 409
    assert "can only be changed while the season is" in response.get_data(as_text=True)


@pytest.fixture
def seed(make, session):
    """The seed's example: OTB 100,000 + 0 + 50,000 − 30,000 − 10,000 in Feb, range_uploaded."""
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    make.otb_row(season, loc, leaf, FEB, planned_sales="100000", planned_markdowns="0",
                 planned_closing_stock="50000", opening_stock="30000", on_order="10000")
    advance_season(session, make.admin, season.id)
    make.fill(season)
    advance_season(session, make.admin, season.id)
    return season, loc, leaf


def test_seed_example_through_the_pages(login, make, session, seed):
    """OTB 110,000.00; a PO of 12,500 gives 11.4 % utilisation; a GRN of 11,250 gives 90.0 %."""
    season, loc, leaf = seed
    v = login("viewer")
    grid = v.get(f"/planning/{season.season_code}/otb").get_data(as_text=True)
    assert "110,000.00" in grid
    buyer = make.user("buyer")
    po = create_po(session, buyer, season.id, po_number="PO-SEED", location_id=loc.id,
                   category_id=leaf.id, po_value="12500", order_date=FEB).po
    create_grn(session, buyer, po_id=po.id, grn_number="GRN-SEED", grn_date=date(2026, 2, 20),
               received_value="11250")
    cell = v.get(f"/planning/{season.season_code}/otb/cell/{loc.location_code}/{leaf.code}/2026-02")
    html = cell.get_data(as_text=True)
    assert cell.status_code == 200
    assert "110,000.00" in html and "12,500.00" in html and "97,500.00" in html
    assert "11.4 %" in html and "90.0 %" in html and "PO-SEED" in html and "GRN-SEED" in html
    grid = v.get(f"/planning/{season.season_code}/otb").get_data(as_text=True)
    assert "97,500.00" in grid and f"/otb/cell/{loc.location_code}/{leaf.code}/2026-02" in grid


def test_otb_grid_row_commits_what_a_short_closed_po_received(login, make, session):
    """A grid row's committed counts a short-closed PO at what it received, not its value."""
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    buyer = make.user("buyer")
    closed = create_po(session, buyer, season.id, po_number="PO-SHORT", location_id=loc.id,
                       category_id=leaf.id, po_value="1000", order_date=FEB).po
    create_grn(session, buyer, po_id=closed.id, grn_number="G-SHORT", grn_date=date(2026, 2, 9),
               received_value="250")
    close_po(session, buyer, closed.id)
    create_po(session, buyer, season.id, po_number="PO-OPEN", location_id=loc.id,
              category_id=leaf.id, po_value="500", order_date=FEB)
    grid = login("viewer").get(f"/planning/{season.season_code}/otb").get_data(as_text=True)
    cell = f"/otb/cell/{loc.location_code}/{leaf.code}/2026-02"
    assert f'{cell}">750.00</a>' in grid and f'{cell}">2,250.00</a>' in grid


def test_otb_preview_computes_on_the_server(login, seed):
    season, loc, leaf = seed
    html = login("viewer").get(
        f"/planning/{season.season_code}/otb/preview?row=x&planned_sales=100000&planned_markdowns="
        "&planned_closing_stock=50000&opening_stock=30000&on_order=10000").get_data(as_text=True)
    assert 'id="otb-preview-x"' in html and "110,000.00" in html
    bad = login("viewer").get(f"/planning/{season.season_code}/otb/preview?planned_sales=abc")
    assert "Planned sales is not a number" in bad.get_data(as_text=True)


def test_otb_flags_and_month_totals(login, make, session):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    make.otb_row(season, loc, leaf, FEB, planned_sales="1000", planned_closing_stock="500",
                 opening_stock="400", on_order="0")
    make.otb_row(season, loc, leaf, date(2026, 3, 1), planned_sales="100",
                 planned_closing_stock="0", opening_stock="900", on_order="0")
    v = login("viewer")
    html = v.get(f"/planning/{season.season_code}/otb").get_data(as_text=True)
    assert "Negative OTB" in html and "Opening ≠ previous closing 500.00" in html
    assert "≠ plan 3,000.00" in html
    assert "Total Feb 2026 (1 row)" in html and "Total Mar 2026 (1 row)" in html
    march = v.get(f"/planning/{season.season_code}/otb?month=2026-03").get_data(as_text=True)
    assert "Opening ≠ previous closing" in march and "Total Feb 2026" not in march
    negative = v.get(f"/planning/{season.season_code}/otb?flag=negative").get_data(as_text=True)
    assert "Total Mar 2026 (1 row)" in negative and "Total Feb 2026" not in negative


def test_otb_grid_counts_the_rows_its_filters_keep(login, make, session, app, monkeypatch):
    """The pager's count comes from the month totals: it must follow every filter."""
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    # Feb closes 0 and March opens 100: one break in the stock chain.
    for month, opening in ((FEB, "1000"), (date(2026, 3, 1), "100"), (date(2026, 4, 1), "0")):
        make.otb_row(season, loc, leaf, month, planned_sales="1000", planned_closing_stock="0",
                     opening_stock=opening, on_order="0")
    v = login("viewer")
    url = f"/planning/{season.season_code}/otb"
    assert "Page 1 of 2 (3 in all)" in v.get(url).get_data(as_text=True)
    assert ">1 in all<" in v.get(url + "?month=2026-03").get_data(as_text=True)
    assert ">1 in all<" in v.get(url + "?flag=chain").get_data(as_text=True)
    assert "Page 2 of 2 (3 in all)" in v.get(url + "?page=2").get_data(as_text=True)


def test_otb_inline_edit_recomputes(login, make, session):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    row = make.otb_row(season, loc, leaf, FEB, planned_sales="1", planned_closing_stock="0",
                       opening_stock="0", on_order="0")
    p = login("planner")
    response = p.post(f"/planning/{season.season_code}/otb/{row.id}",
                      {"planned_sales": "100000", "planned_markdowns": "0",
                       "planned_closing_stock": "50000", "opening_stock": "30000",
                       "on_order": "10000", "version": "1"}, headers=HX)
    assert response.status_code == 200 and "110,000.00" in response.get_data(as_text=True)
    assert response.headers["HX-Trigger"] == "otb-changed"
    negative = p.post(f"/planning/{season.season_code}/otb/{row.id}",
                      {"planned_sales": "-5", "planned_markdowns": "0",
                       "planned_closing_stock": "0", "opening_stock": "0", "on_order": "0",
                       "version": "2"}, headers=HX)
    assert negative.status_code == 422 and "0 or more" in negative.get_data(as_text=True)


def test_otb_add_row_and_month_outside_season(login, make, session):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    p = login("planner")
    inputs = {"planned_sales": "10", "planned_markdowns": "", "planned_closing_stock": "0",
              "opening_stock": "0", "on_order": "0", "location_id": str(loc.id),
              "category_id": str(leaf.id)}
    assert p.post(f"/planning/{season.season_code}/otb", {**inputs, "month": "2026-03"}).status_code == 303
    outside = p.post(f"/planning/{season.season_code}/otb", {**inputs, "month": "2026-09"})
    assert outside.status_code == 422 and "is not a month of season" in outside.get_data(as_text=True)
    assert session.scalar(select(func.count(OTBPlan.id))) == 1


def test_range_page_missing_list_and_rules(login, make, session):
    season = make.season(SeasonStatus.OTB_UPLOADED)
    leaf = season.test_leaves[0]
    p = login("planner")
    html = p.get(f"/planning/{season.season_code}/range").get_data(as_text=True)
    assert "1 leaf category with OTB but no range intent" in html and leaf.code in html
    url = f"/planning/{season.season_code}/range/{leaf.id}"
    bad = p.post(url, {"core_percent": "60", "fashion_percent": "50"}, headers=HX)
    assert bad.status_code == 422 and "must add up to 100" in bad.get_data(as_text=True)
    bands = p.post(url, {"core_percent": "60", "fashion_percent": "40", "price_band_low": "50",
                         "price_band_mid": "50", "price_band_high": "10"}, headers=HX)
    assert bands.status_code == 422 and "Price bands must add up to 100" in bands.get_data(as_text=True)
    ok = p.post(url, {"core_percent": "60", "fashion_percent": "40", "price_band_low": "30",
                      "price_band_mid": "50", "price_band_high": "20"}, headers=HX)
    assert ok.status_code == 200 and ok.headers["HX-Trigger"] == "range-changed"
    missing = p.get(f"/planning/{season.season_code}/range/missing").get_data(as_text=True)
    assert "Every leaf category with OTB has a range intent" in missing
    intent = session.scalar(select(RangeIntent))
    assert intent.price_band_mix == {"low": "30.00", "mid": "50.00", "high": "20.00"}
    stale = p.post(url, {"core_percent": "50", "fashion_percent": "50", "version": "0"}, headers=HX)
    assert stale.status_code == 409


def test_viewer_sees_no_edit_controls_on_planning_pages(login, make, seed):
    season, loc, leaf = seed
    v = login("viewer")
    for url in (f"/planning/{season.season_code}/plans", f"/planning/{season.season_code}/otb",
                f"/planning/{season.season_code}/range"):
        html = v.get(url).get_data(as_text=True)
        assert html.count('method="post"') == 1, url  # the logout form only
        assert "<input form=" not in html, url


def test_otb_grid_says_when_opening_stock_follows(login, make, session):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    other = make.season(SeasonStatus.LOCATIONS_DEFINED)
    update_season(session, make.admin, other.id, name=other.name, start_date=other.start_date,
                  end_date=other.end_date, chain_stock=False)
    v = login("viewer")
    line = "Opening stock follows the previous month's closing stock"
    grid = v.get(f"/planning/{season.season_code}/otb").get_data(as_text=True)
    assert line in grid.replace("&#39;", "'") and "season details" in grid
    assert line not in v.get(f"/planning/{other.season_code}/otb").get_data(
        as_text=True).replace("&#39;", "'")
