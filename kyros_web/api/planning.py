"""Planning through the JSON API (issue 18): a season's plans, OTB rows with what POs commit
to them, range intent, actuals and the moves of open to buy, read through planning/queries.py
and written through planning/services.py, the pages' own. Versioned rows answer with their
version as ETag; PUT and PATCH need If-Match, compared under the row's lock by the service."""
from __future__ import annotations

import uuid
from decimal import Decimal

from flask import g, request
from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select

from ..auth.roles import Action
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..masterdata.models import Category, Cluster, Location
from ..masterdata.services import descendant_ids
from ..planning import adjustments, queries, services
from ..planning.models import OTBAdjustment, RangeIntent, SeasonPlan
from ..planning.otb import budget
from ..planning.queries import GridFilters, PLAN_SORTS
from ..planning.rules import OTB_INPUTS, PLAN_FIELDS, PRICE_BANDS
from ..uploads.parsing import CellError
from ..uploads.parsing import month as read_month
from ..values import months_between
from . import bulkwrites as bulk, core
from .seasons import season_of

blp = core.blueprint("Planning", "Season plans, OTB rows with committed and remaining, range "
                                 "intent, actuals and the moves of open to buy")




# Fields ------------------------------------------------------------------------------------

class Figure(fields.Field):
    """A typed figure, passed to the service as sent: the service reads it by the rule of
    its column (values.decimal_value), as it reads a form's."""

    def __init__(self, **kwargs):
        metadata = {"type": ["string", "number"], **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (str, int, Decimal)):
            raise ValidationError("Not a number: send a JSON number or a string such as "
                                  '"1234.56"')
        return value


class Month(fields.Date):
    """A month: read as the upload reads it (YYYY-MM or YYYY-MM-01), written as the ISO date
    of its first day."""

    def __init__(self, **kwargs):
        description = kwargs.pop("metadata", {}).get("description", "A month")
        super().__init__(metadata={"description": f"{description}: YYYY-MM or YYYY-MM-01"},
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError("Not a month: write YYYY-MM or YYYY-MM-01")
        try:
            first = read_month(value)
        except CellError as exc:
            raise ValidationError(f"{value} {exc}") from None
        if first is None:
            raise ValidationError("Not a month: write YYYY-MM or YYYY-MM-01")
        return first


def Stored(**kwargs):
    """A stored percentage or ratio with its column's 2 places ("42.55"): an input the row
    holds exactly, so that what is read can be written back unchanged."""
    return core.Money(**kwargs)


CODE = r"^[A-Za-z0-9_-]+$"


def Code(max_length: int, **kwargs):
    """A location or category code (read in upper case), or a UUID where `Ref` allows one."""
    return fields.String(validate=[validate.Length(min=1, max=max_length),
                                   validate.Regexp(CODE, error="Not a code")], **kwargs)


def Ref(what: str, description: str | None = None):
    """A query filter naming a location or a category by its id or its code."""
    return Code(50, metadata={"description": description or f"The {what}'s id or code"})


def _figure(required=True, **kwargs):
    if not required:
        kwargs.setdefault("allow_none", True)
    return Figure(required=required, **kwargs)


# Reading references ------------------------------------------------------------------------

def _by_id_or(model, key_column, raw: str, field: str, what: str):
    """The row of `model` whose id, or else whose `key_column` (upper case), is `raw`;
    ValidationFailed naming `field` when there is none."""
    try:
        found = db.session.get(model, uuid.UUID(raw))
    except ValueError:
        found = db.session.scalar(select(model).where(key_column == raw.strip().upper()))
    if found is None:
        raise ValidationFailed({field: f"No {what} {raw}"})
    return found


def _location(raw: str, field: str) -> Location:
    return _by_id_or(Location, Location.location_code, raw, field, "location")


def _category(raw: str, field: str) -> Category:
    return _by_id_or(Category, Category.code, raw, field, "category")


def _cluster(key: uuid.UUID, field: str) -> Cluster:
    found = db.session.get(Cluster, key)
    if found is None:
        raise ValidationFailed({field: f"No cluster {key}"})
    return found


def _named(data: dict, prefix: str, what: str, read) -> uuid.UUID | None:
    """The id a body names by `<prefix>_id` or `<prefix>_code` (one of them), or None."""
    by_id, by_code = data.get(f"{prefix}_id"), data.get(f"{prefix}_code")
    if by_id is not None and by_code is not None:
        raise ValidationFailed({f"{prefix}_code": f"Name the {what} by its id or its code, "
                                                  "not both"})
    if by_id is not None:
        return by_id
    if by_code is not None:
        return read(by_code, f"{prefix}_code").id
    return None


def _cell_of(data: dict) -> tuple[uuid.UUID, uuid.UUID]:
    """The location and category a new row's body names; ValidationFailed without them."""
    location_id = _named(data, "location", "location", _location)
    category_id = _named(data, "category", "category", _category)
    errors = {}
    if location_id is None:
        errors["location_code"] = "Give the location_code (or location_id)"
    if category_id is None:
        errors["category_code"] = "Give the category_code (or category_id) of a leaf category"
    if errors:
        raise ValidationFailed(errors)
    return location_id, category_id


# Filters -----------------------------------------------------------------------------------

class CellFilterArgs(core.Paging):
    cluster = fields.UUID(metadata={"description": "A cluster's id"})
    location = Ref("location")
    category = Ref("category", "A category's id or code: its rows and those of every "
                               "category under it")


class MonthFilterArgs(CellFilterArgs):
    month = Month()


class PlanListArgs(CellFilterArgs):
    approved = fields.Boolean()
    sort = fields.String(load_default="location", validate=validate.OneOf(
        sorted(PLAN_SORTS.columns)))
    dir = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))


