"""The exceptions inbox (issue 17, item 4) on a season made by hand: each rule lists what it
should and nothing else, thresholds change what is listed, an acknowledgement hides an
exception until it gets worse, and both writes are audited.

The season `inbox` (February and March 2026, the clock on 20 March, half-way 2 March):

  OTB (sales, closing, opening → OTB)   a × x            b × x              a × y      b × y
  February                              1500/1000/1000   1500/1000/1000     1500 …     1000/1000/1000
                                        → 1,500          → 1,500            → 1,500    → 1,000
  March                                 → 1,500          opening 900 → 1,600 (the     → 1,500    → 1,000
                                                         chain breaks by 100)
  Plans: 3,000 per location × category; b × y's OTB sales are 2,000: a gap of 1,000.
  POs: P1 a × x due 20 Feb, 1,600, received in full: 100 over its February budget of 1,500.
       P2 a × y due 10 Mar, 1,400, open: overdue; March left 100 of 1,500 = 6.67 %.
       P3 b × y due 10 Feb, 1,000, 500 received then short-closed: 50 % not delivered.
  Budgets used: x 1,600 of 6,100 = 26.23 %, y 1,900 of 5,000 = 38.00 %.
  February actuals: x sells 1,000 a location (plan 1,500) and closes at 1,500: sell-through
  2,000 ÷ (2,000 + 3,000) = 40 % against the plan's 3,000 ÷ 5,000 = 60 %: 20 points below;
  y sells to plan (55.56 % both).
"""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select

from kyros_web.audit import AuditEvent
from kyros_web.errors import Forbidden, NotFound, SeasonLocked, ValidationFailed
from kyros_web.exceptions import queries, rules, services
from kyros_web.exceptions.models import ExceptionThresholds
from kyros_web.planning import services as planning
from kyros_web.planning.adjustments import Scope
from kyros_web.purchasing.services import close_po, create_grn, create_po
from kyros_web.seasons.services import advance_season
from kyros_web.seasons.workflow import SeasonStatus

from .test_uploads import load

FEB, MAR = date(2026, 2, 1), date(2026, 3, 1)
TODAY = date(2026, 3, 20)


@pytest.fixture
def inbox(session, make, app, monkeypatch):
    monkeypatch.setitem(app.config, "KYROS_TODAY", TODAY)
    a, b = make.location(), make.location()
    x, y = make.category(), make.category()
    season = make.season(SeasonStatus.PLAN_UPLOADED, start=FEB, end=date(2026, 3, 31),
                         locations=[a, b], leaves=[x, y])
    same = ("1500", "0", "1000", "1000", "0")
    make.otb_rows(season, [
        (a, x, FEB, same), (a, x, MAR, same), (b, x, FEB, same),
        (b, x, MAR, ("1500", "0", "1000", "900", "0")),
        (a, y, FEB, same), (a, y, MAR, same),
        (b, y, FEB, ("1000", "0", "1000", "1000", "0")),
        (b, y, MAR, ("1000", "0", "1000", "1000", "0"))])
    advance_season(session, make.admin, season.id)
    make.fill(season)
    advance_season(session, make.admin, season.id)
    buyer = make.user("buyer")

    def po(number, loc, leaf, due, value):
        return create_po(session, buyer, season.id, po_number=number, location_id=loc.id,
                         category_id=leaf.id, po_value=value, order_date=date(2026, 1, 10),
                         delivery_date=due, policy="warn").po

    p1 = po("P1", a, x, date(2026, 2, 20), "1600")
    create_grn(session, buyer, po_id=p1.id, grn_number="G1", grn_date=date(2026, 2, 21),
               received_value="1600")
    po("P2", a, y, date(2026, 3, 10), "1400")
    p3 = po("P3", b, y, date(2026, 2, 10), "1000")
    create_grn(session, buyer, po_id=p3.id, grn_number="G3", grn_date=date(2026, 2, 12),
               received_value="500")
    close_po(session, buyer, p3.id)
    actuals = "location_code,category_code,month,net_sales,markdowns,closing_stock\n" + "".join(
        f"{loc.location_code},{leaf.code},2026-02,{line}\n"
        for loc, leaf, line in ((a, x, "1000,0,1500"), (b, x, "1000,0,1500"),
                                (a, y, "1500,0,1000"), (b, y, "1000,0,1000")))
    assert load(session, make.admin, "actuals", actuals.encode(), season).rows_new == 4
    season.a, season.b, season.x, season.y, season.buyer = a, b, x, y, buyer
    return season


