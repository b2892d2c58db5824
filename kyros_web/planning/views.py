"""Planning screens of a season: the plans grid, the OTB grid, range intent and the OTB cell
page (SPEC §3, §5, §7). Views read the request and call one service; rules live there."""
from __future__ import annotations

import uuid
from dataclasses import replace

from flask import Blueprint, abort, current_app, flash, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from ..clock import today
from ..args import as_month, as_uuid
from ..auth.roles import Action
from ..auth.access import role_required
from ..downloads import csv_file, sheet_csv, sheet_xlsx, xlsx_file
from ..errors import StaleVersion, ValidationFailed
from ..extensions import db
from ..htmx import page_args, redirect_after_write, render, render_fragment, wants_fragment
from ..masterdata.models import Category, Location
from ..masterdata.services import descendant_ids
from ..masterdata.tree import leaf_categories
from ..paging import page_number, paginate_rows
from ..seasons.services import get_season, require_editable
from ..seasons.workflow import Area, can_edit
from ..templating import money
from ..uploads import columns as file_columns
from ..uploads.columns import NAME_COLUMNS
from ..values import month_start, months_between
from ..versioning import version_number
from ..versions import cached
from . import adjustments, edits, inseason, queries, rules, services
from .kpis import NO_ACTUALS_YET
from .models import RangeIntent, SeasonPlan
from .pivot import LAYOUT_LABELS, MEASURE_LABELS, PLAN_COLUMNS, read_plan_view, read_view

bp = Blueprint("planning", __name__, url_prefix="/planning")

def grid_filters(season) -> tuple[queries.GridFilters, dict]:
    """The grid filters from the query string, and the cleaned arguments to repeat in links."""
    args = request.args
    category = as_uuid(args.get("category"))
    months = months_between(season.start_date, season.end_date)
    month = as_month(args.get("month"))
    filters = queries.GridFilters(
        cluster_id=as_uuid(args.get("cluster")),
        location_id=as_uuid(args.get("location")),
        category_ids=(frozenset({category} | descendant_ids(db.session, category))
                      if category else None),
        approved={"yes": True, "no": False}.get(args.get("approved", "")),
        month=month if month in months else None,
        flag=args.get("flag") if args.get("flag") in ("negative", "chain", "plan", "over") else None,
        sort=args.get("sort", "location"),
        descending=args.get("dir") == "desc",
    )
    clean = {k: v for k, v in {
        "cluster": str(filters.cluster_id or ""), "location": str(filters.location_id or ""),
        "category": str(category or ""),
        "approved": {True: "yes", False: "no"}.get(filters.approved, ""),
        "month": filters.month.strftime("%Y-%m") if filters.month else "",
        "flag": filters.flag or "", "sort": filters.sort if filters.sort != "location" else "",
        "dir": "desc" if filters.descending else "",
    }.items() if v}
    return filters, clean


def _season_or_404(code: str):
    return get_season(db.session, code)


def _page_size() -> int:
    return current_app.config["PAGE_SIZE"]


def _grid_url(endpoint: str, season, args: dict) -> str:
    return url_for(endpoint, code=season.season_code, **args)


# The two grids share their row handling: one row as a block for htmx, or the whole page.

