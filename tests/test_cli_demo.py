"""`flask kyros create-user` and `demo-data` (SPEC §11)."""
from datetime import date

from sqlalchemy import func, select

from kyros_web import demo
from kyros_web.auth.services import authenticate
from kyros_web.clock import today
from kyros_web.models import (GRNRecord, OTBAdjustment, OTBAdjustmentLine, OTBPlan,
                              PurchaseOrder, RangeIntent, Season, SeasonActual, SeasonPlan,
                              Upload, UploadKind, UploadStatus)
from kyros_web.seasons.workflow import ORDER, SeasonStatus


def test_create_user_command(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["kyros", "create-user", "Boss@Example.com", "--role", "admin",
                                 "--password", "long-enough-pw"])
    assert result.exit_code == 0, result.output
    assert "Created admin boss@example.com" in result.output
    assert authenticate(session, "boss@example.com", "long-enough-pw").role.value == "admin"


def test_create_user_command_refuses_short_password(app):
    result = app.test_cli_runner().invoke(
        args=["kyros", "create-user", "a@example.com", "--role", "viewer", "--password", "short"])
    assert result.exit_code == 1 and "at least 8 characters" in result.output


def test_create_user_command_refuses_duplicate(app, make):
    make.user("viewer", email="dup@example.com")
    result = app.test_cli_runner().invoke(
        args=["kyros", "create-user", "DUP@example.com", "--role", "viewer",
              "--password", "long-enough-pw"])
    assert result.exit_code == 1 and "already exists" in result.output


def test_create_user_command_refuses_unknown_role(app):
    result = app.test_cli_runner().invoke(
        args=["kyros", "create-user", "a@example.com", "--role", "boss", "--password", "x" * 9])
    assert result.exit_code == 2


def test_demo_data_has_a_season_in_each_status(app, session):
    result = app.test_cli_runner().invoke(args=["kyros", "demo-data"])
    assert result.exit_code == 0, result.output
    statuses = set(session.scalars(select(Season.status)))
    assert statuses == set(ORDER)
    for email, _, _ in demo.DEMO_USERS:
        assert authenticate(session, email, demo.DEMO_PASSWORD) is not None
    for model in (SeasonPlan, OTBPlan, RangeIntent, PurchaseOrder, GRNRecord):
        assert session.scalar(select(func.count(model.id))) > 0, model
    in_season = session.scalar(select(Season).where(Season.status == SeasonStatus.RANGE_UPLOADED))
    # The months that have started, but never the season's last (April): the demo always
    # keeps a month to reforecast.
    started = {m for m in (date(2026, 2, 1), date(2026, 3, 1))
               if m <= today().replace(day=1)}
    assert set(session.scalars(select(SeasonActual.month).distinct())) == started
    assert set(session.scalars(select(SeasonActual.season_id).distinct())) == {in_season.id}
    assert session.scalar(select(func.count(SeasonActual.id))) == session.scalar(
        select(func.count(OTBPlan.id)).where(OTBPlan.season_id == in_season.id,
                                             OTBPlan.month.in_(started)))
    assert session.scalar(select(func.count(Upload.id)).where(
        Upload.kind == UploadKind.ACTUALS, Upload.status == UploadStatus.COMMITTED)) == 1
    # Two OTB moves in season (issue 17): one approved, written as lines; one waiting.
    moves = session.execute(select(OTBAdjustment.season_id, OTBAdjustment.status)
                            .order_by(OTBAdjustment.number)).all()
    assert moves == [(in_season.id, "approved"), (in_season.id, "pending")]
    assert session.scalar(select(func.sum(OTBAdjustmentLine.amount))) == 0
    again = app.test_cli_runner().invoke(args=["kyros", "demo-data"])
    assert "already has data" in again.output
    assert session.scalar(select(func.count(Season.id))) == len(demo.SEASONS)


def test_bench_data_is_consistent(app, session, monkeypatch):
    """The bench generator (here at 3 % of its stores) imports cleanly and hangs together:
    OTB sales add up to the plan, stock chains month to month, GRNs stay within their POs,
    and every location × leaf × month that has started by the clock has actuals, a store's
    from its OTB row as the demo makes them."""
    from kyros_web.demo import load_users
    from kyros_web.demo.bench import load_bench
    from kyros_web.masterdata.models import Category, Location
    from kyros_web.planning.queries import plan_reconciliation
    from kyros_web.seasons.facts import season_facts
    from kyros_web.seasons.workflow import SeasonStatus

    # After the season (and its last GRN, which a clock in the season would refuse).
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 11, 30))
    load_users(session, echo=lambda *_: None)
    load_bench(session, echo=lambda *_: None, scale=0.03)
    season = session.scalar(select(Season))
    assert season.status is SeasonStatus.RANGE_UPLOADED
    assert session.scalar(select(func.count(OTBPlan.id))) == 5 * 60 * 6
    # 5 stores and 10 warehouses × 60 leaves × the six months.
    assert session.scalar(select(func.count(SeasonActual.id))) == 15 * 60 * 6
    otb, actual = session.execute(
        select(OTBPlan, SeasonActual).join(SeasonActual, (
            SeasonActual.season_id == OTBPlan.season_id)
            & (SeasonActual.location_id == OTBPlan.location_id)
            & (SeasonActual.category_id == OTBPlan.category_id)
            & (SeasonActual.month == OTBPlan.month)).limit(1)).one()
    codes = (session.get(Location, otb.location_id).location_code,
             session.get(Category, otb.category_id).code)
    assert [actual.net_sales, actual.markdowns, actual.closing_stock] == \
        demo.actual_row(*codes, otb)[3:]
    assert actual.units_sold >= 0 and actual.closing_units >= 0
    recon = plan_reconciliation(season.id)
    assert session.scalar(select(func.count()).select_from(recon).where(recon.c.mismatch)) == 0
    season.status = SeasonStatus.PLAN_UPLOADED  # read the OTB gates' facts, not saved
    facts = season_facts(session, season)
    session.rollback()
    assert facts.stock_chain_breaks == 0
    # Every GRN passed the over-receipt check of the import on its way in.
    assert session.scalar(select(func.count(GRNRecord.id))) > 0
    assert session.scalar(select(func.count(PurchaseOrder.id))) > 0


def test_bench_actuals_stop_at_the_clock():
    """The bench actuals cover the months that have started by the clock given, no later."""
    import csv
    import io

    from kyros_web.demo.bench import bench_files

    rows = list(csv.DictReader(io.StringIO(
        bench_files(scale=0.02, through=date(2026, 5, 20))["actuals"].decode())))
    assert sorted({r["month"] for r in rows}) == ["2026-02", "2026-03", "2026-04", "2026-05"]
    assert len(rows) == (3 + 10) * 60 * 4
