"""Moving open to buy with approval (issue 17, item 1): request, four eyes, exact spreading
into adjustment lines, the source's open to buy, the workflow and the audit."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.audit import AuditEvent
from kyros_web.errors import (Conflict, Forbidden, NotEditable, SeasonLocked,
                              ValidationFailed)
from kyros_web.models import OTBAdjustment, OTBAdjustmentLine, OTBPlan
from kyros_web.planning import services
from kyros_web.planning.adjustments import Scope
from kyros_web.planning.budget import adjustments_per_cell, budget, joined
from kyros_web.seasons.services import advance_season
from kyros_web.seasons.workflow import SeasonStatus

FEB, MAR = date(2026, 2, 1), date(2026, 3, 1)


def _otb(sales):
    """OTB inputs whose approved spend limit is `sales` (no stock, nothing on order)."""
    return (sales, "0", "0", "0", "0")


@pytest.fixture
def shop(make):
    """A season at OTB uploaded: locations a, b (one cluster) and c (another); a parent
    category with leaves x, y and a leaf z elsewhere; February and March."""
    north, south = make.cluster(), make.cluster()
    a, b, c = make.location(cluster=north), make.location(cluster=north), make.location(cluster=south)
    parent = make.category()
    x, y, z = make.category(parent=parent), make.category(parent=parent), make.category()
    season = make.season(SeasonStatus.PLAN_UPLOADED, start=FEB, end=date(2026, 3, 31),
                         locations=[a, b, c], leaves=[x, y, z])
    otb = {(a, x): "1000", (b, x): "3000", (c, x): "500", (a, y): "2000", (b, y): "0",
           (c, y): "100", (a, z): "400", (b, z): "600", (c, z): "0"}
    make.otb_rows(season, [(loc, leaf, month, _otb(value)) for (loc, leaf), value in otb.items()
                           for month in (FEB, MAR)])
    advance_season(make.session, make.admin, season.id)
    assert season.status is SeasonStatus.OTB_UPLOADED
    return dict(season=season, a=a, b=b, c=c, x=x, y=y, z=z, parent=parent, north=north,
                south=south, requester=make.user("planner"), approver=make.user("planner"))


def _budgets(session, season):
    adj = adjustments_per_cell(season.id)
    return {(r.location_id, r.category_id, r.month): (r.otb, r.budget) for r in session.execute(
        select(OTBPlan.location_id, OTBPlan.category_id, OTBPlan.month,
               OTBPlan.approved_spend_limit.label("otb"),
               budget(OTBPlan.approved_spend_limit, adj).label("budget"))
        .outerjoin(adj, joined(adj, OTBPlan)).where(OTBPlan.season_id == season.id))}


def _request(session, s, amount="300.00", source=None, target=None, user=None):
    return services.request_adjustment(
        session, user or s["requester"], s["season"].id, amount=D(amount),
        source=source or Scope(category_id=s["x"].id, month=FEB),
        target=target or Scope(category_id=s["z"].id, month=FEB), reason="x sells slowly")


def test_a_request_waits_and_moves_nothing(session, shop):
    before = _budgets(session, shop["season"])
    row = _request(session, shop)
    assert (row.status, row.number, row.amount) == ("pending", 1, D("300.00"))
    assert _budgets(session, shop["season"]) == before
    assert session.scalar(select(func.count()).select_from(OTBAdjustmentLine)) == 0
    event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "otb_adjustment")).one()
    assert (event.action, event.user_id, event.after["reason"]) == (
        "request", shop["requester"].id, "x sells slowly")
    assert _request(session, shop).number == 2


def test_approval_spreads_the_amount_by_budget_and_keeps_the_uploaded_otb(session, shop):
    s = shop
    before = _budgets(session, s["season"])
    row = _request(session, s)
    services.decide_adjustment(session, s["approver"], row.id, approve=True, note="agreed")
    after = _budgets(session, s["season"])
    # February's x (1000 + 3000 + 500 of OTB) gives 300 by budget; February's z (400 + 600
    # + 0) takes it by budget.
    moved = {key: after[key][1] - before[key][1] for key in after if after[key] != before[key]}
    assert moved == {(s["a"].id, s["x"].id, FEB): D("-66.67"),
                     (s["b"].id, s["x"].id, FEB): D("-200.00"),
                     (s["c"].id, s["x"].id, FEB): D("-33.33"),
                     (s["a"].id, s["z"].id, FEB): D("120.00"),
                     (s["b"].id, s["z"].id, FEB): D("180.00")}
    assert {k: v[0] for k, v in after.items()} == {k: v[0] for k, v in before.items()}
    assert sum(v[1] for v in after.values()) == sum(v[1] for v in before.values())
    session.refresh(row)
    assert (row.status, row.decided_by, row.decision_note) == ("approved", s["approver"].id,
                                                               "agreed")
    events = session.scalars(select(AuditEvent.action).where(
        AuditEvent.entity == "otb_adjustment").order_by(AuditEvent.at)).all()
    assert events == ["request", "approve"]


def test_scopes_by_cluster_parent_category_and_all_months(session, shop):
    s = shop
    before = _budgets(session, s["season"])
    row = _request(session, s, "100.00", source=Scope(cluster_id=s["north"].id,
                                                      category_id=s["parent"].id),
                   target=Scope(location_id=s["c"].id, category_id=s["y"].id, month=MAR))
    services.decide_adjustment(session, s["approver"], row.id, approve=True, note="ok")
    after = _budgets(session, s["season"])
    changed = {k for k in after if after[k] != before[k]}
    # North (a, b) × x and y, both months, less b × y (no budget): 6 cells give; c × y × March takes.
    assert changed == ({(loc.id, leaf.id, m) for loc in (s["a"], s["b"]) for leaf in (s["x"],)
                        for m in (FEB, MAR)}
                       | {(s["a"].id, s["y"].id, m) for m in (FEB, MAR)}
                       | {(s["c"].id, s["y"].id, MAR)})
    assert after[(s["c"].id, s["y"].id, MAR)][1] == D("200.00")


def test_nobody_decides_their_own_request(session, shop, make):
    row = _request(session, shop)
    with pytest.raises(Forbidden, match="another planner or an admin"):
        services.decide_adjustment(session, shop["requester"], row.id, approve=True, note="me")
    session.refresh(row)
    assert row.status == "pending"
    # An admin who asked cannot approve either; another admin can.
    mine = _request(session, shop, user=make.admin)
    with pytest.raises(Forbidden):
        services.decide_adjustment(session, make.admin, mine.id, approve=False, note="no")
    services.decide_adjustment(session, make.user("admin"), mine.id, approve=False, note="no")


def test_buyers_and_viewers_neither_ask_nor_decide(session, shop, make):
    row = _request(session, shop)
    for role in ("buyer", "viewer"):
        with pytest.raises(Forbidden):
            _request(session, shop, user=make.user(role))
        with pytest.raises(Forbidden):
            services.decide_adjustment(session, make.user(role), row.id, approve=True, note="n")


def test_a_rejection_moves_nothing_and_a_decision_is_final(session, shop, make):
    before = _budgets(session, shop["season"])
    row = _request(session, shop)
    services.decide_adjustment(session, shop["approver"], row.id, approve=False,
                               note="keep x")
    assert _budgets(session, shop["season"]) == before
    with pytest.raises(Conflict, match=r"Request #1 was rejected by planner"):
        services.decide_adjustment(session, make.user("planner"), row.id, approve=True,
                                   note="late")
    session.refresh(row)
    assert (row.status, row.decision_note) == ("rejected", "keep x")


def test_approval_needs_the_open_to_buy_in_the_source_unless_overridden(session, shop):
    s = shop
    # February's z has 1,000 of OTB; moving 1,000.01 out of it is short by a cent.
    row = _request(session, s, "1000.01", source=Scope(category_id=s["z"].id, month=FEB),
                   target=Scope(category_id=s["x"].id, month=FEB))
    with pytest.raises(ValidationFailed, match=r"1,000\.00 open to buy left, 0\.01 less") as e:
        services.decide_adjustment(session, s["approver"], row.id, approve=True, note="go")
    assert "override_reason" in e.value.errors
    session.refresh(row)
    assert row.status == "pending"
    assert session.scalar(select(func.count()).select_from(OTBAdjustmentLine)) == 0
    services.decide_adjustment(session, s["approver"], row.id, approve=True, note="go",
                               override_reason="the supplier credit covers it")
    session.refresh(row)
    assert (row.status, row.override_reason) == ("approved", "the supplier credit covers it")
    lines = session.scalars(select(OTBAdjustmentLine.amount)).all()
    assert sum(v for v in lines if v < 0) == D("-1000.01")


@pytest.mark.parametrize("change,field,message", [
    (dict(amount="0"), "amount", "more than 0"),
    (dict(amount="1.001"), "amount", "at most 2 decimals"),
    (dict(reason="  "), "reason", "Say why"),
    (dict(source=dict(month=date(2026, 5, 1))), "from_month", "2026-05 is not a month"),
    (dict(target="outsider"), "to_location", "not assigned to this season"),
    (dict(target=dict(category="x", month=FEB)), "", "share 3 cell"),
])
def test_bad_requests_name_the_field_and_store_nothing(session, shop, make, change, field,
                                                       message):
    s = shop
    source = Scope(category_id=s["x"].id, month=FEB)
    target = Scope(category_id=s["z"].id, month=FEB)
    if "source" in change:
        source = Scope(category_id=s["x"].id, **change["source"])
    if change.get("target") == "outsider":
        target = Scope(location_id=make.location().id)
    elif "target" in change:
        target = Scope(category_id=s[change["target"]["category"]].id,
                       month=change["target"]["month"])
    with pytest.raises(ValidationFailed, match=message) as e:
        services.request_adjustment(session, s["requester"], s["season"].id,
                                    amount=D(change.get("amount", "10")), source=source,
                                    target=target, reason=change.get("reason", "why"))
    assert field in e.value.errors
    assert session.scalar(select(func.count()).select_from(OTBAdjustment)) == 0


def test_only_from_the_otb_to_the_lock(session, make, shop):
    early = make.season(SeasonStatus.PLAN_UPLOADED)
    with pytest.raises(NotEditable, match="OTB adjustments can only be changed while the "
                                          "season is 'otb_uploaded' or 'range_uploaded'"):
        services.request_adjustment(session, shop["requester"], early.id, amount=D("1"),
                                    source=Scope(), target=Scope(), reason="r")
    row = _request(session, shop)
    season = shop["season"]
    make.fill(season)
    advance_season(session, make.admin, season.id)  # in season: still open
    services.decide_adjustment(session, shop["approver"], row.id, approve=True, note="ok")
    pending = _request(session, shop)
    advance_season(session, make.admin, season.id)  # locked
    with pytest.raises(SeasonLocked):
        services.decide_adjustment(session, shop["approver"], pending.id, approve=True,
                                   note="late")


def test_a_covered_move_takes_no_cell_over_its_budget(session, shop, make):
    """February's x: a has 1,000 of budget with 900 committed, b 3,000 and c 500 with none. A
    move of 1,000 takes from each by what it has left to buy (100, 3,000, 500), so a keeps
    some; by budget a would have given 222.22 and gone 122.22 over."""
    from kyros_web.planning.queries import cell_figures
    from kyros_web.purchasing.services import create_po
    s = shop
    make.fill(s["season"])
    advance_season(session, make.admin, s["season"].id)
    create_po(session, make.user("buyer"), s["season"].id, po_number="PO-A", location_id=s["a"].id,
              category_id=s["x"].id, po_value="900", order_date=FEB)
    row = _request(session, s, "1000.00")
    services.decide_adjustment(session, s["approver"], row.id, approve=True, note="ok")
    figures = cell_figures(session, s["season"].id, s["a"].id, s["x"].id, FEB)
    assert (figures.adjustments, figures.remaining) == (D("-27.78"), D("72.22"))


def test_a_decision_note_and_override_reason_are_bounded_by_their_own_field(session, shop):
    row = _request(session, shop)
    with pytest.raises(ValidationFailed) as e:
        services.decide_adjustment(session, shop["approver"], row.id, approve=True,
                                   note="ok", override_reason="x" * 501)
    assert e.value.errors == {"override_reason": "The override reason is at most 500 "
                                                 "characters"}
    with pytest.raises(ValidationFailed) as e:
        services.decide_adjustment(session, shop["approver"], row.id, approve=True,
                                   note="x" * 501)
    assert e.value.errors == {"note": "A note is at most 500 characters"}
