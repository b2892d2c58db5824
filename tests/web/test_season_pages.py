"""Season pages: create/edit/delete, locations, gates with links, locking, history."""
from sqlalchemy import func, select

from kyros_web.audit import AuditEvent
from kyros_web.models import Season, SeasonLocation
from kyros_web.seasons.services import update_season
from kyros_web.seasons.workflow import SeasonStatus

HX = {"HX-Request": "true"}


def test_create_season_by_form(login, session):
    b = login("planner")
    response = b.post("/seasons/", {"name": "Autumn 27", "start_date": "2027-08-01",
                                    "end_date": "2027-10-31"})
    season = session.scalar(select(Season).where(Season.name == "Autumn 27"))
    assert response.status_code == 303
    assert response.headers["Location"] == f"/seasons/{season.season_code}"
    assert season.status is SeasonStatus.CREATED


def test_create_season_bad_dates_is_422_with_values(login, session):
    b = login("planner")
    response = b.post("/seasons/", {"name": "Backwards", "start_date": "2027-08-01",
                                    "end_date": "2027-07-31"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "End date must be on or after the start date" in html
    assert 'value="Backwards"' in html and 'value="2027-07-31"' in html
    response = b.post("/seasons/", {"name": "No dates", "start_date": "31/12/2027"})
    assert response.status_code == 422 and "Start date is required" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Season.id))) == 0


def test_edit_season_while_allowed_only(login, make):
    b = login("planner")
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    response = b.post(f"/seasons/{season.season_code}", {"name": "Renamed",
                                                         "start_date": "2026-02-01",
                                                         "end_date": "2026-04-30"})
    assert response.status_code == 303 and season.name == "Renamed"
    later = make.season(SeasonStatus.PLAN_UPLOADED)
    assert b.get(f"/seasons/{later.season_code}/edit").status_code == 409
    response = b.post(f"/seasons/{later.season_code}", {"name": "Nope",
                                                        "start_date": "2026-02-01",
                                                        "end_date": "2026-04-30"})
    assert response.status_code == 409
    assert "can only be changed while the season is" in response.get_data(as_text=True)
    assert "Edit season" not in b.get(f"/seasons/{later.season_code}").get_data(as_text=True)


def test_delete_season_only_while_created(login, make, session):
    b = login("admin")
    season = make.season()
    assert b.post(f"/seasons/{season.season_code}/delete").status_code == 303
    assert session.scalar(select(func.count(Season.id))) == 0
    other = make.season(SeasonStatus.LOCATIONS_DEFINED)
    assert b.post(f"/seasons/{other.season_code}/delete").status_code == 409


def test_assign_by_cluster_search_and_remove(login, make, session):
    north = make.cluster("Region 03")
    a, c = make.location(name="Alpha", cluster=north), make.location(name="Gamma", cluster=north)
    lone = make.location(name="Zeta Outlet")
    inactive = make.location(name="Closed", cluster=north)
    inactive.is_active = False
    session.commit()
    season = make.season()
    b = login("planner")
    response = b.post(f"/seasons/{season.season_code}/locations", {"cluster": str(north.id)})
    assert response.status_code == 303
    html = b.get(response.headers["Location"]).get_data(as_text=True)
    assert "2 locations added." in html and "2 locations assigned" in html
    found = b.get(f"/seasons/{season.season_code}/locations?q=zeta").get_data(as_text=True)
    assert f'value="{lone.id}"' in found and f'value="{inactive.id}"' not in found
    b.post(f"/seasons/{season.season_code}/locations", {"location_id": str(lone.id)})
    assert session.scalar(select(func.count(SeasonLocation.id))) == 3
    response = b.post(f"/seasons/{season.season_code}/locations/remove",
                      {"location_id": [str(a.id), str(c.id)]})
    assert response.status_code == 303
    assert session.scalar(select(func.count(SeasonLocation.id))) == 1


def test_inactive_location_refused_with_message(login, make, session):
    loc = make.location()
    loc.is_active = False
    session.commit()
    season = make.season()
    b = login("planner")
    response = b.post(f"/seasons/{season.season_code}/locations", {"location_id": str(loc.id)})
    assert response.status_code == 422
    assert "Inactive locations cannot be added" in response.get_data(as_text=True)


def test_locations_read_only_after_plans(login, make):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    b = login("planner")
    html = b.get(f"/seasons/{season.season_code}/locations").get_data(as_text=True)
    assert "Add locations" not in html and "Remove selected" not in html
    response = b.post(f"/seasons/{season.season_code}/locations", {"all": "yes"})
    assert response.status_code == 409


def test_gate_links_to_where_it_is_fixed(login, make):
    season = make.season()
    html = login("planner").get(f"/seasons/{season.season_code}").get_data(as_text=True)
    assert f'href="/seasons/{season.season_code}/locations">Fix in Season locations' in html