def listed(session, season):
    """{kind: [(key, figure)]} of every exception found, acknowledged or not."""
    found, _ = queries.find(session, season)
    out = {}
    for f in found:
        out.setdefault(f.kind.code, []).append((f.key, f.figure, f.is_open))
    return out


def test_each_rule_lists_what_the_hand_made_season_holds(session, inbox):
    s = inbox
    a, b, x, y = s.a.location_code, s.b.location_code, s.x.code, s.y.code
    assert listed(session, s) == {
        "over_budget": [(f"{a}|{x}|2026-02", D("100.00"), True)],
        "low_open_to_buy": [(f"{a}|{y}|2026-03", D("6.67"), True)],
        "under_used": [(x, D("26.23"), True), (y, D("38.00"), True)],
        "po_overdue": [("P2", D("1400.00"), True)],
        "stock_chain": [(f"{b}|{x}|2026-03", D("100.00"), True)],
        "plan_gap": [(f"{b}|{y}", D("1000.00"), True)],
        "short_closed": [("P3", D("50.00"), True)],
        "sell_through": [(x, D("20.00"), True)],
    }


def test_the_words_and_links_of_an_exception(session, inbox):
    found, _ = queries.find(session, inbox)
    over = next(f for f in found if f.kind is rules.OVER_BUDGET)
    assert over.severity is rules.Severity.HIGH
    assert over.detail == "committed 1,600.00 against a budget of 1,500.00"
    assert over.link == ("planning.otb_cell", {
        "code": inbox.season_code, "location_code": inbox.a.location_code,
        "category_code": inbox.x.code, "month": "2026-02"})
    overdue = next(f for f in found if f.kind is rules.PO_OVERDUE)
    assert "10 days late" in overdue.detail
    assert overdue.link == ("purchasing.po_detail", {"code": inbox.season_code,
                                                     "po_number": "P2"})
    assert [f.severity for f in queries.ordered(found)][0] is rules.Severity.HIGH


def test_a_move_of_open_to_buy_into_the_cell_clears_its_over_budget(session, inbox, make):
    """The budget is OTB + approved adjustments: 100 moved into a × x February covers it."""
    s = inbox
    asked = planning.request_adjustment(
        session, make.user("planner"), s.id, amount=D("100"),
        source=Scope(location_id=s.b.id, category_id=s.x.id, month=FEB),
        target=Scope(location_id=s.a.id, category_id=s.x.id, month=FEB), reason="cover P1")
    planning.decide_adjustment(session, make.user("planner"), asked.id, approve=True, note="ok")
    assert "over_budget" not in listed(session, s)


def test_under_use_is_not_measured_before_half_way(session, inbox, app, monkeypatch):
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 3, 1))
    found = listed(session, inbox)
    assert "under_used" not in found
    assert rules.half_way(FEB, date(2026, 3, 31)) == date(2026, 3, 2)


def test_thresholds_change_what_is_listed_and_are_audited(session, inbox, make):
    planner = make.user("planner")
    services.update_thresholds(session, planner, inbox.id, {
        "low_otb_percent": "5", "under_used_percent": "30", "short_closed_percent": "50",
        "sell_through_points": "20"})
    found = listed(session, inbox)
    assert "low_open_to_buy" not in found  # 6.67 % left is not less than 5 %
    assert [k for k, _, _ in found["under_used"]] == [inbox.x.code]  # 38 % of y is not < 30 %
    assert "short_closed" not in found  # 50 % not delivered is not more than 50 %
    assert "sell_through" not in found  # 20 points below is not more than 20
    row = session.scalars(select(ExceptionThresholds)).one()
    assert (row.low_otb_percent, row.version, row.updated_by) == (D("5.00"), 1, planner.id)
    event = session.scalars(select(AuditEvent)
                            .where(AuditEvent.entity == "exception_thresholds")).one()
    assert event.before["low_otb_percent"] == "10" and event.after["low_otb_percent"] == "5.00"
    services.update_thresholds(session, planner, inbox.id, {
        "low_otb_percent": "7", "under_used_percent": "30", "short_closed_percent": "50",
        "sell_through_points": "20"})
    assert session.scalars(select(ExceptionThresholds)).one().version == 2
    assert "low_open_to_buy" in listed(session, inbox)


@pytest.mark.parametrize("values, field", [
    ({"low_otb_percent": "abc"}, "low_otb_percent"),
    ({"under_used_percent": "101"}, "under_used_percent"),
    ({"short_closed_percent": "-1"}, "short_closed_percent"),
    ({"sell_through_points": "1.234"}, "sell_through_points"),
    ({"sell_through_points": "NaN"}, "sell_through_points"),
])
def test_a_bad_threshold_names_its_field_and_stores_nothing(session, inbox, make, values,
                                                             field):
    good = {n: "10" for n in rules.THRESHOLD_NAMES}
    with pytest.raises(ValidationFailed) as refused:
        services.update_thresholds(session, make.user("planner"), inbox.id, {**good, **values})
    assert list(refused.value.errors) == [field]
    assert session.scalars(select(ExceptionThresholds)).first() is None


