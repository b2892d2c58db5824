"""`flask kyros adjust` and `flask kyros decide` (issue 17, item 6): the same services and the
same four eyes as the pages."""
from sqlalchemy import func, select

from kyros_web.models import OTBAdjustment, OTBAdjustmentLine

from .test_adjustments import shop  # noqa: F401  (the fixture)


def _run(app, *args):
    return app.test_cli_runner().invoke(args=["kyros", *args])


def test_a_script_asks_and_another_person_decides(app, session, shop):
    s, code = shop, shop["season"].season_code
    asked = _run(app, "adjust", code, "--amount", "300.00", "--from-category", s["x"].code,
                 "--from-month", "2026-02", "--to-category", s["z"].code, "--to-month",
                 "2026-02", "--reason", "x sells slowly", "--user", s["requester"].email)
    assert asked.exit_code == 0, asked.output
    assert f"Request #1 in {code} to move 300.00 waits" in asked.output
    mine = _run(app, "decide", code, "1", "--approve", "--note", "me",
                "--user", s["requester"].email)
    assert mine.exit_code == 1 and "another planner or an admin decides it" in mine.output
    done = _run(app, "decide", code, "1", "--approve", "--note", "agreed",
                "--user", s["approver"].email)
    assert done.exit_code == 0 and f"Request #1 in {code} is approved" in done.output
    assert session.scalar(select(func.count()).select_from(OTBAdjustmentLine)) == 5
    again = _run(app, "decide", code, "1", "--reject", "--note", "late")
    assert again.exit_code == 1 and "was approved by" in again.output


def test_the_scope_by_cluster_and_location_codes(app, session, shop):
    s, code = shop, shop["season"].season_code
    asked = _run(app, "adjust", code, "--amount", "10", "--from-cluster", s["north"].name,
                 "--to-location", s["c"].location_code, "--to-category", s["z"].code,
                 "--reason", "r", "--user", s["requester"].email)
    assert asked.exit_code == 0, asked.output
    row = session.scalars(select(OTBAdjustment)).one()
    assert (row.from_cluster_id, row.to_location_id, row.to_category_id) == (
        s["north"].id, s["c"].id, s["z"].id)


def test_bad_arguments_are_told_and_store_nothing(app, session, shop):
    s, code = shop, shop["season"].season_code
    for args, exit_code, message in (
            (["--from-location", "NOPE"], 1, "Unknown location code NOPE"),
            (["--from-category", "NOPE"], 1, "Unknown category code NOPE"),
            (["--from-cluster", "Nowhere"], 1, "No cluster named 'Nowhere'"),
            (["--from-location", s["a"].location_code, "--from-cluster", s["north"].name], 2,
             "not both"),
            (["--to-month", "March"], 2, "YYYY-MM"),
            (["--amount", "0"], 1, "more than 0")):
        base = {"--amount": "10", "--reason": "r"}
        rest = []
        for flag in ("--amount",):
            if flag not in args:
                rest += [flag, base[flag]]
        result = _run(app, "adjust", code, *rest, *args, "--reason", "r",
                      "--user", s["requester"].email)
        assert result.exit_code == exit_code and message in result.output, (args, result.output)
    assert _run(app, "decide", code, "7", "--approve", "--note", "n").exit_code == 1
    assert session.scalar(select(func.count()).select_from(OTBAdjustment)) == 0
