"""Releasing a PO over its budget (issue 17, item 2): under the block policy a buyer saves it
awaiting release (consuming nothing, receiving nothing) and another person releases it (open,
consuming) or rejects it (cancelled); under warn the request is recorded for the audit; one of
two simultaneous decisions wins."""
import threading
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.audit import AuditEvent
from kyros_web.auth.models import User
from kyros_web.errors import Conflict, Forbidden, ValidationFailed
from kyros_web.extensions import db
from kyros_web.models import PORelease, POStatus
from kyros_web.planning.queries import cell_figures
from kyros_web.purchasing import services as po
from kyros_web.purchasing.queries import release_rows
from kyros_web.seasons.workflow import SeasonStatus

from ..conftest import PG_URL
from .test_planning_purchasing import FEB, buying, new_po  # noqa: F401  (the fixture)


def _figures(session, buying):
    season, loc, leaf, _ = buying
    return cell_figures(session, season.id, loc.id, leaf.id, FEB)


def test_block_holds_the_po_awaiting_release_consuming_nothing(session, buying):
    new_po(session, buying, "PO-1", "2500")
    result = new_po(session, buying, "PO-2", "800", policy="block",
                    release_reason="The supplier's minimum order")
    assert result.po.status is POStatus.AWAITING_RELEASE and result.over_otb_by == D("300.00")
    assert _figures(session, buying).committed == D("2500.00")
    release = session.scalars(select(PORelease)).one()
    assert (release.status, release.over_by, release.reason) == (
        "pending", D("300.00"), "The supplier's minimum order")
    # Nothing can be received against it, and it cannot be edited.
    with pytest.raises(ValidationFailed, match="awaiting release; no goods can be received"):
        po.create_grn(session, buying[3], po_id=result.po.id, grn_number="G-1",
                      grn_date=date(2026, 2, 4), received_value="10")
    actions = session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity == "purchase_order").order_by(AuditEvent.at)).all()
    assert actions[-2:] == ["create", "request_release"]


def test_a_release_makes_it_open_and_consuming(session, buying, make):
    new_po(session, buying, "PO-1", "2500")
    held = new_po(session, buying, "PO-2", "800", policy="block", release_reason="why").po
    release = session.scalars(select(PORelease)).one()
    planner = make.user("planner")
    po.decide_release(session, planner, release.id, approve=True, note="go ahead")
    session.refresh(held)
    assert held.status is POStatus.OPEN
    figures = _figures(session, buying)
    assert (figures.committed, figures.remaining) == (D("3300.00"), D("-300.00"))
    assert (release.status, release.decided_by, release.decision_note) == (
        "approved", planner.id, "go ahead")
    # Now goods can come in.
    po.create_grn(session, buying[3], po_id=held.id, grn_number="G-2",
                  grn_date=date(2026, 2, 4), received_value="10")


def test_a_rejection_cancels_it_and_a_decision_is_final(session, buying, make):
    held = new_po(session, buying, "PO-2", "3800", policy="block", release_reason="why").po
    release = session.scalars(select(PORelease)).one()
    first = make.user("admin")
    po.decide_release(session, first, release.id, approve=False, note="no room")
    session.refresh(held)
    assert held.status is POStatus.CANCELLED
    with pytest.raises(Conflict, match=f"release of PO PO-2 was rejected by {first.email}"):
        po.decide_release(session, make.user("planner"), release.id, approve=True, note="late")


def test_four_eyes_roles_and_a_note(session, buying, make):
    new_po(session, buying, "PO-2", "3800", policy="block", release_reason="why")
    release = session.scalars(select(PORelease)).one()
    buyer = buying[3]
    with pytest.raises(Forbidden):  # a buyer never decides, their own request least of all
        po.decide_release(session, buyer, release.id, approve=True, note="mine")
    with pytest.raises(Forbidden):
        po.decide_release(session, make.user("viewer"), release.id, approve=True, note="n")
    with pytest.raises(ValidationFailed, match="Add a note"):
        po.decide_release(session, make.user("planner"), release.id, approve=True, note=" ")
    session.refresh(release)
    assert release.status == "pending"


def test_an_admin_who_asked_cannot_release_their_own(session, buying, make):
    season, loc, leaf, _ = buying
    admin = make.user("admin")
    po.create_po(session, admin, season.id, po_number="PO-A", location_id=loc.id,
                 category_id=leaf.id, po_value="3800", order_date=date(2026, 2, 3),
                 policy="block", release_reason="why")
    release = session.scalars(select(PORelease)).one()
    with pytest.raises(Forbidden, match="a planner or an admin decides it"):
        po.decide_release(session, admin, release.id, approve=True, note="mine")


def test_without_a_reason_block_still_refuses_and_within_budget_nothing_is_asked(session,
                                                                                 buying):
    with pytest.raises(ValidationFailed, match="over OTB by 800.00"):
        new_po(session, buying, "PO-1", "3800", policy="block")
    result = new_po(session, buying, "PO-2", "100", policy="block", release_reason="why")
    assert result.po.status is POStatus.OPEN
    assert session.scalar(select(func.count()).select_from(PORelease)) == 0


def test_warn_records_an_approved_exception(session, buying):
    result = new_po(session, buying, "PO-1", "3800", policy="warn", release_reason="promo")
    assert result.po.status is POStatus.OPEN and result.over_otb_by == D("800.00")
    release = session.scalars(select(PORelease)).one()
    assert (release.status, release.decided_by) == ("recorded", None)
    assert release_rows(session, waiting_for=buying[3]) == []


def test_cancelling_the_po_withdraws_its_release(session, buying, make):
    held = new_po(session, buying, "PO-2", "3800", policy="block", release_reason="why").po
    po.cancel_po(session, buying[3], held.id)
    release = session.scalars(select(PORelease)).one()
    assert release.status == "withdrawn"
    assert release_rows(session, waiting_for=make.user("planner")) == []
    with pytest.raises(Conflict, match="was withdrawn by its buyer"):
        po.decide_release(session, make.user("planner"), release.id, approve=True, note="n")


@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's")
def test_one_of_two_simultaneous_release_decisions_wins(app, session, buying, make):
    deciders = [make.user("planner").id, make.user("admin").id]
    outcomes_all = []
    for n in range(8):
        new_po(session, buying, f"PO-R{n}", "3800", policy="block", release_reason="why")
        release_id = session.scalars(select(PORelease.id).order_by(PORelease.created_at.desc())
                                     .limit(1)).one()
        start = threading.Barrier(2)
        outcomes, errors = [], []

        def decide(user_id, approve):
            with app.app_context():
                try:
                    start.wait()
                    po.decide_release(db.session, db.session.get(User, user_id), release_id,
                                      approve=approve, note="n")
                    outcomes.append("approved" if approve else "rejected")
                except Conflict:
                    outcomes.append("told")
                except Exception as exc:  # reported below
                    errors.append(exc)
                finally:
                    db.session.remove()

        threads = [threading.Thread(target=decide, args=(deciders[0], n % 2 == 0)),
                   threading.Thread(target=decide, args=(deciders[1], n % 2 == 1))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert not errors, errors
        assert sorted(outcomes)[1] == "told" or sorted(outcomes)[0] == "told", outcomes
        assert outcomes.count("told") == 1
        outcomes_all.append(outcomes)
        session.expire_all()
    assert len(outcomes_all) == 8