class OTBListArgs(MonthFilterArgs):
    flag = fields.String(validate=validate.OneOf(["negative", "chain", "plan", "over"]),
                         metadata={"description": (
                             "negative: OTB below 0; chain: opening stock ≠ the month "
                             "before's closing stock; plan: the season's OTB sales differ from "
                             "the plan by more than 1 %; over: committed above the budget")})


def _filters(args: dict) -> GridFilters:
    """The grid filters of a list's query, as the pages build them (grid_filters)."""
    category_ids = None
    if args.get("category"):
        category = _category(args["category"], "category")
        category_ids = frozenset({category.id} | descendant_ids(db.session, category.id))
    return GridFilters(
        cluster_id=_cluster(args["cluster"], "cluster").id if args.get("cluster") else None,
        location_id=_location(args["location"], "location").id if args.get("location") else None,
        category_ids=category_ids, approved=args.get("approved"), month=args.get("month"),
        flag=args.get("flag"), sort=args.get("sort", "location"),
        descending=args.get("dir") == "desc")


def _total(count: int) -> None:
    """The list's total, sent as X-Total-Count (core.after_request)."""
    g.api_total = count


# Season plans ------------------------------------------------------------------------------

class CellNamesSchema(Schema):
    id = fields.UUID()
    season_id = fields.UUID()
    location_id = fields.UUID()
    location_code = fields.String()
    location_name = fields.String()
    category_id = fields.UUID()
    category_code = fields.String()
    category_name = fields.String()
    version = fields.Integer(metadata={"description": "Also the row's ETag"})
    updated_at = core.Timestamp()


class PlanSchema(CellNamesSchema):
    cluster_name = fields.String(allow_none=True)
    planned_sales = core.Money()
    planned_margin = Stored(metadata={"description": "A percentage, -100 < margin < 100"})
    inventory_turns = Stored(allow_none=True)
    approved = fields.Boolean()
    approved_by = fields.UUID(allow_none=True)
    approved_at = core.Timestamp(allow_none=True)


class PlanWriteSchema(Schema):
    planned_sales = _figure()
    planned_margin = _figure()
    inventory_turns = _figure(required=False, load_default=None)


class PlanPatchSchema(Schema):
    planned_sales = _figure(required=False)
    planned_margin = _figure(required=False)
    inventory_turns = _figure(required=False)


class PlanCreateSchema(PlanWriteSchema):
    location_id = fields.UUID()
    location_code = Code(16)
    category_id = fields.UUID()
    category_code = Code(50)


class PlanApproveSchema(Schema):
    plan_ids = fields.List(fields.UUID(), validate=validate.Length(max=100_000), metadata={
        "description": "The rows to approve"})
    filtered = fields.Boolean(load_default=False, metadata={
        "description": "Instead of plan_ids: approve every row the query's filters keep"})

    @validates_schema
    def one_choice(self, data, **kwargs):
        if (data.get("plan_ids") is not None) == bool(data.get("filtered")):
            raise ValidationError("Send plan_ids, or filtered: true with the filters in the "
                                  "query string", "plan_ids")


class PlanApprovedSchema(Schema):
    approved = fields.Integer(metadata={"description": "How many rows were approved now"})


def _plan(row) -> dict:
    plan = row.SeasonPlan
    return {**{name: getattr(plan, name) for name in (
        "id", "season_id", "location_id", "category_id", "version", "updated_at", "approved",
        "approved_by", "approved_at", *PLAN_FIELDS)},
        "location_code": row.location_code, "location_name": row.location_name,
        "cluster_name": row.cluster_name, "category_code": row.category_code,
        "category_name": row.category_name}


