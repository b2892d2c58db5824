"""What every resource of the JSON API shares (issue 18): bearer-token sign-in, the read-only
token rule, rate limits per token, ETags with If-Match, skip/limit paging, and the money,
percentage and date fields. Resources are thin: they read through the queries and write
through the services the pages use."""
from __future__ import annotations

import hashlib
import json
import uuid
from decimal import Decimal
from functools import wraps

from flask import current_app, g, request
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from webargs import core as webargs_core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Forbidden as HTTPForbidden
from werkzeug.exceptions import HTTPException, PreconditionFailed, PreconditionRequired
from werkzeug.exceptions import Unauthorized

from ..auth.tokens import TokenRefused, token_user
from ..auth.roles import Action, may
from ..errors import Forbidden, NotFound
from ..extensions import csrf, db, limiter
from ..modelbase import as_utc
from ..versioning import lock_row

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
MAX_LIMIT = 1000
DEFAULT_LIMIT = 100


class ApiError(HTTPException):
    """An HTTP error with the API's own detail (the problem handler reads `api_detail`)."""

    def __init__(self, code_class, detail: str):
        super().__init__()
        self.code = code_class.code
        self.description = code_class.description
        self.api_detail = detail


def refuse(code_class, detail: str):
    raise ApiError(code_class, detail)


def _bearer() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    return secret.strip()


def rate_key() -> str:
    """Rate limits count per token (its digest), or per address without one."""
    secret = _bearer()
    if secret:
        return "api-token:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    return "api-address:" + (request.remote_addr or "-")


def authenticate():
    """Before every API view: the bearer token signs in its user; cookies are never read.
    A read-only token may only read."""
    try:
        user, token = token_user(db.session, _bearer())
    except TokenRefused as exc:
        error = ApiError(Unauthorized, str(exc))
        raise error from None
    g.api_user, g.api_token = user, token
    g.audit_via = f"api token {token.name}"[:120]
    if token.read_only and request.method not in SAFE_METHODS:
        refuse(HTTPForbidden, f"The token “{token.name}” is read-only")


def user():
    """The user the request's token signs in."""
    return g.api_user


def needs(action: Action):
    """Declare the action a write takes (SPEC §4) and refuse a role without it (403) before
    the body is read; the services check it again inside their transaction. The declaration
    is what tests/api/test_api_protection.py walks: every write of the API has one."""
    def wrap(fn):
        @wraps(fn)
        def checked(*args, **kwargs):
            if not may(user().role, action):
                raise Forbidden("Your role does not allow this action.")
            return fn(*args, **kwargs)

        checked.required_action = action
        return checked

    return wrap


def load_json(data: bytes):
    """A request body as JSON, its numbers as decimals (never floats: a figure arrives as
    typed and the services check its digits); 400 for bytes that are not UTF-8, text that is
    not JSON or nests deeper than the parser allows, and for a NUL byte in any text."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiError(BadRequest, f"The body is not UTF-8 text (byte {exc.start + 1})") from None
    try:
        body = json.loads(text, parse_float=Decimal)
    except RecursionError:
        raise ApiError(BadRequest, "The body nests arrays or objects too deeply") from None
    except ValueError as exc:
        raise ApiError(BadRequest, f"The body is not valid JSON ({exc})") from None
    refuse_nul(body)
    return body


class ExactParser(FlaskParser):
    """webargs reading JSON bodies with load_json."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return webargs_core.missing
        return load_json(req.get_data(cache=True))


def refuse_nul(value) -> None:
    """A NUL byte in a body's text is refused, as the app refuses it in a query or form
    (PostgreSQL cannot store it). Walked without recursion: a body may nest as deep as the
    JSON parser allowed."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, str) and "\x00" in item:
            raise ApiError(BadRequest, "The body holds a NUL byte (character 0), which is "
                                       "not allowed")


def blueprint(name: str, description: str) -> SmorestBlueprint:
    """A resource's blueprint under /api/v1: token sign-in, no CSRF (no cookies are read, so
    a browser's session cannot call it), and the per-token rate limit. `name` is the
    document's tag, capitalised ("Seasons") so it never clashes with a page blueprint."""
    bp = SmorestBlueprint(name, __name__, url_prefix="/api/v1", description=description)
    bp.ARGUMENTS_PARSER = ExactParser()
    bp.before_request(authenticate)
    csrf.exempt(bp)
    limiter.limit(lambda: current_app.config["KYROS_API_RATE_LIMIT"], key_func=rate_key,
                  scope="api")(bp)
    return bp


# Fields ------------------------------------------------------------------------------------

