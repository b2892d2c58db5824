"""Purchase orders, goods received and the release of POs over their budget through the JSON
API (issue 18): the PO and GRN lists of the pages with their filters and figures, and the
writes of purchasing/services.py (create, update with If-Match, cancel, short-close, receive,
decide a release). A `{season_id}` is the season's id or its code."""
from __future__ import annotations

from dataclasses import replace

from flask import g, request
from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import false, select
from werkzeug.exceptions import PreconditionFailed

from ..auth.roles import Action, may
from ..errors import NotFound
from ..extensions import db
from ..masterdata.services import descendant_ids
from ..purchasing import queries, rules, services
from ..purchasing.models import GRNRecord, POSource, POStatus, PurchaseOrder
from ..versions import cached
from . import bulkwrites as bulk
from . import core
from .seasons import season_of

blp = core.blueprint("Purchasing", "Purchase orders, goods received and the release of POs "
                                   "over their budget")

STATUSES = [s.value for s in POStatus]
SOURCES = [s.value for s in POSource]
# What a PO written through the API says it came from (the pages and files say the others).
API_SOURCES = [POSource.API.value, POSource.ERP.value]
RELEASE_STATUSES = ["pending", "approved", "rejected", "recorded", "withdrawn"]
DIRECTIONS = ["asc", "desc"]


# Schemas -----------------------------------------------------------------------------------

class PurchaseOrderGRNSchema(Schema):
    id = fields.UUID()
    grn_number = fields.String()
    grn_date = fields.Date()
    received_value = core.Money()


class PurchaseOrderReleaseSchema(Schema):
    """A request to release a PO over its budget (purchasing/queries.py ReleaseRow)."""
    id = fields.UUID()
    season_code = fields.String()
    season_name = fields.String()
    po_number = fields.String()
    location_code = fields.String(attribute="location")
    category_code = fields.String(attribute="category")
    month = fields.Date(metadata={"description": "The first day of the delivery month"})
    po_value = core.Money()
    over_by = core.Money(metadata={"description": "Over the cell's budget when asked"})
    reason = fields.String()
    status = fields.String(metadata={"enum": RELEASE_STATUSES})
    requested_by = fields.String(metadata={"description": "The buyer's email"})
    requested_at = core.Timestamp()
    decided_by = fields.String(allow_none=True, metadata={"description": "The decider's email"})
    decided_at = core.Timestamp(allow_none=True)
    decision_note = fields.String(attribute="note", allow_none=True)


class PurchaseOrderSchema(Schema):
    """A PO with the figures of the PO list."""
    id = fields.UUID()
    po_number = fields.String()
    season_id = fields.UUID()
    location_id = fields.UUID()
    location_code = fields.String()
    location_name = fields.String()
    category_id = fields.UUID()
    category_code = fields.String()
    supplier = fields.String(allow_none=True)
    order_date = fields.Date()
    delivery_date = fields.Date()
    po_value = core.Money()
    source = fields.String(metadata={"enum": SOURCES})
    status = fields.String(metadata={"enum": STATUSES})
    version = fields.Integer(metadata={"description": "The ETag of the PO"})
    received = core.Money(metadata={"description": "Goods received so far"})
    still_to_receive = core.Money(metadata={
        "description": "Value less received, never below 0; 0 once closed or cancelled"})
    committed = core.Money(metadata={"description": "What the PO takes of its OTB (SPEC §5)"})
    cell_over_by = core.Money(allow_none=True, metadata={
        "description": "How far the PO's location × category × month cell is over its budget "
                       "(OTB + adjustments); null when within, and for a cancelled PO"})
    created_at = core.Timestamp()
    updated_at = core.Timestamp()


class PurchaseOrderDetailSchema(PurchaseOrderSchema):
    grns = fields.List(fields.Nested(PurchaseOrderGRNSchema))
    releases = fields.List(fields.Nested(PurchaseOrderReleaseSchema))