def _grid_row(grid, season, row_id: str, what: str):
    """One row of the season as its grid (`queries.plan_grid`, `queries.otb_grid`) reads
    it; 404 otherwise."""
    key = core.uuid_of(row_id, what)
    row = db.session.execute(grid(season.id, GridFilters(), ids=[key])).first()
    if row is None:
        raise NotFound(f"{what} {row_id} not found in season {season.season_code}")
    return row


def _plan_row(season, plan_id: str):
    return _grid_row(queries.plan_grid, season, plan_id, "Plan row")


def _plan_answer(season, plan_id) -> dict:
    row = _plan_row(season, str(plan_id))
    core.set_etag(core.etag(row.SeasonPlan.version))
    return _plan(row)


@blp.route("/seasons/<season_id>/plans")
class Plans(MethodView):
    @blp.arguments(PlanListArgs, location="query")
    @blp.response(200, PlanSchema(many=True))
    def get(self, args, season_id):
        """The season's plan rows (location × leaf category), filtered and sorted as on the
        plans page."""
        season = season_of(season_id)
        return [_plan(r) for r in core.rows_page(queries.plan_grid(season.id, _filters(args)),
                                                 args)]

    @core.needs(Action.EDIT_PLANNING)
    @blp.arguments(PlanCreateSchema)
    @blp.response(201, PlanSchema)
    def post(self, data, season_id):
        """Add a plan row (status `locations_defined`); refused when the location × category
        has one (change that row instead)."""
        season = season_of(season_id)
        location_id, category_id = _cell_of(data)
        saved = services.upsert_plan(
            db.session, core.user(), season.id, location_id=location_id,
            category_id=category_id, must_be_new=True,
            **{name: data.get(name) for name in PLAN_FIELDS})
        return _plan_answer(season, saved.row.id)


@blp.route("/seasons/<season_id>/plans/<plan_id>")
class PlanItem(MethodView):
    @blp.response(200, PlanSchema)
    def get(self, season_id, plan_id):
        """One plan row, with its version as ETag."""
        return _plan_answer(season_of(season_id), plan_id)

    @core.needs(Action.EDIT_PLANNING)
    @blp.arguments(PlanWriteSchema)
    @blp.response(200, PlanSchema)
    def put(self, data, season_id, plan_id):
        """Change a plan row's figures; needs If-Match. A change clears its approval."""
        return _save_plan(season_id, plan_id, data)

    @core.needs(Action.EDIT_PLANNING)
    @blp.arguments(PlanPatchSchema)
    @blp.response(200, PlanSchema)
    def patch(self, data, season_id, plan_id):
        """Change some of a plan row's figures; needs If-Match. A change clears its
        approval."""
        return _save_plan(season_id, plan_id, data)

    @core.needs(Action.EDIT_PLANNING)
    @blp.response(204)
    def delete(self, season_id, plan_id):
        """Delete a plan row (status `locations_defined`)."""
        season = season_of(season_id)
        services.delete_plan(db.session, core.user(), season.id,
                             core.uuid_of(plan_id, "Plan row"))


def _save_plan(season_id: str, plan_id: str, data: dict) -> dict:
    season = season_of(season_id)
    plan = _plan_row(season, plan_id).SeasonPlan
    expected = core.expected_version("plan row")
    values = {name: getattr(plan, name) for name in PLAN_FIELDS}
    values.update(data)
    services.upsert_plan(db.session, core.user(), season.id, location_id=plan.location_id,
                         category_id=plan.category_id, expected_version=expected, **values)
    return _plan_answer(season, plan.id)


@blp.route("/seasons/<season_id>/plans/approve")
class PlansApprove(MethodView):
    @core.needs(Action.EDIT_PLANNING)
    @blp.arguments(CellFilterArgs, location="query")
    @blp.arguments(PlanApproveSchema)
    @blp.response(200, PlanApprovedSchema)
    def post(self, args, data, season_id):
        """Approve the given plan rows, or every row the filters keep (`filtered`)."""
        season = season_of(season_id)
        if data.get("filtered"):
            ids = list(db.session.scalars(queries.plan_grid(season.id, _filters(args))
                                          .with_only_columns(SeasonPlan.id)))
        else:
            ids = data["plan_ids"]
        return {"approved": services.approve_plans(db.session, core.user(), season.id, ids)}


bulk.route(blp, "/seasons/<season_id>/plans/bulk", "plans", "Plans", season_of=season_of)


