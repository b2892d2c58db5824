"""Moving open to buy in the browser (issue 17, items 1 and 3): the request form, the Approvals
page (by plain form and by htmx, never one's own request), the count in the navigation, and
the budget on the OTB grid, the pivot, the cell page and the PO form."""
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from kyros_web.models import OTBAdjustment, OTBAdjustmentLine
from kyros_web.planning import services
from kyros_web.planning.adjustments import Scope

from ..services.test_adjustments import FEB, shop  # noqa: F401  (the fixture)
from .test_in_season_otb import grid_rows


def _as(browser_of, user):
    b = browser_of()
    assert b.login(user.email).status_code == 303
    return b


@pytest.fixture
def browser_of(app):
    from ..conftest import Browser
    return lambda: Browser(app.test_client())


def _form(s, **changes):
    data = {"amount": "300", "from_location": "all", "from_category": str(s["x"].id),
            "from_month": "2026-02", "to_location": "all", "to_category": str(s["z"].id),
            "to_month": "2026-02", "reason": "x sells slowly"}
    data.update(changes)
    return data


def test_a_planner_asks_and_another_approves_by_plain_forms(session, shop, browser_of):
    s, code = shop, shop["season"].season_code
    asker, approver = _as(browser_of, s["requester"]), _as(browser_of, s["approver"])
    page = asker.get(f"/planning/{code}/adjustments").get_data(as_text=True)
    assert "Ask to move open to buy" in page and 'name="from_location"' in page
    response = asker.post(f"/planning/{code}/adjustments", _form(s))
    assert response.status_code == 303
    listed = asker.get(response.headers["Location"]).get_data(as_text=True)
    assert "waits for another planner or an admin" in listed
    assert re.search(r"every location × C\d+ C\d+ × Feb 2026", listed)
    row = session.scalars(select(OTBAdjustment)).one()
    # The requester sees it under what they asked for, with nothing to decide; no count.
    mine = asker.get("/approvals/").get_data(as_text=True)
    assert "No move of open to buy waits for your decision" in mine
    assert "x sells slowly" in mine
    assert 'class="count-badge"' not in mine
    # The approver sees it waiting, with the count in the navigation.
    theirs = approver.get("/approvals/").get_data(as_text=True)
    assert "Waiting for your decision (1)" in theirs
    assert re.search(r'class="count-badge"[^>]*>1<', theirs)
    # The requester cannot decide it, even by posting the form.
    refused = asker.post(f"/approvals/adjustments/{row.id}", {"decision": "approve",
                                                              "note": "mine"})
    assert refused.status_code == 403
    # A decision needs a note.
    missing = approver.post(f"/approvals/adjustments/{row.id}", {"decision": "approve"})
    assert missing.status_code == 422 and "Add a note to your decision" in missing.get_data(
        as_text=True)
    done = approver.post(f"/approvals/adjustments/{row.id}", {"decision": "approve",
                                                              "note": "agreed"})
    assert done.status_code == 303
    assert "Request #1 to move 300.00 is approved" in approver.get("/approvals/").get_data(
        as_text=True)
    assert session.scalar(select(func.count()).select_from(OTBAdjustmentLine)) == 5


def test_bad_requests_come_back_with_their_messages(session, shop, browser_of):
    s, code = shop, shop["season"].season_code
    asker = _as(browser_of, s["requester"])
    for changes, message in (
            (dict(amount="abc"), "not a number"),
            (dict(amount="-5"), "must be more than 0"),
            (dict(reason=""), "Say why the OTB should move"),
            (dict(from_location="l:nonsense"), "Choose every location, a cluster or a location"),
            (dict(to_month="2026-13"), "Choose a month of the season or every month"),
            (dict(to_category=str(s["x"].id)), "share 3 cell")):
        response = asker.post(f"/planning/{code}/adjustments", _form(s, **changes),
                              headers={"HX-Request": "true"})
        html = response.get_data(as_text=True)
        assert response.status_code == 422, changes
        assert message in html, (changes, html[:500])
        assert 'id="adjustment-form"' in html and "<html" not in html
    assert session.scalar(select(func.count()).select_from(OTBAdjustment)) == 0


def test_viewers_and_buyers_cannot_ask_or_decide(session, shop, login):
    s, code = shop, shop["season"].season_code
    row = services.request_adjustment(session, s["requester"], s["season"].id, amount="10",
                                      source=Scope(category_id=s["x"].id),
                                      target=Scope(category_id=s["z"].id), reason="r")
    for role in ("viewer", "buyer"):
        b = login(role)
        page = b.get(f"/planning/{code}/adjustments").get_data(as_text=True)
        assert "Ask to move open to buy" not in page and "Requests in this season" in page
        assert b.post(f"/planning/{code}/adjustments", _form(s)).status_code == 403
        assert b.post(f"/approvals/adjustments/{row.id}",
                      {"decision": "approve", "note": "n"}).status_code == 403
        assert "Waiting for your decision" not in b.get("/approvals/").get_data(as_text=True)


