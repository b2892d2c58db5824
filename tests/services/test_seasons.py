"""Season services: codes, the transition function, gates and the workflow guard (SPEC §3)."""
import re
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web import ids
from kyros_web.audit import AuditEvent
from kyros_web.errors import (Forbidden, GateFailed, IllegalTransition, NotEditable,
                              SeasonLocked, ValidationFailed)
from kyros_web.models import Season, SeasonPlan, SeasonTransition
from kyros_web.planning.services import approve_plans, upsert_plan
from kyros_web.seasons import services
from kyros_web.seasons.facts import season_facts
from kyros_web.seasons.workflow import ORDER, Area, SeasonStatus


def test_create_season_generates_code_and_audits(session, make):
    season = make.season()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", season.season_code)
    assert season.status is SeasonStatus.CREATED
    event = session.scalar(select(AuditEvent).where(AuditEvent.entity == "season"))
    assert event.action == "create" and event.after["season_code"] == season.season_code


def test_season_code_collision_is_retried(session, make, monkeypatch):
    """Two draws of a code already taken, then a free one."""
    first = make.season()
    drawn = iter([first.season_code, first.season_code, "ZZZZ-0001"])
    monkeypatch.setattr(ids, "season_code", lambda: next(drawn))
    assert make.season().season_code == "ZZZZ-0001"


def test_end_before_start_is_refused(session, make):
    with pytest.raises(ValidationFailed) as exc:
        services.create_season(session, make.admin, name="Bad", start_date=date(2026, 3, 1),
                               end_date=date(2026, 2, 1))
    assert "end_date" in exc.value.errors
    assert session.scalar(select(func.count(Season.id))) == 0


def test_viewer_and_buyer_cannot_create_seasons(session, make):
    for role in ("viewer", "buyer"):
        with pytest.raises(Forbidden):
            services.create_season(session, make.user(role), name="X",
                                   start_date=date(2026, 1, 1), end_date=date(2026, 1, 2))


@pytest.mark.parametrize("status", ORDER[:-1])
def test_each_legal_step(session, make, status):
    """From each status the one next step succeeds and is recorded with its user."""
    season = make.season(status)
    target = ORDER[ORDER.index(status) + 1]
    make.fill(season)
    services.advance_season(session, make.admin, season.id, target=target, note="ok")
    session.refresh(season)
    assert season.status is target
    t = session.scalar(select(SeasonTransition).where(SeasonTransition.season_id == season.id,
                                                      SeasonTransition.to_status == target))
    assert t.from_status is status and t.user_id == make.admin.id and t.note == "ok"


@pytest.mark.parametrize("status", ORDER)
def test_every_illegal_step_is_refused(session, make, status):
    """Every target but the next one is refused with the seed's message; nothing changes."""
    season = make.season(status)
    for target in ORDER:
        if ORDER.index(target) == ORDER.index(status) + 1:
            continue
        with pytest.raises(IllegalTransition) as exc:
            services.advance_season(session, make.admin, season.id, target=target)
        assert exc.value.message == (f"Invalid workflow transition: cannot move from "
                                     f"'{status.value}' to '{target.value}'")
    session.refresh(season)
    assert season.status is status


def test_locked_cannot_advance(session, make):
    season = make.season(SeasonStatus.LOCKED)
    with pytest.raises(SeasonLocked):
        services.advance_season(session, make.admin, season.id)


def test_hard_gate_blocks_without_locations(session, make):
    season = make.season()
    with pytest.raises(GateFailed) as exc:
        services.advance_season(session, make.admin, season.id)
    assert "Assign at least one active location" in exc.value.message
    session.refresh(season)
    assert season.status is SeasonStatus.CREATED
    assert session.scalar(select(func.count(SeasonTransition.id))) == 0


def test_hard_gate_blocks_without_plans(session, make):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    with pytest.raises(GateFailed, match="at least one plan row"):
        services.advance_season(session, make.admin, season.id)


def test_hard_gate_blocks_without_otb(session, make):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    with pytest.raises(GateFailed, match="at least one OTB row"):
        services.advance_season(session, make.admin, season.id)


def test_hard_gate_needs_range_for_every_leaf_with_otb(session, make):
    season = make.season(SeasonStatus.OTB_UPLOADED)
    with pytest.raises(GateFailed, match="1 leaf category with OTB but no range intent"):
        services.advance_season(session, make.admin, season.id)


