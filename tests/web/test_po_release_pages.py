"""Releasing a PO over its budget in the browser (issue 17, items 2 and 3): the PO form's
release reason under the block policy, the Approvals page (release or reject, by form or
htmx), its count, and the PO page telling where the PO stands."""
import re
from datetime import date

import pytest
from sqlalchemy import select

from kyros_web.models import PORelease, POStatus, PurchaseOrder

from ..services.test_planning_purchasing import buying  # noqa: F401  (the fixture)
from .test_adjustment_pages import _as, browser_of  # noqa: F401


@pytest.fixture
def block(app):
    app.config["KYROS_OTB_POLICY"] = "block"
    yield
    app.config["KYROS_OTB_POLICY"] = "warn"


def _po_form(buying, number, value, reason=""):
    season, loc, leaf, _ = buying
    return {"po_number": number, "location_id": str(loc.id), "category_id": str(leaf.id),
            "order_date": "2026-02-03", "delivery_date": "", "po_value": value, "supplier": "",
            "source": "manual", "release_reason": reason}


def test_a_buyer_asks_and_a_planner_releases(session, buying, block, browser_of, make):
    season, _, _, buyer = buying
    code = season.season_code
    b = _as(browser_of, buyer)
    refused = b.post(f"/purchasing/{code}/pos", _po_form(buying, "PO-9", "3800"))
    assert refused.status_code == 422 and "over OTB by 800.00" in refused.get_data(as_text=True)
    assert "Over budget? Ask for a release" in refused.get_data(as_text=True)
    held = b.post(f"/purchasing/{code}/pos", _po_form(buying, "PO-9", "3800", "Launch stock"))
    assert held.status_code == 303
    page = b.get(held.headers["Location"]).get_data(as_text=True)
    assert "saved awaiting release" in page and "Awaiting release" in page
    assert "Launch stock" in page
    planner_user = make.user("planner")
    planner = _as(browser_of, planner_user)
    approvals = planner.get("/approvals/").get_data(as_text=True)
    assert "Waiting for your decision (1)" in approvals
    assert re.search(r'class="count-badge"[^>]*>1<', approvals)
    assert "800.00 over its budget" in approvals
    release = session.scalars(select(PORelease)).one()
    # A buyer cannot decide, even by posting.
    assert b.post(f"/approvals/releases/{release.id}", {"decision": "approve",
                                                        "note": "n"}).status_code == 403
    done = planner.post(f"/approvals/releases/{release.id}",
                        {"decision": "approve", "note": "Launch matters"},
                        headers={"HX-Request": "true"})
    html = done.get_data(as_text=True)
    assert done.status_code == 200 and html.lstrip().startswith(f'<li id="release-{release.id}"')
    assert "PO PO-9 is released: it is open and consumes its budget" in html
    session.expire_all()
    assert session.scalars(select(PurchaseOrder.status).where(
        PurchaseOrder.po_number == "PO-9")).one() is POStatus.OPEN
    page = b.get(f"/purchasing/{code}/pos/PO-9").get_data(as_text=True)
    assert f"Released by {planner_user.email}" in page
    mine = b.get("/approvals/").get_data(as_text=True)
    assert "Releases of POs you asked for" in mine and "Approved" in mine


def test_a_rejection_by_form_cancels_and_a_note_is_needed(session, buying, block, browser_of,
                                                          make):
    season, _, _, buyer = buying
    _as(browser_of, buyer).post(f"/purchasing/{season.season_code}/pos",
                                _po_form(buying, "PO-8", "3800", "Why not"))
    release = session.scalars(select(PORelease)).one()
    admin = _as(browser_of, make.user("admin"))
    admin.get("/approvals/")
    missing = admin.post(f"/approvals/releases/{release.id}", {"decision": "reject"})
    assert missing.status_code == 422
    assert "Add a note to your decision" in missing.get_data(as_text=True)
    done = admin.post(f"/approvals/releases/{release.id}", {"decision": "reject",
                                                            "note": "No budget"})
    assert done.status_code == 303
    assert "PO PO-8 is rejected: it is cancelled" in admin.get("/approvals/").get_data(
        as_text=True)
    session.expire_all()
    assert session.scalars(select(PurchaseOrder.status)).one() is POStatus.CANCELLED


def test_the_history_tells_the_release(session, buying, block, browser_of, make, login):
    season, _, _, buyer = buying
    _as(browser_of, buyer).post(f"/purchasing/{season.season_code}/pos",
                                _po_form(buying, "PO-7", "3800", "Launch stock"))
    from kyros_web.purchasing.services import decide_release
    release = session.scalars(select(PORelease)).one()
    decide_release(session, make.user("planner"), release.id, approve=True, note="ok")
    html = login("viewer").get(f"/seasons/{season.season_code}/history?entity=purchase_order"
                               ).get_data(as_text=True)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "release asked for" in text and "released" in text and "Launch stock" in text