class Grid:
    """What differs between the plans grid and the OTB grid."""

    def __init__(self, endpoint: str, template: str, area: Area, rows, totals, pager=None,
                 *, kind: str, columns, values, beside=None):
        self.endpoint, self.template, self.area = endpoint, template, area
        self.rows, self.totals = rows, totals
        self.pager = pager
        # What the grid shows beside a page of rows, read for the page at once:
        # beside(session, season, rows) → template values.
        self.beside = beside
        # The upload kind whose columns the grid's values are downloaded in, and their read.
        self.kind, self.columns, self.values = kind, columns, values

    def context(self, season, filters, args, totals=None, **extra) -> dict:
        return {"season": season, "args": args, "can_edit": can_edit(current_user, season, self.area),
                "totals": self.season_totals(season, filters) if totals is None else totals,
                **extra}

    def season_totals(self, season, filters):
        """The totals of the filtered rows, kept in the figure cache (the order is no filter)."""
        key = ("totals", self.endpoint, replace(filters, sort="location", descending=False))
        return cached(db.session, season.id, key,
                      lambda: self.totals(db.session, season.id, filters))

    def page(self, season, filters, totals):
        number = page_number(request.args.get("page"))
        if self.pager is not None:
            # The OTB month totals count the rows the filters keep.
            total = sum(t.rows for t in totals)
            return self.pager(db.session, season.id, filters, number, _page_size(), total)
        return paginate_rows(db.session, self.rows(season.id, filters), number, _page_size())

    def besides(self, season, rows) -> dict:
        return self.beside(db.session, season, rows) if self.beside else {}

    def full(self, season, block: str | None = "grid", status_code: int = 200, **extra):
        filters, args = grid_filters(season)
        totals = self.season_totals(season, filters)
        page = self.page(season, filters, totals)
        return render(self.template, block=block, status_code=status_code,
                      page=page, choices=queries.filter_choices(db.session, season),
                      leaves=leaf_categories(db.session), **self.besides(season, page.items),
                      **{"editing": None, "errors": {}, "values": {},
                         **self.context(season, filters, args, totals), **extra})

    def one(self, season, row_id: uuid.UUID):
        row = db.session.execute(self.rows(season.id, queries.GridFilters(), ids=[row_id])).first()
        if row is None:
            abort(404)
        return row

    def render_row(self, season, row, *, editing: bool, errors: dict | None = None,
                   status_code: int = 200, values=None):
        """One row: the block for htmx, else the whole grid page around it."""
        extra = {"row": row, "editing": row[0].id if editing else None,
                 "errors": errors or {}, "values": values or {}}
        if wants_fragment():
            filters, args = grid_filters(season)
            return render(self.template, block="row", status_code=status_code,
                          **self.context(season, filters, args), **self.besides(season, [row]),
                          **extra)
        return self.full(season, block=None, status_code=status_code, **extra)

    def row_page(self, code: str, row_id: uuid.UUID, *, editing: bool):
        """One row, read-only or, where the season's status lets it be edited, as a form."""
        season = _season_or_404(code)
        if editing:
            require_editable(season, self.area)
        return self.render_row(season, self.one(season, row_id), editing=editing)

    def totals_block(self, code: str):
        """The totals of the filtered rows alone (refreshed after an inline edit)."""
        season = _season_or_404(code)
        filters, args = grid_filters(season)
        return render_fragment(self.template, "totals", **self.context(season, filters, args))

    def after_save(self, season, row_id: uuid.UUID, event: str, message: str):
        """The saved row for htmx (and a trigger to refresh the totals), else back to the grid."""
        if wants_fragment():
            db.session.expire_all()
            body, status = self.render_row(season, self.one(season, row_id), editing=False)
            return body, status, {"HX-Trigger": event}
        flash(message, "success")
        return redirect_after_write(_grid_url(self.endpoint, season, grid_filters(season)[1]))

    def save(self, code: str, row_id: uuid.UUID, write, event: str, message: str):
        """Run `write(season, row)`; 422 with the messages, 409 when the row changed meanwhile."""
        season = _season_or_404(code)
        row = self.one(season, row_id)
        try:
            write(season, row[0])
        except ValidationFailed as exc:
            return self.render_row(season, row, editing=True, errors=exc.errors,
                                   status_code=422, values=request.form)
        except StaleVersion as exc:
            db.session.expire_all()
            return self.render_row(season, self.one(season, row_id), editing=True,
                                   errors={"": exc.message}, status_code=409)
        return self.after_save(season, row_id, event, message)

    def add(self, code: str, write, message: str):
        """Run `write(season)` for a new row; the add form again with 422 on a refusal."""
        season = _season_or_404(code)
        try:
            write(season)
        except ValidationFailed as exc:
            return self.full(season, block="add", status_code=422, add_errors=exc.errors,
                             add_values=request.form)
        flash(message, "success")
        return redirect_after_write(_grid_url(self.endpoint, season, grid_filters(season)[1]))

    def values_file(self, code: str, fmt: str):
        """The rows the filters keep (every page), in the upload's columns with their current
        values and the names beside the codes: a file to edit and upload back."""
        if fmt not in ("csv", "xlsx"):
            abort(404)
        season = _season_or_404(code)
        filters, _ = grid_filters(season)
        headers = [c.name for c in self.columns] + list(NAME_COLUMNS)
        rows = queries.value_rows(db.session, self.values(season.id, filters), headers)
        name = f"kyros-{self.kind}-values-{season.season_code}"
        if fmt == "csv":
            return csv_file(sheet_csv(headers, rows), f"{name}.csv")
        return xlsx_file(sheet_xlsx(headers, rows, title="Values"), f"{name}.xlsx")

    def delete(self, code: str, row_id: uuid.UUID, delete, message: str):
        """Delete one row with `delete` (its service), then back to the grid as filtered."""
        season = _season_or_404(code)
        delete(db.session, current_user, season.id, row_id)
        flash(message, "success")
        return redirect_after_write(_grid_url(self.endpoint, season, grid_filters(season)[1]))


PLANS = Grid("planning.plans", "planning/plans.html", Area.PLANS, queries.plan_grid,
             queries.plan_totals, kind="plans", columns=file_columns.PLANS,
             values=queries.plan_values)


# Plans

@bp.get("/<code>/plans")
@login_required
def plans(code: str):
    """The plans grid: location × leaf category rows, filtered, sorted, paged, with totals."""
    season = _season_or_404(code)
    editing = as_uuid(request.args.get("edit"))
    return PLANS.full(season, editing=editing)


@bp.get("/<code>/plans/<uuid:plan_id>")
@login_required
def plan_row(code: str, plan_id):
    """One plan row, read-only (what "Cancel" of an inline edit shows again)."""
    return PLANS.row_page(code, plan_id, editing=False)