# OTB rows ----------------------------------------------------------------------------------

class OTBRowSchema(CellNamesSchema):
    month = fields.Date(metadata={"description": "The first day of the month"})
    planned_sales = core.Money()
    planned_markdowns = core.Money()
    planned_closing_stock = core.Money()
    opening_stock = core.Money()
    on_order = core.Money()
    approved_spend_limit = core.Money(metadata={
        "description": "The OTB: sales + markdowns + closing stock − opening stock − on order"})
    otb = core.Money(metadata={
        "description": "The same as approved_spend_limit, as the OTB page names it"})
    adjustments = core.Money(metadata={"description": "The approved moves of open to buy"})
    budget = core.Money(metadata={"description": "OTB + adjustments"})
    committed = core.Money(metadata={"description": "What the POs due this month commit"})
    remaining = core.Money(metadata={"description": "Budget − committed"})
    previous_closing_stock = core.Money(allow_none=True, metadata={
        "description": "The same cell's closing stock the month before (none for its first)"})
    season_plan_sales = core.Money(allow_none=True, metadata={
        "description": "The plan's sales of the location × category"})
    season_otb_sales = core.Money(allow_none=True, metadata={
        "description": "The OTB rows' sales of the location × category over the season"})


class OTBWriteSchema(Schema):
    planned_sales = _figure()
    planned_closing_stock = _figure()
    opening_stock = _figure()
    on_order = _figure()
    planned_markdowns = _figure(required=False, load_default=None, metadata={
        "description": "0 when left out"})


class OTBPatchSchema(Schema):
    planned_sales = _figure(required=False)
    planned_closing_stock = _figure(required=False)
    opening_stock = _figure(required=False)
    on_order = _figure(required=False)
    planned_markdowns = _figure(required=False)


class OTBCreateSchema(OTBWriteSchema):
    location_id = fields.UUID()
    location_code = Code(16)
    category_id = fields.UUID()
    category_code = Code(50)
    month = Month(required=True)


def _otb(row) -> dict:
    otb = row.OTBPlan
    return {**{name: getattr(otb, name) for name in (
        "id", "season_id", "location_id", "category_id", "month", "version", "updated_at",
        "approved_spend_limit", *OTB_INPUTS)},
        "location_code": row.location_code, "location_name": row.location_name,
        "category_code": row.category_code, "category_name": row.category_name,
        "otb": otb.approved_spend_limit, "adjustments": row.adjustments,
        "committed": row.committed, "budget": budget(otb.approved_spend_limit, row.adjustments),
        "remaining": row.remaining, "previous_closing_stock": row.prev_closing,
        "season_plan_sales": row.plan_sales, "season_otb_sales": row.season_otb_sales}


def _otb_row(season, otb_id: str):
    return _grid_row(queries.otb_grid, season, otb_id, "OTB row")


def _otb_answer(season, otb_id) -> dict:
    row = _otb_row(season, str(otb_id))
    core.set_etag(core.etag(row.OTBPlan.version))
    return _otb(row)


@blp.route("/seasons/<season_id>/otb")
class OTBRows(MethodView):
    @blp.arguments(OTBListArgs, location="query")
    @blp.response(200, OTBRowSchema(many=True))
    def get(self, args, season_id):
        """The season's OTB rows with adjustments, budget, committed and remaining, the
        figures of the OTB page, filtered as there."""
        season = season_of(season_id)
        rows, total = queries.otb_slice(db.session, season.id, _filters(args), args["skip"],
                                        args["limit"])
        _total(total)
        return [_otb(r) for r in rows]

    @core.needs(Action.EDIT_PLANNING)
    @blp.arguments(OTBCreateSchema)
    @blp.response(201, OTBRowSchema)
    def post(self, data, season_id):
        """Add an OTB row (status `plan_uploaded`); its OTB is computed. Refused when the
        cell has a row for the month (change that row instead)."""
        season = season_of(season_id)
        location_id, category_id = _cell_of(data)
        saved = services.upsert_otb(
            db.session, core.user(), season.id, location_id=location_id,
            category_id=category_id, month=data["month"], must_be_new=True,
            **{name: data.get(name) for name in OTB_INPUTS})
        return _otb_answer(season, saved.row.id)