class PurchaseOrderSavedSchema(PurchaseOrderDetailSchema):
    over_otb_by = core.Money(allow_none=True, metadata={
        "description": "Under the warn policy, how far this PO takes its month over OTB"})


def _value(**kwargs):
    # Read exactly: a value with too many decimals is the service's to refuse, not rounded.
    return fields.Decimal(as_string=True, allow_nan=False, **kwargs)


class PurchaseOrderPutSchema(Schema):
    po_number = fields.String(required=True)
    location_id = fields.UUID(required=True)
    category_id = fields.UUID(required=True)
    po_value = _value(required=True, metadata={"type": ["string", "number"]})
    order_date = fields.Date(required=True)
    delivery_date = fields.Date(load_default=None, allow_none=True,
                                metadata={"description": "Default: the order date"})
    supplier = fields.String(load_default=None, allow_none=True)
    source = fields.String(load_default=None, validate=validate.OneOf(API_SOURCES),
                           metadata={"description": "Default: unchanged"})


class PurchaseOrderCreateSchema(PurchaseOrderPutSchema):
    source = fields.String(load_default=POSource.API.value,
                           validate=validate.OneOf(API_SOURCES))
    release_reason = fields.String(load_default=None, allow_none=True, metadata={
        "description": "Over its budget, ask for a release: under the block policy the PO is "
                       "saved awaiting release, under warn the request is recorded"})


class PurchaseOrderPatchSchema(Schema):
    po_number = fields.String()
    location_id = fields.UUID()
    category_id = fields.UUID()
    po_value = _value(metadata={"type": ["string", "number"]})
    order_date = fields.Date()
    delivery_date = fields.Date(allow_none=True)
    supplier = fields.String(allow_none=True)
    source = fields.String(validate=validate.OneOf(API_SOURCES))


class PurchaseOrderListArgs(core.Paging):
    status = fields.String(validate=validate.OneOf(STATUSES))
    source = fields.String(validate=validate.OneOf(SOURCES))
    supplier = fields.String(validate=validate.Length(max=200),
                             metadata={"description": "Part of the supplier's name"})
    number = fields.String(validate=validate.Length(max=50),
                           metadata={"description": "Part of the PO number"})
    location_id = fields.UUID()
    category_id = fields.UUID(metadata={"description": "The category and those under it"})
    month = fields.Date(format="%Y-%m", metadata={"description": "Delivery month, YYYY-MM"})
    sort = fields.String(validate=validate.OneOf(list(queries.PO_SORTS.columns)),
                         metadata={"description": "Default: ordered, newest first"})
    dir = fields.String(load_default="asc", validate=validate.OneOf(DIRECTIONS))


class GoodsReceivedSchema(Schema):
    id = fields.UUID()
    grn_number = fields.String()
    po_id = fields.UUID()
    po_number = fields.String()
    grn_date = fields.Date()
    received_value = core.Money()
    po_value = core.Money()
    location_name = fields.String()
    category_code = fields.String()
    created_at = core.Timestamp()


class GoodsReceivedCreateSchema(Schema):
    po_number = fields.String(required=True)
    grn_number = fields.String(required=True)
    grn_date = fields.Date(required=True)
    received_value = _value(required=True, metadata={"type": ["string", "number"]})


class GoodsReceivedListArgs(core.Paging):
    number = fields.String(validate=validate.Length(max=50),
                           metadata={"description": "Part of the GRN or the PO number"})
    sort = fields.String(validate=validate.OneOf(list(queries.GRN_SORTS.columns)),
                         metadata={"description": "Default: date, newest first"})
    dir = fields.String(load_default="asc", validate=validate.OneOf(DIRECTIONS))