@bp.get("/<code>/plans/<uuid:plan_id>/edit")
@role_required(Action.EDIT_PLANNING)
def plan_edit(code: str, plan_id):
    """One plan row as a form; the grid page around it without JavaScript."""
    return PLANS.row_page(code, plan_id, editing=True)


@bp.post("/<code>/plans/<uuid:plan_id>")
@role_required(Action.EDIT_PLANNING)
def plan_update(code: str, plan_id):
    """Save one plan row, refused when it changed since it was loaded (its version)."""
    form = request.form
    return PLANS.save(code, plan_id, lambda season, plan: services.upsert_plan(
        db.session, current_user, season.id, location_id=plan.location_id,
        category_id=plan.category_id, planned_sales=form.get("planned_sales"),
        planned_margin=form.get("planned_margin"),
        inventory_turns=form.get("inventory_turns") or None, expected_version=version_number(form.get("version"))),
        "plans-changed", "Plan row saved.")


@bp.get("/<code>/plans/values.<fmt>")
@login_required
def plans_values(code: str, fmt: str):
    """The plan rows the filters keep as a plans upload file (CSV or XLSX), values filled."""
    return PLANS.values_file(code, fmt)


@bp.get("/<code>/plans/totals")
@login_required
def plans_totals(code: str):
    """The totals row of the filtered plans (refreshed after an inline edit)."""
    return PLANS.totals_block(code)


@bp.post("/<code>/plans")
@role_required(Action.EDIT_PLANNING)
def plan_create(code: str):
    """Add a plan row for a season location × leaf category."""
    form = request.form

    def write(season):
        location_id, category_id = as_uuid(form.get("location_id")), as_uuid(form.get("category_id"))
        if not location_id or not category_id:
            raise ValidationFailed({"location_id": "Choose a location and a leaf category"})
        services.upsert_plan(
            db.session, current_user, season.id, location_id=location_id,
            category_id=category_id, planned_sales=form.get("planned_sales"),
            planned_margin=form.get("planned_margin"),
            inventory_turns=form.get("inventory_turns") or None, must_be_new=True)

    return PLANS.add(code, write, "Plan row added.")


@bp.post("/<code>/plans/<uuid:plan_id>/delete")
@role_required(Action.EDIT_PLANNING)
def plan_delete(code: str, plan_id):
    """Delete a plan row."""
    return PLANS.delete(code, plan_id, services.delete_plan, "Plan row deleted.")


@bp.post("/<code>/plans/approve")
@role_required(Action.EDIT_PLANNING)
def plans_approve(code: str):
    """Approve the ticked rows, or every row the filters show."""
    season = _season_or_404(code)
    filters, args = grid_filters(season)
    if request.form.get("scope") == "filtered":
        ids = list(db.session.scalars(
            queries.plan_grid(season.id, filters).with_only_columns(SeasonPlan.id)))
    else:
        ids = [i for i in (as_uuid(v) for v in request.form.getlist("plan_id")) if i]
    approved = services.approve_plans(db.session, current_user, season.id, ids)
    flash(f"{approved} plan row{'s' if approved != 1 else ''} approved.", "success")
    return redirect_after_write(_grid_url("planning.plans", season, args))


# OTB

def _in_season_beside(session, season, rows) -> dict:
    """The in-season OTB of a page of OTB rows (None before the season has actuals)."""
    return {"in_season": inseason.page_cells(
        session, season, [(r.OTBPlan.location_id, r.OTBPlan.category_id) for r in rows])}


OTB = Grid("planning.otb", "planning/otb.html", Area.OTB, queries.otb_grid,
           queries.otb_month_totals, pager=queries.otb_page, kind="otb",
           columns=file_columns.OTB, values=queries.otb_values, beside=_in_season_beside)


def _otb_inputs(form) -> dict:
    return {name: form.get(name) for name in rules.OTB_INPUTS}


@bp.get("/<code>/otb")
@login_required
def otb(code: str):
    """The OTB grid: a row per location × category × month with committed, remaining and
    flags; month totals. Filtered to the over-OTB rows, it lists too the cells POs commit to
    without an OTB row (their OTB is 0)."""
    season = _season_or_404(code)
    filters, _ = grid_filters(season)
    unbudgeted = (queries.unbudgeted_cells(db.session, season.id, filters)
                  if filters.flag == "over" else ([], 0))
    return OTB.full(season, editing=as_uuid(request.args.get("edit")), unbudgeted=unbudgeted)


@bp.get("/<code>/otb/<uuid:otb_id>")
@login_required
def otb_row(code: str, otb_id):
    """One OTB row, read-only."""
    return OTB.row_page(code, otb_id, editing=False)


@bp.get("/<code>/otb/<uuid:otb_id>/edit")
@role_required(Action.EDIT_PLANNING)
def otb_edit(code: str, otb_id):
    """One OTB row as a form whose OTB recalculates while typing."""
    return OTB.row_page(code, otb_id, editing=True)