def _decimal_text(kwargs: dict) -> dict:
    """A decimal written as a string: documented as a string (apispec calls every Decimal a
    number), rounded half-up as the pages round (SPEC §5; "ROUND_HALF_UP" is decimal's own
    constant)."""
    return {"rounding": "ROUND_HALF_UP", **kwargs,
            "metadata": {"type": "string", **kwargs.get("metadata", {})}}


def Money(**kwargs):
    """Money as a decimal string with 2 places ("110000.00")."""
    return fields.Decimal(places=2, as_string=True, allow_nan=False, **_decimal_text(kwargs))


def Percent(**kwargs):
    """A percentage as a decimal string with 1 place ("42.5")."""
    return fields.Decimal(places=1, as_string=True, allow_nan=False, **_decimal_text(kwargs))


class Timestamp(fields.DateTime):
    """A moment in ISO 8601 with its offset: times are stored in UTC, and SQLite hands them
    back without a zone, which RFC 3339 (OpenAPI's date-time) does not allow."""

    def _serialize(self, value, attr, obj, **kwargs):
        return super()._serialize(None if value is None else as_utc(value), attr, obj, **kwargs)


class Paging(Schema):
    """The seed's paging: skip rows, then at most `limit` (1–1000)."""
    skip = fields.Integer(load_default=0, validate=validate.Range(min=0, max=10_000_000),
                          metadata={"description": "Rows to pass over first"})
    limit = fields.Integer(load_default=DEFAULT_LIMIT, validate=validate.Range(min=1,
                                                                                max=MAX_LIMIT),
                           metadata={"description": f"Rows to return, at most {MAX_LIMIT}"})


def _count_for_header(stmt) -> None:
    """The rows `stmt` selects in all, for the X-Total-Count header."""
    from sqlalchemy import func, select

    g.api_total = db.session.scalar(select(func.count()).select_from(
        stmt.order_by(None).subquery()))


def page(stmt, args: dict):
    """One page of a select, with the total count in the X-Total-Count header."""
    _count_for_header(stmt)
    return db.session.scalars(stmt.offset(args["skip"]).limit(args["limit"])).all()


def rows_page(stmt, args: dict):
    """Like page, for a select of several columns (rows, not objects)."""
    _count_for_header(stmt)
    return db.session.execute(stmt.offset(args["skip"]).limit(args["limit"])).all()


# Ids and versions --------------------------------------------------------------------------

def uuid_of(raw: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(raw))
    except ValueError:
        raise NotFound(f"{what} {raw} not found") from None


def etag(version) -> str:
    """A strong ETag: a versioned row's version, or a digest of a row's stored fields."""
    return f'"{version}"'


def digest_tag(*values) -> str:
    return etag(hashlib.sha256(repr(values).encode()).hexdigest()[:20])


def set_etag(tag: str) -> None:
    g.api_etag = tag


def if_match() -> str:
    """The ETag the client read, from If-Match; 428 without one."""
    sent = request.headers.get("If-Match", "").strip()
    if not sent:
        refuse(PreconditionRequired, "Send If-Match with the ETag of the resource as you read "
                                     "it, so a change made since is not overwritten")
    return sent


def expected_version(what: str) -> int:
    """The version If-Match names, for services that compare it under a row lock."""
    sent = if_match()
    text = sent.removeprefix("W/").strip('"')
    if not text.isdigit() or len(text) > 9:
        refuse(PreconditionFailed, f"If-Match {sent} is not an ETag of this {what}")
    return int(text)


def locked_matching(model, row_id, tag, what: str):
    """The row read afresh and locked until the transaction ends, once its ETag (`tag(row)`)
    is the one If-Match names: the check of a row without a version, made in the writing
    transaction so the check and the write are one step. 404 when the row has gone."""
    locked = lock_row(db.session, select(model).where(model.id == row_id))
    if locked is None:
        raise NotFound(f"The {what} was deleted since you read it")
    require_tag(tag(locked), what)
    return locked


def require_tag(current: str, what: str) -> None:
    """Refuse (412) when If-Match is not the current ETag (see locked_matching)."""
    sent = if_match()
    if sent.removeprefix("W/") != current:
        refuse(PreconditionFailed, f"The {what} changed since you read it (your ETag {sent}, "
                                   f"now {current}); read it again")


def after_request(response):
    """The ETag and total count a view set, on its response."""
    if getattr(g, "api_etag", None) and "ETag" not in response.headers:
        response.headers["ETag"] = g.api_etag
    if getattr(g, "api_total", None) is not None:
        response.headers["X-Total-Count"] = str(g.api_total)
    return response
