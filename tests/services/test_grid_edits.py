"""Grid edits (issue 14, items 2, 3, 4, 6): typed and pasted cells saved as one step or refused
as a whole, totals spread to the cent, and undo while nobody else changed the rows."""
import threading
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.audit import AuditEvent
from kyros_web.auth.models import User
from kyros_web.errors import NotEditable, ValidationFailed
from kyros_web.extensions import db
from kyros_web.models import GridEdit, GridEditCell, OTBPlan
from kyros_web.planning import edits
from kyros_web.planning.edits import Cell, CellsRefused, Scope, Typed
from kyros_web.planning.services import upsert_otb
from kyros_web.seasons.services import advance_season, update_season
from kyros_web.seasons.workflow import SeasonStatus

from ..conftest import PG_URL

FEB, MAR, APR = date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)
FIGURES = {"planned_sales": "3000", "planned_markdowns": "0", "on_order": "0",
           "planned_closing_stock": "1000", "opening_stock": "1000"}


def otb_season(make, session, chain=True):
    """A plan_uploaded season with OTB rows for two locations × one leaf in Feb and Mar,
    each: sales 3,000, closing 1,000, opening 1,000 (OTB 3,000)."""
    season = make.season(SeasonStatus.LOCATIONS_DEFINED,
                         locations=[make.location(), make.location()])
    if not chain:
        update_season(session, make.admin, season.id, name=season.name,
                      start_date=season.start_date, end_date=season.end_date, chain_stock=False)
    make.fill(season)
    advance_season(session, make.admin, season.id)
    leaf = season.test_leaves[0]
    for loc in season.test_locations[:2]:
        for month in (FEB, MAR):
            make.otb_row(season, loc, leaf, month, **FIGURES)
    return season


def row(session, season, loc, month, leaf=None):
    session.expire_all()
    return session.scalar(select(OTBPlan).where(
        OTBPlan.season_id == season.id, OTBPlan.location_id == loc.id,
        OTBPlan.category_id == (leaf or season.test_leaves[0]).id, OTBPlan.month == month))


def typed(season, loc, month, measure, text, session, leaf=None):
    current = row(session, season, loc, month, leaf)
    cell = Cell(measure, loc.id, (leaf or season.test_leaves[0]).id, month)
    return Typed(cell, text, current.version if current else 0)


def events(session, season, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.season_id == season.id,
                                                    AuditEvent.action == action)).all()


def test_a_typed_cell_is_one_audited_undoable_step(session, make):
    season = otb_season(make, session)
    loc = season.test_locations[0]
    step = edits.write_cells(session, make.admin, season.id,
                             [typed(season, loc, FEB, "planned_sales", "3,500.50", session)])
    saved = row(session, season, loc, FEB)
    assert (saved.planned_sales, saved.approved_spend_limit, saved.version) == (
        D("3500.50"), D("3500.50"), 2)
    assert step.kind == "type" and step.cells == 1
    assert "Planned sales" in step.summary and "3,000.00 → 3,500.50" in step.summary
    [event] = events(session, season, "grid_type")
    assert event.entity_id == str(saved.id) and event.before == {"planned_sales": "3000.00"}
    assert [s.id for s in edits.undo_steps(session, make.admin, season.id)] == [step.id]


def test_a_paste_saves_every_cell_in_one_step(session, make):
    season = otb_season(make, session)
    a, b = season.test_locations[:2]
    cells = [typed(season, loc, month, "planned_sales", text, session)
             for loc, texts in ((a, ("100", "200")), (b, ("300", "400")))
             for month, text in zip((FEB, MAR), texts)]
    step = edits.write_cells(session, make.admin, season.id, cells, kind="paste")
    assert [row(session, season, loc, m).planned_sales for loc in (a, b) for m in (FEB, MAR)] == [
        D("100"), D("200"), D("300"), D("400")]
    assert step.kind == "paste" and step.cells == 4
    assert step.summary == "Pasted 4 cells (2 lines × 2 months)"
    assert len(events(session, season, "grid_paste")) == 1


def test_one_bad_cell_refuses_the_whole_paste_and_names_each(session, make):
    season = otb_season(make, session)
    a, b = season.test_locations[:2]
    cells = [typed(season, a, FEB, "planned_sales", "100", session),
             typed(season, a, MAR, "planned_sales", "abc", session),
             typed(season, b, FEB, "opening_stock", "-5", session)]
    with pytest.raises(CellsRefused) as refused:
        edits.write_cells(session, make.admin, season.id, cells, kind="paste")
    assert set(refused.value.errors) == {cells[1].cell.key, cells[2].cell.key}
    assert "Planned sales" in refused.value.errors[cells[1].cell.key]
    assert "0 or more" in refused.value.errors[cells[2].cell.key]
    assert refused.value.status_code == 422
    assert row(session, season, a, FEB).planned_sales == D("3000.00")
    assert session.scalar(select(func.count(GridEdit.id))) == 0