@bp.post("/<code>/otb/<uuid:otb_id>")
@role_required(Action.EDIT_PLANNING)
def otb_update(code: str, otb_id):
    """Save one OTB row (its OTB is computed), refused when it changed meanwhile."""
    form = request.form
    return OTB.save(code, otb_id, lambda season, row: services.upsert_otb(
        db.session, current_user, season.id, location_id=row.location_id,
        category_id=row.category_id, month=row.month, expected_version=version_number(form.get("version")),
        **_otb_inputs(form)), "otb-changed", "OTB row saved.")


@bp.get("/<code>/otb/values.<fmt>")
@login_required
def otb_values(code: str, fmt: str):
    """The OTB rows the filters keep as an OTB upload file (CSV or XLSX), values filled."""
    return OTB.values_file(code, fmt)


@bp.get("/<code>/otb/totals")
@login_required
def otb_totals(code: str):
    """The month totals of the filtered OTB rows."""
    return OTB.totals_block(code)


@bp.get("/<code>/otb/preview")
@login_required
def otb_preview(code: str):
    """The OTB the typed inputs give, computed on the server; nothing is saved."""
    season = _season_or_404(code)
    result, error = None, None
    try:
        _, result = rules.read_otb(_otb_inputs(request.args))
    except ValidationFailed as exc:
        error = next(iter(exc.errors.values()))
    return render_fragment("planning/otb.html", "preview", season=season, preview=result,
                           preview_error=error, preview_id=request.args.get("row", "new"))


@bp.post("/<code>/otb")
@role_required(Action.EDIT_PLANNING)
def otb_create(code: str):
    """Add an OTB row for a season location × leaf category × month."""
    form = request.form

    def write(season):
        location_id, category_id = as_uuid(form.get("location_id")), as_uuid(form.get("category_id"))
        month = as_month(form.get("month"))
        if not location_id or not category_id or not month:
            raise ValidationFailed({"location_id": "Choose a location, a leaf category and a month"})
        services.upsert_otb(db.session, current_user, season.id, location_id=location_id,
                            category_id=category_id, month=month, must_be_new=True,
                            **_otb_inputs(form))

    return OTB.add(code, write, "OTB row added.")


@bp.post("/<code>/otb/<uuid:otb_id>/delete")
@role_required(Action.EDIT_PLANNING)
def otb_delete(code: str, otb_id):
    """Delete an OTB row."""
    return OTB.delete(code, otb_id, services.delete_otb, "OTB row deleted.")


@bp.get("/<code>/otb/cell/<location_code>/<category_code>/<month>")
@login_required
def otb_cell(code: str, location_code: str, category_code: str, month: str):
    """One location × category × month: the OTB formula as a waterfall, every PO that
    consumes it with its GRNs, committed and remaining, utilisation and fulfilment."""
    season = _season_or_404(code)
    first = as_month(month)
    location = db.session.scalar(select(Location).where(Location.location_code == location_code.upper()))
    category = db.session.scalar(select(Category).where(Category.code == category_code.upper()))
    if location is None or category is None or first not in months_between(season.start_date, season.end_date):
        abort(404)
    cell = queries.cell_detail(db.session, season.id, location.id, category.id, first)
    return render("planning/otb_cell.html", season=season, location=location, category=category,
                  month=first, cell=cell, no_actuals=NO_ACTUALS_YET,
                  in_season=queries.cell_in_season(db.session, season, location.id, category.id,
                                                   first))


# Range intent


def _range_context(season, **extra) -> dict:
    rows = queries.range_rows(db.session, season.id)
    return {"season": season, "rows": rows, "bands": rules.PRICE_BANDS,
            "missing": [c for c, r in rows if r is None],
            "can_edit": can_edit(current_user, season, Area.RANGE), "errors": {}, "values": {}, **extra}


@bp.get("/<code>/range")
@login_required
def range_intent(code: str):
    """Range intent per leaf category with OTB: core/fashion split and price bands."""
    season = _season_or_404(code)
    return render("planning/range.html", **_range_context(season))


@bp.post("/<code>/range/<uuid:category_id>")
@role_required(Action.EDIT_PLANNING)
def range_save(code: str, category_id):
    """Create or change one category's range intent (core + fashion = 100, bands = 100)."""
    season = _season_or_404(code)
    form = request.form
    try:
        # No version: the form adds the category's intent; a version: it edits that version.
        version = version_number(form["version"]) if form.get("version") is not None else None
        services.upsert_range(
            db.session, current_user, season.id, category_id=category_id,
            core_percent=form.get("core_percent"), fashion_percent=form.get("fashion_percent"),
            price_bands={band: form.get(f"price_band_{band}") for band in rules.PRICE_BANDS},
            expected_version=version, must_be_new=version is None)
    except (ValidationFailed, StaleVersion) as exc:
        db.session.expire_all()
        errors = exc.errors if isinstance(exc, ValidationFailed) else {"": exc.message}
        status = 422 if isinstance(exc, ValidationFailed) else 409
        return _range_row(season, category_id, status_code=status, errors=errors,
                          values=form if status == 422 else {})
    if wants_fragment():
        db.session.expire_all()
        body, status = _range_row(season, category_id, saved=True)
        return body, status, {"HX-Trigger": "range-changed"}
    flash("Range intent saved.", "success")
    return redirect_after_write(url_for("planning.range_intent", code=season.season_code))