@blp.route("/seasons/<season_id>/otb/<otb_id>")
class OTBItem(MethodView):
    @blp.response(200, OTBRowSchema)
    def get(self, season_id, otb_id):
        """One OTB row with its figures, its version as ETag."""
        return _otb_answer(season_of(season_id), otb_id)

    @core.needs(Action.EDIT_PLANNING)
    @blp.arguments(OTBWriteSchema)
    @blp.response(200, OTBRowSchema)
    def put(self, data, season_id, otb_id):
        """Change an OTB row's five inputs; needs If-Match. With the season's stock chain
        on, a changed closing stock opens the next month."""
        return _save_otb(season_id, otb_id, data)

    @core.needs(Action.EDIT_PLANNING)
    @blp.arguments(OTBPatchSchema)
    @blp.response(200, OTBRowSchema)
    def patch(self, data, season_id, otb_id):
        """Change some of an OTB row's inputs; needs If-Match."""
        return _save_otb(season_id, otb_id, data)

    @core.needs(Action.EDIT_PLANNING)
    @blp.response(204)
    def delete(self, season_id, otb_id):
        """Delete an OTB row (status `plan_uploaded`)."""
        season = season_of(season_id)
        services.delete_otb(db.session, core.user(), season.id, core.uuid_of(otb_id, "OTB row"))


def _save_otb(season_id: str, otb_id: str, data: dict) -> dict:
    season = season_of(season_id)
    otb = _otb_row(season, otb_id).OTBPlan
    expected = core.expected_version("OTB row")
    values = {name: getattr(otb, name) for name in OTB_INPUTS}
    values.update(data)
    services.upsert_otb(db.session, core.user(), season.id, location_id=otb.location_id,
                        category_id=otb.category_id, month=otb.month,
                        expected_version=expected, **values)
    return _otb_answer(season, otb.id)


bulk.route(blp, "/seasons/<season_id>/otb/bulk", "otb", "OTB", season_of=season_of)


# One OTB cell ------------------------------------------------------------------------------

class CellRatioSchema(Schema):
    percent = core.Percent(allow_none=True)
    word = fields.String(metadata={"description": "Instead of a number: over budget, —, n/a"})
    why = fields.String()


class CellInputsSchema(Schema):
    id = fields.UUID()
    planned_sales = core.Money()
    planned_markdowns = core.Money()
    planned_closing_stock = core.Money()
    opening_stock = core.Money()
    on_order = core.Money()
    approved_spend_limit = core.Money()
    version = fields.Integer()


class CellMoveSchema(Schema):
    number = fields.Integer()
    amount = core.Money(metadata={"description": "Into the cell (+) or out of it (−)"})
    reason = fields.String()
    requested_by = fields.String()
    approved_by = fields.String()
    note = fields.String(allow_none=True)
    override_reason = fields.String(allow_none=True)


class CellGRNSchema(Schema):
    id = fields.UUID()
    grn_number = fields.String()
    grn_date = fields.Date()
    received_value = core.Money()


class CellPOSchema(Schema):
    id = fields.UUID()
    po_number = fields.String()
    status = fields.String()
    supplier = fields.String(allow_none=True)
    order_date = fields.Date()
    delivery_date = fields.Date()
    po_value = core.Money()
    received = core.Money()
    committed = core.Money()
    grns = fields.List(fields.Nested(CellGRNSchema))


class OTBCellSchema(Schema):
    season_id = fields.UUID()
    location_id = fields.UUID()
    location_code = fields.String()
    location_name = fields.String()
    category_id = fields.UUID()
    category_code = fields.String()
    category_name = fields.String()
    month = fields.Date()
    otb_row = fields.Nested(CellInputsSchema, allow_none=True, metadata={
        "description": "The OTB row's inputs (none: the cell's OTB is 0)"})
    otb = core.Money()
    adjustments = core.Money()
    budget = core.Money()
    committed = core.Money()
    remaining = core.Money()
    open_to_buy = core.Money(metadata={"description": "Remaining when positive, else 0"})
    over_bought = core.Money(metadata={"description": "−remaining when negative, else 0"})
    received = core.Money()
    utilisation = fields.Nested(CellRatioSchema, metadata={
        "description": "Committed ÷ budget × 100"})
    fulfilment = fields.Nested(CellRatioSchema, metadata={
        "description": "Received ÷ committed × 100"})
    approved_moves = fields.List(fields.Nested(CellMoveSchema))
    purchase_orders = fields.List(fields.Nested(CellPOSchema))


def _ratio(ratio) -> dict:
    return {"percent": ratio.value, "word": ratio.word, "why": ratio.why}