def test_soft_gates_warn_but_do_not_block(session, make):
    """Plans not approved and locations without plans are warnings only."""
    a, b = make.location(), make.location()
    season = make.season(SeasonStatus.LOCATIONS_DEFINED, locations=[a, b])
    upsert_plan(session, make.admin, season.id, location_id=a.id,
                category_id=make.category().id, planned_sales="10", planned_margin="5")
    checklist = services.season_gates(session, season)
    warnings = [g.message for g in checklist if not g.passed and not g.hard]
    assert warnings == ["1 assigned location without plans", "1 plan row not approved"]
    services.advance_season(session, make.admin, season.id)
    assert season.status is SeasonStatus.PLAN_UPLOADED


def test_otb_soft_gates(session, make):
    """Plan mismatch > 1 %, a broken stock chain and negative OTB are each counted."""
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    loc, leaf = season.test_locations[0], season.test_leaves[0]
    make.otb_row(season, loc, leaf, date(2026, 2, 1), planned_sales="1000",
                 planned_closing_stock="500", opening_stock="400", on_order="0")
    make.otb_row(season, loc, leaf, date(2026, 3, 1), planned_sales="100",
                 planned_closing_stock="0", opening_stock="900", on_order="0")
    facts = season_facts(session, season)
    assert facts.otb_rows == 2
    assert facts.otb_plan_mismatches == 1  # 1,100 against a plan of 3,000
    assert facts.stock_chain_breaks == 1  # March opens at 900, February closed at 500
    assert facts.negative_otb_cells == 1  # 100 + 0 − 900 = −800


@pytest.mark.parametrize("status", [s for s in ORDER if s is not SeasonStatus.LOCATIONS_DEFINED])
def test_plans_refused_outside_their_status(session, make, status):
    """The guard refuses a plan write in any other status, and stores nothing."""
    season = make.season(status)
    loc = season.test_locations[0] if season.test_locations else make.location()
    before = session.scalar(select(func.count(SeasonPlan.id)))
    error = SeasonLocked if status is SeasonStatus.LOCKED else NotEditable
    with pytest.raises(error):
        upsert_plan(session, make.admin, season.id, location_id=loc.id,
                    category_id=make.category().id, planned_sales="1", planned_margin="1")
    assert session.scalar(select(func.count(SeasonPlan.id))) == before


def test_locked_message_is_the_seeds(session, make):
    season = make.season(SeasonStatus.LOCKED)
    with pytest.raises(SeasonLocked) as exc:
        services.require_editable(season, Area.PLANS)
    assert exc.value.message == "Season is locked and cannot be modified"


def test_not_editable_names_the_status(session, make):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    with pytest.raises(NotEditable) as exc:
        services.require_editable(season, Area.PLANS)
    assert "'locations_defined'" in exc.value.message and "'plan_uploaded'" in exc.value.message


def test_inactive_location_cannot_be_assigned(session, make):
    season = make.season()
    loc = make.location()
    loc.is_active = False
    session.commit()
    with pytest.raises(ValidationFailed, match="Inactive locations cannot be added"):
        services.assign_locations(session, make.admin, season.id, [loc.id])


def test_assign_is_idempotent_and_audited(session, make):
    season = make.season()
    loc = make.location()
    assert services.assign_locations(session, make.admin, season.id, [loc.id]) == 1
    assert services.assign_locations(session, make.admin, season.id, [loc.id]) == 0
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "assign_locations")).all()
    assert len(events) == 1 and events[0].after == {"location_codes": [loc.location_code]}


def test_delete_only_while_created(session, make):
    season = make.season()
    services.delete_season(session, make.admin, season.id)
    assert session.scalar(select(func.count(Season.id))) == 0
    other = make.season(SeasonStatus.LOCATIONS_DEFINED)
    with pytest.raises(NotEditable):
        services.delete_season(session, make.admin, other.id)


def test_transition_is_audited(session, make):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "transition",
                                                    AuditEvent.season_id == season.id))
    assert event.before == {"status": "created"} and event.after == {"status": "locations_defined"}


def test_plan_edit_bumps_version_and_clears_approval(session, make):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    loc, leaf = season.test_locations[0], make.category()
    row = upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                      planned_sales="100", planned_margin="10").row
    approve_plans(session, make.admin, season.id, [row.id])
    assert row.approved
    same = upsert_plan(session, make.admin, season.id, location_id=loc.id, category_id=leaf.id,
                       planned_sales="100.00", planned_margin="10", expected_version=1)
    assert same.outcome == "unchanged" and row.version == 1 and row.approved
    changed = upsert_plan(session, make.admin, season.id, location_id=loc.id,
                          category_id=leaf.id, planned_sales="120", planned_margin="10",
                          expected_version=1)
    assert changed.outcome == "updated" and row.version == 2 and not row.approved
    assert row.planned_sales == D("120")