def _range_row(season, category_id, status_code: int = 200, **extra):
    """One category's row: the block for htmx, else the whole page."""
    context = _range_context(season, **extra)
    if not wants_fragment():
        return render("planning/range.html", status_code=status_code, **context)
    row = next((r for r in context["rows"] if r[0].id == category_id), None)
    if row is None:
        abort(404)
    return render("planning/range.html", block="row", status_code=status_code, row=row,
                  **context)


@bp.get("/<code>/range/missing")
@login_required
def range_missing(code: str):
    """The list of leaf categories still without range intent (refreshed after a save)."""
    season = _season_or_404(code)
    return render_fragment("planning/range.html", "missing", **_range_context(season))


@bp.post("/<code>/range/<uuid:category_id>/delete")
@role_required(Action.EDIT_PLANNING)
def range_delete(code: str, category_id):
    """Delete one category's range intent."""
    season = _season_or_404(code)
    row = db.session.scalar(select(RangeIntent).where(RangeIntent.season_id == season.id,
                                                      RangeIntent.category_id == category_id))
    if row is None:
        abort(404)
    services.delete_range(db.session, current_user, season.id, row.id)
    flash("Range intent deleted.", "success")
    return redirect_after_write(url_for("planning.range_intent", code=season.season_code))


# OTB by month: the pivot (issue 14, item 1)

PIVOT_FILTERS = ("cluster", "location", "category", "month")


def _pivot_request(season) -> tuple:
    """What the query string asks of the pivot: the OTB grid's filters (not its flags) and
    the cleaned arguments repeating them, the view (layout, measures, order, open groups) and
    the months. An htmx request takes the open groups from the page's address (groups opened
    in place since its links were rendered) and applies its own `toggle`."""
    filters, args = grid_filters(season)
    filters = replace(filters, approved=None, flag=None, sort="location", descending=False)
    args = {name: value for name, value in args.items() if name in PIVOT_FILTERS}
    months = ([filters.month] if filters.month
              else months_between(season.start_date, season.end_date))
    groups = page_args(url_for("planning.otb_pivot", code=season.season_code)) or request.args
    view = read_view(
        layout=request.args.get("layout"), measures=request.args.getlist("measure"),
        sort=request.args.get("sort"), direction=request.args.get("dir"),
        open_keys=groups.getlist("open"), level=request.args.get("level"),
        closed_keys=groups.getlist("closed"), months=months).toggle(request.args.get("toggle"))
    return filters, args, view, months


def _pivot_context(season) -> dict:
    """The pivot as the query string asks for it (_pivot_request), its rows and what the page
    needs around them."""
    filters, args, view, months = _pivot_request(season)
    table = queries.otb_pivot(db.session, season.id, filters, view, months,
                              month_start(today()))
    editable = can_edit(current_user, season, Area.OTB)
    return {"season": season, "args": args, "pivot_view": view, "table": table,
            "can_edit": editable, "undo_limit": edits.UNDO_STEPS, "shapes": edits.SHAPES,
            "undo": edits.undo_steps(db.session, current_user, season.id) if editable else [],
            "choices": queries.filter_choices(db.session, season),
            "measures": MEASURE_LABELS, "layouts": LAYOUT_LABELS}


# The two trees (OTB by month, plans by group): the page template and its endpoint.
TREE_PAGES = {"otb": ("planning/pivot.html", "planning.otb_pivot"),
              "plans": ("planning/plan_groups.html", "planning.plan_groups")}


def _tree_page(context: dict, block: str, tree: str = "otb", **extra):
    """The page or `block` of it; an htmx answer names the page's new address."""
    template, endpoint = TREE_PAGES[tree]
    body, status = render(template, block=block, **context, **extra)
    address = url_for(endpoint, code=context["season"].season_code,
                      **context["args"], **context["pivot_view"].args())
    return body, status, {"HX-Push-Url": address} if wants_fragment() else {}


def _tree_group(context: dict, tree: str = "otb"):
    """One group opened: its own row and the rows under it, for htmx to put in place of its
    row; the whole page otherwise (404 for a group not shown)."""
    node = context["table"].find(request.args.get("node"))
    if node is None:
        abort(404)
    return _tree_page(context, "group", tree, node=node)


@bp.get("/<code>/otb/pivot")
@login_required
def otb_pivot(code: str):
    """OTB by month: months across, the location and category hierarchy down, group rows
    summing their children, the measures the planner picks."""
    return _tree_page(_pivot_context(_season_or_404(code)), "grid")


@bp.get("/<code>/otb/pivot/group")
@login_required
def otb_pivot_group(code: str):
    """One group opened: its own row and the rows under it, for htmx to put in place of its
    row; the whole page otherwise."""
    return _tree_group(_pivot_context(_season_or_404(code)))


