"""The analytics of the pages as JSON (issue 18): every analytics page of a season with the
page's own filters, the workflow status of all seasons, and the season's data export with its
fingerprint. The reports are the pages' own, from the same figure cache
(reports.cached_report); export.report_json walks them by column kind, as the CSV and XLSX
exports do. Read-only: every role, and a read-only token, may call them."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields, validate

from ..analytics import export, reports
from ..analytics.data import cached_fingerprint, season_tables
from ..analytics.in_season import LEVELS, SEASON_TO_DATE
from ..analytics.report import COUNT, DATE, MONEY, MONTH, NUMBER, PERCENT, PO, PROSE, TEXT
from ..errors import ValidationFailed
from ..extensions import db
from ..paging import MAX_PAGE
from ..values import months_between
from . import core
from .seasons import STATUSES, season_of

blp = core.blueprint("Analytics", "The figures of every analytics page, the workflow status of "
                                  "all seasons and the season's data export")

KINDS = [TEXT, MONEY, PERCENT, COUNT, DATE, MONTH, NUMBER, PO, PROSE]
# A cell's schema; `allow_none` adds its "null".
CELL = {"type": ["string", "integer"], "description": (
    "By the column's kind: money and number a decimal string with 2 places, percent one "
    "with 1 place (or the word the page shows instead: \"over budget\", \"—\", \"n/a\"), "
    "count an integer, date and month ISO 8601 (a month as its first day); a line's label "
    "(\"Season\", \"Before season\") and text as strings; null when empty")}


# Responses ---------------------------------------------------------------------------------

class AnalyticsColumnSchema(Schema):
    key = fields.String(metadata={"description": "The key of the column's cells in each row"})
    name = fields.String(metadata={"description": "The column's title on the page"})
    kind = fields.String(metadata={"enum": KINDS})


def _cells(**kwargs):
    return fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True, metadata=CELL),
                       **kwargs)


class AnalyticsTableSchema(Schema):
    name = fields.String(metadata={"description": "The table's stable name"})
    title = fields.String()
    note = fields.String(allow_none=True, metadata={
        "description": "What the table's figures mean, as the page prints it"})
    columns = fields.List(fields.Nested(AnalyticsColumnSchema), metadata={
        "description": "The columns in the page's order"})
    rows = fields.List(_cells(), metadata={"description": "A row: column key → cell"})
    total = _cells(allow_none=True, metadata={"description": "The totals line, if any"})


class AnalyticsKpiSchema(Schema):
    key = fields.String()
    name = fields.String()
    kind = fields.String(metadata={"enum": KINDS})
    value = fields.Raw(allow_none=True, metadata=CELL)
    note = fields.String(allow_none=True, metadata={
        "description": "Why a ratio has no number, when a word stands in for it"})


class AnalyticsSeasonSchema(Schema):
    id = fields.UUID()
    season_code = fields.String()
    name = fields.String()
    status = fields.String(attribute="status.value", metadata={"enum": STATUSES})


class AnalyticsReportSchema(Schema):
    slug = fields.String()
    title = fields.String()
    season = fields.Nested(AnalyticsSeasonSchema, allow_none=True)
    filters = fields.Dict(keys=fields.String(), values=fields.Raw(metadata={
        "type": ["string", "integer"]}), metadata={"description": "The filters applied"})
    notes = fields.List(fields.String(), metadata={
        "description": "Sentences the page shows under its key figures"})
    kpis = fields.List(fields.Nested(AnalyticsKpiSchema))
    tables = fields.List(fields.Nested(AnalyticsTableSchema))


class SeasonExportSchema(Schema):
    season = fields.Nested(AnalyticsSeasonSchema)
    fingerprint = fields.String(metadata={
        "description": "sha256 of the season and every row of these tables (the season "
                       "pack prints it)"})
    tables = fields.List(fields.Nested(AnalyticsTableSchema))


# Filters, as the pages take them ------------------------------------------------------------

def _level():
    return fields.Integer(validate=validate.Range(min=1, max=100), metadata={
        "description": "The category level (1, the default: the top); a level deeper than "
                       "the tree shows its deepest"})


class AnalyticsNoFilters(Schema):
    pass


class AnalyticsLevelArgs(Schema):
    level = _level()


class AnalyticsRankingArgs(Schema):
    by = fields.String(validate=validate.OneOf(list(reports.RANKINGS)), metadata={
        "description": "Ranked by (default utilisation)"})
    top = fields.Integer(validate=validate.Range(min=1, max=100), metadata={
        "description": "How many locations (default 10)"})
    order = fields.String(validate=validate.OneOf(["top", "bottom"]), metadata={
        "description": "The top ones (default) or the bottom ones"})


class AnalyticsInSeasonArgs(Schema):
    by = fields.String(validate=validate.OneOf(list(LEVELS)), metadata={
        "description": "KPIs by category (default), cluster or location"})
    level = _level()
    period = fields.String(
        validate=validate.Regexp(r"^(std|\d{4}-(0[1-9]|1[0-2]))$",
                                 error="Send std (the season to date) or a month YYYY-MM"),
        metadata={"description": "std (the season to date, the default) or a month of the "
                                 "season, YYYY-MM"})


class AnalyticsWorkflowArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE),
                          metadata={"description": f"{reports.WORKFLOW_PAGE_SIZE} seasons a "
                                                   "page, newest first"})


FILTERS = {"categories": AnalyticsLevelArgs, "price-bands": AnalyticsLevelArgs,
           "locations": AnalyticsRankingArgs, "in-season": AnalyticsInSeasonArgs}

# The seed's paths (/analytics/<name>/{season_id}) of the pages it has.
SEED_NAMES = {"dashboard": "dashboard", "view": "read-only-view", "budget": "budget-vs-actual",
              "categories": "category-breakdown", "clusters": "cluster-summary",
              "locations": "location-performance", "pos": "po-status",
              "price-bands": "price-band-analysis"}

ABOUT = {
    "dashboard": "The key figures, budget vs actual by month and the plan figures.",
    "view": "The season, its locations, budget vs actual by month and the range intent.",
    "budget": "OTB, adjustments, committed and received by month.",
    "categories": "The figures per category at a level of the tree, and its plan figures.",
    "clusters": "The figures per cluster.",
    "locations": "The top or bottom locations by a measure.",
    "pos": "POs by status and source, the partly received ones, and how late the open ones "
           "are.",
    "price-bands": "The range intent (core, fashion, price bands) per category at a level.",
    "in-season": "Plan, actual and reforecast by month, the in-season OTB, and the KPIs by "
                 "month and by category, cluster or location.",
    "moves": "The requests to move open to buy and what became of them.",
}


def _check_period(season, args: dict) -> None:
    """A month the season does not have would silently show the season to date on the page;
    the API says so instead."""
    period = args.get("period")
    months = [m.strftime("%Y-%m") for m in months_between(season.start_date, season.end_date)]
    if period not in (None, SEASON_TO_DATE) and period not in months:
        raise ValidationFailed({"period": f"{period} is not a month of the season "
                                          f"({months[0]} to {months[-1]})"})


CHECKS = {"in-season": _check_period}


def report(slug: str, season_id: str, args: dict) -> dict:
    """A page's report of the season, built (or found in the figure cache) as the page does."""
    season = season_of(season_id)
    page = reports.PAGES_BY_SLUG[slug]
    CHECKS.get(slug, lambda *_: None)(season, args)
    built = reports.cached_report(db.session, page, season, args)
    return {**export.report_json(built), "season": season}


