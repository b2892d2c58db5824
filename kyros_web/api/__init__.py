"""The JSON API under /api/v1 (issue 18): flask-smorest blueprints on the services and queries
the pages use, described by an OpenAPI 3.1 document generated from the code."""
from __future__ import annotations

import http

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields

from ..problems import MEDIA_TYPE

from . import core

# The resource modules, each with a `blp`; their order is the document's.
MODULES = ("seasons", "masterdata", "planning", "purchasing", "analytics")

INFO = {
    "description": (
        "Kyros's JSON API: the seasons, master data, plans, open to buy, purchase orders, "
        "goods received and analytics of the pages, on the same rules. Sign in with a "
        "personal access token (your account page, or flask kyros token create) sent as "
        "Authorization: Bearer <token>. Money is a decimal string with 2 places, "
        "percentages with 1, dates ISO 8601. Errors are application/problem+json."),
}


class ProblemErrorSchema(Schema):
    index = fields.Integer(metadata={"description": "A bulk row's 0-based position"})
    field = fields.String(allow_none=True)
    value = fields.String(allow_none=True)
    message = fields.String()


class ProblemSchema(Schema):
    """RFC 9457 problem details, as every error of the API is answered."""
    type = fields.String(metadata={"description": "The kind of error; see /api/docs"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String(metadata={"description": "The rule's own message"})
    instance = fields.String()
    errors = fields.List(fields.Nested(ProblemErrorSchema))
    rejected = fields.Integer(metadata={"description": "Bulk writes: rows refused"})
    rows = fields.Integer(metadata={"description": "Bulk writes: rows sent"})


class KyrosApi(Api):
    """flask-smorest's Api without its error handlers: errorpages.py answers every error under
    /api/ as problem+json, and every other one as a page. The document says so."""

    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        return None

    def _register_responses(self):
        for status in http.HTTPStatus:
            response = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, MEDIA_TYPE)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "An error (problem details)", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, MEDIA_TYPE)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


def init_app(app: Flask) -> KyrosApi:
    import importlib

    api = KyrosApi(app, spec_kwargs={"info": INFO})
    api.spec.components.security_scheme(
        "bearer", {"type": "http", "scheme": "bearer",
                   "description": "A personal access token"})
    api.spec.options["security"] = [{"bearer": []}]
    for name in MODULES:
        module = importlib.import_module(f".{name}", __name__)
        api.register_blueprint(module.blp)
        app.after_request_funcs.setdefault(module.blp.name, []).append(core.after_request)
    app.extensions["kyros_api"] = api
    from .docs import bp as docs_bp

    app.register_blueprint(docs_bp)
    return api