# Editing in the pivot (issue 14, items 2, 3, 4, 6, 8): typed cells, pasted blocks, spread
# totals and undo. With script the page's grid module posts here and swaps in the grid that
# comes back (a refusal comes back as JSON naming each cell); without it, the forms below do.

def _pivot_address(season) -> str:
    """The pivot's address as the request asks for it, without reading its figures."""
    _, args, view, _ = _pivot_request(season)
    return url_for("planning.otb_pivot", code=season.season_code, **args, **view.args())


def _pivot_url(context: dict) -> str:
    return url_for("planning.otb_pivot", code=context["season"].season_code,
                   **context["args"], **context["pivot_view"].args())


def _pivot_editable(code: str) -> dict:
    context = _pivot_context(_season_or_404(code))
    require_editable(context["season"], Area.OTB)
    return context


def _grid_answer(code: str, notice: str):
    """After a saved step: the grid again (for the module) or back to the page."""
    db.session.expire_all()
    if wants_fragment():
        return _tree_page(_pivot_context(_season_or_404(code)), "grid", notice=notice)
    flash(notice, "success")
    return redirect_after_write(_pivot_address(_season_or_404(code)))


def _refusal(exc: ValidationFailed):
    """A refused step for the module: the message and each refused cell's own."""
    db.session.rollback()
    cells = {k: v for k, v in exc.errors.items() if k}
    message = exc.errors.get("") or (f"{len(cells)} cell{'s' if len(cells) != 1 else ''} "
                                     "refused; nothing was saved")
    return {"message": message, "cells": cells}, exc.status_code


def _typed_cells(form) -> list[edits.Typed]:
    """The cells a form or the module sent: cell keys, values and the versions loaded, one
    list each; a cell whose `original` is sent and equals its value is left out (a row form
    sends every cell, the planner changed some)."""
    keys, texts = form.getlist("cell"), form.getlist("value")
    versions, originals = form.getlist("version"), form.getlist("original")
    if not (len(keys) == len(texts) == len(versions)) or (originals and len(originals) != len(keys)):
        raise ValidationFailed({"": "The cells, values and versions sent do not match; reload "
                                "the page and try again"})
    out = []
    for n, (key, text, version) in enumerate(zip(keys, texts, versions)):
        cell = edits.Cell.parse(key)
        if cell is None:
            raise ValidationFailed({"": f"Cell {n + 1} is not a cell of this grid; reload the "
                                    "page and try again"})
        if originals and originals[n].strip() == text.strip():
            continue
        out.append(edits.Typed(cell, text, version_number(version)))
    return out


@bp.post("/<code>/otb/pivot/cells")
@role_required(Action.EDIT_PLANNING)
def otb_pivot_cells(code: str):
    """Save typed or pasted cells as one step (all or none), refused where a row changed
    since the page was loaded."""
    season = _season_or_404(code)
    kind = "paste" if request.form.get("kind") == "paste" else "type"
    try:
        typed = _typed_cells(request.form)
        if not typed:
            raise ValidationFailed({"": "Nothing was changed"})
        step = edits.write_cells(db.session, current_user, season.id, typed, kind=kind)
    except ValidationFailed as exc:
        if wants_fragment():
            return _refusal(exc)
        return _pivot_form_again(code, exc)
    now = edits.note_season_version(db.session, step) if step is not None else None
    if now is not None:
        queries.carry_pivot_forward(db.session, season.id, step.versions_before, now,
                                    step.row_changes)
    return _grid_answer(code, f"Saved: {step.summary}." if step else "Nothing changed.")


def _pivot_form_again(code: str, exc: ValidationFailed):
    """Without script, a refused row form or paste: the form again with each cell's message."""
    db.session.rollback()
    context = _pivot_editable(code)
    cells = [edits.Cell.parse(k) for k in request.form.getlist("cell")]
    return _cells_form(context, [c for c in cells if c], errors=exc.errors,
                       values=dict(zip(request.form.getlist("cell"), request.form.getlist("value"))),
                       status_code=exc.status_code, kind=request.form.get("kind", "type"))


def _cells_form(context: dict, cells: list, *, errors=None, values=None, status_code=200,
                kind="type", title="Edit cells"):
    """A form of cells (a row's, or a pasted block's) with their current values and versions."""
    table = context["table"]
    leaves = {(n.ids["location"], n.ids["category"]): n for n in table.nodes.values()
              if n.is_leaf}
    current = {}
    for cell in cells:
        node = leaves.get((cell.location_id, cell.category_id))
        current[cell.key] = (table.value(node, cell.measure, cell.month) if node else None,
                             table.versions.get(cell.row, 0), node)
    body, status = render("planning/pivot_cells.html", status_code=status_code, cells=cells,
                          current=current, errors=errors or {}, values=values or {}, kind=kind,
                          title=title, back=_pivot_url(context), **context)
    return body, status