class PurchaseOrderReleaseListArgs(core.Paging):
    waiting = fields.Boolean(load_default=False, metadata={
        "description": "Only those pending that you may decide (a planner's or an admin's, "
                       "never your own)"})
    mine = fields.Boolean(load_default=False, metadata={"description": "Only those you asked"})
    status = fields.String(validate=validate.OneOf(RELEASE_STATUSES))
    season_id = fields.String(validate=validate.Length(max=64),
                              metadata={"description": "A season's id or code"})


class PurchaseOrderDecisionSchema(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(["approve", "reject"]),
                             metadata={"description": "approve: the PO is open and consumes; "
                                                      "reject: it is cancelled"})
    note = fields.String(required=True)


# Reading -----------------------------------------------------------------------------------

def _sort(keys, args):
    return keys.read({"sort": args.get("sort"), "dir": args.get("dir")})


def _filters(args) -> queries.POFilters:
    """The PO page's filters from the query's arguments."""
    category = args.get("category_id")
    return queries.POFilters(
        status=POStatus(args["status"]) if args.get("status") else None,
        source=POSource(args["source"]) if args.get("source") else None,
        supplier=(args.get("supplier") or "").strip(),
        number=(args.get("number") or "").strip(),
        location_id=args.get("location_id"),
        category_ids=(frozenset({category} | descendant_ids(db.session, category))
                      if category else None),
        month=args.get("month"),
        sort=_sort(queries.PO_SORTS, args))


def _po_out(row) -> dict:
    """A row of queries.po_rows as the API shows it."""
    po = row.PurchaseOrder
    return {
        **{name: getattr(po, name) for name in (
            "id", "po_number", "season_id", "location_id", "category_id", "supplier",
            "order_date", "delivery_date", "po_value", "source", "status", "version",
            "created_at", "updated_at")},
        "location_code": row.location_code, "location_name": row.location_name,
        "category_code": row.category_code, "received": row.received,
        "still_to_receive": rules.still_to_receive(po.status, po.po_value, row.received),
        "committed": row.committed, "cell_over_by": row.cell_over_by}


def _po_of(season, po_number: str) -> PurchaseOrder:
    po = db.session.scalar(select(PurchaseOrder).where(PurchaseOrder.po_number == po_number,
                                                       PurchaseOrder.season_id == season.id))
    if po is None:
        raise NotFound(f"PO {po_number} not found in season {season.season_code}")
    return po


def _detail(season_id, po_id) -> dict:
    """One PO as its page shows it: the list's figures, its GRNs and its releases; with its
    ETag."""
    row = db.session.execute(queries.po_rows(season_id, [po_id])).one()
    out = _po_out(row)
    out["grns"] = db.session.scalars(select(GRNRecord).where(GRNRecord.po_id == po_id)
                                     .order_by(GRNRecord.grn_date, GRNRecord.grn_number)).all()
    out["releases"] = queries.release_rows(db.session, po_id=po_id)
    core.set_etag(core.etag(out["version"]))
    return out


def _grn_of(season, grn_id: str):
    key = core.uuid_of(grn_id, "GRN")
    row = db.session.execute(queries.grn_list(season.id).where(GRNRecord.id == key)).first()
    if row is None:
        raise NotFound(f"GRN {grn_id} not found in season {season.season_code}")
    return _grn_out(row)


def _grn_out(row) -> dict:
    grn = row.GRNRecord
    return {"id": grn.id, "grn_number": grn.grn_number, "po_id": grn.po_id,
            "grn_date": grn.grn_date, "received_value": grn.received_value,
            "created_at": grn.created_at, "po_number": row.po_number, "po_value": row.po_value,
            "location_name": row.location_name, "category_code": row.category_code}


# Purchase orders ---------------------------------------------------------------------------