def test_a_row_changed_by_someone_else_is_refused_not_overwritten(session, make):
    season = otb_season(make, session)
    a, b = season.test_locations[:2]
    cells = [typed(season, a, FEB, "planned_sales", "100", session),
             typed(season, b, FEB, "planned_sales", "200", session)]
    other = make.user("planner")
    upsert_otb(session, other, season.id, location_id=b.id, category_id=season.test_leaves[0].id,
               month=FEB, expected_version=1, **{**FIGURES, "planned_sales": "999"})
    with pytest.raises(CellsRefused) as refused:
        edits.write_cells(session, make.admin, season.id, cells, kind="paste")
    assert refused.value.stale and refused.value.status_code == 409
    assert list(refused.value.errors) == [cells[1].cell.key]
    assert other.email in refused.value.errors[cells[1].cell.key]
    assert "999.00" in refused.value.errors[cells[1].cell.key]
    assert row(session, season, a, FEB).planned_sales == D("3000.00")
    assert row(session, season, b, FEB).planned_sales == D("999.00")


def test_a_cell_without_a_row_creates_it_and_undo_deletes_it(session, make):
    season = otb_season(make, session)
    loc = season.test_locations[0]
    leaf = make.category()
    cell = typed(season, loc, APR, "planned_sales", "50", session, leaf=leaf)
    assert cell.version == 0
    edits.write_cells(session, make.admin, season.id, [cell])
    created = row(session, season, loc, APR, leaf)
    assert (created.planned_sales, created.opening_stock, created.version) == (D("50"), 0, 1)
    assert edits.undo_last(session, make.admin, season.id).done
    assert row(session, season, loc, APR, leaf) is None


def test_a_new_row_needs_a_season_location(session, make):
    season = otb_season(make, session)
    outsider = make.location()
    cell = Cell("planned_sales", outsider.id, season.test_leaves[0].id, FEB)
    with pytest.raises(CellsRefused) as refused:
        edits.write_cells(session, make.admin, season.id, [Typed(cell, "5", 0)])
    assert "not assigned to this season" in refused.value.errors[cell.key]


def test_typing_a_closing_stock_carries_into_the_next_month(session, make):
    season = otb_season(make, session)
    loc = season.test_locations[0]
    step = edits.write_cells(session, make.admin, season.id,
                             [typed(season, loc, FEB, "planned_closing_stock", "1500", session)])
    assert row(session, season, loc, MAR).opening_stock == D("1500.00")
    assert step.cells == 2  # the chained opening stock is part of the step
    edits.undo_last(session, make.admin, season.id)
    assert row(session, season, loc, FEB).planned_closing_stock == D("1000.00")
    assert row(session, season, loc, MAR).opening_stock == D("1000.00")


def test_a_pasted_opening_stock_wins_over_the_chain(session, make):
    season = otb_season(make, session)
    loc = season.test_locations[0]
    edits.write_cells(session, make.admin, season.id, [
        typed(season, loc, FEB, "planned_closing_stock", "1500", session),
        typed(season, loc, MAR, "opening_stock", "1200", session)], kind="paste")
    assert row(session, season, loc, MAR).opening_stock == D("1200.00")


def test_undo_goes_back_step_by_step(session, make):
    season = otb_season(make, session)
    loc = season.test_locations[0]
    for value in ("1", "2", "3"):
        edits.write_cells(session, make.admin, season.id,
                          [typed(season, loc, FEB, "planned_sales", value, session)])
    assert len(edits.undo_steps(session, make.admin, season.id)) == 3
    for expected in ("2", "1", "3000"):
        assert edits.undo_last(session, make.admin, season.id).done
        assert row(session, season, loc, FEB).planned_sales == D(expected)
    assert [e.after["step"] for e in events(session, season, "grid_undo")].__len__() == 3
    with pytest.raises(ValidationFailed, match="nothing of yours to undo"):
        edits.undo_last(session, make.admin, season.id)


def test_undo_keeps_at_least_twenty_steps(session, make):
    season = otb_season(make, session)
    loc = season.test_locations[0]
    for n in range(edits.UNDO_STEPS + 5):
        edits.write_cells(session, make.admin, season.id,
                          [typed(season, loc, FEB, "planned_sales", str(n + 1), session)])
    for _ in range(edits.UNDO_STEPS):
        assert edits.undo_last(session, make.admin, season.id).done
    assert row(session, season, loc, FEB).planned_sales == D("5")


