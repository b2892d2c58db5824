"""The JSON API under /api/v1 (issue 18): flask-smorest blueprints on the services and queries
the pages use, described by an OpenAPI 3.1 document generated from the code."""
from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from . import core

# The resource modules, each with a `blp`; their order is the document's.
MODULES = ("seasons", "masterdata", "purchasing")

INFO = {
    "description": (
        "Kyros's JSON API: the seasons, master data, plans, open to buy, purchase orders, "
        "goods received and analytics of the pages, on the same rules. Sign in with a "
        "personal access token (your account page, or `flask kyros token create`) sent as "
        "`Authorization: Bearer <token>`. Money is a decimal string with 2 places, "
        "percentages with 1, dates ISO 8601. Errors are application/problem+json."),
}


class KyrosApi(Api):
    """flask-smorest's Api without its error handlers: errorpages.py answers every error under
    /api/ as problem+json, and every other one as a page."""

    def _register_error_handlers(self):
        return None


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