@blp.route("/seasons/<season_id>/pos")
class PurchaseOrders(MethodView):
    @blp.arguments(PurchaseOrderListArgs, location="query")
    @blp.response(200, PurchaseOrderSchema(many=True))
    def get(self, args, season_id):
        """The season's POs as the PO page lists them: filtered by status, source, supplier,
        number, location, category (with those under it) and delivery month, sorted by any
        column, with received, still to receive, committed and how far each one's cell is
        over its budget. X-Total-Count counts every PO the filters keep."""
        season = season_of(season_id)
        f = _filters(args)
        # The page's totals of the same filters, from the same cache (the order is no filter).
        totals = cached(db.session, season.id, ("po totals", replace(f, sort=None)),
                        lambda: queries.po_totals(db.session, season.id, f))
        g.api_total = totals.count
        rows = queries.po_slice(db.session, season.id, f, args["skip"], args["limit"])
        return [_po_out(r) for r in rows]

    @core.needs(Action.EDIT_PURCHASING)
    @blp.arguments(PurchaseOrderCreateSchema)
    @blp.response(201, PurchaseOrderSavedSchema)
    def post(self, data, season_id):
        """Create a PO (source `api` unless `erp`) under the OTB policy: over its budget,
        `warn` saves it and says by how much (`over_otb_by`), `block` refuses it (409
        over-budget) unless a `release_reason` asks for a release (then it is saved
        `awaiting_release`)."""
        season = season_of(season_id)
        result = services.create_po(db.session, core.user(), season.id, **data)
        return {**_detail(season.id, result.po.id), "over_otb_by": result.over_otb_by}


@blp.route("/seasons/<season_id>/pos/<po_number>")
class PurchaseOrderItem(MethodView):
    @blp.response(200, PurchaseOrderDetailSchema)
    def get(self, season_id, po_number):
        """One PO with its figures, GRNs and releases; its ETag is its version."""
        season = season_of(season_id)
        return _detail(season.id, _po_of(season, po_number).id)

    @core.needs(Action.EDIT_PURCHASING)
    @blp.arguments(PurchaseOrderPutSchema)
    @blp.response(200, PurchaseOrderSavedSchema)
    def put(self, data, season_id, po_number):
        """Change an open or partly received PO (every field; no delivery date means the
        order date, no source keeps it); needs If-Match. The OTB policy applies again."""
        return _update(season_id, po_number, data)

    @core.needs(Action.EDIT_PURCHASING)
    @blp.arguments(PurchaseOrderPatchSchema)
    @blp.response(200, PurchaseOrderSavedSchema)
    def patch(self, data, season_id, po_number):
        """Change some fields of an open or partly received PO; needs If-Match."""
        return _update(season_id, po_number, data)


def _update(season_id: str, po_number: str, data: dict) -> dict:
    season = season_of(season_id)
    expected = core.expected_version("purchase order")
    po = _po_of(season, po_number)
    # The fields not sent are taken from the PO as read here: only from the version the
    # client names (the service compares it again under the row lock).
    if po.version != expected:
        core.refuse(PreconditionFailed, f"PO {po.po_number} changed since you read it (your "
                                        f"ETag {core.etag(expected)}, now "
                                        f"{core.etag(po.version)}); read it again")
    values = {"po_number": po.po_number, "location_id": po.location_id,
              "category_id": po.category_id, "po_value": po.po_value,
              "order_date": po.order_date, "delivery_date": po.delivery_date,
              "supplier": po.supplier, "source": po.source.value}
    values.update({k: v for k, v in data.items() if k in values})
    if data.get("source") is None:
        values["source"] = po.source.value
    result = services.update_po(db.session, core.user(), po.id, expected_version=expected,
                                **values)
    return {**_detail(season.id, result.po.id), "over_otb_by": result.over_otb_by}


def _step(name: str, service, summary: str):
    def post(self, season_id, po_number):
        season = season_of(season_id)
        po = _po_of(season, po_number)
        expected = (core.expected_version("purchase order")
                    if request.headers.get("If-Match") else None)
        service(db.session, core.user(), po.id, expected_version=expected)
        return _detail(season.id, po.id)

    post.__doc__ = summary
    view = type(f"PurchaseOrder{name.title().replace('-', '')}", (MethodView,),
                {"post": post})
    view.post = core.needs(Action.EDIT_PURCHASING)(
        blp.response(200, PurchaseOrderDetailSchema)(view.post))
    blp.route(f"/seasons/<season_id>/pos/<po_number>/{name}", endpoint=f"po_{name}")(view)