def test_walk_the_workflow_in_the_browser(login, make):
    """Advance step by step through the page, locking with the confirmation box."""
    b = login("planner")
    season = make.season()
    for expected in ("locations_defined", "plan_uploaded", "otb_uploaded", "range_uploaded"):
        make.fill(season)
        response = b.post(f"/seasons/{season.season_code}/advance", {"target": expected})
        assert response.status_code == 303, response.get_data(as_text=True)
        assert season.status.value == expected
    page = b.get(f"/seasons/{season.season_code}").get_data(as_text=True)
    assert "Advance to Locked" in page and "I understand that locking is final" in page
    response = b.post(f"/seasons/{season.season_code}/advance", {"target": "locked"})
    assert response.status_code == 422 and "Tick the box to confirm" in response.get_data(as_text=True)
    assert season.status is SeasonStatus.RANGE_UPLOADED
    response = b.post(f"/seasons/{season.season_code}/advance",
                      {"target": "locked", "confirm_lock": "yes", "note": "season closed"})
    assert response.status_code == 303 and season.status is SeasonStatus.LOCKED
    history = b.get(f"/seasons/{season.season_code}/history").get_data(as_text=True)
    assert history.count("<td>Locked</td>") == 1 and "season closed" in history


def test_stale_advance_button_gets_409(login, make):
    """Two tabs: the second click names a step the season has already passed."""
    b = login("planner")
    season = make.season()
    make.fill(season)
    b.post(f"/seasons/{season.season_code}/advance", {"target": "locations_defined"})
    response = b.post(f"/seasons/{season.season_code}/advance", {"target": "locations_defined"})
    assert response.status_code == 409
    assert ("cannot move from &#39;locations_defined&#39; to &#39;locations_defined&#39;"
            in response.get_data(as_text=True))


def test_history_filters(login, make, session):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    b = login("viewer")
    html = b.get(f"/seasons/{season.season_code}/history").get_data(as_text=True)
    assert "assign locations" in html and "transition" in html
    html = b.get(f"/seasons/{season.season_code}/history?entity=season_location",
                 headers=HX).get_data(as_text=True)
    assert html.lstrip().startswith('<section id="events">')
    assert "assign locations" in html and "transition" not in html
    planner = make.user("planner")
    update_season(session, planner, season.id, name="Renamed by planner",
                  start_date=season.start_date, end_date=season.end_date)
    html = b.get(f"/seasons/{season.season_code}/history?user={planner.id}").get_data(as_text=True)
    assert "Renamed by planner" in html and "assign locations" not in html
    assert "1 in all" in html


def test_unknown_season_is_404(login):
    assert login("viewer").get("/seasons/ZZZZ-ZZZZ/history").status_code == 404


def test_edit_form_switches_the_stock_chain_audited(login, make, session):
    b = login("planner")
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    url = f"/seasons/{season.season_code}"
    form = b.get(url + "/edit").get_data(as_text=True)
    assert 'name="chain_stock"' in form and "checked" in form
    assert 'name="chain_stock"' not in b.get("/seasons/new").get_data(as_text=True)
    dates = {"name": season.name, "start_date": "2026-02-01", "end_date": "2026-04-30"}
    assert b.post(url, dates).status_code == 303  # the box left unticked
    session.expire_all()
    assert season.chain_stock is False
    event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "season",
                                                     AuditEvent.action == "update")).one()
    assert (event.before, event.after) == ({"chain_stock": True}, {"chain_stock": False})
    assert b.post(url, {**dates, "chain_stock": "y"}).status_code == 303
    session.expire_all()
    assert season.chain_stock is True


def test_history_names_rows_by_their_numbers_codes_and_names(login, make, session):
    """Issue 15, item 9: PO and GRN numbers, location and category codes with names and status
    titles, never an internal id."""
    from datetime import date
    from decimal import Decimal

    from kyros_web.planning.services import delete_otb
    from kyros_web.purchasing.services import close_po, create_grn, create_po

    season = make.season(SeasonStatus.RANGE_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    buyer = make.user("buyer")
    po = create_po(session, buyer, season.id, po_number="PO-HIST-1", location_id=loc.id,
                   category_id=leaf.id, po_value="1000", order_date=date(2026, 1, 10),
                   delivery_date=date(2026, 2, 10)).po
    create_grn(session, buyer, po_id=po.id, grn_number="GRN-HIST-1", grn_date=date(2026, 2, 11),
               received_value=Decimal("400"))
    close_po(session, buyer, po.id)
    html = login("viewer").get(f"/seasons/{season.season_code}/history").get_data(as_text=True)
    events = html[html.index('<section id="events">'):]
    assert "PO PO-HIST-1" in events
    assert "GRN GRN-HIST-1 (PO PO-HIST-1)" in events
    assert f"{loc.location_code} {loc.name}" in events and f"{leaf.code} {leaf.name}" in events
    assert "Partially received" in events and "Closed" in events
    assert "partially_received" not in events
    for obj in (po, loc, leaf, buyer):
        assert str(obj.id) not in events, f"an id of {obj!r} is shown"
    assert "location_id" not in events and "category_id" not in events


def test_history_names_the_api_token_a_change_came_through(login, make, session):
    """Issue 18, item 7: a change through the JSON API says which token made it."""
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    planner = make.user("planner")
    update_season(session, planner, season.id, name="Renamed through the API",
                  start_date=season.start_date, end_date=season.end_date)
    event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "season",
                                                     AuditEvent.action == "update")).one()
    event.via = "api token ERP nightly"
    session.commit()
    html = login("viewer").get(f"/seasons/{season.season_code}/history").get_data(as_text=True)
    events = html[html.index('<section id="events">'):]
    assert (f'<td>{planner.email} <span class="via">via api token ERP nightly</span></td>'
            in events)
    assert events.count("via api token") == 1  # the page's own changes say nothing