@bp.get("/<code>/otb/pivot/row")
@role_required(Action.EDIT_PLANNING)
def otb_pivot_row(code: str):
    """One leaf row's inputs for every month as a form (the pivot without script)."""
    context = _pivot_editable(code)
    node = context["table"].find(request.args.get("node"))
    if node is None or not node.is_leaf:
        abort(404)
    table = context["table"]
    cells = [edits.Cell.parse(table.cell(node, m, month)) for m in rules.OTB_INPUTS
             for month in table.months]
    return _cells_form(context, cells, title=f"Edit {table.row_name(node)}")


@bp.route("/<code>/otb/pivot/paste", methods=["GET", "POST"])
@role_required(Action.EDIT_PLANNING)
def otb_pivot_paste(code: str):
    """Paste a block without script: the block, where it starts; then the cells it fills,
    to check and save."""
    context = _pivot_editable(code)
    table = context["table"]
    lines = [(node, measure) for node in table.visible() if node.is_leaf
             for measure in context["pivot_view"].measures if measure in rules.OTB_INPUTS]
    form = request.form
    if request.method == "GET" or not lines:
        return render("planning/pivot_paste.html", lines=lines, errors={}, form={},
                      back=_pivot_url(context), **context)
    try:
        pasted = table.paste_cells(lines, form.get("block", ""), form.get("line"),
                                   as_month(form.get("month")))
    except ValidationFailed as exc:
        return render("planning/pivot_paste.html", status_code=422, lines=lines,
                      errors=exc.errors, form=form, back=_pivot_url(context), **context)
    cells = [edits.Cell.parse(key) for key, _ in pasted]
    return _cells_form(context, cells, values=dict(pasted), kind="paste",
                       title=f"Check the {len(cells)} pasted cells")


def _spread_scope(context: dict, target: str) -> tuple[str, edits.Scope]:
    """The measure and the cells a total typed at `target` spreads over (Pivot.spread_scope)."""
    measure, *scope = context["table"].spread_scope(target, grid_filters(context["season"])[0])
    return measure, edits.Scope(*scope)


@bp.route("/<code>/otb/pivot/spread", methods=["GET", "POST"])
@role_required(Action.EDIT_PLANNING)
def otb_pivot_spread(code: str):
    """Type a total at a group or total cell and see what spreading it changes (the form
    without script; the preview for the module)."""
    context = _pivot_editable(code)
    form = request.form if request.method == "POST" else request.args
    targets = context["table"].spread_targets()
    values = {"target": form.get("target", ""), "total": form.get("total", ""),
              "shape": form.get("shape", "current")}
    if request.method == "GET":
        return render("planning/pivot_spread.html", targets=targets, values=values, errors={},
                      plan=None, back=_pivot_url(context), **context)
    try:
        measure, scope = _spread_scope(context, values["target"])
        plan = edits.preview_spread(db.session, context["season"], scope, measure,
                                    values["total"], values["shape"])
    except ValidationFailed as exc:
        return render("planning/pivot_spread.html", block="spread", status_code=422,
                      targets=targets, values=values, errors=exc.errors, plan=None,
                      back=_pivot_url(context), **context)
    return render("planning/pivot_spread.html", block="spread", targets=targets, values=values,
                  errors={}, plan=plan, scope=scope, back=_pivot_url(context), **context)


@bp.post("/<code>/otb/pivot/spread/save")
@role_required(Action.EDIT_PLANNING)
def otb_pivot_spread_save(code: str):
    """Save a previewed spread as one step, refused when the cells changed since."""
    context = _pivot_context(_season_or_404(code))
    form = request.form
    try:
        measure, scope = _spread_scope(context, form.get("target"))
        plan = edits.spread_total(db.session, current_user, context["season"].id, scope,
                                  measure, form.get("total"), form.get("shape", "current"),
                                  form.get("fingerprint", ""))
    except ValidationFailed as exc:
        if wants_fragment():
            return _refusal(exc)
        db.session.rollback()
        flash(exc.errors.get("") or "; ".join(exc.errors.values()), "error")
        return redirect_after_write(url_for("planning.otb_pivot_spread", code=code,
                                            **context["args"], **context["pivot_view"].args(),
                                            target=form.get("target"), total=form.get("total"),
                                            shape=form.get("shape")))
    return _grid_answer(code, f"Spread {plan.total:,.2f} over {plan.cells:,} cells "
                              f"({plan.changed:,} changed).")


@bp.post("/<code>/otb/pivot/undo")
@role_required(Action.EDIT_PLANNING)
def otb_pivot_undo(code: str):
    """Undo the planner's latest step, or drop it when someone else changed its rows since."""
    season = _season_or_404(code)
    try:
        undone = edits.undo_last(db.session, current_user, season.id)
    except ValidationFailed as exc:
        if wants_fragment():
            return _refusal(exc)
        flash(exc.errors.get("") or exc.message, "error")
        return redirect_after_write(_pivot_address(season))
    if undone.done:
        return _grid_answer(code, f"Undone: {undone.step.summary}.")
    return _grid_answer(code, f"Could not undo “{undone.step.summary}”: someone else changed "
                              f"{undone.conflicts} of its rows since. It is dropped from "
                              "your undo list; nothing was changed.")