_step("cancel", services.cancel_po,
      "Cancel a PO without goods received; it stops consuming OTB. An If-Match, when sent, "
      "must be the PO's ETag.")
_step("short-close", services.close_po,
      "Short-close a partly received PO: what was not received stops consuming OTB. An "
      "If-Match, when sent, must be the PO's ETag.")

bulk.route(blp, "/seasons/<season_id>/pos/bulk", "pos", "PO", season_of=season_of)


# Goods received ----------------------------------------------------------------------------

@blp.route("/seasons/<season_id>/grns")
class GoodsReceived(MethodView):
    @blp.arguments(GoodsReceivedListArgs, location="query")
    @blp.response(200, GoodsReceivedSchema(many=True))
    def get(self, args, season_id):
        """Goods received against the season's POs as the GRN page lists them: searched by
        GRN or PO number, sorted by any column (newest first by default)."""
        season = season_of(season_id)
        stmt = queries.grn_list(season.id, (args.get("number") or "").strip(),
                                _sort(queries.GRN_SORTS, args))
        return [_grn_out(r) for r in core.rows_page(stmt, args)]

    @core.needs(Action.EDIT_PURCHASING)
    @blp.arguments(GoodsReceivedCreateSchema)
    @blp.response(201, GoodsReceivedSchema)
    def post(self, data, season_id):
        """Record goods received against the season's PO of that number; the PO's status
        follows (partly received, received)."""
        season = season_of(season_id)
        grn = services.create_grn_for(db.session, core.user(), season.id, **data)
        return _grn_of(season, str(grn.id))


@blp.route("/seasons/<season_id>/grns/<grn_id>")
class GoodsReceivedItem(MethodView):
    @blp.response(200, GoodsReceivedSchema)
    def get(self, season_id, grn_id):
        """One goods received note."""
        return _grn_of(season_of(season_id), grn_id)


bulk.route(blp, "/seasons/<season_id>/grns/bulk", "grns", "GRN", season_of=season_of)


# Releases of POs over their budget ---------------------------------------------------------

@blp.route("/po-releases")
class PurchaseOrderReleases(MethodView):
    @blp.arguments(PurchaseOrderReleaseListArgs, location="query")
    @blp.response(200, PurchaseOrderReleaseSchema(many=True))
    def get(self, args):
        """Requests to release a PO over its budget, newest first: those waiting for your
        decision, those you asked, of one season or status."""
        user = core.user()
        stmt = queries.releases(
            waiting_for=user if args["waiting"] else None,
            asked_by=user.id if args["mine"] else None, status=args.get("status"),
            season_id=season_of(args["season_id"]).id if args.get("season_id") else None)
        if args["waiting"] and not may(user.role, Action.APPROVE):
            stmt = stmt.where(false())  # as the Approvals page: nothing waits for them
        return [queries.release_row(x) for x in core.rows_page(stmt, args)]


@blp.route("/po-releases/<release_id>/decision")
class PurchaseOrderReleaseDecision(MethodView):
    @core.needs(Action.APPROVE)
    @blp.arguments(PurchaseOrderDecisionSchema)
    @blp.response(200, PurchaseOrderReleaseSchema)
    def post(self, data, release_id):
        """Release the PO (open, consuming its budget) or reject it (cancelled), with a note:
        a planner or an admin who did not ask for it. A decision already made is 409."""
        key = core.uuid_of(release_id, "Release request")
        release = services.decide_release(db.session, core.user(), key,
                                          approve=data["decision"] == "approve",
                                          note=data["note"])
        return queries.release_rows(db.session, ids=[release.id])[0]