def test_only_planners_and_admins_set_thresholds(session, inbox, make):
    for role in ("buyer", "viewer"):
        with pytest.raises(Forbidden):
            services.update_thresholds(session, make.user(role), inbox.id, dict(rules.DEFAULTS))


def test_acknowledged_hides_it_and_worse_opens_it_again(session, inbox, make):
    s = inbox
    key = f"{s.a.location_code}|{s.x.code}|2026-02"
    buyer = s.buyer
    services.acknowledge(session, buyer, s.id, kind="over_budget", key=key,
                         note="supplier's minimum order")
    assert listed(session, s)["over_budget"] == [(key, D("100.00"), False)]
    event = session.scalars(select(AuditEvent).where(AuditEvent.entity == "exception")).one()
    assert (event.action, event.user_id, event.after["value"], event.after["note"]) == (
        "acknowledge", buyer.id, "100.00", "supplier's minimum order")
    # 50 more committed to the cell: 150 over, worse than the 100 acknowledged.
    create_po(session, buyer, s.id, po_number="P4", location_id=s.a.id, category_id=s.x.id,
              po_value="50", order_date=date(2026, 1, 10), delivery_date=date(2026, 2, 25),
              policy="warn")
    found, _ = queries.find(session, s)
    over = next(f for f in found if f.kind is rules.OVER_BUDGET)
    assert (over.figure, over.is_open, over.reopened, over.ack.value) == (
        D("150.00"), True, True, D("100.00"))
    # Acknowledged again: the new measure is kept, and the history has both.
    services.acknowledge(session, make.user("planner"), s.id, kind="over_budget", key=key,
                         note="still agreed")
    assert listed(session, s)["over_budget"] == [(key, D("150.00"), False)]
    events = session.scalars(select(AuditEvent).where(AuditEvent.entity == "exception")
                             .order_by(AuditEvent.at)).all()
    assert [e.after["value"] for e in events] == ["100.00", "150.00"]
    assert events[1].before["value"] == "100.00"


def test_a_share_left_is_worse_when_lower(session, inbox, make):
    """Little open to buy left reopens when less is left than when acknowledged."""
    s = inbox
    key = f"{s.a.location_code}|{s.y.code}|2026-03"
    services.acknowledge(session, s.buyer, s.id, kind="low_open_to_buy", key=key, note="ok")
    assert listed(session, s)["low_open_to_buy"] == [(key, D("6.67"), False)]
    create_po(session, s.buyer, s.id, po_number="P5", location_id=s.a.id, category_id=s.y.id,
              po_value="40", order_date=date(2026, 1, 10), delivery_date=date(2026, 3, 25),
              policy="warn")
    assert listed(session, s)["low_open_to_buy"] == [(key, D("4.00"), True)]


def test_acknowledging_needs_a_note_a_role_and_an_exception(session, inbox, make):
    s = inbox
    with pytest.raises(ValidationFailed) as no_note:
        services.acknowledge(session, s.buyer, s.id, kind="po_overdue", key="P2", note=" ")
    assert list(no_note.value.errors) == ["note"]
    with pytest.raises(Forbidden):
        services.acknowledge(session, make.user("viewer"), s.id, kind="po_overdue", key="P2",
                             note="n")
    with pytest.raises(NotFound):
        services.acknowledge(session, s.buyer, s.id, kind="po_overdue", key="P1", note="n")
    assert session.scalars(select(AuditEvent).where(AuditEvent.entity == "exception")).first() \
        is None


def test_a_locked_season_is_not_watched(session, inbox, make):
    advance_season(session, make.admin, inbox.id)
    assert queries.watched_seasons(session, inbox.season_code) == []
    with pytest.raises(SeasonLocked):
        services.acknowledge(session, inbox.buyer, inbox.id, kind="po_overdue", key="P2",
                             note="n")


def test_worse_is_decided_per_kind():
    assert rules.is_worse("over_budget", D("100"), D("100.01"))
    assert not rules.is_worse("over_budget", D("100"), D("100"))
    assert rules.is_worse("low_open_to_buy", D("6.67"), D("6.66"))
    assert not rules.is_worse("under_used", D("26"), D("30"))
    assert rules.Severity.HIGH.at_least("medium") and not rules.Severity.LOW.at_least("medium")
