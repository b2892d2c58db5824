"""`flask kyros season create | assign | advance | show` with the exit statuses of SPEC §11."""
import re

from sqlalchemy import select

from kyros_web.models import Season
from kyros_web.seasons.workflow import SeasonStatus


def run(app, *args):
    return app.test_cli_runner().invoke(args=["kyros", "season", *args])


def test_create_prints_the_code(app, make, session):
    make.admin
    result = run(app, "create", "--name", "CLI", "--start", "2026-02-01", "--end", "2026-04-30")
    assert result.exit_code == 0, result.output
    code = result.output.strip()
    assert re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}", code)
    assert session.scalar(select(Season).where(Season.season_code == code)).name == "CLI"


def test_create_refuses_bad_dates(app, make):
    make.admin
    result = run(app, "create", "--name", "X", "--start", "2026-02-01", "--end", "2026-01-01")
    assert result.exit_code == 1 and "End date must be on or after" in result.output


def test_create_usage_error_is_2(app):
    assert run(app, "create", "--name", "X").exit_code == 2


def test_create_needs_an_admin_or_user(app):
    result = run(app, "create", "--name", "X", "--start", "2026-02-01", "--end", "2026-02-02")
    assert result.exit_code == 1 and "No active admin" in result.output


def test_create_as_a_viewer_is_refused(app, make):
    viewer = make.user("viewer")
    result = run(app, "create", "--name", "X", "--start", "2026-02-01", "--end", "2026-02-02",
                 "--user", viewer.email)
    assert result.exit_code == 1 and "permission" in result.output


def test_assign_advance_show(app, make, session):
    cluster = make.cluster("Region 03")
    make.location(cluster=cluster)
    make.location(cluster=cluster)
    other = make.location()
    season = make.season()
    refused = run(app, "advance", season.season_code)
    assert refused.exit_code == 1 and "Assign at least one active location" in refused.output
    assert run(app, "assign", season.season_code, "--cluster", "region 03").output.startswith("2 location")
    result = run(app, "assign", season.season_code, other.location_code.lower())
    assert result.exit_code == 0 and "1 location(s) added" in result.output
    result = run(app, "advance", season.season_code, "--note", "from cron")
    assert result.exit_code == 0 and "is now locations_defined" in result.output
    session.refresh(season)
    assert season.status is SeasonStatus.LOCATIONS_DEFINED
    shown = run(app, "show", season.season_code)
    assert shown.exit_code == 0
    assert "status:  locations_defined" in shown.output
    assert "[FAIL] Add or upload at least one plan row" in shown.output
    assert re.search(r"locations\s+3", shown.output)


def test_assign_usage_and_unknown_codes(app, make):
    season = make.season()
    assert run(app, "assign", season.season_code).exit_code == 2
    assert run(app, "assign", season.season_code, "--all", "--cluster", "X").exit_code == 2
    result = run(app, "assign", season.season_code, "NOSUCHLOCATION00")
    assert result.exit_code == 1 and "Unknown location codes: NOSUCHLOCATION00" in result.output


def test_unknown_season_is_1(app):
    result = run(app, "show", "NOPE-NOPE")
    assert result.exit_code == 1 and "Season NOPE-NOPE not found" in result.output


def test_advance_a_locked_season_is_refused(app, make):
    season = make.season(SeasonStatus.LOCKED)
    result = run(app, "advance", season.season_code)
    assert result.exit_code == 1 and "Season is locked and cannot be modified" in result.output