# Plans by group (issue 14, item 1): the plans grid's rows in the pivot's hierarchy

PLAN_GROUP_FILTERS = ("cluster", "location", "category", "approved")


def _plan_groups_context(season) -> dict:
    """The plans by group as the query string asks for it: the plans grid's filters, the view
    (layout, order, open groups) and the rows. An htmx request takes the open groups from the
    page's address and applies its own `toggle`, as the OTB pivot does."""
    filters, args = grid_filters(season)
    filters = replace(filters, sort="location", descending=False)
    args = {name: value for name, value in args.items() if name in PLAN_GROUP_FILTERS}
    groups = (page_args(url_for("planning.plan_groups", code=season.season_code))
              or request.args)
    view = read_plan_view(
        layout=request.args.get("layout"), sort=request.args.get("sort"),
        direction=request.args.get("dir"), open_keys=groups.getlist("open"),
        level=request.args.get("level"), closed_keys=groups.getlist("closed")
    ).toggle(request.args.get("toggle"))
    return {"season": season, "args": args, "pivot_view": view,
            "table": queries.plans_by_group(db.session, season.id, filters, view),
            "choices": queries.filter_choices(db.session, season),
            "columns": PLAN_COLUMNS, "layouts": LAYOUT_LABELS,
            "can_edit": can_edit(current_user, season, Area.PLANS)}


@bp.get("/<code>/plans/groups")
@login_required
def plan_groups(code: str):
    """Plans by group: the season plan rows in the location and category hierarchy, each
    group with its count, sales, weighted margin and turns, and how many are approved."""
    return _tree_page(_plan_groups_context(_season_or_404(code)), "grid", "plans")


@bp.get("/<code>/plans/groups/group")
@login_required
def plan_groups_group(code: str):
    """One group opened: its own row and the rows under it, for htmx to put in place of its
    row; the whole page otherwise."""
    return _tree_group(_plan_groups_context(_season_or_404(code)), "plans")


# Moving open to buy (issue 17, item 1): the season's requests and the form to ask for one


def adjustment_choices(season) -> dict:
    """The form's choices: every location of the season, its clusters and every location;
    every category at any level; every month of the season."""
    return queries.filter_choices(db.session, season)


def read_scope(form, side: str, season) -> adjustments.Scope:
    """A scope from the form's `<side>_location` ("all", "c:<cluster id>" or "l:<location
    id>"), `<side>_category` (empty: every category) and `<side>_month` (YYYY-MM, empty:
    every month); ValidationFailed naming the field when one cannot be read."""
    place = form.get(f"{side}_location", "all") or "all"
    location_id = cluster_id = None
    if place != "all":
        kind, _, raw = place.partition(":")
        target = as_uuid(raw)
        if kind not in ("c", "l") or target is None:
            raise ValidationFailed({f"{side}_location": "Choose every location, a cluster or a "
                                                        "location"})
        location_id, cluster_id = (target, None) if kind == "l" else (None, target)
    category = form.get(f"{side}_category", "")
    category_id = as_uuid(category) if category else None
    if category and category_id is None:
        raise ValidationFailed({f"{side}_category": "Choose a category or every category"})
    month = form.get(f"{side}_month", "")
    first = as_month(month) if month else None
    if month and first is None:
        raise ValidationFailed({f"{side}_month": "Choose a month of the season or every month"})
    return adjustments.Scope(location_id, cluster_id, category_id, first)


def _adjustments_page(season, *, status_code=200, errors=None, values=None, block=None):
    return render("planning/adjustments.html", block=block, status_code=status_code,
                  season=season, rows=queries.adjustment_rows(db.session, season_id=season.id),
                  can_request=can_edit(current_user, season, Area.ADJUSTMENTS),
                  errors=errors or {}, values=values or {}, **adjustment_choices(season))


@bp.get("/<code>/adjustments")
@login_required
def adjustments_page(code: str):
    """The season's requests to move open to buy, and the form to ask for one."""
    return _adjustments_page(_season_or_404(code))


@bp.post("/<code>/adjustments")
@role_required(Action.EDIT_PLANNING)
def adjustment_request(code: str):
    """Ask to move open to buy from one scope to another (planning.services)."""
    season = _season_or_404(code)
    form = request.form
    try:
        row = services.request_adjustment(
            db.session, current_user, season.id, amount=form.get("amount", ""),
            source=read_scope(form, "from", season), target=read_scope(form, "to", season),
            reason=form.get("reason", ""))
    except ValidationFailed as exc:
        return _adjustments_page(season, status_code=422, errors=exc.errors,
                                 values=form.to_dict(), block="form")
    flash(f"Request #{row.number} to move {money(row.amount)} waits for another planner or "
          "an admin to approve it.", "success")
    return redirect_after_write(url_for("planning.adjustments_page", code=season.season_code))
