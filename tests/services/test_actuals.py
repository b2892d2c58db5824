"""The actuals upload kind (issue 16, item 1): what the shops sold and held by location × leaf
category × month, in season only, months that have started, net sales may be negative."""
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select

from kyros_web.audit import AuditEvent
from kyros_web.models import SeasonActual, UploadStatus
from kyros_web.seasons.workflow import SeasonStatus
from kyros_web.uploads import services

from .test_uploads import CONFIG, counts, load

HEADER = "location_code,category_code,month,net_sales,markdowns,closing_stock,units_sold,closing_units\n"


@pytest.fixture
def today(app, monkeypatch):
    """The app's clock set to 15 March 2026: February and March have started, April not."""
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 3, 15))


@pytest.fixture
def in_season(make, today):
    """A Feb–Apr 2026 season in range_uploaded with one location and two leaves under one
    parent."""
    parent = make.category()
    leaves = [make.category(parent=parent), make.category(parent=parent)]
    season = make.season(SeasonStatus.RANGE_UPLOADED, locations=[make.location()], leaves=leaves)
    season.parent = parent
    return season


def actuals_file(season, *rows) -> bytes:
    """An actuals file; each row is (month, net sales, markdowns, closing stock, units sold,
    closing units) for the season's location and first leaf, or a full row of eight cells."""
    loc, leaf = season.test_locations[0].location_code, season.test_leaves[0].code
    lines = [",".join(r if len(r) == 8 else (loc, leaf, *r)) for r in rows]
    return (HEADER + "\n".join(lines) + "\n").encode()


GOOD = (("2026-02", "1200.50", "80.00", "5000.00", "40", "160"),
        ("2026-03", "900.00", "0", "4200.00", "", ""))


def test_import_writes_versioned_rows_and_reimport_is_unchanged(session, make, in_season):
    """Two months of actuals import as new rows; the same file again changes nothing."""
    first = load(session, make.admin, "actuals", actuals_file(in_season, *GOOD), in_season)
    assert first.status is UploadStatus.COMMITTED and counts(first) == (2, 0, 0, 0)
    row = session.scalar(select(SeasonActual).where(SeasonActual.month == date(2026, 2, 1)))
    assert (row.net_sales, row.markdowns, row.closing_stock) == (D("1200.50"), D("80.00"),
                                                                  D("5000.00"))
    assert (row.units_sold, row.closing_units, row.version) == (40, 160, 1)
    assert row.uploaded_by == make.admin.id
    march = session.scalar(select(SeasonActual).where(SeasonActual.month == date(2026, 3, 1)))
    assert march.units_sold is None and march.closing_units is None
    again = load(session, make.admin, "actuals", actuals_file(in_season, *GOOD), in_season)
    assert counts(again) == (0, 0, 2, 0)
    assert session.scalar(select(func.max(SeasonActual.version))) == 1
    event = session.scalar(select(AuditEvent).order_by(AuditEvent.at.desc()).limit(1))
    assert (event.action, event.entity, event.after["unchanged"]) == ("import",
                                                                      "upload_actuals", 2)


def test_changed_figures_update_the_row_and_show_in_the_preview(session, make, in_season):
    """A changed figure bumps the row's version; the preview lists the changed cell."""
    load(session, make.admin, "actuals", actuals_file(in_season, *GOOD), in_season)
    changed = actuals_file(in_season, ("2026-02", "1250.00", "80.00", "5000.00", "40", "160"),
                           GOOD[1])
    preview = load(session, make.admin, "actuals", changed, in_season, commit=False)
    assert counts(preview) == (0, 1, 1, 0)
    assert preview.summary["changes"] == [{
        "row": f"{in_season.test_locations[0].location_code} × "
               f"{in_season.test_leaves[0].code} × 2026-02",
        "column": "net_sales", "old": "1200.50", "new": "1250.00"}]
    services.commit_upload(session, make.admin, preview.id, config=CONFIG)
    row = session.scalar(select(SeasonActual).where(SeasonActual.month == date(2026, 2, 1)))
    assert (row.net_sales, row.version) == (D("1250.00"), 2)


