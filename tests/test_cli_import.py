"""`flask kyros import` (SPEC §11): the engine from the command line, with its exit statuses."""
from pathlib import Path

from sqlalchemy import func, select

from kyros_web.models import Location, SeasonPlan
from kyros_web.seasons.workflow import SeasonStatus

SAMPLES = Path(__file__).parent / "data"


def run(app, *args):
    return app.test_cli_runner().invoke(args=["kyros", "import", *args])


def test_import_commits_and_reports(app, make, session):
    make.admin
    result = run(app, "locations", str(SAMPLES / "locations.csv"))
    assert result.exit_code == 0, result.output
    assert "7 rows: 7 new, 0 updated, 0 unchanged, 0 rejected" in result.output
    assert "Committed." in result.output
    assert session.scalar(select(func.count(Location.id))) == 7
    again = run(app, "locations", str(SAMPLES / "locations.csv"))
    assert "0 new, 0 updated, 7 unchanged" in again.output


def test_dry_run_writes_nothing(app, make, session):
    make.admin
    result = run(app, "locations", str(SAMPLES / "locations.csv"), "--dry-run")
    assert result.exit_code == 0 and "nothing was written" in result.output
    assert session.scalar(select(func.count(Location.id))) == 0


def test_rejected_file_exits_1_with_errors(app, make, session, tmp_path):
    season = make.season(SeasonStatus.LOCATIONS_DEFINED)
    bad = tmp_path / "plans.csv"
    bad.write_text("location_code,category_code,planned_sales,planned_margin\nNOPE,X,1,1\n")
    result = run(app, "plans", str(bad), "--season", season.season_code)
    assert result.exit_code == 1
    assert "Row 2, location_code 'NOPE': Unknown location code NOPE" in result.output
    assert session.scalar(select(func.count(SeasonPlan.id))) == 0


def test_usage_errors_exit_2(app, make, tmp_path):
    make.admin
    assert run(app, "plans", str(SAMPLES / "plans.csv")).exit_code == 2  # no --season
    assert run(app, "widgets", str(SAMPLES / "plans.csv")).exit_code == 2
    assert run(app, "locations", str(tmp_path / "missing.csv")).exit_code == 2


def test_wrong_status_is_refused(app, make):
    season = make.season(SeasonStatus.PLAN_UPLOADED)
    result = run(app, "plans", str(SAMPLES / "plans.csv"), "--season", season.season_code)
    assert result.exit_code == 1 and "can only be changed while the season is" in result.output


def test_actuals_import(app, make, session, tmp_path, monkeypatch):
    """`flask kyros import actuals FILE --season CODE` commits a season's actuals."""
    from datetime import date

    from kyros_web.models import SeasonActual

    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 3, 1))
    season = make.season(SeasonStatus.RANGE_UPLOADED)
    loc, leaf = season.test_locations[0].location_code, season.test_leaves[0].code
    path = tmp_path / "actuals.csv"
    path.write_text("location_code,category_code,month,net_sales,markdowns,closing_stock\n"
                    f"{loc},{leaf},2026-02,100,5,900\n{loc},{leaf},2026-03,80,0,850\n")
    result = run(app, "actuals", str(path), "--season", season.season_code)
    assert result.exit_code == 0, result.output
    assert "2 rows: 2 new, 0 updated, 0 unchanged, 0 rejected" in result.output
    assert session.scalar(select(func.count(SeasonActual.id))) == 2
    assert run(app, "actuals", str(path)).exit_code == 2  # no --season
