"""Seasons and their workflow (issue 18): the seed's paths, including its one-call workflow
steps (define-locations, complete-plan-upload, complete-otb-upload, complete-range-upload,
lock). A `{season_id}` is the season's id or its code."""
from __future__ import annotations

import uuid

from flask.views import MethodView
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from ..auth.roles import Action
from ..extensions import db
from ..seasons import queries, services
from ..seasons.models import Season
from ..seasons.workflow import EDITABLE, SeasonStatus, next_status
from . import core

blp = core.blueprint("Seasons", "Seasons, their workflow and the checklist of each step")

STATUSES = [s.value for s in SeasonStatus]


def season_of(season_id: str) -> Season:
    """The season a path names by id or by code; 404 otherwise."""
    try:
        key = uuid.UUID(season_id)
    except ValueError:
        key = season_id
    return services.get_season(db.session, key)


def season_tag(season: Season) -> str:
    """A season's ETag: a digest of what PUT may change and of its status."""
    return core.digest_tag(season.name, season.start_date, season.end_date, season.status.value,
                           season.chain_stock, season.reforecast_method)


class SeasonSchema(Schema):
    id = fields.UUID(dump_only=True)
    season_code = fields.String(dump_only=True)
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)
    status = fields.String(dump_only=True, metadata={"enum": STATUSES})
    chain_stock = fields.Boolean(dump_only=True, metadata={
        "description": "A saved OTB row's closing stock becomes the next month's opening"})
    reforecast_method = fields.String(dump_only=True, metadata={"enum": ["trend", "plan"]})
    created_at = core.Timestamp(dump_only=True)
    updated_at = core.Timestamp(dump_only=True)


class SeasonCreateSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    start_date = fields.Date(required=True)
    end_date = fields.Date(required=True)


class SeasonWriteSchema(SeasonCreateSchema):
    chain_stock = fields.Boolean(load_default=None, metadata={
        "description": "A saved OTB row's closing stock becomes the next month's opening"})