def test_steps_are_pruned_beyond_those_kept(session, make, monkeypatch):
    monkeypatch.setattr(edits, "STEPS_KEPT", 3)
    season = otb_season(make, session)
    loc = season.test_locations[0]
    for n in range(5):
        edits.write_cells(session, make.admin, season.id,
                          [typed(season, loc, FEB, "planned_sales", str(n + 1), session)])
    assert session.scalar(select(func.count(GridEdit.id))) == 3
    assert session.scalar(select(func.count()).select_from(GridEditCell)) == 3


def test_undo_after_someone_else_changed_the_row_drops_the_step(session, make):
    season = otb_season(make, session)
    a, b = season.test_locations[:2]
    edits.write_cells(session, make.admin, season.id,
                      [typed(season, a, FEB, "planned_sales", "10", session)])
    edits.write_cells(session, make.admin, season.id,
                      [typed(season, b, FEB, "planned_sales", "20", session)])
    other = make.user("planner")
    edits.write_cells(session, other, season.id,
                      [typed(season, b, FEB, "planned_sales", "30", session)])
    undone = edits.undo_last(session, make.admin, season.id)
    assert not undone.done and undone.conflicts == 1
    assert row(session, season, b, FEB).planned_sales == D("30")
    # The step is dropped; the one before it can still be undone.
    assert edits.undo_last(session, make.admin, season.id).done
    assert row(session, season, a, FEB).planned_sales == D("3000")
    assert len(events(session, season, "grid_undo_dropped")) == 1


def test_spread_splits_to_the_cent_in_proportion(session, make):
    season = otb_season(make, session)
    a, b = season.test_locations[:2]
    edits.write_cells(session, make.admin, season.id, [
        typed(season, a, FEB, "planned_sales", "1000", session),
        typed(season, b, FEB, "planned_sales", "2000", session),
        typed(season, a, MAR, "planned_sales", "0", session),
        typed(season, b, MAR, "planned_sales", "0", session)], kind="paste")
    scope = Scope(None, None, (FEB, MAR), "season total")
    plan = edits.preview_spread(session, season, scope, "planned_sales", "100.00")
    assert (plan.cells, plan.changed, plan.before) == (4, 2, D("3000"))
    assert row(session, season, a, FEB).planned_sales == D("1000")  # a preview saves nothing
    edits.spread_total(session, make.admin, season.id, scope, "planned_sales", "100.00",
                       "current", plan.fingerprint)
    values = [row(session, season, loc, m).planned_sales for loc in (a, b) for m in (FEB, MAR)]
    assert values == [D("33.33"), D("0"), D("66.67"), D("0")]
    assert sum(values) == D("100.00")
    [event] = events(session, season, "grid_spread")
    assert event.after["cells"] == 2 and event.after["total"] == "100.00"


def test_spread_evenly_when_all_are_zero_and_by_another_shape(session, make):
    season = otb_season(make, session)
    a, b = season.test_locations[:2]
    scope = Scope(None, None, (FEB,), "Feb 2026")
    plan = edits.preview_spread(session, season, scope, "planned_markdowns", "0.03")
    edits.spread_total(session, make.admin, season.id, scope, "planned_markdowns", "0.03",
                       "current", plan.fingerprint)
    assert {row(session, season, a, FEB).planned_markdowns,
            row(session, season, b, FEB).planned_markdowns} == {D("0.01"), D("0.02")}
    edits.write_cells(session, make.admin, season.id, [
        typed(season, a, FEB, "on_order", "100", session),
        typed(season, b, FEB, "on_order", "300", session)], kind="paste")
    plan = edits.preview_spread(session, season, scope, "planned_sales", "1000", "on_order")
    edits.spread_total(session, make.admin, season.id, scope, "planned_sales", "1000",
                       "on_order", plan.fingerprint)
    assert (row(session, season, a, FEB).planned_sales,
            row(session, season, b, FEB).planned_sales) == (D("250"), D("750"))


def test_spread_is_refused_when_cells_changed_since_the_preview(session, make):
    season = otb_season(make, session)
    a = season.test_locations[0]
    scope = Scope(frozenset({a.id}), None, (FEB, MAR), "A")
    plan = edits.preview_spread(session, season, scope, "planned_sales", "10")
    edits.write_cells(session, make.user("planner"), season.id,
                      [typed(season, a, MAR, "planned_sales", "1", session)])
    with pytest.raises(CellsRefused, match="preview the spread again") as refused:
        edits.spread_total(session, make.admin, season.id, scope, "planned_sales", "10",
                           "current", plan.fingerprint)
    assert refused.value.stale
    assert row(session, season, a, FEB).planned_sales == D("3000")