@blp.route("/seasons/<season_id>/otb/cell/<location_code>/<category_code>/<month>")
class OTBCell(MethodView):
    @blp.response(200, OTBCellSchema)
    def get(self, season_id, location_code, category_code, month):
        """One location × category × month as its page shows it: the OTB and its inputs,
        the approved moves into and out of it, budget, committed, remaining, utilisation,
        and every PO due that month with its GRNs. Month: YYYY-MM or YYYY-MM-01."""
        season = season_of(season_id)
        try:
            first = read_month(month)
        except CellError:
            first = None
        location = db.session.scalar(select(Location).where(
            Location.location_code == location_code.upper()))
        category = db.session.scalar(select(Category).where(
            Category.code == category_code.upper()))
        if location is None or category is None or first not in months_between(
                season.start_date, season.end_date):
            raise NotFound(f"No OTB cell {location_code} × {category_code} × {month} in "
                           f"season {season.season_code}")
        cell = queries.cell_detail(db.session, season.id, location.id, category.id, first)
        f = cell.figures
        return {
            "season_id": season.id, "location_id": location.id,
            "location_code": location.location_code, "location_name": location.name,
            "category_id": category.id, "category_code": category.code,
            "category_name": category.name, "month": first, "otb_row": cell.otb_row,
            "otb": f.otb, "adjustments": f.adjustments, "budget": f.budget,
            "committed": f.committed, "remaining": f.remaining,
            "open_to_buy": f.open_to_buy, "over_bought": f.over_bought,
            "received": cell.received, "utilisation": _ratio(cell.utilisation),
            "fulfilment": _ratio(cell.fulfilment),
            "approved_moves": cell.adjustments,
            "purchase_orders": [{
                "id": p.po.id, "po_number": p.po.po_number, "status": p.po.status.value,
                "supplier": p.po.supplier, "order_date": p.po.order_date,
                "delivery_date": p.po.delivery_date, "po_value": p.po.po_value,
                "received": p.received, "committed": p.committed, "grns": p.grns}
                for p in cell.pos]}


# Range intent ------------------------------------------------------------------------------

class RangeIntentSchema(Schema):
    category_id = fields.UUID()
    category_code = fields.String()
    category_name = fields.String()
    id = fields.UUID(allow_none=True, metadata={
        "description": "None: the category has OTB and no range intent yet"})
    core_percent = Stored(allow_none=True)
    fashion_percent = Stored(allow_none=True)
    price_band_low = Stored(allow_none=True)
    price_band_mid = Stored(allow_none=True)
    price_band_high = Stored(allow_none=True)
    version = fields.Integer(allow_none=True, metadata={"description": "Also the ETag"})
    updated_at = core.Timestamp(allow_none=True)


class RangeWriteSchema(Schema):
    core_percent = _figure()
    fashion_percent = _figure()
    price_band_low = _figure(required=False, load_default=None)
    price_band_mid = _figure(required=False, load_default=None)
    price_band_high = _figure(required=False, load_default=None)


def _range(category: Category, intent: RangeIntent | None) -> dict:
    out = {"category_id": category.id, "category_code": category.code,
           "category_name": category.name}
    if intent is None:
        return out | {"id": None, "version": None}
    mix = intent.price_band_mix or {}
    return out | {"id": intent.id, "core_percent": intent.core_percent,
                  "fashion_percent": intent.fashion_percent, "version": intent.version,
                  "updated_at": intent.updated_at,
                  **{f"price_band_{b}": Decimal(mix[b]) if b in mix else None
                     for b in PRICE_BANDS}}


def _intent(season, category: Category) -> RangeIntent | None:
    return db.session.scalar(select(RangeIntent).where(RangeIntent.season_id == season.id,
                                                       RangeIntent.category_id == category.id))


def _range_category(category_id: str) -> Category:
    try:
        return _category(category_id, "category_id")
    except ValidationFailed:
        raise NotFound(f"Category {category_id} not found") from None


@blp.route("/seasons/<season_id>/range-intent")
class RangeIntents(MethodView):
    @blp.response(200, RangeIntentSchema(many=True))
    def get(self, season_id):
        """Each leaf category with OTB (or with range intent) and its range intent, by
        category code; a category without one has `id` null."""
        season = season_of(season_id)
        return [_range(c, r) for c, r in queries.range_rows(db.session, season.id)]


