"""Errors of the JSON API as RFC 9457 problem details (issue 18, item 5): one stable `type`
and status per kind, the rule's own message as `detail`, and field errors as a list. The
error pages (errorpages.py) answer with these for any path under /api/."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Response, json, request

from .errors import (Conflict, DomainError, Duplicate, Forbidden, NotFound, OverBudget,
                     StaleVersion, ValidationFailed, WorkflowError)

API_PREFIX = "/api/"
MEDIA_TYPE = "application/problem+json"


@dataclass(frozen=True)
class Kind:
    slug: str
    status: int
    title: str

    @property
    def type(self) -> str:
        # A URI reference into the API's own docs page, where each kind is described.
        return f"/api/docs#problem-{self.slug}"


KINDS = {k.slug: k for k in (
    Kind("bad-request", 400, "The request cannot be read"),
    Kind("unauthorized", 401, "A valid personal access token is needed"),
    Kind("forbidden", 403, "Your role or token does not allow this"),
    Kind("not-found", 404, "Not found"),
    Kind("method-not-allowed", 405, "Method not allowed"),
    Kind("workflow", 409, "The season's workflow does not allow this now"),
    Kind("conflict", 409, "The request clashes with stored data"),
    Kind("over-budget", 409, "The purchase order would go over its open to buy"),
    Kind("stale", 412, "The resource changed since you read it"),
    Kind("too-large", 413, "The request body is too large"),
    Kind("unsupported-media-type", 415, "Send the body as application/json"),
    Kind("validation", 422, "The input breaks a rule"),
    Kind("idempotency-mismatch", 422, "The Idempotency-Key was used with another body"),
    Kind("precondition-required", 428, "Send If-Match with the ETag you read"),
    Kind("rate-limited", 429, "Too many requests"),
    Kind("server-error", 500, "Something went wrong"),
    Kind("unavailable", 503, "The database is not answering"),
)}

BY_STATUS = {400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
             405: "method-not-allowed", 409: "conflict", 412: "stale", 413: "too-large",
             415: "unsupported-media-type", 422: "validation", 428: "precondition-required",
             429: "rate-limited", 500: "server-error", 503: "unavailable"}


def is_api_request() -> bool:
    return request.path.startswith(API_PREFIX)


def problem(slug: str, detail: str, *, errors: list[dict] | None = None,
            headers: dict | None = None, **extra) -> Response:
    """A problem+json response of one kind."""
    kind = KINDS[slug]
    body = {"type": kind.type, "title": kind.title, "status": kind.status, "detail": detail,
            "instance": request.path}
    if errors is not None:
        body["errors"] = errors
    body.update(extra)
    response = Response(json.dumps(body), status=kind.status, mimetype=MEDIA_TYPE)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def field_errors(errors: dict[str, str]) -> list[dict]:
    """A rule's {field: message} as the API's list of {field, message}."""
    return [{"field": name or None, "message": message} for name, message in errors.items()]


def domain_problem(exc: DomainError) -> Response:
    """The problem for a refusal of a service."""
    if isinstance(exc, OverBudget):
        return problem("over-budget", exc.message, errors=field_errors(exc.errors))
    if isinstance(exc, Duplicate):
        return problem("conflict", exc.message, errors=field_errors(exc.errors))
    if isinstance(exc, ValidationFailed):
        return problem("validation", exc.message, errors=field_errors(exc.errors))
    if isinstance(exc, StaleVersion):
        return problem("stale", exc.message)
    if isinstance(exc, WorkflowError):
        return problem("workflow", exc.message)
    if isinstance(exc, Conflict):
        return problem("conflict", exc.message)
    if isinstance(exc, NotFound):
        return problem("not-found", exc.message)
    if isinstance(exc, Forbidden):
        return problem("forbidden", exc.message)
    return problem(BY_STATUS.get(exc.status_code, "bad-request"), exc.message)


def webargs_errors(messages) -> list[dict]:
    """webargs/marshmallow's nested {location: {field: [messages]}} as a flat list."""
    found: list[dict] = []

    def walk(value, path: list[str]):
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(inner, path + [str(key)])
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            found.extend({"field": ".".join(path) or None, "message": m} for m in value)
        elif isinstance(value, list):
            for i, inner in enumerate(value):
                walk(inner, path + [str(i)])
        else:
            found.append({"field": ".".join(path) or None, "message": str(value)})

    locations = messages if isinstance(messages, dict) else {"json": messages}
    for location, inner in locations.items():
        # The location (json, query) is the request part; fields are named without it.
        walk(inner, [])
    return found