def test_negative_net_sales_are_kept_with_a_warning(session, make, in_season):
    """Returns beyond sales give negative net sales: imported, and the preview says so."""
    data = actuals_file(in_season, ("2026-02", "-75.25", "0", "300", "", ""))
    upload = load(session, make.admin, "actuals", data, in_season)
    assert upload.status is UploadStatus.COMMITTED
    assert upload.summary["warnings"] == [
        "1 row(s) have negative net sales (more returned than sold); they are kept and flagged"]
    assert session.scalar(select(SeasonActual.net_sales)) == D("-75.25")


def test_every_rule_refuses_its_row(session, make, in_season):
    """A row per rule: non-leaf, unassigned location, month outside the season, month after
    the clock's, negative markdowns, negative closing stock, negative or fractional units."""
    loc, leaf = in_season.test_locations[0].location_code, in_season.test_leaves[0].code
    other = make.location().location_code
    data = actuals_file(
        in_season,
        (loc, in_season.parent.code, "2026-02", "1", "0", "0", "", ""),
        (other, leaf, "2026-02", "1", "0", "0", "", ""),
        ("2026-05", "1", "0", "0", "", ""),
        ("2026-04", "1", "0", "0", "", ""),
        (loc, in_season.test_leaves[1].code, "2026-02", "1", "-1", "0", "", ""),
        (loc, in_season.test_leaves[1].code, "2026-03", "1", "0", "-0.01", "", ""),
        ("2026-03", "1", "0", "0", "-1", ""),
        ("2026-02", "1", "0", "0", "", "2.5"),
    )
    upload = load(session, make.admin, "actuals", data, in_season)
    assert upload.status is UploadStatus.REJECTED and upload.rows_rejected == 8
    errors = [(e["row"], e["column"], e["message"]) for e in upload.summary["errors"]]
    assert errors == [
        (2, "category_code", f"Category {in_season.parent.code} has sub-categories; use a "
                             "leaf category"),
        (3, "location_code", f"Location {other} is not assigned to season "
                             f"{in_season.season_code}"),
        (4, "month", f"2026-05 is not a month of season {in_season.season_code}"),
        (5, "month", "2026-04 is after the current month (2026-03); actuals come only for "
                     "months that have started"),
        (6, "markdowns", "Markdowns must be 0 or more"),
        (7, "closing_stock", "Closing stock must be 0 or more"),
        (8, "units_sold", "Units sold must be 0 or more"),
        (9, "closing_units", "Closing units may have at most 0 decimals"),
    ]
    assert session.scalar(select(func.count(SeasonActual.id))) == 0


def test_the_clock_decides_which_months_have_started(session, make, in_season, app,
                                                     monkeypatch):
    """April is refused on 15 March and accepted once the clock reaches April."""
    april = actuals_file(in_season, ("2026-04", "10", "0", "0", "", ""))
    assert load(session, make.admin, "actuals", april, in_season).status is UploadStatus.REJECTED
    monkeypatch.setitem(app.config, "KYROS_TODAY", date(2026, 4, 1))
    assert load(session, make.admin, "actuals", april, in_season).status is UploadStatus.COMMITTED


@pytest.mark.parametrize("status", [SeasonStatus.OTB_UPLOADED, SeasonStatus.LOCKED])
def test_refused_before_and_after_the_season(session, make, today, status):
    """Actuals come in only while the season is in season (range_uploaded), with the
    workflow's message; nothing is stored."""
    season = make.season(status)
    upload = load(session, make.admin, "actuals", actuals_file(season, GOOD[0]), season)
    assert upload.status is UploadStatus.REJECTED
    expected = ("Season is locked and cannot be modified" if status is SeasonStatus.LOCKED else
                "Actuals can only be changed while the season is 'range_uploaded'; season "
                f"{season.season_code} is 'otb_uploaded'")
    assert upload.summary["message"] == expected
    assert session.scalar(select(func.count(SeasonActual.id))) == 0


def test_template_has_a_row_per_cell_of_the_started_months(session, make, in_season):
    """The season's template: every location × leaf for February and March (April has not
    started on 15 March), names beside the codes."""
    headers, rows = services.template_rows(session, "actuals", in_season)
    assert headers == ["location_code", "category_code", "month", "net_sales", "markdowns",
                       "closing_stock", "units_sold", "closing_units", "location_name",
                       "category_name"]
    assert len(rows) == 1 * 2 * 2 and {r[2] for r in rows} == {"2026-02", "2026-03"}
    assert rows[0][3:8] == [""] * 5 and rows[0][8] == in_season.test_locations[0].name