@blp.route("/seasons/<season_id>/range-intent/<category_id>")
class RangeIntentItem(MethodView):
    @blp.response(200, RangeIntentSchema)
    def get(self, season_id, category_id):
        """One category's range intent (by category id or code), its version as ETag."""
        season = season_of(season_id)
        category = _range_category(category_id)
        intent = _intent(season, category)
        if intent is None:
            raise NotFound(f"No range intent for {category.code} in season "
                           f"{season.season_code}")
        core.set_etag(core.etag(intent.version))
        return _range(category, intent)

    @core.needs(Action.EDIT_PLANNING)
    @blp.arguments(RangeWriteSchema)
    @blp.response(200, RangeIntentSchema)
    @blp.alt_response(201, schema=RangeIntentSchema, description="Created")
    def put(self, data, season_id, category_id):
        """Set a leaf category's range intent (status `otb_uploaded`): core + fashion = 100,
        price bands (when given) = 100. Changing an existing one needs If-Match; creating one
        needs none (201)."""
        season = season_of(season_id)
        category = _range_category(category_id)
        exists = _intent(season, category) is not None
        if exists or request.headers.get("If-Match"):
            expected, new = core.expected_version("range intent"), False
        else:
            expected, new = None, True
        saved = services.upsert_range(
            db.session, core.user(), season.id, category_id=category.id,
            core_percent=data["core_percent"], fashion_percent=data["fashion_percent"],
            price_bands={b: data[f"price_band_{b}"] for b in PRICE_BANDS},
            expected_version=expected, must_be_new=new)
        intent = _intent(season, category)
        core.set_etag(core.etag(intent.version))
        return _range(category, intent), 201 if saved.outcome == "new" else 200

    @core.needs(Action.EDIT_PLANNING)
    @blp.response(204)
    def delete(self, season_id, category_id):
        """Delete a category's range intent (status `otb_uploaded`)."""
        season = season_of(season_id)
        category = _range_category(category_id)
        intent = _intent(season, category)
        if intent is None:
            raise NotFound(f"No range intent for {category.code} in season "
                           f"{season.season_code}")
        services.delete_range(db.session, core.user(), season.id, intent.id)


bulk.route(blp, "/seasons/<season_id>/range-intent/bulk", "range", "Range intent",
           season_of=season_of)


# Actuals -----------------------------------------------------------------------------------

class ActualSchema(CellNamesSchema):
    month = fields.Date()
    net_sales = core.Money()
    markdowns = core.Money()
    closing_stock = core.Money()
    units_sold = fields.Integer(allow_none=True)
    closing_units = fields.Integer(allow_none=True)


def _actual(row) -> dict:
    actual = row.SeasonActual
    return {**{name: getattr(actual, name) for name in (
        "id", "season_id", "location_id", "category_id", "month", "version", "updated_at",
        "net_sales", "markdowns", "closing_stock", "units_sold", "closing_units")},
        "location_code": row.location_code, "location_name": row.location_name,
        "category_code": row.category_code, "category_name": row.category_name}


@blp.route("/seasons/<season_id>/actuals")
class Actuals(MethodView):
    @blp.arguments(MonthFilterArgs, location="query")
    @blp.response(200, ActualSchema(many=True))
    def get(self, args, season_id):
        """What the shops reported sold and held, by location × leaf category × month."""
        season = season_of(season_id)
        return [_actual(r) for r in core.rows_page(
            queries.actual_rows(season.id, _filters(args)), args)]


bulk.route(blp, "/seasons/<season_id>/actuals/bulk", "actuals", "Actuals", season_of=season_of)


# Moving open to buy ------------------------------------------------------------------------

STATUSES = [adjustments.PENDING, adjustments.APPROVED, adjustments.REJECTED]


class AdjustmentSchema(Schema):
    id = fields.UUID()
    season_code = fields.String()
    number = fields.Integer(metadata={"description": "1, 2, … in its season"})
    amount = core.Money()
    status = fields.String(metadata={"enum": STATUSES})
    source = fields.String(metadata={"description": "The scope it moves from, in words"})
    target = fields.String(metadata={"description": "The scope it moves to, in words"})
    from_location_id = fields.UUID(allow_none=True)
    from_cluster_id = fields.UUID(allow_none=True)
    from_category_id = fields.UUID(allow_none=True)
    from_month = fields.Date(allow_none=True)
    to_location_id = fields.UUID(allow_none=True)
    to_cluster_id = fields.UUID(allow_none=True)
    to_category_id = fields.UUID(allow_none=True)
    to_month = fields.Date(allow_none=True)
    reason = fields.String()
    requested_by = fields.String()
    requested_at = core.Timestamp()
    decided_by = fields.String(allow_none=True)
    decided_at = core.Timestamp(allow_none=True)
    note = fields.String(allow_none=True)
    override_reason = fields.String(allow_none=True)


class AdjustmentListArgs(core.Paging):
    status = fields.String(validate=validate.OneOf(STATUSES))


SCOPE = ("location_id", "cluster_id", "category_id", "month")