def _page_route(page: reports.Page) -> None:
    def get(self, args, season_id):
        return report(page.slug, season_id, args)

    get.__doc__ = f"{page.title} of a season\n\n{ABOUT[page.slug]}"
    view = type(f"Analytics{page.slug.title().replace('-', '')}", (MethodView,), {"get": get})
    view.get = blp.response(200, AnalyticsReportSchema)(
        blp.arguments(FILTERS.get(page.slug, AnalyticsNoFilters), location="query")(view.get))
    blp.route(f"/analytics/<season_id>/{page.slug}", endpoint=f"report-{page.slug}")(view)
    if page.slug in SEED_NAMES:
        blp.route(f"/analytics/{SEED_NAMES[page.slug]}/<season_id>",
                  endpoint=f"seed-{page.slug}")(view)


for _page in reports.PAGES:
    _page_route(_page)


@blp.route("/analytics/workflow-status")
class WorkflowStatus(MethodView):
    @blp.arguments(AnalyticsWorkflowArgs, location="query")
    @blp.response(200, AnalyticsReportSchema)
    def get(self, args):
        """The workflow status of all seasons

        When each season reached each step (a page of seasons, newest first) and the
        seasons per status; X-Total-Count counts the seasons."""
        built = reports.workflow_status(db.session, page=args["page"])
        g.api_total = built.table("status_mix").total[1]
        return {**export.report_json(built), "season": None}


def _season_export(season_id: str) -> dict:
    season = season_of(season_id)
    print_ = cached_fingerprint(db.session, season)
    core.set_etag(core.etag(print_))
    return {"season": season, "fingerprint": print_,
            "tables": [export.table_json(table) for _, table in season_tables(db.session,
                                                                              season)]}


@blp.route("/seasons/<season_id>/export")
class SeasonExport(MethodView):
    @blp.response(200, SeasonExportSchema)
    def get(self, season_id):
        """The season's data export

        The season's data as the data workbook holds it (locations, plans, OTB, range
        intent, POs, actuals, GRNs, adjustments), a list of rows per table, with its
        fingerprint (also the ETag)."""
        return _season_export(season_id)


@blp.route("/analytics/export/<season_id>")
class SeedSeasonExport(MethodView):
    @blp.response(200, SeasonExportSchema)
    def get(self, season_id):
        """The season's data export (the seed's path)

        As /seasons/{season_id}/export."""
        return _season_export(season_id)
