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


# sha256 of each file of bench_files(scale=0.03) at the season's end, taken before the
# generator was given shapes: the bench shape's files must not move by a byte.
BENCH_FILES_SHA256 = {
    "locations": "5c0d41714b85a6aabe821583e9eca93e9a214dbe2140926fc26c9f098e14a894",
    "categories": "705f42f0674d88a98cb7d43d203ee22ad3f07682024d948fec655fe13a54404c",
    "plans": "4c2067efca0a1d93119557dc5df2d6ff433eb467c002db0df9bc6e0e062289cb",
    "otb": "4237b2ee8f457bb37beb3dfb4b51323626afe7bbde470ad36d236b350eb2b130",
    "range": "106548adeba2550a04947f568b3b258814265d9cf112c6cbc8a586c5b03c0c67",
    "pos": "1b42c32e70d5f9f4a6cebf03af5eb7cc9ecd9d7906fff683cf6cc377b2dc976b",
    "grns": "a9d31a5649623fcf02f122660d5b46ba7eea2779558b1f2ddb1af03af904976f",
    "actuals": "095225a33e71fda27b339b36979e0eca938f20673fddb38806547fa3f48abfa8",
}


def test_bench_files_are_as_they_were():
    """The bench shape's files are byte for byte what they were before shapes existed."""
    import hashlib

    from kyros_web.demo.bench import END, bench_files

    files = bench_files(scale=0.03, through=END)
    assert {kind: hashlib.sha256(data).hexdigest() for kind, data in files.items()} == \
        BENCH_FILES_SHA256


def test_bench_shape_written_to_files_is_the_same(tmp_path):
    """The stream into files writes the same rows as the files in memory, a month kind split
    into files of whole months when it passes the row limit given."""
    from kyros_web.demo.bench import BENCH, END, bench_files, write_files

    shape = BENCH._replace(stores=5)
    paths = write_files(shape, tmp_path, through=END, max_rows=5 * 60 * 2)
    assert [p.name for p in paths["otb"]] == ["otb-1.csv", "otb-2.csv", "otb-3.csv"]
    assert [p.name for p in paths["actuals"]] == ["actuals-1.csv", "actuals-2.csv",
                                                  "actuals-3.csv", "actuals-4.csv",
                                                  "actuals-5.csv", "actuals-6.csv"]
    in_memory = bench_files(scale=0.03, through=END)
    for kind, parts in paths.items():
        header, *rows = in_memory[kind].decode().splitlines()
        written = []
        for path in parts:
            first, *more = path.read_text().splitlines()
            assert first == header
            written += more
        assert sorted(written) == sorted(rows), kind


TINY = dict(clusters=3, stores=4, warehouses=2, divisions=2, departments=2, classes=3, pos=60)


def test_large_shape_shrunk_imports_cleanly(app, session, monkeypatch):
    """The large loader's path (files generated into a directory, OTB and actuals split by
    months, each file previewed and committed) on a tiny shape: every row lands, the season
    reaches range_uploaded, and what it printed names every kind."""
    from kyros_web.demo import load_users
    from kyros_web.demo.bench import MONTHS, Shape, load_large
    from kyros_web.masterdata.models import Category, Location
    from kyros_web.planning.queries import plan_reconciliation

    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 9, 30))
    shape = Shape(**TINY)
    printed = []
    load_users(session, echo=lambda *_: None)
    load_large(session, echo=printed.append, shape=shape, max_rows=4 * 12 * 2)
    season = session.scalar(select(Season))
    assert season.status is SeasonStatus.RANGE_UPLOADED
    assert session.scalar(select(func.count(Location.id))) == 6
    assert session.scalar(select(func.count(Category.id))) == 2 + 4 + 12
    assert session.scalar(select(func.count(SeasonPlan.id))) == 4 * 12
    assert session.scalar(select(func.count(OTBPlan.id))) == 4 * 12 * len(MONTHS)
    assert session.scalar(select(func.count(SeasonActual.id))) == 6 * 12 * len(MONTHS)
    assert session.scalar(select(func.count(PurchaseOrder.id))) == 60
    assert session.scalar(select(func.count(GRNRecord.id))) > 0
    # The OTB in 3 files of 2 months, the actuals in 6 of one.
    assert session.scalar(select(func.count(Upload.id)).where(
        Upload.kind == UploadKind.OTB, Upload.status == UploadStatus.COMMITTED)) == 3
    assert session.scalar(select(func.count(Upload.id)).where(
        Upload.kind == UploadKind.ACTUALS, Upload.status == UploadStatus.COMMITTED)) == 6
    recon = plan_reconciliation(season.id)
    assert session.scalar(select(func.count()).select_from(recon).where(recon.c.mismatch)) == 0
    kinds = [line.split(":")[0] for line in printed]
    assert kinds == ["files", "locations", "categories", "plans", "otb", "range", "pos", "grns",
                     "actuals", f"season {season.season_code} National season"]
    assert all("rows/s" in line for line in printed[1:-1])