def _scope_fields(side: str) -> dict:
    words = "from" if side == "from" else "to"
    return {
        f"{side}_location_id": fields.UUID(allow_none=True),
        f"{side}_location_code": Code(16, allow_none=True),
        f"{side}_cluster_id": fields.UUID(allow_none=True, metadata={
            "description": f"A cluster's locations (instead of one location); neither: every "
                           f"location"}),
        f"{side}_category_id": fields.UUID(allow_none=True),
        f"{side}_category_code": Code(50, allow_none=True, metadata={
            "description": f"A category at any level to move {words}; none: every category"}),
        f"{side}_month": Month(allow_none=True, metadata={
            "description": f"The month to move {words}; none: every month"}),
    }


class AdjustmentRequestSchema(Schema.from_dict({**_scope_fields("from"), **_scope_fields("to")},
                                               name="AdjustmentScopes")):
    amount = _figure()
    reason = fields.String(required=True, validate=validate.Length(max=2000))


class AdjustmentDecisionSchema(Schema):
    approve = fields.Boolean(required=True)
    note = fields.String(required=True, validate=validate.Length(max=2000))
    override_reason = fields.String(load_default=None, allow_none=True,
                                    validate=validate.Length(max=2000), metadata={
                                        "description": "Why it may go although the source has "
                                                       "less open to buy left than the amount"})


def _scope(data: dict, side: str) -> adjustments.Scope:
    location_id = _named(data, f"{side}_location", "location", _location)
    cluster_id = data.get(f"{side}_cluster_id")
    if location_id is not None and cluster_id is not None:
        raise ValidationFailed({f"{side}_cluster_id": "A scope is a location or a cluster, "
                                                      "not both"})
    category_id = _named(data, f"{side}_category", "category", _category)
    return adjustments.Scope(location_id, cluster_id, category_id, data.get(f"{side}_month"))


def _adjustments(rows) -> list[dict]:
    """The pages' rows of requests with their scopes' ids."""
    models = {a.id: a for a in db.session.scalars(
        select(OTBAdjustment).where(OTBAdjustment.id.in_([r.id for r in rows])))}
    return [{**vars(r), **{f"{side}_{part}": getattr(models[r.id], f"{side}_{part}")
                           for side in ("from", "to") for part in SCOPE}} for r in rows]


def _adjustment(adjustment_id) -> dict:
    rows = queries.adjustment_rows(db.session, ids=[adjustment_id], limit=1)
    if not rows:
        raise NotFound(f"OTB adjustment {adjustment_id} not found")
    return _adjustments(rows)[0]


@blp.route("/seasons/<season_id>/adjustments")
class Adjustments(MethodView):
    @blp.arguments(AdjustmentListArgs, location="query")
    @blp.response(200, AdjustmentSchema(many=True))
    def get(self, args, season_id):
        """The season's requests to move open to buy, newest first, with their status."""
        season = season_of(season_id)
        rows = queries.adjustment_rows(db.session, season_id=season.id,
                                       status=args.get("status"), limit=None)
        _total(len(rows))
        return _adjustments(rows[args["skip"]:args["skip"] + args["limit"]])

    @core.needs(Action.EDIT_PLANNING)
    @blp.arguments(AdjustmentRequestSchema)
    @blp.response(201, AdjustmentSchema)
    def post(self, data, season_id):
        """Ask to move open to buy from one scope to another: pending until another planner
        or an admin decides it."""
        season = season_of(season_id)
        row = services.request_adjustment(
            db.session, core.user(), season.id, amount=data["amount"],
            source=_scope(data, "from"), target=_scope(data, "to"), reason=data["reason"])
        return _adjustment(row.id)


@blp.route("/adjustments/<adjustment_id>")
class AdjustmentItem(MethodView):
    @blp.response(200, AdjustmentSchema)
    def get(self, adjustment_id):
        """One request to move open to buy."""
        return _adjustment(core.uuid_of(adjustment_id, "OTB adjustment"))


@blp.route("/adjustments/<adjustment_id>/decision")
class AdjustmentDecision(MethodView):
    @core.needs(Action.APPROVE)
    @blp.arguments(AdjustmentDecisionSchema)
    @blp.response(200, AdjustmentSchema)
    def post(self, data, adjustment_id):
        """Approve or reject a pending request with a note: a planner or an admin who did not
        ask for it. An approval is refused when the source has less open to buy left than the
        amount, unless an override reason says why it may."""
        key = core.uuid_of(adjustment_id, "OTB adjustment")
        services.decide_adjustment(db.session, core.user(), key, approve=data["approve"],
                                   note=data["note"], override_reason=data["override_reason"])
        return _adjustment(key)
