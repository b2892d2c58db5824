"""Bulk writes of the JSON API (issue 18, item 2): `POST …/bulk` with `{"rows": [...]}`, rows
named by the upload columns of their kind. The upload handlers check and write them, in one
transaction, all or none; an Idempotency-Key replays the first answer."""
from __future__ import annotations

import hashlib
from decimal import Decimal

from flask import current_app, json, request
from flask.views import MethodView
from marshmallow import Schema, fields
from werkzeug.exceptions import BadRequest, UnsupportedMediaType

from ..extensions import db
from ..problems import problem
from ..uploads import services as uploads
from ..uploads.parsing import LimitExceeded
from . import core

KEY_MAX = 200


class BulkResultSchema(Schema):
    kind = fields.String()
    season_id = fields.UUID(allow_none=True)
    import_id = fields.UUID(metadata={"description": "The import in the season's history"})
    rows = fields.Integer()
    new = fields.Integer()
    updated = fields.Integer()
    unchanged = fields.Integer()
    warnings = fields.List(fields.String())


class BulkRowErrorSchema(Schema):
    index = fields.Integer(metadata={"description": "The row's 0-based position in `rows`"})
    field = fields.String(allow_none=True)
    value = fields.String(allow_none=True)
    message = fields.String()


def _answer(upload) -> dict:
    return BulkResultSchema().dump({
        "kind": upload.kind.value, "season_id": upload.season_id, "import_id": upload.id,
        "rows": upload.rows_total, "new": upload.rows_new, "updated": upload.rows_updated,
        "unchanged": upload.rows_unchanged,
        "warnings": (upload.summary or {}).get("warnings", [])})


def _rows() -> tuple[list, bytes]:
    """The body's rows (numbers read exactly, as decimals) and the body itself."""
    if not request.is_json:
        raise core.ApiError(UnsupportedMediaType, "Send the rows as application/json: "
                                                  '{"rows": [{...}, ...]}')
    data = request.get_data(cache=False)
    body = core.load_json(data)
    if not isinstance(body, dict) or not isinstance(body.get("rows"), list):
        raise uploads.ValidationFailed({"rows": 'The body must be {"rows": [ ... ]}'})
    return body["rows"], data


def _idempotency_key() -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > KEY_MAX or not key.isprintable():
        raise uploads.ValidationFailed(
            {"Idempotency-Key": f"The Idempotency-Key must be 1–{KEY_MAX} printable characters"})
    return key


def write(kind: str, season=None):
    """The bulk write of one kind, answered as a view answers: 200 with the counts, 422
    listing every refused row, 413 over the limits."""
    rows, data = _rows()
    try:
        _, answer = uploads.bulk_write(
            db.session, core.user(), kind=kind, rows=rows,
            body_sha256=hashlib.sha256(data).hexdigest(), season=season,
            config=current_app.config, idempotency_key=_idempotency_key(), answer=_answer)
    except uploads.BulkRejected as exc:
        return problem("validation", exc.message, errors=exc.rows, rejected=exc.rejected,
                       rows=exc.total)
    except LimitExceeded as exc:
        return problem("too-large", exc.message)
    return answer


def _name(title: str) -> str:
    """A title as a schema's name: "Range intent" → "RangeIntent"."""
    return "".join(word[:1].upper() + word[1:] for word in title.split())


def row_schema(kind: str, title: str) -> type[Schema]:
    """The OpenAPI description of a bulk body of `kind`: its upload columns."""
    cls = uploads.handler_class(kind)
    title = _name(title)
    columns = {
        c.name: fields.Raw(required=c.required, metadata={
            "description": c.title, "type": ["string", "number", "null"]})
        for c in cls.columns}
    row = Schema.from_dict(columns, name=f"{title}BulkRow")
    body = Schema.from_dict({"rows": fields.List(fields.Nested(row), required=True)},
                            name=f"{title}Bulk")
    return body


def route(blp, path: str, kind: str, title: str, season_of=None):
    """Add `POST path` to `blp`: a bulk write of `kind` (the season from the path's
    `season_id` when `season_of` is given)."""
    doc = {"requestBody": {"required": True, "content": {"application/json": {
        "schema": row_schema(kind, title)}}}}

    def post(self, season_id=None):
        season = season_of(season_id) if season_of is not None else None
        return write(kind, season)

    post.__doc__ = (f"{uploads.handler_class(kind).title}: write rows in one transaction, "
                    "all or none; rows are named by the upload file's columns. "
                    "Idempotency-Key: the same key and body replay the first answer; another "
                    "body under the key is refused (422).")
    view = type(f"{title}Bulk", (MethodView,), {"post": post})
    view.post = core.needs(uploads.handler_class(kind).action)(
        blp.doc(**doc)(blp.response(200, BulkResultSchema)(view.post)))
    blp.route(path, endpoint=f"{kind}_bulk")(view)
    return view