def test_spread_refusals(session, make):
    season = otb_season(make, session)
    scope = Scope(None, None, (FEB,), "Feb")
    with pytest.raises(ValidationFailed, match="more than 2 decimals|decimals"):
        edits.preview_spread(session, season, scope, "planned_sales", "1.234")
    with pytest.raises(ValidationFailed, match="computed"):
        edits.preview_spread(session, season, scope, "otb", "1")
    with pytest.raises(ValidationFailed, match="0 or more"):
        edits.preview_spread(session, season, scope, "planned_sales", "-1")
    empty = Scope(frozenset({make.location().id}), None, (FEB,), "nowhere")
    with pytest.raises(ValidationFailed, match="no OTB rows under this total"):
        edits.preview_spread(session, season, empty, "planned_sales", "1")


def test_spread_and_undo_of_it(session, make):
    season = otb_season(make, session)
    scope = Scope(None, None, (FEB, MAR), "season total")
    plan = edits.preview_spread(session, season, scope, "planned_sales", "4")
    edits.spread_total(session, make.admin, season.id, scope, "planned_sales", "4", "current",
                       plan.fingerprint)
    assert edits.undo_last(session, make.admin, season.id).done
    session.expire_all()
    assert set(session.scalars(select(OTBPlan.planned_sales))) == {D("3000")}


def test_edits_need_the_otb_status_and_the_role(session, make):
    season = otb_season(make, session)
    loc = season.test_locations[0]
    cell = typed(season, loc, FEB, "planned_sales", "1", session)
    with pytest.raises(Exception, match="not allowed|permission|Forbidden|role"):
        edits.write_cells(session, make.user("viewer"), season.id, [cell])
    advance_season(session, make.admin, season.id)
    with pytest.raises(NotEditable):
        edits.write_cells(session, make.admin, season.id, [cell])
    with pytest.raises(NotEditable):
        edits.undo_last(session, make.admin, season.id)


def test_a_cell_key_reads_back():
    cell = Cell("on_order", *(__import__("uuid").uuid4() for _ in range(2)), FEB)
    assert Cell.parse(cell.key) == cell
    for bad in ("", "otb|x|y|2026-02", "on_order|zz|zz|2026-02", None, "a|b", "x" * 300):
        assert Cell.parse(bad) is None


def at_a_barrier(app, steps) -> list[str]:
    """Run each step (a function of the session and a user id) in a thread of its own as
    that user, all meeting at a barrier first: "saved", or "stale" when refused as stale."""
    start = threading.Barrier(len(steps))
    results = []

    def run(user_id, step):
        with app.app_context():
            try:
                start.wait()
                step(db.session, db.session.get(User, user_id))
                results.append("saved")
            except CellsRefused as exc:
                results.append("stale" if exc.stale else repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=run, args=pair) for pair in steps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    return sorted(results)


@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's")
def test_two_planners_pasting_at_once_never_lose_a_write(app, make, session):
    """Two pastes over the same cells, loaded at the same versions, meet at a barrier: one is
    saved, the other refused as stale, every time."""
    outcomes = []
    for n in range(10):
        season = otb_season(make, session)
        a, b = season.test_locations[:2]
        users = [make.admin.id, make.user("planner").id]
        cells = {u: [typed(season, loc, FEB, "planned_sales", str(10 * (i + 1) + n), session)
                     for loc in (a, b)] for i, u in enumerate(users)}
        outcomes.append(at_a_barrier(app, [
            (u, lambda s, user, sid=season.id: edits.write_cells(s, user, sid, cells[user.id],
                                                                 kind="paste"))
            for u in users]))
        session.expire_all()
        versions = session.scalars(select(OTBPlan.version).where(
            OTBPlan.season_id == season.id, OTBPlan.month == FEB)).all()
        assert versions == [2, 2]
    assert outcomes == [["saved", "stale"]] * 10


@pytest.mark.skipif(not PG_URL, reason="row locks are PostgreSQL's")
def test_two_spreads_of_one_preview_at_once_save_one(app, make, session):
    """Two planners save a spread from the same preview at a barrier: the rows are locked and
    the preview's fingerprint compared under the locks, so one is saved and the other is told
    to preview again, every time."""
    outcomes = []
    for n in range(5):
        season = otb_season(make, session)
        scope = Scope(None, None, (FEB, MAR), "season total")
        plan = edits.preview_spread(session, season, scope, "planned_sales", str(100 + n))
        users = [make.admin.id, make.user("planner").id]
        outcomes.append(at_a_barrier(app, [
            (u, lambda s, user, sid=season.id, total=str(100 + n + i): edits.spread_total(
                s, user, sid, scope, "planned_sales", total, "current", plan.fingerprint))
            for i, u in enumerate(users)]))
        session.expire_all()
        assert session.scalar(select(func.count(AuditEvent.id)).where(
            AuditEvent.season_id == season.id, AuditEvent.action == "grid_spread")) == 1
    assert outcomes == [["saved", "stale"]] * 5