class SeasonPatchSchema(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    start_date = fields.Date()
    end_date = fields.Date()
    chain_stock = fields.Boolean()


class SeasonListArgs(core.Paging):
    status = fields.String(validate=validate.OneOf(STATUSES))
    q = fields.String(validate=validate.Length(max=100),
                      metadata={"description": "Part of the code or name"})


class GateSchema(Schema):
    message = fields.String()
    passed = fields.Boolean()
    hard = fields.Boolean(metadata={"description": "A hard gate blocks the next step"})
    area = fields.String(attribute="fix.value")


class TransitionSchema(Schema):
    from_status = fields.Function(lambda t: t.from_status.value)
    to_status = fields.Function(lambda t: t.to_status.value)
    at = core.Timestamp(attribute="created_at")
    by = fields.Function(lambda t: t.user.email)
    note = fields.String(allow_none=True)


class WorkflowStatusSchema(Schema):
    season_id = fields.UUID()
    season_code = fields.String()
    status = fields.String(metadata={"enum": STATUSES})
    next_status = fields.String(allow_none=True, metadata={"enum": STATUSES})
    editable = fields.List(fields.String(), metadata={
        "description": "What the current status lets change"})
    can_advance = fields.Boolean(metadata={"description": "No hard gate blocks the next step"})
    blocking = fields.List(fields.String())


class WorkflowSchema(WorkflowStatusSchema):
    gates = fields.List(fields.Nested(GateSchema))
    transitions = fields.List(fields.Nested(TransitionSchema))


class DefineLocationsSchema(Schema):
    location_ids = fields.List(fields.UUID(), load_default=None, validate=validate.Length(
        max=100_000), metadata={"description": "Default: every active location"})


class NoteSchema(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


def workflow(season: Season) -> dict:
    gates = services.season_gates(db.session, season)
    following = next_status(season.status)
    blocking = [g.message for g in gates if g.blocks]
    return {"season_id": season.id, "season_code": season.season_code,
            "status": season.status.value,
            "next_status": following.value if following else None,
            "editable": sorted(a.value for a in EDITABLE[season.status]),
            "can_advance": following is not None and not blocking, "blocking": blocking,
            "gates": gates, "transitions": queries.transitions(db.session, season.id)}


@blp.route("/seasons")
class Seasons(MethodView):
    @blp.arguments(SeasonListArgs, location="query")
    @blp.response(200, SeasonSchema(many=True))
    def get(self, args):
        """Seasons, newest first; filter by status or part of the code or name."""
        stmt = select(Season).order_by(Season.start_date.desc(), Season.season_code)
        if args.get("status"):
            stmt = stmt.where(Season.status == SeasonStatus(args["status"]))
        if args.get("q"):
            stmt = stmt.where(queries.matches_code_or_name(args["q"]))
        return core.page(stmt, args)

    @core.needs(Action.MANAGE_SEASONS)
    @blp.arguments(SeasonCreateSchema)
    @blp.response(201, SeasonSchema)
    def post(self, data):
        """Create a season (status `created`, a generated code)."""
        season = services.create_season(db.session, core.user(), **data)
        core.set_etag(season_tag(season))
        return season


@blp.route("/seasons/<season_id>")
class SeasonItem(MethodView):
    @blp.response(200, SeasonSchema)
    def get(self, season_id):
        """One season, by id or code, with its ETag."""
        season = season_of(season_id)
        core.set_etag(season_tag(season))
        return season

    @core.needs(Action.MANAGE_SEASONS)
    @blp.arguments(SeasonWriteSchema)
    @blp.response(200, SeasonSchema)
    def put(self, data, season_id):
        """Change name and dates (and the stock chain) while the season allows; needs
        If-Match."""
        return _update(season_id, data)

    @core.needs(Action.MANAGE_SEASONS)
    @blp.arguments(SeasonPatchSchema)
    @blp.response(200, SeasonSchema)
    def patch(self, data, season_id):
        """Change some of name, dates and the stock chain; needs If-Match."""
        return _update(season_id, data)

    @core.needs(Action.MANAGE_SEASONS)
    @blp.response(204)
    def delete(self, season_id):
        """Delete a season while it is `created`."""
        season = season_of(season_id)
        services.delete_season(db.session, core.user(), season.id)


def _update(season_id: str, data: dict) -> Season:
    season = season_of(season_id)
    locked = core.locked_matching(Season, season.id, season_tag, "season")
    values = {"name": locked.name, "start_date": locked.start_date,
              "end_date": locked.end_date, "chain_stock": None}
    values.update({k: v for k, v in data.items() if k in values})
    season = services.update_season(db.session, core.user(), locked.id, **values)
    core.set_etag(season_tag(season))
    return season


@blp.route("/seasons/<season_id>/workflow")
class Workflow(MethodView):
    @blp.response(200, WorkflowSchema)
    def get(self, season_id):
        """The status, the next step, the checklist for it and the transitions so far."""
        return workflow(season_of(season_id))


@blp.route("/seasons/<season_id>/workflow-status")
class WorkflowStatus(MethodView):
    @blp.response(200, WorkflowStatusSchema)
    def get(self, season_id):
        """The status and whether the next step is open, without the history."""
        return workflow(season_of(season_id))


@blp.route("/seasons/<season_id>/define-locations")
class DefineLocations(MethodView):
    @core.needs(Action.MANAGE_SEASONS)
    @blp.arguments(DefineLocationsSchema(), required=False)
    @blp.response(200, WorkflowSchema)
    def post(self, data, season_id):
        """Add locations (default: every active one) and move to `locations_defined`, in one
        step."""
        season = season_of(season_id)
        ids = (data or {}).get("location_ids")
        season = services.define_locations(db.session, core.user(), season.id, ids)
        return workflow(season)


def _step(name: str, target: SeasonStatus, summary: str):
    def post(self, data, season_id):
        season = season_of(season_id)
        season = services.advance_season(db.session, core.user(), season.id, target,
                                         (data or {}).get("note"))
        return workflow(season)

    post.__doc__ = summary
    view = type(name, (MethodView,), {"post": post})
    view.post = core.needs(Action.MANAGE_SEASONS)(blp.response(200, WorkflowSchema)(
        blp.arguments(NoteSchema(), required=False)(view.post)))
    blp.route(f"/seasons/<season_id>/{name}", endpoint=name)(view)


_step("complete-plan-upload", SeasonStatus.PLAN_UPLOADED,
      "Move from `locations_defined` to `plan_uploaded` (hard gates enforced).")
_step("complete-otb-upload", SeasonStatus.OTB_UPLOADED,
      "Move from `plan_uploaded` to `otb_uploaded` (hard gates enforced).")
_step("complete-range-upload", SeasonStatus.RANGE_UPLOADED,
      "Move from `otb_uploaded` to `range_uploaded` (hard gates enforced).")
_step("lock", SeasonStatus.LOCKED,
      "Lock the season: from `range_uploaded` to `locked`; nothing changes after.")
