"""Analytics pages of a season: ten printable reports with charts, their exports, and the
season pack with its data fingerprint (SPEC §7)."""
from __future__ import annotations

from datetime import datetime, timezone

from flask import Blueprint, abort, request
from flask_login import current_user, login_required

from ..downloads import csv_file, xlsx_file
from ..extensions import db
from ..htmx import render
from ..paging import page_number
from ..planning.reforecast import METHODS
from ..seasons.services import get_season
from ..seasons.workflow import Area, can_edit
from . import export, reports
from .data import cached_fingerprint, season_tables

bp = Blueprint("analytics", __name__, url_prefix="/analytics")


def _build(page: reports.Page, season):
    """The report of a page, with its filters read from the query string (cached)."""
    return reports.cached_report(db.session, page, season, request.args)


def _header(season, report) -> list[str]:
    filters = ", ".join(f"{k} {v}" for k, v in report.filters.items() if k != "levels")
    return [f"Kyros · {report.title}",
            f"Season {season.season_code} {season.name} ({season.status.title})",
            f"Filters: {filters or 'none'}",
            f"Printed {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"]


def _export(report, header: list[str], name: str):
    """?format=csv (one table, ?table=) or ?format=xlsx (every table of the page)."""
    fmt = request.args.get("format")
    if fmt == "csv":
        table_name = request.args.get("table") or report.tables[0].name
        table = next((t for t in report.exported if t.name == table_name), None)
        if table is None:
            abort(404)
        return csv_file(export.table_csv(table), f"{name}-{table.name}.csv")
    if fmt == "xlsx":
        return xlsx_file(export.report_workbook(report, header), f"{name}.xlsx")
    return None


@bp.get("/workflow")
@login_required
def workflow():
    """Workflow status of every season: when each reached each step, and the status mix."""
    page = page_number(request.args.get("page"))
    report = reports.workflow_status(db.session, page=page)
    header = ["Kyros · Workflow status of all seasons",
              f"Printed {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"]
    return _export(report, header, "kyros-workflow") or render(
        "analytics/report.html", report=report, season=None, pages=reports.PAGES, header=header,
        page=page, has_next=len(report.tables[1].rows) == reports.WORKFLOW_PAGE_SIZE)


@bp.get("/<code>/")
@bp.get("/<code>/<slug>")
@login_required
def report(code: str, slug: str = "dashboard"):
    """One analytics page of the season; ?format=csv|xlsx exports its tables."""
    season = get_season(db.session, code)
    page = reports.PAGES_BY_SLUG.get(slug)
    if page is None:
        abort(404)
    report_ = _build(page, season)
    header = _header(season, report_)
    return _export(report_, header, f"kyros-{season.season_code}-{slug}") or render(
        "analytics/report.html", report=report_, season=season, pages=reports.PAGES, header=header,
        reforecast=_reforecast(season) if slug == "in-season" else None)


def _reforecast(season) -> dict:
    """The In season page's reforecast method: the season's, and whether this user may
    change it now (seasons.reforecast_method saves it)."""
    return {"methods": METHODS, "method": season.reforecast_method,
            "can_change": can_edit(current_user, season, Area.REFORECAST)}


@bp.get("/<code>/export")
@login_required
def exports(code: str):
    """Every export of the season in one place: each page's tables, the data, the pack."""
    season = get_season(db.session, code)
    return render("analytics/export.html", season=season, pages=reports.PAGES)


@bp.get("/<code>/data.xlsx")
@login_required
def data_workbook(code: str):
    """The whole season's data as one workbook, a sheet per table."""
    season = get_season(db.session, code)
    body = export.workbook(season_tables(db.session, season),
                           [f"Season {season.season_code} {season.name} ({season.status.title})",
                            f"Fingerprint {cached_fingerprint(db.session, season)}"])
    return xlsx_file(body, f"kyros-{season.season_code}-data.xlsx")


def _pack(season):
    """The pack's reports: the season's pages, then the workflow status of every season (not
    cached with the season's figures: other seasons move it)."""
    built = [_build(page, season) for page in reports.PAGES]
    return ([*built, reports.workflow_status(db.session, per_page=None)],
            cached_fingerprint(db.session, season))


@bp.get("/<code>/pack")
@login_required
def pack(code: str):
    """All pages as one printable document, the data fingerprint on every page."""
    season = get_season(db.session, code)
    built, print_ = _pack(season)
    return render("analytics/pack.html", season=season, reports=built, fingerprint=print_,
                  printed=datetime.now(timezone.utc))


@bp.get("/<code>/pack.xlsx")
@login_required
def pack_workbook(code: str):
    """The season pack as one workbook: every table of every page."""
    season = get_season(db.session, code)
    built, print_ = _pack(season)
    tables = [(f"{r.title[:14]} {t.title}", t) for r in built for t in r.exported]
    body = export.workbook(tables, [f"Season pack {season.season_code} {season.name} "
                                    f"({season.status.title})", f"Fingerprint {print_}",
                                    f"Printed {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC"])
    return xlsx_file(body, f"kyros-{season.season_code}-pack.xlsx")