def test_an_htmx_decision_answers_with_the_decided_row(session, shop, browser_of, make):
    s = shop
    row = services.request_adjustment(session, s["requester"], s["season"].id, amount="1000.01",
                                      source=Scope(category_id=s["z"].id, month=FEB),
                                      target=Scope(category_id=s["x"].id, month=FEB), reason="r")
    approver = _as(browser_of, s["approver"])
    approver.get("/approvals/")
    short = approver.post(f"/approvals/adjustments/{row.id}", {"decision": "approve",
                                                               "note": "go"},
                          headers={"HX-Request": "true"})
    html = short.get_data(as_text=True)
    assert short.status_code == 422 and "give an override reason, or reject" in html
    assert html.lstrip().startswith(f'<li id="decision-{row.id}"')
    rejected = approver.post(f"/approvals/adjustments/{row.id}",
                             {"decision": "reject", "note": "not now"},
                             headers={"HX-Request": "true"})
    html = rejected.get_data(as_text=True)
    assert rejected.status_code == 200 and "Request #1 to move 1,000.01 is rejected" in html
    assert "<form" not in html
    # A second decision is told who decided first.
    late = _as(browser_of, make.user("admin")).post(
        f"/approvals/adjustments/{row.id}", {"decision": "approve", "note": "late"})
    assert late.status_code == 409
    assert f"Request #1 was rejected by {s['approver'].email}" in late.get_data(as_text=True)


def test_the_budget_shows_on_the_grid_pivot_cell_page_and_po_form(session, shop, login):
    s, code = shop, shop["season"].season_code
    row = services.request_adjustment(session, s["requester"], s["season"].id, amount="300",
                                      source=Scope(category_id=s["x"].id, month=FEB),
                                      target=Scope(category_id=s["z"].id, month=FEB),
                                      reason="x sells slowly")
    services.decide_adjustment(session, s["approver"], row.id, approve=True, note="agreed")
    viewer = login("viewer")
    loc, z = s["b"], s["z"]
    grid = viewer.get(f"/planning/{code}/otb?location={loc.id}&category={z.id}").get_data(
        as_text=True)
    # b × z × Feb: OTB 600, +180 moved in, nothing committed: remaining 780.
    assert grid_rows(grid)["Feb 2026"][8:11] == ["600.00", "180.00", "0.00"]
    assert grid_rows(grid)["Feb 2026"][11] == "780.00"
    cell = viewer.get(f"/planning/{code}/otb/cell/{loc.location_code}/{z.code}/2026-02")
    html = cell.get_data(as_text=True)
    assert "How the budget is made" in html and "Request #1 into this cell" in html
    assert "x sells slowly" in html and s["requester"].email in html
    assert s["approver"].email in html and "agreed" in html
    assert re.search(r"Budget \(OTB \+ adjustments\)</dt><dd>780\.00", html)
    pivot = viewer.get(f"/planning/{code}/otb/pivot?level=9").get_data(as_text=True)
    assert ">Adjustments<" in pivot


def test_requests_and_decisions_are_in_the_seasons_history(session, shop, login):
    s, code = shop, shop["season"].season_code
    row = services.request_adjustment(session, s["requester"], s["season"].id, amount="300",
                                      source=Scope(category_id=s["x"].id, month=FEB),
                                      target=Scope(category_id=s["z"].id, month=FEB),
                                      reason="x sells slowly")
    services.decide_adjustment(session, s["approver"], row.id, approve=True, note="agreed")
    html = login("viewer").get(f"/seasons/{code}/history?entity=otb_adjustment").get_data(
        as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert text.count("OTB move #1") == 2
    assert "x sells slowly" in text and "agreed" in text
    assert f"from : every location × {s['x'].code} {s['x'].name} × Feb 2026" in text
    assert s["requester"].email in text and s["approver"].email in text


def test_the_approvals_filters(session, shop, browser_of):
    s, code = shop, shop["season"].season_code
    services.request_adjustment(session, s["requester"], s["season"].id, amount="10",
                                source=Scope(category_id=s["x"].id),
                                target=Scope(category_id=s["z"].id), reason="r")
    approver, asker = _as(browser_of, s["approver"]), _as(browser_of, s["requester"])
    assert "Waiting for your decision (1)" in approver.get(f"/approvals/?season={code}").get_data(
        as_text=True)
    other = approver.get("/approvals/?season=NONE-0000").get_data(as_text=True)
    assert "Waiting for your decision (0)" in other
    assert f'<option value="{code}"' in other  # the season stays offered
    pending = asker.get("/approvals/?status=pending").get_data(as_text=True)
    assert "What you asked for" in pending and ">Pending<" in pending
    approved = asker.get("/approvals/?status=approved").get_data(as_text=True)
    assert "You have not asked to move open to buy with these filters" in approved
