"""Error pages: domain errors and HTTP errors as full pages, or fragments for htmx (SPEC §8)."""
from __future__ import annotations

from flask import Flask, current_app, g
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import IntegrityError, OperationalError
from werkzeug.exceptions import HTTPException

from .errors import DomainError
from .extensions import db
from .htmx import render
from .problems import BY_STATUS, domain_problem, is_api_request, problem, webargs_errors

TITLES = {
    400: "Bad request",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Not possible now",
    413: "File too large",
    422: "Please check your input",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Service unavailable",
}


def error_page(status: int, message: str):
    return render("errors/error.html", block="error", status_code=status, code=status,
                  title=TITLES.get(status, "Error"), message=message)


def register(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError):
        db.session.rollback()
        if is_api_request():
            return domain_problem(exc)
        return error_page(exc.status_code, exc.message)

    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError):
        return error_page(400, "The form has expired or was not sent from this site. "
                               "Go back, reload the page and try again.")

    @app.errorhandler(413)
    def too_large(exc):
        limit = current_app.config["KYROS_MAX_UPLOAD_MB"]
        if is_api_request():
            return problem("too-large", f"The request body is larger than the limit of "
                                        f"{limit} MB; nothing was stored.")
        return error_page(413, f"The file is larger than the limit of {limit} MB; nothing was stored.")

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        if exc.code is None or exc.code < 400:
            return exc
        if is_api_request():
            return api_http_error(exc)
        messages = {
            403: "Your role does not allow this action.",
            404: "There is nothing at this address.",
        }
        return error_page(exc.code, messages.get(exc.code, exc.description))

    @app.errorhandler(IntegrityError)
    def clashed(exc: IntegrityError):
        # A unique value or a reference taken by another request in the same moment: the
        # services check first, and the database has the last word when two checks pass at
        # once. Nothing was saved.
        db.session.rollback()
        current_app.logger.info("integrity refusal (request id %s): %s",
                                getattr(g, "request_id", "-"), exc.orig.__class__.__name__)
        message = ("Someone saved a clashing change at the same moment (a value that must be "
                   "unique, or a row this one refers to); nothing was saved. Reload and try "
                   "again.")
        if is_api_request():
            return problem("conflict", message)
        return error_page(409, message)

    @app.errorhandler(OperationalError)
    def database_unavailable(exc: OperationalError):
        # The pool checks connections before use (pool_pre_ping), so the next request after
        # the database returns gets a fresh connection: no restart needed.
        db.session.rollback()
        current_app.logger.warning("database unavailable (request id %s): %s",
                                   getattr(g, "request_id", "-"), exc.__class__.__name__)
        if is_api_request():
            return problem("unavailable", "The database is not answering at the moment, so "
                                          "nothing was saved. Try again in a minute.",
                           headers={"Retry-After": "60"})
        return error_page(503, "The database is not answering at the moment, so nothing was "
                               "saved. Try again in a minute.")

    @app.errorhandler(Exception)
    def unexpected(exc: Exception):
        if isinstance(exc, HTTPException):
            return http_error(exc)
        db.session.rollback()
        request_id = getattr(g, "request_id", "-")
        current_app.logger.exception("unhandled error, request id %s", request_id)
        if is_api_request():
            return problem("server-error", "An unexpected error occurred and nothing was "
                           f"saved. If it happens again, quote request id {request_id}.")
        return error_page(500, "An unexpected error occurred and nothing was saved. "
                               f"If it happens again, quote request id {request_id}.")


API_MESSAGES = {
    401: "Send a personal access token: Authorization: Bearer <token>",
    403: "Your role does not allow this action.",
    404: "There is nothing at this address.",
    405: "This address does not take that method.",
}


def api_http_error(exc: HTTPException):
    """An HTTP error under /api/ as a problem: webargs' field errors listed, a rate limit's
    Retry-After kept."""
    data = getattr(exc, "data", None) or {}
    slug = BY_STATUS.get(exc.code, "bad-request")
    headers = {}
    response = exc.get_response()
    for name in ("Retry-After", "Allow", "WWW-Authenticate"):
        if name in response.headers:
            headers[name] = response.headers[name]
    if "messages" in data:
        errors = webargs_errors(data["messages"])
        return problem(slug, "; ".join(f"{e['field']}: {e['message']}" if e["field"]
                                       else e["message"] for e in errors) or exc.description,
                       errors=errors, headers=headers)
    detail = data.get("message") or getattr(exc, "api_detail", None) \
        or API_MESSAGES.get(exc.code) or exc.description
    if exc.code == 429:
        detail = f"Too many requests for this token ({exc.description}); wait and try again."
    return problem(slug, detail, headers=headers)
